"""The session ends (log off, shut down, restart): quit as Quit does, within a bound.

Qt turns Windows' ``WM_QUERYENDSESSION`` (and an X11 session manager's save-yourself) into
``commitDataRequest``; ``WM_ENDSESSION`` follows, after which Windows may end the process at
any moment. So:

- nothing pending: quit now, before answering (unmounting and stopping rclone take a moment);
- uploads pending on Windows: a reason ("Uploading N files to OneDrive") is registered
  *beforehand*, whenever uploads are pending (``core/system/shutdown_block.py``: Windows ends an app
  without a visible window at once unless it did so), so the app may refuse the first request:
  Windows shows the reason and the user can wait or shut down anyway; the app quits after the
  uploads (at most *upload_wait* seconds) and the reason goes with it;
- elsewhere (X11 session managers send SIGTERM after this as well): the same bounded quit,
  without refusing.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject

from onedrive_gui.core.i18n import _
from onedrive_gui.core.system.shutdown_block import ShutdownBlock

log = logging.getLogger(__name__)


class SessionGuard(QObject):
    def __init__(self, shell: Any, upload_wait: float, *, platform: str | None = None,
                 user32: Any = None) -> None:
        super().__init__(shell)
        self.shell = shell
        self.upload_wait = upload_wait
        self.block = ShutdownBlock(platform=platform, user32=user32)
        self._window: Any = None
        controller = shell.controller
        if self.block.supported and controller is not None:
            controller.changed.connect(self.update_block)

    def window_handle(self) -> int:
        """A top-level native window of the GUI thread (hidden, never shown): Windows needs
        one to attach the reason to, and a tray app has none of its own."""
        if self._window is None:
            from PySide6.QtWidgets import QWidget

            self._window = QWidget()
            self._window.setWindowTitle(_("OneDrive GUI"))
        return int(self._window.winId())

    def update_block(self, _status: Any = None) -> None:
        """Keep the registered reason in step with the pending uploads (GUI thread)."""
        pending = self.shell.controller.pending_uploads()
        if pending or self.block.reason is not None:
            self.block.update(self.window_handle(), pending)

    def clear(self) -> None:
        self.block.clear()

    def commit_data(self, manager: Any) -> None:
        """Qt's ``commitDataRequest(QSessionManager)``."""
        controller = self.shell.controller
        pending = controller.pending_uploads() if controller is not None else 0
        log.info("the session is ending (%d upload(s) pending)", pending)
        if pending:
            self.update_block()
            if self.block.reason is not None:
                manager.cancel()  # Windows shows our reason; the user may still go on
            self.shell.quit(ask=False, upload_timeout=self.upload_wait)
            return
        if self.block.supported:
            # Windows may end the process as soon as this answer is given: quit first.
            self.shell.quit_now()
            return
        self.shell.quit(ask=False, upload_timeout=self.upload_wait)
