"""Stand-ins for core services, shaped like the contracts in docs/interfaces.md.

Used where a test is about what the window shows, not about the cloud; the end-to-end
wizard test uses the real core against the emulated cloud instead.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import CancelledError
from onedrive_gui.core.settings import Account, AppSettings


@dataclass(frozen=True)
class FakeToken:
    access_token: str = "at"
    refresh_token: str = "rt"
    display_name: str | None = "Alice Example"
    username: str | None = "alice@outlook.com"


@dataclass(frozen=True)
class FakeUser:
    id: str = "u1"
    display_name: str = "Alice Example"
    user_principal_name: str = "alice@outlook.com"
    mail: str | None = None

    @property
    def email(self) -> str:
        return self.mail or self.user_principal_name


@dataclass(frozen=True)
class FakeDrive:
    id: str = "d1"
    name: str = "OneDrive"
    drive_type: str = "personal"
    owner_name: str | None = "Alice Example"
    quota_total: int | None = 5 * 2**30
    quota_used: int | None = 2**30
    is_default: bool = True


def FakeAccount(name: str, **kw: Any) -> Account:
    """A real core Account with plausible values."""
    base: dict[str, Any] = dict(
        client_id="3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44", display_name="Alice Example",
        username="alice@outlook.com", drive_id="d1", drive_type="personal",
        drive_name="OneDrive")
    base.update(kw)
    return Account(name=name, **base)


class FakeSignIn:
    def __init__(self, behaviour: Any, port_fell_back: bool = False) -> None:
        self.behaviour = behaviour
        self.port = 53682 if not port_fell_back else 40123
        self.port_fell_back = port_fell_back
        self.redirect_uri = f"http://localhost:{self.port}/"
        self.auth_url = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?x=1"
        self._cancel = threading.Event()
        self.closed = False

    def start(self) -> str:
        return self.auth_url

    def wait(self) -> FakeToken:
        if isinstance(self.behaviour, Exception):  # what the core made of Microsoft's answer
            raise self.behaviour
        if self.behaviour == "approve":
            return FakeToken()
        if self.behaviour == "deny":
            from onedrive_gui.core.errors import AuthError

            raise AuthError("Permission not granted", "You declined the permissions.",
                            "Sign in again and accept.", code="AADSTS65004")
        self._cancel.wait(30)
        raise CancelledError("Sign-in cancelled", "You cancelled the sign-in.", "")

    def cancel(self) -> None:
        self._cancel.set()

    def close(self) -> None:
        self.closed = True


class FakeAccountService:
    def __init__(self, signin: Any = "approve") -> None:
        self.settings = AppSettings()
        self.signin_behaviour = signin
        self.signins: list[FakeSignIn] = []
        self.added: list[Account] = []
        self.saved: list[AppSettings] = []
        self.removed: list[str] = []
        self.secrets_set: list[tuple[str, date | None]] = []
        self.reauthorized: list[str] = []

    def sign_in(self, client_id: str, client_secret: str, tenant: str = "common",
                **kw: Any) -> FakeSignIn:
        s = FakeSignIn(self.signin_behaviour)
        self.signins.append(s)
        return s

    def discover(self, token: Any, cloud: str = "global") -> tuple[FakeUser, list[FakeDrive]]:
        # a personal account: its OneDrive only (SharePoint libraries are work or school's)
        return FakeUser(), [FakeDrive()]

    def add_account(self, name: str, **kw: Any) -> Account:
        kw.pop("client_secret")
        kw.pop("token")
        user, drive = kw.pop("user"), kw.pop("drive")
        account = FakeAccount(name=name, display_name=user.display_name, username=user.email,
                              drive_id=drive.id, drive_type=drive.drive_type,
                              drive_name=drive.name, client_id=kw["client_id"],
                              tenant=kw["tenant"], secret_expires=kw["secret_expires"],
                              mount_point=kw["mount_point"], auto_mount=kw["auto_mount"],
                              options=kw["options"], last_sign_in=datetime.now(UTC))
        self.added.append(account)
        self.settings = replace(self.settings, accounts=[*self.settings.accounts, account])
        return account

    def mount(self, manager: Any, name: str, mount_point: str | None = None) -> Any:
        """As AccountService.mount: the account's mount point and options, via *manager*."""
        account = self.account(name)
        mp = mount_point or account.mount_point or f"/tmp/odg-ui-test/{name}"
        mount_opt, vfs_opt = account.options.to_rc()
        return manager.mount(name, f"{name}:", mp, mount_opt, vfs_opt,
                             account.options.global_flags())

    def save_settings(self, settings: Any) -> None:
        self.saved.append(settings)
        self.settings = settings

    def update_account(self, account: Any) -> None:
        self.settings = replace(self.settings, accounts=[
            account if a.name == account.name else a for a in self.settings.accounts])
        self.saved.append(self.settings)

    def account(self, name: str) -> Any:
        return self.settings.account(name)

    def remove_account(self, name: str) -> None:
        self.removed.append(name)
        self.settings = replace(self.settings, accounts=[
            a for a in self.settings.accounts if a.name != name])

    def set_client_secret(self, name: str, secret: str, expires: date | None) -> None:
        self.secrets_set.append((name, expires))

    def reauthorize(self, name: str, token: Any) -> None:
        self.reauthorized.append(name)

    def recover_after_crash(self, manager: Any, only: str | None = None) -> None:
        return None  # no app crashed before these tests

    @property
    def engine(self) -> Any:
        """As AccountService.engine, for what the windows read of it: the real rclone."""
        from onedrive_gui.core.rclone.binary import locate_rclone

        return types.SimpleNamespace(binary=locate_rclone(None))

    def shutdown(self) -> None:
        pass


class FakeAutostart:
    def __init__(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True

    def disable(self) -> None:
        self.enabled = False

    def is_enabled(self) -> bool:
        return self.enabled


def core_module_or_fake(monkeypatch: Any, name: str, tmp_path: Path) -> None:
    """Put a stand-in for a core module not written yet (real one preferred)."""
    full = f"onedrive_gui.core.{name}"
    try:
        importlib.import_module(full)
        return
    except ModuleNotFoundError as exc:
        if exc.name != full:
            raise
    mod = types.ModuleType(full)
    if name == "mountpoints":
        mod.default_mount_point = lambda n: str(tmp_path / "OneDrive" / n)  # type: ignore[attr-defined]
        mod.free_drive_letters = lambda taken=(): ["Z:", "Y:"]  # type: ignore[attr-defined]
        mod.prepare_mount_point = lambda p: str(p)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, full, mod)
