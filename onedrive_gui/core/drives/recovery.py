"""After the app stopped without unmounting (killed, crashed, power cut): what it left behind.

While an app process has mounts it keeps a small record, ``sessions/<app pid>.json`` in the
app's data folder (user-only; no secrets): which process it was (pid, executable, start
time — Windows reuses process IDs quickly), its rclone (pid, start time, rc address and rc
user name) and which account is mounted where. A clean shutdown removes it. At the next start
a record whose app process is gone means a crash:

- its rclone may still run (Windows: it outlives the app). It is asked to stop the way that
  lets it unmount: rc ``core/quit`` (the rc password is derived from the config password in
  the keyring, see :func:`onedrive_gui.core.rclone.process.rc_password`), else an interrupt
  (CTRL_BREAK_EVENT to its console on Windows, which Go turns into an interrupt; SIGINT, then
  SIGTERM, to its process group elsewhere); killed only as the last resort;
- on Linux/macOS its rclone usually died with the app (its log pipe broke), leaving stale
  FUSE mounts ("Transport endpoint is not connected") — they are detached; on Windows a
  WinFsp folder mount point left behind by a killed rclone is removed when it is empty;
- files written but not uploaded are still in rclone's VFS cache (the same cache folder is
  used again), marked ``"Dirty": true`` in ``vfsMeta/<remote>/...``; mounting the account
  again makes rclone upload them.
"""

from __future__ import annotations

import errno
import json
import logging
import ntpath
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onedrive_gui.core.atomic import write_atomic
from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _

log = logging.getLogger(__name__)

_STOP_WAIT = 10.0  # seconds an orphaned rclone gets for each polite way of stopping it
_STILL_ACTIVE = 259
_QUERY_LIMITED_INFORMATION = 0x1000
_IO_REPARSE_TAG_MOUNT_POINT = 0xA0000003
_FILE_ATTRIBUTE_REPARSE_POINT = 0x400


class SessionRecord:
    """This process's record of its rclone and mounts (see the module docstring)."""

    def __init__(self, sessions_dir: Path, app_pid: int | None = None) -> None:
        self.app_pid = os.getpid() if app_pid is None else app_pid
        self.path = sessions_dir / f"{self.app_pid}.json"
        # Which process this is: a later process with the same pid differs in both.
        self.app_started = process_start_time(self.app_pid)
        self.app_exe = process_image(self.app_pid)
        self._rcd_started: dict[int, str | None] = {}  # rclone pid -> its start time

    def write(self, rcd_pid: int | None, rclone: str | None, mounts: dict[str, str], *,
              rc_url: str | None = None, rc_user: str | None = None,
              rcds: Sequence[tuple[int, str | None, str | None]] | None = None) -> None:
        """Record the current rclone(s) and mounts; no mounts left -> no record.

        *rc_url* and *rc_user* (of *rcd_pid*) let a later start ask a left-over rclone to
        quit; the rc password is not recorded (it is derived from the config password in
        the keyring). *rcds*: every rclone of this process (one per account) as
        (pid, rc_url, rc_user), *rcd_pid* among them.
        """
        if not mounts:
            self.remove()
            return
        entries = list(rcds or [])
        if rcd_pid is not None and all(pid != rcd_pid for pid, _u, _n in entries):
            entries.insert(0, (rcd_pid, rc_url, rc_user))
        for pid, _u, _n in entries:
            if pid not in self._rcd_started:
                self._rcd_started[pid] = process_start_time(pid)
        first = entries[0] if entries else (None, None, None)
        data = {"app_pid": self.app_pid, "app_started": self.app_started,
                "app_exe": self.app_exe, "rcd_pid": first[0],
                "rcd_started": self._rcd_started.get(first[0]) if first[0] else None,
                "rclone": rclone, "rc_url": first[1], "rc_user": first[2],
                "rcds": [{"pid": pid, "started": self._rcd_started.get(pid), "rc_url": url,
                          "rc_user": user} for pid, url, user in entries],
                "mounts": dict(sorted(mounts.items()))}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                self.path.parent.chmod(0o700)
            write_atomic(self.path, (json.dumps(data, indent=1) + "\n").encode(), 0o600)
        except OSError as exc:  # a full disk must not stop the mounts; recovery is a bonus
            log.warning("could not record the mounts in %s: %s", self.path, exc)

    def remove(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove %s: %s", self.path, exc)


@dataclass(frozen=True)
class LeftMount:
    name: str
    mount_point: str
    pending: int  # files in the cache not uploaded yet


@dataclass(frozen=True)
class Leftovers:
    """What crashed app processes left behind, now cleaned up."""

    mounts: list[LeftMount] = field(default_factory=list)
    stopped_rclone: list[int] = field(default_factory=list)  # pids of orphans stopped
    detached: list[str] = field(default_factory=list)  # stale mount points removed
    problems: list[str] = field(default_factory=list)  # what could not be cleaned up
    # how each orphan was stopped: "rc", "interrupt" or "killed" (the last resort)
    stopped_how: dict[int, str] = field(default_factory=dict)

    def describe(self, remounted: list[str], failed: list[str]) -> str:
        """One paragraph for the user: what happened to each drive first (a notification
        shows the first 255 characters), then what was cleaned up."""
        parts = [_("The app had stopped unexpectedly while drives were mounted.")]
        pending = {m.name: m.pending for m in self.mounts}
        for name in remounted:
            n = pending.get(name, 0)
            parts.append(_("'{name}' is mounted again").format(name=name) + (
                _("; {n} file(s) written before the stop are being uploaded now.").format(n=n) if n
                else _("; nothing was left to upload.")))
        for text in failed:
            parts.append(_(
                "Could not mount {text}; its pending files stay in the cache and are uploaded "
                "the next time you mount it."
            ).format(text=text))
        for m in self.mounts:
            if m.pending and m.name not in remounted and not any(
                    t.startswith(f"'{m.name}' ") for t in failed):
                parts.append(_(
                    "'{name}' has {pending} file(s) waiting in the cache; mount it to upload "
                    "them."
                ).format(name=m.name, pending=m.pending))
        if self.stopped_rclone:
            parts.append(_("The rclone it left running was stopped."))
        if self.detached:
            parts.append(_(
                "Broken mounts were removed from {join}."
            ).format(join=', '.join(self.detached)))
        parts.extend(self.problems)
        return " ".join(parts)


# --- rclone's VFS cache ----------------------------------------------------------------------


def long_path(path: str, *, windows: bool) -> str:
    r"""*path* in Windows' extended-length form (``\\?\C:\...``, ``\\?\UNC\server\...``)
    so that it may exceed 260 characters, as rclone writes its cache; unchanged elsewhere."""
    if not windows or path.startswith("\\\\?\\"):
        return path
    full = ntpath.normpath(ntpath.abspath(path) if sys.platform == "win32" else path)
    if full.startswith("\\\\"):
        return "\\\\?\\UNC\\" + full[2:]
    return "\\\\?\\" + full


def dirty_files(cache_dir: Path, remote: str, *, windows: bool | None = None) -> int:
    """Files of *remote* in rclone's VFS cache that were changed and not uploaded yet.

    Never raises: an unreadable part of the cache is logged and skipped (the crash record
    must go away even then, or the same error would come back at every start).
    """
    if windows is None:
        windows = sys.platform == "win32"
    meta = long_path(os.path.join(str(cache_dir), "vfsMeta", remote), windows=windows)
    count = 0

    def walk_error(exc: OSError) -> None:
        log.warning("cannot read part of the cache (%s): %s", exc.filename, exc.strerror)

    try:
        for folder, _dirs, files in os.walk(meta, onerror=walk_error):
            for name in files:
                p = os.path.join(folder, name)
                try:
                    with open(p, encoding="utf-8") as fh:
                        if json.load(fh).get("Dirty") is True:
                            count += 1
                except (OSError, ValueError, AttributeError) as exc:
                    log.info("unreadable cache record %s: %s", p, exc)
    except OSError as exc:  # os.walk reports through onerror; anything else: same treatment
        walk_error(exc)
    return count


# --- which process is which ------------------------------------------------------------------


def _kernel32() -> Any:
    """kernel32 with the prototypes used here (a HANDLE is pointer-sized on 64-bit Windows;
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

        kernel32 = _kernel32()
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
    kernel32 = _kernel32()
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


def _same_file(a: str, b: str) -> bool:
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
        if image is not None and not _same_file(image, exe):
            return False
    return True


def _same_program(image: str | None, rclone: str | None) -> bool:
    if not image:
        return False
    if rclone:
        try:
            return os.path.samefile(image, rclone)
        except OSError:
            pass
    return Path(image).name.lower() in ("rclone", "rclone.exe")


# --- stopping a left-over rclone -------------------------------------------------------------


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def _rc_quit(pid: int, rc_url: str, rc_user: str, config_password: str) -> bool:
    """rc ``core/quit``; False when rclone refused it (then it is still running), or when
    the program at the recorded address is not the left-over rclone *pid* (rc ``core/pid``):
    the address is asked only while that rclone, which holds it, still runs."""
    from onedrive_gui.core.rclone.process import rc_password
    from onedrive_gui.core.rclone.rc import RcCallError, RcClient

    client = RcClient(rc_url, rc_user, rc_password(config_password, rc_user), timeout=10)
    try:
        if client.call("core/pid", timeout=10).get("pid") != pid:
            log.warning("the program at the recorded rc address is not the left-over "
                        "rclone (pid %d); not asking it to quit", pid)
            return False
        client.call("core/quit", timeout=10)
    except RcCallError as exc:  # e.g. 401: not the credentials this rclone was started with
        log.info("the left-over rclone refused core/quit: %s", exc.message)
        return False
    except AppError as exc:  # it may exit before answering: waiting tells
        log.info("asking the left-over rclone to quit: %s", exc.message)
    finally:
        client.close()
    return True


def _ctrl_break(pid: int) -> bool:
    """CTRL_BREAK_EVENT to rclone's console process group (Windows). rclone was started in
    a new process group with a console of its own (CREATE_NO_WINDOW), so we attach to that
    console for the moment of sending; a process that has a console itself cannot attach
    and gets False."""
    kernel32 = _kernel32()
    if not kernel32.AttachConsole(pid):
        return False
    try:
        return bool(kernel32.GenerateConsoleCtrlEvent(1, pid))  # CTRL_BREAK_EVENT, group pid
    finally:
        kernel32.FreeConsole()


_ERROR_ACCESS_DENIED = 5
_ERROR_INVALID_PARAMETER = 87


def signal_refused(exc: OSError, *, windows: bool) -> bool:
    """Whether *exc*, raised by ``os.kill``/``os.killpg`` for a recorded pid, only says that
    the process is gone or not ours to signal (then the caller checks whether it still runs);
    any other error is a real fault. Decided by error number, never by message text.

    POSIX: ESRCH (ProcessLookupError), EPERM (a pid reused by another user's process).
    Windows (``os.kill`` = OpenProcess + TerminateProcess): ERROR_INVALID_PARAMETER (87) when
    no process has the pid any more, ERROR_ACCESS_DENIED (5) when it has exited but a handle
    keeps it around, or belongs to someone else."""
    if windows:
        return getattr(exc, "winerror", None) in (_ERROR_INVALID_PARAMETER, _ERROR_ACCESS_DENIED)
    return exc.errno in (errno.ESRCH, errno.EPERM)


def _interrupt(pid: int) -> bool:
    """Ask *pid* to stop the way Ctrl-C does (rclone then unmounts); True once it is gone."""
    if sys.platform == "win32":
        return _ctrl_break(pid) and _wait_gone(pid, _STOP_WAIT)
    try:
        own_group = os.getpgid(pid) == pid  # rclone runs in its own session / group
        for sig in (signal.SIGINT, signal.SIGTERM):
            if own_group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
            if _wait_gone(pid, _STOP_WAIT):
                return True
    except OSError as exc:
        if not signal_refused(exc, windows=False):
            raise
        log.info("interrupting pid %d: %s", pid, exc)
        return not pid_alive(pid)
    return False


def kill(pid: int, *, windows: bool | None = None) -> None:
    """The last resort: SIGKILL (TerminateProcess on Windows). A pid that exited meanwhile
    (or is not ours) is not an error: the caller waits for it to be gone."""
    if windows is None:
        windows = sys.platform == "win32"
    try:
        os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    except OSError as exc:
        if not signal_refused(exc, windows=windows):
            raise
        log.info("killing pid %d: %s", pid, exc)


def stop_orphan(pid: int, *, rc_url: str | None = None, rc_user: str | None = None,
                config_password: str | None = None) -> str:
    """Stop a left-over rclone so that it unmounts: rc ``core/quit`` when its address and
    credentials are known, else an interrupt; killed only when neither worked. Returns how:
    "rc", "interrupt" or "killed"."""
    if (rc_url and rc_user and config_password and pid_alive(pid)
            and _rc_quit(pid, rc_url, rc_user, config_password)):
        if _wait_gone(pid, _STOP_WAIT):
            return "rc"
    if _interrupt(pid):
        return "interrupt"
    log.warning("the orphaned rclone (pid %d) did not stop; killing it", pid)
    kill(pid)
    if not _wait_gone(pid, 5.0):
        log.error("the orphaned rclone (pid %d) is still running after being killed", pid)
    return "killed"


# --- a WinFsp folder mount point left behind -------------------------------------------------


def remove_leftover_mount_folder(path: str, *, windows: bool | None = None) -> bool:
    """Remove the folder a killed WinFsp mount left on *path* (Windows); True when removed.

    WinFsp creates a folder mount point itself (the app requires it not to exist before
    mounting) and deletes it when the mount ends; a killed mount can leave it behind, and
    the app would then refuse it ("already exists") or think the drive is mounted. Only an
    empty plain folder, or WinFsp's own mount-point junction whose drive is gone, is removed
    — never a drive letter, a file, a symbolic link or a folder with anything in it.
    """
    if windows is None:
        windows = sys.platform == "win32"
    if not windows or len(path.rstrip("\\/")) <= 2:  # not Windows, or a drive letter
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False  # gone already
    attributes = getattr(st, "st_file_attributes", 0)
    reparse_tag = getattr(st, "st_reparse_tag", 0)
    if stat.S_ISLNK(st.st_mode):
        return False
    if attributes & _FILE_ATTRIBUTE_REPARSE_POINT:
        if reparse_tag != _IO_REPARSE_TAG_MOUNT_POINT:
            return False
        try:
            os.listdir(path)
            return False  # it leads somewhere: a live mount, or someone's junction
        except OSError:
            pass  # the drive behind it is gone
    elif not stat.S_ISDIR(st.st_mode):
        return False
    else:
        try:
            if os.listdir(path):
                return False
        except OSError:
            return False
    try:
        os.rmdir(path)
    except OSError as exc:
        log.warning("could not remove the left-over mount folder %s: %s", path, exc)
        return False
    log.info("removed the mount folder %s left by a stopped rclone", path)
    return True


# --- the records -----------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring the unreadable crash record %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _recorded_rclones(data: dict[str, Any]
                      ) -> list[tuple[int, str | None, str | None, str | None]]:
    """(pid, start time, rc url, rc user) of every rclone a record names (one per account;
    records of earlier versions name one, with or without its rc address)."""
    out: dict[int, tuple[int, str | None, str | None, str | None]] = {}
    rcds = data.get("rcds")
    if isinstance(rcds, list):
        for e in rcds:
            if isinstance(e, dict) and isinstance(e.get("pid"), int):
                out.setdefault(e["pid"], (e["pid"], _str(e, "started"), _str(e, "rc_url"),
                                          _str(e, "rc_user")))
    pid = data.get("rcd_pid")
    if isinstance(pid, int):
        out.setdefault(pid, (pid, _str(data, "rcd_started"), _str(data, "rc_url"),
                             _str(data, "rc_user")))
    for extra in data.get("rcd_pids") or []:
        if isinstance(extra, int):
            out.setdefault(extra, (extra, None, None, None))
    return list(out.values())


def recover_leftovers(sessions_dir: Path, cache_dir: Path, *,
                      config_password: str | Callable[[], str | None] | None = None
                      ) -> Leftovers | None:
    """Clean up after app processes that died with mounts; None when there was none.

    Records of running app processes (another instance, a ``mount`` in a terminal) and of
    this process are left alone; a record whose pid now belongs to another process (other
    start time or executable) is a crash. *config_password* (or a function giving it, called
    only when a left-over rclone is found: it reads the keyring) lets that rclone be asked
    to quit over rc. A record is removed once looked at, whatever went wrong.
    """
    from onedrive_gui.core.drives.mountpoints import detach_stale_mount

    if not sessions_dir.is_dir():
        return None
    mounts: dict[str, LeftMount] = {}
    stopped: list[int] = []
    how: dict[int, str] = {}
    detached: list[str] = []
    problems: list[str] = []
    found = False
    for path in sorted(sessions_dir.glob("*.json")):
        data = _read(path)
        app_pid = data.get("app_pid") if data else None
        if isinstance(app_pid, int) and (app_pid == os.getpid() or same_process(
                app_pid, data.get("app_started") if data else None,
                data.get("app_exe") if data else None)):
            continue
        found = True
        try:
            if data:
                for rcd_pid, started, rc_url, rc_user in _recorded_rclones(data):
                    if not (same_process(rcd_pid, started, None) and _same_program(
                            process_image(rcd_pid), _str(data, "rclone"))):
                        continue
                    log.warning("stopping the rclone (pid %d) left by a crashed app", rcd_pid)
                    if callable(config_password):
                        password = config_password() if rc_url and rc_user else None
                    else:
                        password = config_password
                    how[rcd_pid] = stop_orphan(
                        rcd_pid, rc_url=rc_url, rc_user=rc_user,
                        config_password=password if isinstance(password, str) else None)
                    stopped.append(rcd_pid)
                for name, mp in (data.get("mounts") or {}).items():
                    if not isinstance(name, str) or not isinstance(mp, str):
                        continue
                    try:
                        if detach_stale_mount(mp) or remove_leftover_mount_folder(mp):
                            detached.append(mp)
                    except AppError as exc:
                        log.error("cleaning up %s: %s", mp, exc)
                        problems.append(f"{exc.message} {exc.hint}".strip())
                    mounts[name] = LeftMount(name, mp, dirty_files(cache_dir, name))
        finally:
            path.unlink(missing_ok=True)
    if not found:
        return None
    log.warning("recovered after a crash: %s", mounts)
    return Leftovers(sorted(mounts.values(), key=lambda m: m.name), stopped, detached,
                     problems, how)
