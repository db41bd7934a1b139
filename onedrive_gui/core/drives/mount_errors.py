"""Why a drive cannot be mounted or unmounted: FUSE / WinFsp missing, rclone's mount errors
turned into messages that say what to do, uploads still pending."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from onedrive_gui.core.drives.mountpoints import unmount_hint
from onedrive_gui.core.errors import MountError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.rclone.rc import RcCallError

WINFSP_URL = "https://winfsp.dev/rel/"
_DEV_FUSE = Path("/dev/fuse")


class _Unreachable(MountError):
    """Mounting failed because the cloud cannot be reached (network down)."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(_("OneDrive unreachable"),
                         _("'{name}' cannot be mounted now: OneDrive cannot be reached "
                           "({detail}).").format(name=name, detail=detail),
                         _("It is mounted as soon as the connection is back."))


class PendingUploadsError(MountError):
    """Unmounting now would leave uploads behind (they would resume on the next mount)."""

    def __init__(self, name: str, count: int) -> None:
        self.name = name
        self.count = count
        super().__init__(
            _("Uploads still pending"),
            _(
                "{count} file(s) written to '{name}' are not uploaded yet."
            ).format(count=count, name=name),
            _("Wait until the uploads finish, or unmount anyway: unfinished uploads stay in "
            "the cache and are uploaded the next time you mount this account."),
        )


# ---- FUSE / WinFsp ----------------------------------------------------------------------


def _winfsp_install_dir() -> str | None:
    """WinFsp's InstallDir from the registry (Windows only), None when not installed."""
    if sys.platform != "win32":
        return None
    import winreg

    for key in (r"SOFTWARE\WOW6432Node\WinFsp", r"SOFTWARE\WinFsp"):
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as k:
                value, _kind = winreg.QueryValueEx(k, "InstallDir")
        except OSError:
            continue
        if value:
            return str(value)
    return None


def _winfsp_error() -> MountError:
    return MountError(
        _("WinFsp is not installed"),
        _("Mounting a drive on Windows needs WinFsp, which is not installed on this computer."),
        _("Install WinFsp from {WINFSP_URL}, then mount again.").format(WINFSP_URL=WINFSP_URL),
    )


def check_mount_support(platform: str | None = None) -> None:
    """Raise MountError when the system cannot mount at all (no FUSE / no WinFsp)."""
    platform = platform or sys.platform
    if platform == "win32":
        if _winfsp_install_dir() is None:
            raise _winfsp_error()
        return
    if platform.startswith("linux"):
        missing = []
        if not _DEV_FUSE.exists():
            missing.append(_("{DEV_FUSE} does not exist").format(DEV_FUSE=_DEV_FUSE))
        if shutil.which("fusermount3") is None:
            missing.append(_("the program fusermount3 is not installed"))
        if missing:
            raise MountError(
                _("FUSE is not available"),
                _("Drives cannot be mounted: {join}.").format(join=' and '.join(missing)),
                _("Install FUSE 3 (e.g. 'sudo apt install fuse3' or 'sudo dnf install fuse3') "
                "and load the fuse kernel module ('sudo modprobe fuse'); in a container, "
                "pass /dev/fuse to it."),
            )


def _strip_prefix(text: str) -> str:
    for prefix in ("failed to mount FUSE fs: ", "mount failed: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


def mount_error(name: str, mount_point: str, exc: RcCallError) -> MountError:
    """rclone's mount/mount error as a MountError saying what to do."""
    text = exc.error_text
    low = text.lower()
    if "winfsp" in low:
        return _winfsp_error()
    if "is not empty" in low:
        return MountError(
            _("Mount folder not empty"),
            _(
                "'{name}' cannot be mounted on {mount_point}: the folder is not empty."
            ).format(name=name, mount_point=mount_point),
            _("Choose an empty folder as mount point, or move the files out of it."),
        )
    if "already mounted" in low:
        return MountError(
            _("Mount folder in use"),
            _(
                "'{name}' cannot be mounted on {mount_point}: something is already mounted "
                "there."
            ).format(name=name, mount_point=mount_point),
            unmount_hint(mount_point),  # no fusermount3 hint on Windows
        )
    if "overlap" in low:
        return MountError(
            _("Mount folder inside the drive"),
            _(
                "'{name}' cannot be mounted on {mount_point}: the folder is inside the drive "
                "being mounted."
            ).format(name=name, mount_point=mount_point),
            _("Choose a mount point outside the drive."),
        )
    if "no such file or directory" in low or "cannot find the path" in low:
        return MountError(
            _("Mount folder missing"),
            _(
                "'{name}' cannot be mounted on {mount_point}: the folder (or its parent) does "
                "not exist."
            ).format(name=name, mount_point=mount_point),
            _("Create the folder, or choose another mount point."),
        )
    if "didn't find section in config file" in low:
        return MountError(
            _("Account not set up in rclone"),
            _(
                "'{name}' cannot be mounted: rclone's configuration has no remote for it."
            ).format(name=name),
            _("Remove the account and add it again."),
        )
    return MountError(
        _("Mount failed"),
        _(
            "rclone could not mount '{name}' on {mount_point}: {strip_prefix}"
        ).format(name=name, mount_point=mount_point, strip_prefix=_strip_prefix(text)),
        _("See the rclone log for details, then try again."),
    )
