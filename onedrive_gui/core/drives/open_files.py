"""Files still open on a drive about to be unmounted (Windows).

rclone's ``cmount`` (the only mount type on Windows, WinFsp) unmounts at once even while a
program has a file open from the drive — a document open in Word loses the file behind it
and its unsaved changes. So on Windows the app asks first ("Save and close the files open
from Z:") and names the programs holding files where Windows can tell.

Windows can tell through the Restart Manager (``Rstrtmgr.dll``: RmStartSession,
RmRegisterResources with full file paths, RmGetList, RmEndSession), which lists the
processes that have the given files open. The files asked about are those in the account's
VFS cache: with the app's cache modes every file opened for writing passes through it, and
those are the files whose changes could be lost.
"""

from __future__ import annotations

import logging
import ntpath
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onedrive_gui.core.i18n import _, names

log = logging.getLogger(__name__)

MAX_FILES = 500  # the most recently used cached files asked about (one RM call)
_ERROR_MORE_DATA = 234
_CCH_RM_SESSION_KEY = 32
_CCH_RM_MAX_APP_NAME = 255
_CCH_RM_MAX_SVC_NAME = 63


@dataclass(frozen=True)
class FileHolder:
    """A program with files open on the drive."""

    pid: int
    app: str  # the name Windows shows for it ("Microsoft Word"), or ""


# (pid, app name) of each process holding any of the given files; raises OSError when the
# Restart Manager fails.
Lister = Callable[[Sequence[str]], list[tuple[int, str]]]


def cached_files(cache_dir: Path, remote: str, mount_point: str, *,
                 limit: int = MAX_FILES) -> list[str]:
    """Paths on the mounted drive of the files of *remote* in rclone's VFS cache
    (``<cache>/vfs/<remote>/...``), most recently used first."""
    data = os.path.join(str(cache_dir), "vfs", remote)
    found: list[tuple[float, str]] = []
    for folder, _dirs, files in os.walk(data, onerror=lambda exc: log.info(
            "cannot read part of the cache: %s", exc)):
        for name in files:
            full = os.path.join(folder, name)
            try:
                used = os.stat(full).st_atime
            except OSError:
                continue
            rel = os.path.relpath(full, data)
            found.append((used, ntpath.join(mount_point + "\\" if len(mount_point) == 2
                                            else mount_point, *rel.split(os.sep))))
    found.sort(reverse=True)
    return [path for _used, path in found[:limit]]


def _restart_manager_list(paths: Sequence[str]) -> list[tuple[int, str]]:
    """The Restart Manager's list of processes that have any of *paths* open (Windows)."""
    import ctypes
    from ctypes import wintypes

    class RmUniqueProcess(ctypes.Structure):
        _fields_ = [("dwProcessId", wintypes.DWORD), ("ProcessStartTime", wintypes.FILETIME)]

    class RmProcessInfo(ctypes.Structure):
        _fields_ = [("Process", RmUniqueProcess),
                    ("strAppName", wintypes.WCHAR * (_CCH_RM_MAX_APP_NAME + 1)),
                    ("strServiceShortName", wintypes.WCHAR * (_CCH_RM_MAX_SVC_NAME + 1)),
                    ("ApplicationType", ctypes.c_int),
                    ("AppStatus", wintypes.ULONG),
                    ("TSSessionId", wintypes.DWORD),
                    ("bRestartable", wintypes.BOOL)]

    rm: Any = ctypes.WinDLL("rstrtmgr")  # type: ignore[attr-defined,unused-ignore]
    session = wintypes.DWORD()
    key = ctypes.create_unicode_buffer(_CCH_RM_SESSION_KEY + 1)
    err = rm.RmStartSession(ctypes.byref(session), 0, key)
    if err:
        raise OSError(err, "RmStartSession failed")
    try:
        names = (wintypes.LPCWSTR * len(paths))(*paths)
        err = rm.RmRegisterResources(session, len(paths), names, 0, None, 0, None)
        if err:
            raise OSError(err, "RmRegisterResources failed")
        needed, count = wintypes.UINT(0), wintypes.UINT(0)
        reasons = wintypes.DWORD()
        infos = (RmProcessInfo * 1)()
        for _attempt in range(5):  # the list may grow between two calls
            count = wintypes.UINT(len(infos))
            err = rm.RmGetList(session, ctypes.byref(needed), ctypes.byref(count), infos,
                               ctypes.byref(reasons))
            if err != _ERROR_MORE_DATA:
                break
            infos = (RmProcessInfo * (needed.value + 4))()
        if err:
            raise OSError(err, "RmGetList failed")
        return [(int(infos[i].Process.dwProcessId), str(infos[i].strAppName))
                for i in range(count.value)]
    finally:
        rm.RmEndSession(session)


def file_holders(paths: Sequence[str], *, platform: str = sys.platform,
                 lister: Lister | None = None) -> list[FileHolder] | None:
    """The programs (other than this app) that have any of *paths* open; None when
    Windows cannot tell (not Windows, nothing to ask about, or the Restart Manager failed)."""
    if platform != "win32" or not paths:
        return None
    try:
        found = (lister or _restart_manager_list)(paths)
    except OSError as exc:
        log.info("the Restart Manager could not tell which programs hold files: %s", exc)
        return None
    own = os.getpid()
    holders: dict[int, FileHolder] = {}
    for pid, app in found:
        if pid != own and pid not in holders:
            holders[pid] = FileHolder(pid, app.strip())
    return sorted(holders.values(), key=lambda h: (h.app.lower(), h.pid))


def unmount_question(mount_point: str, holders: list[FileHolder] | None) -> tuple[str, str]:
    """(question, details) asked before unmounting *mount_point* on Windows."""
    where = mount_point.rstrip("\\/") if len(mount_point.rstrip("\\/")) == 2 else mount_point
    question = _("Save and close the files open from {where} first.").format(where=where)
    if holders:
        programs = names(_(
            "{app} (process {pid})"
        ).format(app=h.app, pid=h.pid) if h.app else _(
            "process {pid}"
        ).format(pid=h.pid)
                          for h in holders[:8])
        details = (_(
            "These programs have files open from {where}: {names} and {value} more. Windows "
            "removes the drive at once, and what they have not saved there is lost."
        ) if len(holders) > 8 else _(
            "These programs have files open from {where}: {names}. Windows removes the "
            "drive at once, and what they have not saved there is lost."
        )).format(where=where, names=programs, value=len(holders) - 8)
    else:
        details = (_("Windows removes the drive at once, even while a program still has a file "
                   "open from it; what that program has not saved there is lost."))
    return question, details
