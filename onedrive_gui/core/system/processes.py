"""Which process is which: alive, when it started, its executable (Linux, macOS, Windows).

Windows reuses process IDs quickly: a pid alone never says that a recorded process still
runs; its start time and executable tell it apart from a later process with the same pid.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_STILL_ACTIVE = 259
_QUERY_LIMITED_INFORMATION = 0x1000


def windows_kernel32() -> Any:
    """kernel32 with the prototypes the app uses (a HANDLE is pointer-sized on 64-bit Windows;
    ctypes' default int result would cut it)."""
    import ctypes
    from ctypes import wintypes

    k: Any = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    k.OpenProcess.restype = wintypes.HANDLE
    k.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    k.CloseHandle.argtypes = [wintypes.HANDLE]
    k.GetExitCodeProcess.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
    k.GetProcessTimes.argtypes = [wintypes.HANDLE, *[ctypes.POINTER(wintypes.FILETIME)] * 4]
    k.QueryFullProcessImageNameW.argtypes = [wintypes.HANDLE, wintypes.DWORD, wintypes.LPWSTR,
                                             ctypes.POINTER(wintypes.DWORD)]
    k.AttachConsole.argtypes = [wintypes.DWORD]
    k.GenerateConsoleCtrlEvent.argtypes = [wintypes.DWORD, wintypes.DWORD]
    return k


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        kernel32 = windows_kernel32()
        handle = kernel32.OpenProcess(_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return False
        code = wintypes.DWORD()
        try:
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        finally:
            kernel32.CloseHandle(handle)
        return bool(ok) and code.value == _STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if sys.platform.startswith("linux"):
        try:  # an exited child not yet reaped by its parent ("zombie") is gone
            stat_ = Path(f"/proc/{pid}/stat").read_text()
            return stat_.rpartition(")")[2].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    return True


def parse_proc_start_time(stat_text: str) -> str | None:
    """Field 22 (``starttime``, clock ticks after boot) of a ``/proc/<pid>/stat`` text."""
    fields = stat_text.rpartition(")")[2].split()  # the name in (...) may hold spaces
    return fields[19] if len(fields) > 19 else None


def _query_process(pid: int, query: Callable[[Any, Any], str | None]) -> str | None:
    """Windows: *query(kernel32, handle)* on a limited-information handle of process *pid*
    (None when the process cannot be opened); the handle is always closed."""
    kernel32 = windows_kernel32()
    handle = kernel32.OpenProcess(_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return None
    try:
        return query(kernel32, handle)
    finally:
        kernel32.CloseHandle(handle)


def process_start_time(pid: int) -> str | None:
    """When process *pid* started, as an opaque text that differs between two processes
    that had the same pid (None when unknown)."""
    if pid <= 0:
        return None
    if sys.platform.startswith("linux"):
        try:
            return parse_proc_start_time(Path(f"/proc/{pid}/stat").read_text())
        except OSError:
            return None
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        def created(kernel32: Any, handle: Any) -> str | None:
            times = [wintypes.FILETIME() for _i in range(4)]  # creation, exit, kernel, user
            if not kernel32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times)):
                return None
            return str((times[0].dwHighDateTime << 32) | times[0].dwLowDateTime)

        return _query_process(pid, created)
    try:
        done = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True,
                              encoding="utf-8", errors="replace", timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def process_image(pid: int) -> str | None:
    """The executable of process *pid* (None when unknown)."""
    if pid <= 0:
        return None
    if sys.platform.startswith("linux"):
        try:
            return os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
        except OSError:
            return None
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        def image(kernel32: Any, handle: Any) -> str | None:
            buf = ctypes.create_unicode_buffer(32768)
            size = wintypes.DWORD(len(buf))
            if kernel32.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size)):
                return str(buf.value)
            return None

        return _query_process(pid, image)
    try:
        done = subprocess.run(["ps", "-o", "comm=", "-p", str(pid)], capture_output=True,
                              encoding="utf-8", errors="replace", timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def same_process(pid: int, started: object, exe: object) -> bool:
    """Whether *pid* is still the process recorded with start time *started* and executable
    *exe* (either may be None in old records: then the pid alone decides)."""
    if not pid_alive(pid):
        return False
    if isinstance(started, str) and process_start_time(pid) not in (None, started):
        return False  # the pid was reused by a later process
    if isinstance(exe, str):
        image = process_image(pid)
        if image is not None and not same_file(image, exe):
            return False
    return True
