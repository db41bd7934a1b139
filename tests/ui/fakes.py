"""Stand-ins for core services, shaped like the contracts in docs/interfaces.md.

Used where a test is about what the window shows, not about the cloud; the end-to-end
wizard test uses the real core against the emulated cloud instead.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import CancelledError, ValidationError


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


@dataclass
class FakeMountOptions:
    cache_mode: str = "writes"
    cache_max_size: str = "10G"
    cache_max_age: str = "24h"
    dir_cache_time: str = "5m"
    poll_interval: str = "1m"
    tpslimit: float = 0.0
    tpslimit_burst: int = 1
    transfers: int = 4
    checkers: int = 8
    bwlimit: str = ""
    chunk_size: str = "10M"

    def validate(self) -> None:
        if self.transfers < 1:
            raise ValidationError("Invalid transfers", "Transfers must be at least 1.", "")


@dataclass
class FakeAccount:
    name: str
    client_id: str = "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44"
    tenant: str = "common"
    display_name: str | None = "Alice Example"
    username: str | None = "alice@outlook.com"
    drive_id: str = "d1"
    drive_type: str = "personal"
    drive_name: str | None = "OneDrive"
    secret_expires: date | None = None
    last_sign_in: datetime | None = None
    last_token_refresh: datetime | None = None
    mount_point: str | None = None
    auto_mount: bool = False
    options: Any = field(default_factory=FakeMountOptions)


@dataclass
class FakeSettings:
    accounts: list[Any] = field(default_factory=list)
    start_at_login: bool = False
    notifications: bool = True
    rclone_path: str | None = None
    log_level: str = "INFO"
    schema_version: int = 1

    def names(self) -> list[str]:
        return [a.name for a in self.accounts]

    def account(self, name: str) -> Any:
        for a in self.accounts:
            if a.name == name:
                return a
        raise ValidationError("Unknown account", f"No account named '{name}'.", "")


class FakeSignIn:
    def __init__(self, behaviour: str, port_fell_back: bool = False) -> None:
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
    def __init__(self, signin: str = "approve") -> None:
        self.settings = FakeSettings()
        self.signin_behaviour = signin
        self.signins: list[FakeSignIn] = []
        self.added: list[FakeAccount] = []
        self.saved: list[FakeSettings] = []
        self.removed: list[str] = []
        self.secrets_set: list[tuple[str, date | None]] = []
        self.reauthorized: list[str] = []

    def sign_in(self, client_id: str, client_secret: str, tenant: str = "common") -> FakeSignIn:
        s = FakeSignIn(self.signin_behaviour)
        self.signins.append(s)
        return s

    def discover(self, token: Any) -> tuple[FakeUser, list[FakeDrive]]:
        return FakeUser(), [FakeDrive(), FakeDrive(id="d2", name="Team files",
                                                   drive_type="documentLibrary",
                                                   is_default=False)]

    def add_account(self, name: str, **kw: Any) -> FakeAccount:
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
        mod.free_drive_letters = lambda: ["Z:", "Y:"]  # type: ignore[attr-defined]
        mod.prepare_mount_point = lambda p: str(p)  # type: ignore[attr-defined]
    elif name == "settings":
        mod.MountOptions = FakeMountOptions  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, full, mod)
