"""``--self-test``: what a first run needs, checked for real, with a line per check.

The keyring (a throwaway entry written, read back and deleted under the app's own service,
by :class:`~onedrive_gui.core.system.secrets.SecretStore`'s rules, so an insecure backend fails) and
rclone (the one the app would use, and its version). The desktop layer adds the Qt platform.
The release pipeline runs it on the frozen app: a Windows build whose Credential Manager
backend was lost in packaging fails here instead of at the first account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.rclone.binary import RcloneBinary, locate_rclone
from onedrive_gui.core.system.secrets import SecretStore


@dataclass(frozen=True)
class Check:
    name: str  # what was checked: "keyring", "rclone", "Qt platform"
    ok: bool
    detail: str  # what was found, or the error's title, message and hint

    def line(self) -> str:
        return f"self-test: {self.name} {'ok' if self.ok else 'FAILED'}: {self.detail}"


def failed(name: str, err: AppError) -> Check:
    detail = (_("{title}. {message} What to do: {hint}") if err.hint
              else _("{title}. {message}")).format(
        title=err.title, message=err.message, hint=err.hint)
    return Check(name, False, detail)


def check_keyring(secrets: SecretStore) -> Check:
    try:
        backend = secrets.round_trip()
    except AppError as err:
        return failed("keyring", err)
    return Check("keyring", True, _(
        "{backend} (wrote, read and deleted a test entry under '{service}')"
    ).format(backend=backend, service=secrets.service))


def check_rclone(rclone_path: str | None = None,
                 locate: Callable[[str | None], RcloneBinary] = locate_rclone) -> Check:
    try:
        found = locate(rclone_path)
    except AppError as err:
        return failed("rclone", err)
    return Check("rclone", True, _(
        "rclone {version_text} ({path})"
    ).format(version_text=found.version_text, path=found.path))


def core_checks(secrets: SecretStore, rclone_path: str | None = None) -> list[Check]:
    """The checks that need no display."""
    return [check_keyring(secrets), check_rclone(rclone_path)]


def missing(checks: Sequence[Check]) -> list[str]:
    """The names of the failed checks (empty: all passed)."""
    return [c.name for c in checks if not c.ok]
