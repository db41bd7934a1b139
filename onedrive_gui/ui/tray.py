"""The tray icon: state drawn from the mounts, one tooltip line per account, notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QElapsedTimer, QObject, QTimer
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QSystemTrayIcon

from onedrive_gui.core.i18n import _
from onedrive_gui.ui.format import (
    NOTIFY_BODY_MAX,
    NOTIFY_TITLE_MAX,
    account_state,
    clip,
    overall_state,
    state_word,
    status_line,
    tooltip_text,
)
from onedrive_gui.ui.icons import tray_icon
from onedrive_gui.ui.tray_menu import TrayMenu

_NOTIFY_ICON = {
    "info": QSystemTrayIcon.MessageIcon.Information,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "error": QSystemTrayIcon.MessageIcon.Critical,
}
# Windows reports a click on the tray icon while a notification shows as a click on the
# notification too; a message click this close to an icon click is taken as the icon's.
ICON_CLICK_GRACE_MS = 600


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
        self._icon_clicked = QElapsedTimer()
        self._pending_click = QTimer(self)
        self._pending_click.setSingleShot(True)
        self._pending_click.setInterval(ICON_CLICK_GRACE_MS)
        self._pending_click.timeout.connect(self._run_message_action)
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
            return [_("OneDrive GUI: no account yet — Add account… in this menu")]
        return [status_line(n, self.controller.status(n) if self.controller else None)
                for n in names]

    def tooltip(self) -> str:
        """All accounts' lines within Windows' 127 characters (shorter forms if needed)."""
        lines = self.tooltip_lines()
        names = list(self.accounts.settings.names())
        statuses = [self.controller.status(n) if self.controller else None for n in names]
        short = [account_state(n, st) for n, st in zip(names, statuses, strict=True)] or lines
        return tooltip_text(lines, short, [state_word(st) for st in statuses])

    def refresh(self, *_args: Any) -> None:
        statuses = list(self.controller.statuses.values()) if self.controller else []
        state = overall_state(statuses)
        if state != self.state:
            self.state = state
            self.icon.setIcon(tray_icon(state))
        self.icon.setToolTip(self.tooltip())

    def notify(self, title: str, text: str, level: str = "info",
               on_click: Callable[[], None] | None = None) -> None:
        """Show a notification (cut to what Windows shows); *on_click* runs when the user
        clicks it. Qt does not say which notification was clicked: the action of the latest
        one that has an action stays until it is used or replaced, so a later notice without
        one ("mounted") does not take away "click to sign in"."""
        if on_click is not None:
            self._on_message_click = on_click
        self.icon.showMessage(clip(title, NOTIFY_TITLE_MAX), clip(text, NOTIFY_BODY_MAX),
                              _NOTIFY_ICON.get(level, _NOTIFY_ICON["info"]), 10000)

    def _message_clicked(self) -> None:
        if self._icon_clicked.isValid() and self._icon_clicked.elapsed() < ICON_CLICK_GRACE_MS:
            return  # the icon was clicked, not the notification
        self._pending_click.start()  # an icon click reported right after cancels it

    def _run_message_action(self) -> None:
        action, self._on_message_click = self._on_message_click, None
        if action is not None:
            action()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        self._icon_clicked.start()
        self._pending_click.stop()
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.menu.popup(QCursor.pos())
