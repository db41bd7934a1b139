"""Stands in for the tray icon where the desktop has no system tray."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from onedrive_gui.core.i18n import N_, _
from onedrive_gui.ui.format import overall_state, status_line
from onedrive_gui.ui.icons import app_icon, tray_icon
from onedrive_gui.ui.tray_menu import TrayMenu

WHY = (
    N_("Your desktop has no system tray (notification area), so this small window stands in "
    "for the tray icon. Use the menu below to mount, unmount and open your drives. "
    "Closing this window quits the app (after pending uploads).")
)


class FallbackWindow(QMainWindow):
    def __init__(self, accounts: Any, controller: Any, on_close: Any = None) -> None:
        super().__init__()
        self.accounts = accounts
        self.controller = controller
        self._on_close = on_close
        self.setWindowTitle(_("OneDrive GUI"))
        self.setWindowIcon(app_icon())
        why = QLabel(_(WHY))
        why.setWordWrap(True)
        self.state_icon = QLabel()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.menu = TrayMenu(accounts, controller, self)
        self.menu_button = QToolButton()
        self.menu_button.setText(_("Menu"))
        self.menu_button.setMenu(self.menu)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.notifications = QPlainTextEdit()
        self.notifications.setReadOnly(True)
        self.notifications.setPlaceholderText(_("Notifications appear here."))
        self.notifications.setMaximumBlockCount(200)
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.addWidget(why)
        lay.addWidget(self.state_icon)
        lay.addWidget(self.status)
        lay.addWidget(self.menu_button)
        lay.addWidget(self.notifications, 1)
        self.setCentralWidget(body)
        self.resize(460, 360)
        if controller is not None:
            controller.changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args: Any) -> None:
        statuses = list(self.controller.statuses.values()) if self.controller else []
        self.state_icon.setPixmap(tray_icon(overall_state(statuses)).pixmap(32, 32))
        names = list(self.accounts.settings.names())
        lines = [status_line(n, self.controller.status(n) if self.controller else None)
                 for n in names] or [_("No OneDrive account yet: Menu → Add account…")]
        self.status.setText("<br>".join(html.escape(line) for line in lines))

    def notify(self, title: str, text: str, level: str = "info",
               on_click: Any = None) -> None:
        # The window's menu offers the same action (e.g. "Sign in to work again…").
        self.notifications.appendPlainText(f"{title}: {text}")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._on_close is not None:
            event.ignore()
            self._on_close()
        else:
            super().closeEvent(event)
