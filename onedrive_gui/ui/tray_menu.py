"""The tray's menu, rebuilt from live state every time it opens (also used by the fallback
window when there is no system tray)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu, QWidget

from onedrive_gui.ui.format import LIVE, state_name, status_line


class TrayMenu(QMenu):
    mount_requested = Signal(str)
    unmount_requested = Signal(str)
    reauthorize_requested = Signal(str)
    add_account_requested = Signal()
    settings_requested = Signal()
    view_log_requested = Signal()
    quit_requested = Signal()

    def __init__(self, accounts: Any, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.controller = controller
        self.setToolTipsVisible(True)  # an account's full error, which its line may not show
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        names = list(self.accounts.settings.names())
        if not names:
            none = self.addAction("No OneDrive account yet")
            none.setEnabled(False)
        busy = self.controller is not None and self.controller.runner.busy
        for name in names:
            status = self.controller.status(name) if self.controller is not None else None
            line = self.addAction(status_line(name, status))
            line.setEnabled(False)
            state = state_name(status) if status is not None else "unmounted"
            error = getattr(status, "error", None) if status is not None else None
            if error and state in ("error", "sign_in_needed"):
                line.setToolTip(error)  # the whole of it (a notification holds 255 characters)
            if state == "error":
                retry = self.addAction(f"Mount {name} again")
                retry.triggered.connect(lambda _c=False, n=name: self.mount_requested.emit(n))
            if state == "sign_in_needed":
                again = self.addAction(f"Sign in to {name} again…")
                again.triggered.connect(
                    lambda _c=False, n=name: self.reauthorize_requested.emit(n))
            if state in (*LIVE, "error", "mounting"):
                unmount = self.addAction(f"Unmount {name}")
                unmount.triggered.connect(lambda _c=False, n=name: self.unmount_requested.emit(n))
                unmount.setEnabled(state != "mounting")
            else:
                mount = self.addAction(f"Mount {name}")
                mount.triggered.connect(lambda _c=False, n=name: self.mount_requested.emit(n))
                mount.setEnabled(state != "unmounting")
            mount_point = getattr(status, "mount_point", None) if status is not None else None
            open_fm = self.addAction("Open in file manager")
            open_fm.setEnabled(state in LIVE and bool(mount_point))
            open_fm.triggered.connect(
                lambda _c=False, p=mount_point: QDesktopServices.openUrl(QUrl.fromLocalFile(p)))
            self.addSeparator()
        self.addAction("Add account…").triggered.connect(self.add_account_requested)
        self.addAction("Settings…").triggered.connect(self.settings_requested)
        self.addAction("View log").triggered.connect(self.view_log_requested)
        self.addSeparator()
        quit_action = self.addAction("Quit")
        quit_action.triggered.connect(self.quit_requested)
        if busy:
            quit_action.setToolTip("Finishing a mount or unmount first")

    def action_texts(self) -> list[str]:
        return [a.text() for a in self.actions() if not a.isSeparator()]

    def action(self, text: str) -> Any:
        for a in self.actions():
            if a.text() == text:
                return a
        raise KeyError(text)
