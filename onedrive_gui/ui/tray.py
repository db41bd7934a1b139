"""The tray icon: state drawn from the mounts, one tooltip line per account, notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QSystemTrayIcon

from onedrive_gui.ui.format import overall_state, status_line
from onedrive_gui.ui.icons import tray_icon
from onedrive_gui.ui.tray_menu import TrayMenu

_NOTIFY_ICON = {
    "info": QSystemTrayIcon.MessageIcon.Information,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "error": QSystemTrayIcon.MessageIcon.Critical,
}


class TrayIcon(QObject):
    def __init__(self, accounts: Any, controller: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.controller = controller
        self.menu = TrayMenu(accounts, controller)
        self.icon = QSystemTrayIcon(self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self._on_message_click: Callable[[], None] | None = None
        self.state = ""
        if controller is not None:
            controller.changed.connect(self.refresh)
        self.refresh()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def tooltip_lines(self) -> list[str]:
        names = list(self.accounts.settings.names())
        if not names:
            return ["OneDrive GUI: no account yet — Add account… in this menu"]
        return [status_line(n, self.controller.status(n) if self.controller else None)
                for n in names]

    def refresh(self, *_args: Any) -> None:
        statuses = list(self.controller.statuses.values()) if self.controller else []
        state = overall_state(statuses)
        if state != self.state:
            self.state = state
            self.icon.setIcon(tray_icon(state))
        self.icon.setToolTip("\n".join(self.tooltip_lines()))

    def notify(self, title: str, text: str, level: str = "info",
               on_click: Callable[[], None] | None = None) -> None:
        """Show a notification; *on_click* runs when the user clicks it."""
        self._on_message_click = on_click
        self.icon.showMessage(title, text, _NOTIFY_ICON.get(level, _NOTIFY_ICON["info"]), 10000)

    def _message_clicked(self) -> None:
        action, self._on_message_click = self._on_message_click, None
        if action is not None:
            action()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.menu.popup(QCursor.pos())
