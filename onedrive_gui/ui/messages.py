"""How errors are shown: a message box or an inline panel, always title + message + hint."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QMessageBox, QVBoxLayout, QWidget

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import N_, _


def error_text(err: AppError) -> str:
    """The error's message and what to do, as one text (no title)."""
    if not err.hint:
        return err.message
    return _("{message} {hint}").format(message=err.message, hint=err.hint)


def error_line(err: AppError) -> str:
    """"Title: message" on one line."""
    return _("{title}: {message}").format(title=err.title, message=err.message)


def _without_code(message: str, code: str) -> str:
    """*message* without a trailing "(AADSTS50011)" or "AADSTS50011:" it already carries: the
    code is shown once, on its own line."""
    import re

    if not code:
        return message
    c = re.escape(code)
    cleaned = re.sub(rf"\s*[(（]{c}[)）]|\b{c}\s*[:：]\s*", "", message.strip())
    return cleaned or message


def error_html(err: AppError, hint: str | None = None) -> str:
    """Title, message, what to do (*hint* instead of the error's own, when given) and the
    error's code, once."""
    e = html.escape
    hint = err.hint if hint is None else hint
    parts = [_("<b>{title}</b>").format(title=e(err.title)),
             e(_without_code(err.message, err.code or ""))]
    if hint:
        parts.append(_("<b>What to do:</b> {escape}").format(escape=e(hint)))
    if err.code:
        parts.append(_(
            "<span style='color:gray'>Code: {escape}</span>"
        ).format(escape=e(err.code)))
    return "<br>".join(parts)


def show_error(parent: QWidget | None, err: AppError) -> None:
    """A modal box with the error's title, message and hint."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(err.title)
    box.setText(_("<b>{title}</b><br>{message}").format(title=html.escape(err.title),
                                                        message=html.escape(err.message)))
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

    def show_error(self, err: AppError, hint: str | None = None) -> None:
        self.error = err
        self.label.setText(error_html(err, hint))
        self.show()

    def clear(self) -> None:
        self.error = None
        self.label.clear()
        self.hide()

    def text(self) -> str:
        return self.label.text()
