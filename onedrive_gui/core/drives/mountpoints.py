"""Where drives are mounted: defaults, checks before mounting, leftovers after a crash.

Linux/macOS mount on an existing empty folder; Windows (WinFsp) mounts on a free drive
letter (``X:``) or on a folder that must *not* exist yet but whose parent must.
"""

from __future__ import annotations

import errno
import logging
import ntpath
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import MountError
from onedrive_gui.core.i18n import N_, _

log = logging.getLogger(__name__)

MOUNTINFO = "/proc/self/mountinfo"
NAME_MAX = 255  # bytes in one folder name (Linux, macOS)
PATH_MAX = 4095  # bytes in a whole path (Linux)
_LETTER = re.compile(r"^([A-Za-z])(?::[\\/]?)?$")
_OCTAL = re.compile(rb"\\([0-7]{3})")


# --- Windows drive letters ---------------------------------------------------------------


def free_letters_from_mask(mask: int) -> list[str]:
    """Letters not in a GetLogicalDrives() bit mask, from Z: down to D: (A-C are reserved)."""
    return [f"{chr(ord('A') + i)}:" for i in range(25, 2, -1) if not mask & (1 << i)]


def _logical_drives() -> int:
    """GetLogicalDrives(): bit n set = drive letter A+n in use (Windows only)."""
    import ctypes

    return int(ctypes.windll.kernel32.GetLogicalDrives())  # type: ignore[attr-defined,unused-ignore]


def free_drive_letters(taken: Iterable[str | None] = (), *, platform: str | None = None,
                       mask: int | None = None) -> list[str]:
    """Drive letters free now, Z: first, without the letters in *taken* (other accounts'
    mount points: a letter is free while its account is not mounted, yet it is theirs);
    [] elsewhere than on Windows. *mask*: GetLogicalDrives()'s answer (asked when None)."""
    if (platform or sys.platform) != "win32":
        return []
    used = {normalize_drive_letter(t) for t in taken if t}
    letters = free_letters_from_mask(_logical_drives() if mask is None else mask)
    return [letter for letter in letters if letter not in used]


def normalize_drive_letter(value: str) -> str | None:
    """"x", "X:", "x:\\" or "X:/" -> "X:"; None when *value* is not a bare drive letter."""
    m = _LETTER.match(value.strip())
    return f"{m.group(1).upper()}:" if m else None


def windows_mount_point(
    value: str, *, free_letters: list[str], exists: Callable[[str], bool]
) -> str:
    """Check a Windows mount point against the machine's facts; return it normalised.

    A drive letter must be free; a folder must be a full path that does not exist yet
    (WinFsp creates it) inside an existing folder.
    """
    v = value.strip()
    if v == "*":
        if not free_letters:
            raise _no_free_letter()
        return free_letters[0]
    letter = normalize_drive_letter(v)
    if letter is not None:
        if letter not in free_letters:
            some = ", ".join(free_letters[:5]) or "none"
            raise MountError(
                _("Drive letter in use"),
                _("{letter} is already used by another drive (or reserved).").format(letter=letter),
                _("Pick a free letter (free now: {some}).").format(some=some),
            )
        return letter
    drive, _rest = ntpath.splitdrive(v)
    if not v or not ntpath.isabs(v) or not drive or drive.startswith(("\\\\", "//")):
        raise MountError(
            _("Not a mount point"),
            _(
                "'{v}' is neither a drive letter nor a full folder path on a local drive."
            ).format(v=v),
            _(
                "Use a free drive letter such as Z:, or a new folder such as {WINDOWS_EXAMPLE} "
                "(not C:\\Users\\you\\OneDrive, which Microsoft's OneDrive app uses)."
            ).format(WINDOWS_EXAMPLE=WINDOWS_EXAMPLE),
        )
    path = ntpath.normpath(v)
    if exists(path):
        raise MountError(
            _("Folder already exists"),
            _(
                "{path} already exists. On Windows the drive appears as a new folder that must "
                "not exist yet."
            ).format(path=path),
            _("Choose a folder name that does not exist yet (inside an existing folder), or a "
            "drive letter."),
        )
    parent = ntpath.dirname(path)
    if not exists(parent):
        raise MountError(
            _("Parent folder missing"),
            _(
                "{parent} does not exist, so {path} cannot be created there."
            ).format(parent=parent, path=path),
            _("Create the parent folder first, or choose another place."),
        )
    return path


def _no_free_letter() -> MountError:
    return MountError(
        _("No free drive letter"),
        _("All drive letters from D: to Z: are in use."),
        _("Disconnect a drive you do not need, or mount on a folder instead."),
    )


def default_mount_point(account_name: str, others: Iterable[str | None] = (), *,
                        platform: str | None = None, mask: int | None = None) -> str:
    """Windows: Z: (or the next free letter down) that no other account uses (*others*: their
    mount points) — never a folder such as C:\\Users\\you\\OneDrive, which Microsoft's own
    OneDrive app owns; elsewhere ``~/OneDrive/<name>``."""
    if (platform or sys.platform) == "win32":
        letters = free_drive_letters(others, platform="win32", mask=mask)
        if not letters:
            raise _no_free_letter()
        return letters[0]
    return str(Path.home() / "OneDrive" / account_name)


# Examples in hints: a folder of the user's own (Windows: not Microsoft's OneDrive folder).
WINDOWS_EXAMPLE = "C:\\Users\\you\\Cloud-work"
POSIX_EXAMPLE = N_("~/OneDrive/<account name>")


def example_mount_point(*, windows: bool | None = None) -> str:
    """How a hint names a good mount point on this system."""
    if windows is None:
        windows = sys.platform == "win32"
    return _(
        "a free drive letter such as Z:, or a new folder such as {WINDOWS_EXAMPLE}"
    ).format(WINDOWS_EXAMPLE=WINDOWS_EXAMPLE) if (
        windows) else _(POSIX_EXAMPLE)


# --- mount table (Linux) -----------------------------------------------------------------


@dataclass(frozen=True)
class MountEntry:
    mount_point: str
    fstype: str
    source: str


def _unescape(field: bytes) -> str:
    return os.fsdecode(_OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), field))


def parse_mountinfo(data: bytes) -> list[MountEntry]:
    """Entries of a /proc/<pid>/mountinfo text (mount points with \\040 etc. decoded)."""
    out: list[MountEntry] = []
    for line in data.splitlines():
        left, sep, right = line.partition(b" - ")
        fields_left, fields_right = left.split(b" "), right.split(b" ")
        if not sep or len(fields_left) < 5 or len(fields_right) < 2:
            continue  # not a mount line
        out.append(MountEntry(
            mount_point=_unescape(fields_left[4]),
            fstype=_unescape(fields_right[0]),
            source=_unescape(fields_right[1]),
        ))
    return out


def mount_entries() -> list[MountEntry]:
    """The current mount table; [] where there is no /proc (macOS, Windows)."""
    try:
        with open(MOUNTINFO, "rb") as fh:
            return parse_mountinfo(fh.read())
    except FileNotFoundError:
        return []


def fuse_mount_points() -> dict[str, str]:
    """FUSE mount points of this system -> file system type ({} without /proc)."""
    return {e.mount_point: e.fstype for e in mount_entries() if e.fstype.startswith("fuse")}


# A FUSE mount whose program is gone: ENOTCONN once the kernel noticed, ECONNABORTED for a
# moment right after the program died.
STALE_ERRNOS = (errno.ENOTCONN, errno.ECONNABORTED)


def is_stale(path: str) -> bool:
    """A FUSE mount on *path* whose program is gone. ``statvfs`` asks the program each time;
    ``stat`` alone is answered from the kernel's attribute cache for a second after the last
    look (rclone's ``--attr-timeout``), so a mount whose rclone died just now looked alive
    and a restarted rclone found "something already mounted" there."""
    probes = (os.stat, os.statvfs) if hasattr(os, "statvfs") else (os.stat,)
    for probe in probes:
        try:
            probe(path)
        except OSError as exc:
            return exc.errno in STALE_ERRNOS
    return False


def _lazy_unmount(path: str) -> None:
    """Detach a FUSE mount whose rclone is gone ("Transport endpoint is not connected")."""
    import shutil
    import subprocess

    tool = shutil.which("fusermount3") or shutil.which("fusermount")
    if tool is None:
        raise MountError(
            _("FUSE is not available"),
            _(
                "The stale mount on {path} cannot be removed: fusermount3 is not installed."
            ).format(path=path),
            _("Install FUSE 3 (e.g. 'sudo apt install fuse3'), then try again."),
        )
    done = subprocess.run(
        [tool, "-u", "-z", path], capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise MountError(
            _("Stale mount cannot be removed"),
            _(
                "A mount left behind by a stopped rclone on {path} cannot be removed: {value}."
            ).format(path=path, value=done.stderr.strip() or 'fusermount3 failed'),
            _("Run 'fusermount3 -u -z {path}' yourself, then try again.").format(path=path),
        )
    log.info("removed the stale mount on %s", path)


def detach_stale_mount(path: str) -> bool:
    """Detach a FUSE mount on *path* whose program is gone; True when there was one."""
    if sys.platform.startswith("linux") and path in fuse_mount_points() and is_stale(path):
        _lazy_unmount(path)
        return True
    return False


def rclone_fuse_mounts() -> list[str]:
    """Mount points of rclone FUSE mounts, e.g. left behind when the app crashed."""
    return [e.mount_point for e in mount_entries() if e.fstype == "fuse.rclone"]


def _entry_for(path: str) -> MountEntry | None:
    found = None
    for e in mount_entries():
        if e.mount_point == path:
            found = e  # the last one is the mount on top
    return found


def _posix_path(value: str, base: str | None = None) -> str:
    """The full, resolved path of *value* (``~`` expanded); relative to *base*, or refused
    when *base* is None."""
    expanded = os.path.expanduser(value)
    if expanded.startswith("~"):
        raise MountError(
            _("Unknown home folder"),
            _("'{value}' refers to a user whose home folder is unknown.").format(value=value),
            _("Write the folder's full path."),
        )
    if not os.path.isabs(expanded):
        if base is None:
            raise MountError(
                _("Not a full path"),
                _(
                    "'{value}' is a relative path; it is not clear which folder it means."
                ).format(value=value),
                _("Write the folder's full path, such as ~/OneDrive/<account name>."),
            )
        expanded = os.path.join(base, expanded)
    return os.path.realpath(os.path.abspath(expanded))


def is_mount_point(path: str) -> bool:
    """True when something is mounted on *path* (a drive letter in use, on Windows)."""
    if sys.platform == "win32":
        letter = normalize_drive_letter(path)
        if letter is not None:
            return letter not in free_drive_letters()
        return os.path.exists(path)  # WinFsp creates the folder only while mounted
    p = _posix_path(path, os.getcwd())
    return _entry_for(p) is not None or os.path.ismount(p)


# --- preparing a mount point -------------------------------------------------------------


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:
        return False  # different drives


def _app_folder_check(path: str, *, windows: bool = False) -> None:
    from onedrive_gui.core.system.paths import AppPaths

    paths = AppPaths.default()
    for kind, folder in (("settings", paths.config_dir), ("data", paths.data_dir),
                         ("cache", paths.cache_dir), ("log", paths.log_dir)):
        real = os.path.realpath(folder)
        if _inside(path, real):
            raise MountError(
                _("Folder not allowed"),
                _(
                    "{path} is inside the app's own {kind} folder ({real})."
                ).format(path=path, kind=kind, real=real),
                _(
                    "Choose a folder of your own, such as {example_mount_point}."
                ).format(example_mount_point=example_mount_point(windows=windows)),
            )


def unmount_hint(path: str, *, platform: str | None = None) -> str:
    """What to do when something is already mounted on *path*."""
    platform = platform or sys.platform
    if platform == "win32":
        return (_("Unmount it first (if an rclone.exe left over from a crash still holds it, end "
                "that in Task Manager), or choose another drive letter."))
    cmd = f"fusermount3 -u '{path}'" if platform.startswith("linux") else f"umount '{path}'"
    return (_(
        "Unmount it first (if it is left over from a crash: {cmd}), or choose another folder."
    ).format(cmd=cmd))



def _check_text(value: str) -> str:
    v = value.strip()
    if not v:
        raise MountError(_("No mount point"), _("No folder or drive letter was given."),
                         _("Choose where the drive should appear."))
    if any(unicodedata.category(c) == "Cc" for c in v):
        raise MountError(
            _("Not a usable folder name"),
            _("The mount point contains a line break, tab or other control character."),
            _("Type the folder's path again without them, or use Choose…."),
        )
    return v


def _check_lengths(path: str) -> None:
    raw = os.fsencode(path)
    if len(raw) > PATH_MAX:
        raise MountError(_("Path too long"), _(
            "The mount point has {n_raw} bytes; at most {PATH_MAX} are possible."
        ).format(n_raw=len(raw), PATH_MAX=PATH_MAX), _("Choose a shorter path."))
    for part in raw.split(b"/"):
        if len(part) > NAME_MAX:
            shown = os.fsdecode(part)[:40] + "…"
            raise MountError(
                _("Folder name too long"),
                _(
                    "The folder name '{shown}' has {n_part} bytes; at most {NAME_MAX} are "
                    "possible."
                ).format(shown=shown, n_part=len(part), NAME_MAX=NAME_MAX),
                _("Choose a shorter folder name."),
            )


def _others_check(path: str, others: Mapping[str, str | None], *, windows: bool) -> None:
    """Refuse *path* when it is, contains or is inside another account's mount point."""
    for name, other in others.items():
        if not other:
            continue
        try:
            if windows:
                letter = normalize_drive_letter(other)
                theirs = letter or ntpath.normpath(os.path.expanduser(other.strip()))
            else:
                theirs = _posix_path(other.strip())
        except MountError:
            continue  # not a usable path: it cannot collide with this one
        if windows:
            mine_cmp, theirs_cmp = ntpath.normcase(path), ntpath.normcase(theirs)
            inside = ntpath.commonpath
        else:
            mine_cmp, theirs_cmp = path, theirs
            inside = os.path.commonpath
        if mine_cmp == theirs_cmp:
            raise MountError(
                _("Mount point taken"),
                _(
                    "{path} is already the mount point of the account '{name}'."
                ).format(path=path, name=name),
                _(
                    "Choose another place for this account, such as {example_mount_point}."
                ).format(example_mount_point=example_mount_point(windows=windows)),
            )
        try:
            common = inside([mine_cmp, theirs_cmp])
        except ValueError:
            continue  # different drives
        if common in (mine_cmp, theirs_cmp):
            text = (_("{path} is inside {theirs}, the mount point of the account '{name}'; "
                      "one drive would hide the other.") if common == theirs_cmp
                    else _("{path} contains {theirs}, the mount point of the account '{name}'; "
                           "one drive would hide the other."))
            raise MountError(
                _("Mount points overlap"),
                text.format(path=path, theirs=theirs, name=name),
                _(
                    "Choose a place outside other accounts' mount points, such as "
                    "{example_mount_point}."
                ).format(example_mount_point=example_mount_point(windows=windows)),
            )


def _enclosing_rclone_mount(path: str) -> str | None:
    """The rclone FUSE mount *path* lies inside (not on), if any."""
    best: str | None = None
    for e in mount_entries():
        if (e.fstype == "fuse.rclone" and e.mount_point != path and _inside(path, e.mount_point)
                and (best is None or len(e.mount_point) > len(best))):
            best = e.mount_point
    return best


def check_mount_point(
    value: str,
    *,
    others: Mapping[str, str | None] | None = None,
    base: str | None = None,
    platform: str | None = None,
    mask: int | None = None,
) -> str:
    """Check where a drive is to appear, without changing anything; return it normalised.

    *others* maps the other accounts' names to their mount points, which this one must not
    equal, contain or lie inside. A relative path is resolved against *base* (the command
    line passes the working directory) and refused when *base* is None (the desktop app has
    no meaningful working directory). A missing folder is fine: it is created when mounting
    (:func:`mount_point_note` says so). *platform* and *mask* (GetLogicalDrives' answer) are
    the machine's facts, asked when None.
    """
    v = _check_text(value)
    if (platform or sys.platform) == "win32":
        v = os.path.expanduser(v)
        if normalize_drive_letter(v) is None and v != "*":
            _app_folder_check(os.path.abspath(v), windows=True)
        path = windows_mount_point(v, free_letters=free_drive_letters(platform="win32",
                                                                      mask=mask),
                                   exists=os.path.exists)
        _others_check(path, others or {}, windows=True)
        return path
    path = _posix_path(v, base)
    _check_lengths(path)
    _app_folder_check(path)
    _others_check(path, others or {}, windows=False)
    entry = _entry_for(path)
    if entry is not None or os.path.ismount(path):
        what = ""
        if entry is not None:
            what = (_(" (an rclone mount, perhaps left over from a crash)")
                    if entry.fstype == "fuse.rclone" else f" ({entry.fstype})")
        raise MountError(_("Already a mount point"),
                         _(
                             "Something is already mounted on {path}{what}."
                         ).format(path=path, what=what), unmount_hint(path))
    outer = _enclosing_rclone_mount(path)
    if outer is not None:
        raise MountError(
            _("Inside a mounted drive"),
            _(
                "{path} is inside {outer}, where a cloud drive is mounted by rclone."
            ).format(path=path, outer=outer),
            _("Choose a folder on this computer's own disk, such as ~/OneDrive/<account name>."),
        )
    try:
        if os.path.lexists(path) and not os.path.isdir(path):
            raise MountError(
                _("Not a folder"),
                _("{path} is a file, not a folder.").format(path=path),
                _("Choose a folder (it is created when it does not exist)."),
            )
        if os.path.isdir(path):
            with os.scandir(path) as it:
                if any(True for _entry in it):
                    raise MountError(
                        _("Folder not empty"),
                        _(
                            "{path} already contains files; the drive would hide them while "
                            "mounted."
                        ).format(path=path),
                        _("Choose an empty or new folder, such as ~/OneDrive/<account name>."),
                    )
            return path
        parent = os.path.dirname(path)
        while not os.path.lexists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            raise MountError(
                _("Cannot create the folder"),
                _(
                    "{path} cannot be created: {parent} is a file, not a folder."
                ).format(path=path, parent=parent),
                _("Choose a place where every part of the path is a folder."),
            )
    except OSError as exc:
        raise _os_error(path, exc) from exc
    return path


def _os_error(path: str, exc: OSError) -> MountError:
    if exc.errno in STALE_ERRNOS:
        return MountError(_("Disconnected mount"), _(
            "{path} is a mount that lost its program."
        ).format(path=path),
                          unmount_hint(path))
    return MountError(
        _("Cannot create the folder"),
        (_("{path} cannot be used: {value} ({filename}).")
         if exc.filename and exc.filename != path else _("{path} cannot be used: {value}."))
        .format(path=path, value=exc.strerror or exc, filename=exc.filename),
        _("Check that the folders on the way exist, are folders and are writable by you."),
    )


def other_mount_points(accounts: Iterable[Any], exclude: str | None = None, *,
                       platform: str | None = None) -> dict[str, str | None]:
    """Name -> mount point of each account (Account-like: ``name``, ``mount_point``) except
    *exclude*; an account without one gets its default (not on Windows, where the default is
    whichever drive letter is free at mount time)."""
    out: dict[str, str | None] = {}
    for a in accounts:
        if exclude is not None and a.name.lower() == exclude.lower():
            continue
        mp = a.mount_point
        if not mp and (platform or sys.platform) != "win32":
            mp = default_mount_point(a.name, platform=platform)
        out[a.name] = mp
    return out


def mount_point_note(path: str, *, platform: str | None = None) -> str:
    """What the user should know about a checked mount point that is fine ('' if nothing)."""
    synced = onedrive_sync_note(path)
    if synced:
        return synced
    if (platform or sys.platform) == "win32" or os.path.isdir(path):
        return ""
    return _(
        "{path} does not exist yet; it is created when the drive is mounted."
    ).format(path=path)


# --- folders Microsoft's OneDrive app syncs (Windows) --------------------------------------
# The OneDrive app sets %OneDrive% (the default account), %OneDriveCommercial% (work or
# school) and %OneDriveConsumer% (personal) to its sync roots, and records each account's
# root as UserFolder under HKCU\Software\Microsoft\OneDrive\Accounts\<account>. Known Folder
# Move redirects Desktop, Documents and Pictures into such a root, so they are inside it. A
# drive mounted in there would be synced back to the cloud by that app (or fought over).

ONEDRIVE_ENV = ("OneDrive", "OneDriveCommercial", "OneDriveConsumer")
_ONEDRIVE_ACCOUNTS_KEY = r"Software\Microsoft\OneDrive\Accounts"


def _registry_sync_roots() -> list[str]:
    """UserFolder of each account of Microsoft's OneDrive app (Windows registry)."""
    roots: list[str] = []
    if sys.platform != "win32":
        return roots
    import winreg

    try:
        key = winreg.OpenKey(winreg.HKEY_CURRENT_USER, _ONEDRIVE_ACCOUNTS_KEY)
    except OSError:
        return roots  # the OneDrive app was never set up for this user
    with key:
        index = 0
        while True:
            try:
                name = winreg.EnumKey(key, index)
            except OSError:
                break
            index += 1
            try:
                with winreg.OpenKey(key, name) as account:
                    value, _kind = winreg.QueryValueEx(account, "UserFolder")
            except OSError:
                continue
            if isinstance(value, str) and value:
                roots.append(value)
    return roots


def onedrive_sync_roots(*, platform: str = sys.platform,
                        environ: Mapping[str, str] | None = None,
                        registry: Callable[[], list[str]] | None = None) -> list[str]:
    """The folders Microsoft's OneDrive app syncs for this user ([] outside Windows)."""
    if platform != "win32":
        return []
    env = os.environ if environ is None else environ
    found = [env[v] for v in ONEDRIVE_ENV if env.get(v)]
    try:
        found += (registry or _registry_sync_roots)()
    except OSError as exc:
        log.info("cannot read the OneDrive app's folders from the registry: %s", exc)
    roots: list[str] = []
    for root in found:
        norm = ntpath.normpath(root.strip())
        if ntpath.isabs(norm) and ntpath.normcase(norm) not in map(ntpath.normcase, roots):
            roots.append(norm)
    return roots


def onedrive_synced_root(path: str, roots: Iterable[str]) -> str | None:
    """The sync root of Microsoft's OneDrive app that Windows path *path* is in (or is)."""
    mine = ntpath.normcase(ntpath.normpath(path))
    for root in roots:
        theirs = ntpath.normcase(ntpath.normpath(root))
        try:
            if ntpath.commonpath([mine, theirs]) == theirs:
                return root
        except ValueError:
            continue  # another drive
    return None


def onedrive_sync_note(path: str, *, platform: str = sys.platform,
                       environ: Mapping[str, str] | None = None,
                       registry: Callable[[], list[str]] | None = None) -> str:
    """A warning when *path* lies in a folder Microsoft's OneDrive app syncs; else ''."""
    if platform != "win32" or normalize_drive_letter(path) is not None:
        return ""
    root = onedrive_synced_root(path, onedrive_sync_roots(
        platform=platform, environ=environ, registry=registry))
    if root is None:
        return ""
    return (_(
        "Warning: {path} is inside {root}, which Microsoft's OneDrive app keeps in sync "
        "(Desktop and Documents may be redirected there). It would upload the whole mounted "
        "drive a second time or fight over its files. Choose a drive letter or a folder "
        "outside it."
    ).format(path=path, root=root))


def prepare_mount_point(value: str, *, others: Mapping[str, str | None] | None = None) -> str:
    """Check *value* (relative to the working directory), create the folder if needed (not
    on Windows); return the mount point."""
    path = check_mount_point(value, others=others, base=os.getcwd())
    if sys.platform == "win32" or os.path.isdir(path):
        return path
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise _os_error(path, exc) from exc
    return path
