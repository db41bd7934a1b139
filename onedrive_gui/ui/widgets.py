"""Small reusable widgets: a read-only value with a Copy button; a window that reads live
state only while it is shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QToolButton,
    QWidget,
)

from onedrive_gui.core.i18n import _


class CopyField(QWidget):
    """A value the user copies into another app (e.g. the Azure portal)."""

    def __init__(self, value: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = value
        self.edit = QLineEdit(value, self)
        self.edit.setReadOnly(True)
        self.edit.setCursorPosition(0)
        self.button = QPushButton(_("Copy"), self)
        self.button.setToolTip(_("Copy “{value}” to the clipboard").format(value=value))
        self.button.clicked.connect(self.copy)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.button)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.value)
        self.button.setText(_("Copied"))
        QTimer.singleShot(1500, self._reset)

    def _reset(self) -> None:
        self.button.setText(_("Copy"))


def disclosure(text: str) -> QToolButton:
    """A link that shows or hides a section ("▸ Advanced" / "▾ Advanced"): checkable, it
    stays a link when open (never a pressed button)."""
    button = QToolButton()
    button.setCheckable(True)
    button.setAutoRaise(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setStyleSheet("QToolButton { border: none; background: transparent; padding: 2px 0;"
                         " color: palette(link); }"
                         " QToolButton:hover { text-decoration: underline; }")

    def arrow(shown: bool) -> None:
        button.setText(("▾ " if shown else "▸ ") + text)

    button.toggled.connect(arrow)
    arrow(False)
    return button


class LiveDialog(QDialog):
    """A window that calls :meth:`reload` when shown and every *interval_ms* while visible,
    and reads nothing while hidden (closed windows cost no polling)."""

    def __init__(self, interval_ms: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.reload)

    def reload(self) -> None:
        raise NotImplementedError

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.reload()
        self.timer.start()

    def hideEvent(self, event: Any) -> None:
        self.timer.stop()
        super().hideEvent(event)
