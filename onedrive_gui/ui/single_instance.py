"""One app per user: a QLockFile in the app's config dir.

A second launch finds the lock taken, leaves a "show" request file next to it and exits
with 0; the first one watches the folder (QFileSystemWatcher) and shows itself. The same
folder carries ``onedrive-gui quit``'s request (the files and their format are in
``core/system/instance.py``, which the command line uses without Qt). QtCore only: no local
server, so nothing of QtNetwork is loaded before the tray shows.

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

from onedrive_gui.core.system import instance as channel

log = logging.getLogger(__name__)

REQUEST_FILE = channel.SHOW_REQUEST


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
    quit_requested = Signal(object)  # core.instance.QuitRequest

    def __init__(self, lock_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lock_dir = Path(lock_dir)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self._request = self.lock_dir / REQUEST_FILE
        self._quit_request = self.lock_dir / channel.QUIT_REQUEST
        self._lock = QLockFile(str(self.lock_dir / channel.LOCK_FILE))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone
        self._watcher: QFileSystemWatcher | None = None

    def acquire(self) -> bool:
        """True: we are the first instance. False: another one runs and was asked to show."""
        if self._lock.tryLock(200):
            channel.clear_requests(self.lock_dir)  # left while none was running
            watcher = QFileSystemWatcher([str(self.lock_dir)], self)
            watcher.directoryChanged.connect(self._changed)
            self._watcher = watcher
            return True
        pid = self.first_pid()
        if pid is not None:
            allow_foreground(pid)
        try:
            channel.request_show(self.lock_dir)
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
        try:
            data = self._quit_request.read_bytes()
        except OSError:
            return
        self._quit_request.unlink(missing_ok=True)
        req = channel.parse_quit_request(data)
        if isinstance(req, str):
            log.warning("quit request refused: %s", req)
            token = channel.quit_token(data) or ""
            self.reply_quit(channel.QuitReply(token, False, req))
            return
        log.info("asked to quit from outside (uploads: at most %.0f s)", req.timeout)
        self.quit_requested.emit(req)

    def reply_quit(self, reply: channel.QuitReply) -> None:
        """Tell the asker whether we quit (it then waits for this process to end)."""
        try:
            channel.write_quit_reply(self.lock_dir, reply)
        except OSError as exc:
            log.warning("could not answer the quit request: %s", exc)

    def release(self) -> None:
        if self._watcher is not None:
            self._watcher.directoryChanged.disconnect(self._changed)
            self._watcher.deleteLater()
            self._watcher = None
        self._lock.unlock()
