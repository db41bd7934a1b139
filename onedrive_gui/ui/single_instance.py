"""One app per user: a QLockFile in the app's config dir.

A second launch finds the lock taken, leaves a "show" request file next to it and exits
with 0; the first one watches the folder (QFileSystemWatcher) and shows itself. QtCore only:
no local server, so nothing of QtNetwork is loaded before the tray shows.

On Windows only the foreground process may bring a window to the front — the second launch
is that process (the user just started it), so it hands the right to the first instance
(its pid is in the lock file) with AllowSetForegroundWindow before asking it to show;
otherwise the first one's window would only flash in the taskbar.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QLockFile, QObject, Signal

log = logging.getLogger(__name__)

REQUEST_FILE = "show-request"


def allow_foreground(pid: int, *, platform: str = sys.platform, user32: Any = None) -> bool:
    """Let process *pid* bring its window to the front (Windows; elsewhere nothing to do)."""
    if platform != "win32" or pid <= 0:
        return False
    if user32 is None:
        import ctypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    ok = bool(user32.AllowSetForegroundWindow(pid))
    if not ok:
        log.info("AllowSetForegroundWindow(%d) was refused", pid)
    return ok


class SingleInstance(QObject):
    show_requested = Signal()

    def __init__(self, lock_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lock_dir = Path(lock_dir)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self._request = self.lock_dir / REQUEST_FILE
        self._lock = QLockFile(str(self.lock_dir / "instance.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone
        self._watcher: QFileSystemWatcher | None = None

    def acquire(self) -> bool:
        """True: we are the first instance. False: another one runs and was asked to show."""
        if self._lock.tryLock(200):
            self._request.unlink(missing_ok=True)  # from a launch while none was running
            watcher = QFileSystemWatcher([str(self.lock_dir)], self)
            watcher.directoryChanged.connect(self._changed)
            self._watcher = watcher
            return True
        pid = self.first_pid()
        if pid is not None:
            allow_foreground(pid)
        try:
            self._request.write_bytes(b"show\n")
        except OSError as exc:
            log.warning("could not ask the running instance to show itself: %s", exc)
        return False

    def first_pid(self) -> int | None:
        """The pid of the instance holding the lock (from the lock file), if known."""
        info = self._lock.getLockInfo()
        pid = info[0] if isinstance(info, tuple) and info else None
        return pid if isinstance(pid, int) and pid > 0 else None

    def _changed(self, _path: str) -> None:
        if self._request.exists():
            self._request.unlink(missing_ok=True)
            self.show_requested.emit()

    def release(self) -> None:
        if self._watcher is not None:
            self._watcher.directoryChanged.disconnect(self._changed)
            self._watcher.deleteLater()
            self._watcher = None
        self._lock.unlock()
