"""The tray's menu, rebuilt from live state every time it opens (also used by the fallback
window when there is no system tray)."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QMenu, QWidget
from shiboken6 import isValid

from onedrive_gui.core.i18n import _
from onedrive_gui.ui.desktop import open_folder
from onedrive_gui.ui.format import LIVE, state_name, status_line

log = logging.getLogger(__name__)
_FRESH = 5.0  # seconds an account's uploads read when the menu opened stay on its line


class TrayMenu(QMenu):
    mount_requested = Signal(str)
    unmount_requested = Signal(str)
    reauthorize_requested = Signal(str)
    add_account_requested = Signal()
    settings_requested = Signal()
    view_log_requested = Signal()
    activity_requested = Signal()
    quit_requested = Signal()

    def __init__(self, accounts: Any, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.controller = controller
        self.setToolTipsVisible(True)  # an account's full error, which its line may not show
        # each account's uploads, read fresh from its rclone when the menu opens
        self.activities: dict[str, Any] = {}
        self._activities_at = -1e9
        self._lines: dict[str, Any] = {}
        self._runner: Any = None
        self._reading = False
        self.aboutToShow.connect(self.rebuild)
        self.aboutToShow.connect(self.read_activity)
        # filled on the event loop's first turn, after the icon shows (start-up time), and
        # again each time it opens
        QTimer.singleShot(0, self, self.rebuild)

    def rebuild(self) -> None:
        self.clear()
        self._lines = {}
        if time.monotonic() - self._activities_at > _FRESH:
            self.activities = {}  # an older read says nothing any more
        names = list(self.accounts.settings.names())
        if not names:
            none = self.addAction(_("No OneDrive account yet"))
            none.setEnabled(False)
        busy = self.controller is not None and self.controller.runner.busy
        for name in names:
            status = self.controller.status(name) if self.controller is not None else None
            # Enabled (a disabled line reads as "not available"), in bold, opening the
            # activity window: where the account's uploads are.
            line = self.addAction(status_line(name, status, self.activities.get(name)))
            font = line.font()
            font.setBold(True)
            line.setFont(font)
            line.triggered.connect(self.activity_requested)
            self._lines[name] = line
            state = state_name(status) if status is not None else "unmounted"
            error = getattr(status, "error", None) if status is not None else None
            if error and state in ("error", "sign_in_needed"):
                line.setToolTip(error)  # the whole of it (a notification holds 255 characters)
            if state == "error":
                retry = self.addAction(_("Mount {name} again").format(name=name))
                retry.triggered.connect(lambda _c=False, n=name: self.mount_requested.emit(n))
            if state == "sign_in_needed":
                again = self.addAction(_("Sign in to {name} again…").format(name=name))
                again.triggered.connect(
                    lambda _c=False, n=name: self.reauthorize_requested.emit(n))
            if state == "waiting_offline":  # not mounted yet: the user may call it off
                cancel = self.addAction(_("Don't mount {name}").format(name=name))
                cancel.triggered.connect(lambda _c=False, n=name: self.unmount_requested.emit(n))
            elif state in (*LIVE, "error", "mounting"):
                unmount = self.addAction(_("Unmount {name}").format(name=name))
                unmount.triggered.connect(lambda _c=False, n=name: self.unmount_requested.emit(n))
                unmount.setEnabled(state != "mounting")
            else:
                mount = self.addAction(_("Mount {name}").format(name=name))
                mount.triggered.connect(lambda _c=False, n=name: self.mount_requested.emit(n))
                mount.setEnabled(state != "unmounting")
            mount_point = getattr(status, "mount_point", None) if status is not None else None
            if state in LIVE and mount_point:  # only a mounted drive has files to show
                open_fm = self.addAction(_("Open {name} in file manager").format(name=name))
                open_fm.triggered.connect(
                    lambda _c=False, p=mount_point: open_folder(p))
            self.addSeparator()
        self.addAction(_("Add account…")).triggered.connect(self.add_account_requested)
        self.addAction(_("Settings…")).triggered.connect(self.settings_requested)
        self.addAction(_("Activity…")).triggered.connect(self.activity_requested)
        self.addAction(_("View log")).triggered.connect(self.view_log_requested)
        self.addSeparator()
        quit_action = self.addAction(_("Quit"))
        quit_action.triggered.connect(self.quit_requested)
        if busy:
            quit_action.setToolTip(_("Finishing a mount or unmount first"))

    def read_activity(self) -> None:
        """Read the mounted accounts' uploads (in a worker); their lines then say "uploading
        3 files (12 MB left)". Only when the menu opens: nothing is polled meanwhile."""
        manager = getattr(self.controller, "manager", None)
        if manager is None or self._reading:
            return
        names = [n for n in self.accounts.settings.names() if self.controller.is_mounted(n)]
        if not names:
            self.activities = {}
            return
        if self._runner is None:
            from onedrive_gui.ui.tasks import TaskRunner

            self._runner = TaskRunner(self)
        self._reading = True

        def work() -> dict[str, Any]:
            return {n: manager.activity(n) for n in names}

        self._runner.run(work, self._activity_read, self._activity_failed)

    def _activity_read(self, activities: dict[str, Any]) -> None:
        self._reading = False
        if not isValid(self):  # the menu went away while its uploads were read
            return
        self.activities, self._activities_at = activities, time.monotonic()
        for name, line in self._lines.items():
            if not isValid(line):  # the menu was cleared meanwhile; its next build reads them
                continue
            line.setText(status_line(name, self.controller.status(name),
                                     activities.get(name)))
        self.keep_on_screen()

    def keep_on_screen(self) -> None:
        """An open menu whose lines grew (the uploads read after it opened) stays within the
        screen: Qt places a menu only when it pops up."""
        if not self.isVisible():
            return
        self.adjustSize()
        screen = self.screen()
        if screen is None:
            return
        area = screen.availableGeometry()
        x = max(area.left(), min(self.x(), area.right() + 1 - self.width()))
        y = max(area.top(), min(self.y(), area.bottom() + 1 - self.height()))
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)

    def _activity_failed(self, err: Any) -> None:
        self._reading = False
        log.info("reading the uploads for the menu: %s", getattr(err, "message", err))

    def action_texts(self) -> list[str]:
        return [a.text() for a in self.actions() if not a.isSeparator()]

    def action(self, text: str) -> Any:
        for a in self.actions():
            if a.text() == text:
                return a
        raise KeyError(text)
