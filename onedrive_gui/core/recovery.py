"""After the app stopped without unmounting (killed, crashed, power cut): what it left behind.

While an app process has mounts it keeps a small record, ``sessions/<app pid>.json`` in the
app's data folder (user-only; no secrets): the pid of its rclone and which account is mounted
where. A clean shutdown removes it. At the next start a record whose app process is gone
means a crash:

- its rclone may still run (Windows: it outlives the app) — it is stopped (rclone unmounts
  on SIGTERM); on Linux/macOS it usually died with the app (its log pipe broke), leaving
  stale FUSE mounts ("Transport endpoint is not connected") — they are detached;
- files written but not uploaded are still in rclone's VFS cache (the same cache folder is
  used again), marked ``"Dirty": true`` in ``vfsMeta/<remote>/...``; mounting the account
  again makes rclone upload them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onedrive_gui.core.atomic import write_atomic

log = logging.getLogger(__name__)

_STOP_WAIT = 10.0  # seconds an orphaned rclone gets to unmount before it is killed


class SessionRecord:
    """This process's record of its rclone and mounts (see the module docstring)."""

    def __init__(self, sessions_dir: Path, app_pid: int | None = None) -> None:
        self.app_pid = os.getpid() if app_pid is None else app_pid
        self.path = sessions_dir / f"{self.app_pid}.json"

    def write(self, rcd_pid: int | None, rclone: str | None, mounts: dict[str, str],
              *, rcd_pids: list[int] | None = None) -> None:
        """Record the current rclone(s) and mounts; no mounts left -> no record.

        *rcd_pids*: every rclone of this process (one per account), *rcd_pid* among them.
        """
        if not mounts:
            self.remove()
            return
        data: dict[str, Any] = {"app_pid": self.app_pid, "rcd_pid": rcd_pid, "rclone": rclone,
                                "mounts": dict(sorted(mounts.items()))}
        if rcd_pids:
            data["rcd_pids"] = sorted(set(rcd_pids))
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

    def describe(self, remounted: list[str], failed: list[str]) -> str:
        """One paragraph for the user."""
        parts = ["The app had stopped unexpectedly while drives were mounted."]
        if self.stopped_rclone:
            parts.append("The rclone it left running was stopped.")
        if self.detached:
            parts.append(f"Broken mounts were removed from {', '.join(self.detached)}.")
        pending = {m.name: m.pending for m in self.mounts}
        for name in remounted:
            n = pending.get(name, 0)
            parts.append(f"'{name}' is mounted again" + (
                f"; {n} file(s) written before the stop are being uploaded now." if n
                else "; nothing was left to upload."))
        for text in failed:
            parts.append(f"Could not mount {text}; its pending files stay in the cache and "
                         "are uploaded the next time you mount it.")
        for m in self.mounts:
            if m.pending and m.name not in remounted and not any(
                    t.startswith(f"'{m.name}' ") for t in failed):
                parts.append(f"'{m.name}' has {m.pending} file(s) waiting in the cache; "
                             "mount it to upload them.")
        return " ".join(parts)


def dirty_files(cache_dir: Path, remote: str) -> int:
    """Files of *remote* in rclone's VFS cache that were changed and not uploaded yet."""
    meta = cache_dir / "vfsMeta" / remote
    count = 0
    if not meta.is_dir():
        return 0
    for p in meta.rglob("*"):
        if not p.is_file():
            continue
        try:
            if json.loads(p.read_text(encoding="utf-8")).get("Dirty") is True:
                count += 1
        except (OSError, ValueError, AttributeError) as exc:
            log.info("unreadable cache record %s: %s", p, exc)
    return count


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        try:
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        finally:
            kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
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


def _image(pid: int) -> str | None:
    """The executable of process *pid* (None when unknown)."""
    if sys.platform.startswith("linux"):
        try:
            return os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
        except OSError:
            return None
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        handle = kernel32.OpenProcess(0x1000, False, pid)
        if not handle:
            return None
        try:
            buf = ctypes.create_unicode_buffer(32768)
            size = wintypes.DWORD(len(buf))
            if kernel32.QueryFullProcessImageNameW(handle, 0, buf, ctypes.byref(size)):
                return str(buf.value)
            return None
        finally:
            kernel32.CloseHandle(handle)
    done = subprocess.run(["ps", "-o", "comm=", "-p", str(pid)], capture_output=True,
                          text=True, timeout=10, check=False)
    return done.stdout.strip() or None


def _same_program(image: str | None, rclone: str | None) -> bool:
    if not image:
        return False
    if rclone:
        try:
            return os.path.samefile(image, rclone)
        except OSError:
            pass
    return Path(image).name.lower() in ("rclone", "rclone.exe")


def _stop_orphan(pid: int) -> None:
    """SIGTERM (rclone unmounts its mounts and exits), then SIGKILL after a while."""
    os.kill(pid, signal.SIGTERM)  # TerminateProcess on Windows
    deadline = time.monotonic() + _STOP_WAIT
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    log.warning("the orphaned rclone (pid %d) did not stop; killing it", pid)
    os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring the unreadable crash record %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def recover_leftovers(sessions_dir: Path, cache_dir: Path) -> Leftovers | None:
    """Clean up after app processes that died with mounts; None when there was none.

    Records of running app processes (another instance, a ``mount`` in a terminal) and of
    this process are left alone.
    """
    from onedrive_gui.core.mountpoints import detach_stale_mount

    if not sessions_dir.is_dir():
        return None
    mounts: dict[str, LeftMount] = {}
    stopped: list[int] = []
    detached: list[str] = []
    found = False
    for path in sorted(sessions_dir.glob("*.json")):
        data = _read(path)
        app_pid = data.get("app_pid") if data else None
        if isinstance(app_pid, int) and (app_pid == os.getpid() or pid_alive(app_pid)):
            continue
        found = True
        if data:
            pids = [data.get("rcd_pid"), *(data.get("rcd_pids") or [])]
            for rcd_pid in dict.fromkeys(p for p in pids if isinstance(p, int)):
                if pid_alive(rcd_pid) and _same_program(_image(rcd_pid), data.get("rclone")):
                    log.warning("stopping the rclone (pid %d) left by a crashed app", rcd_pid)
                    _stop_orphan(rcd_pid)
                    stopped.append(rcd_pid)
            for name, mp in (data.get("mounts") or {}).items():
                if not isinstance(name, str) or not isinstance(mp, str):
                    continue
                if detach_stale_mount(mp):
                    detached.append(mp)
                mounts[name] = LeftMount(name, mp, dirty_files(cache_dir, name))
        path.unlink(missing_ok=True)
    if not found:
        return None
    log.warning("recovered after a crash: %s", mounts)
    return Leftovers(sorted(mounts.values(), key=lambda m: m.name), stopped, detached)
