"""How errors are shown: a message box or an inline panel, always title + message + hint."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QMessageBox, QVBoxLayout, QWidget

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import N_, _


def error_html(err: AppError) -> str:
    parts = [f"<b>{html.escape(err.title)}</b>", html.escape(err.message)]
    if err.hint:
        parts.append(_("<i>What to do:</i> {escape}").format(escape=html.escape(err.hint)))
    if err.code:
        parts.append(_(
            "<span style='color:gray'>Code: {escape}</span>"
        ).format(escape=html.escape(err.code)))
    return "<br>".join(parts)


def show_error(parent: QWidget | None, err: AppError) -> None:
    """A modal box with the error's title, message and hint."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(err.title)
    box.setText(f"<b>{html.escape(err.title)}</b><br>{html.escape(err.message)}")
    info = err.hint
    if err.code:
        info = _(
            "{info}\n\nCode: {code}"
        ).format(info=info, code=err.code) if info else _("Code: {code}").format(code=err.code)
    if info:
        box.setInformativeText(info)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _open_boxes.add(box)
    box.finished.connect(lambda _r: _open_boxes.discard(box))
    box.open()


_open_boxes: set[QMessageBox] = set()  # parentless boxes stay referenced while shown


def confirm(parent: QWidget | None, title: str, text: str, yes: str,
            no: str = N_("Cancel")) -> bool:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    yes_btn = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(_(no), QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is yes_btn


class ErrorPanel(QFrame):
    """An inline, initially hidden error display (title, message, hint)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#errorPanel { border: 1px solid #c42b1c; border-radius: 4px;"
            " background: rgba(196, 43, 28, 0.08); }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        self.error: AppError | None = None
        self.hide()

    def show_error(self, err: AppError) -> None:
        self.error = err
        self.label.setText(error_html(err))
        self.show()

    def clear(self) -> None:
        self.error = None
        self.label.clear()
        self.hide()

    def text(self) -> str:
        return self.label.text()
