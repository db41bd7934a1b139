"""Rotate an account's client secret (and record the new one's expiry date)."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.validation import clean_secret, secret_feedback
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.messages import ErrorPanel
from onedrive_gui.ui.tasks import TaskRunner
from onedrive_gui.ui.wizard.credentials import NOTE_STYLE, add_months


class SecretDialog(QDialog):
    def __init__(self, ctx: AppContext, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.name = name
        self.runner = TaskRunner(self)
        self.setWindowTitle(_("New client secret for {name}").format(name=name))
        intro = QLabel(_("In the Azure portal, open your app → Certificates & secrets → New client "
                       "secret, then paste its <b>Value</b> here."))
        intro.setWordWrap(True)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName(_("New client secret"))
        self.show_secret = QCheckBox(_("Show"))
        self.show_secret.toggled.connect(lambda on: self.secret.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        self.expires = QDateEdit()
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy-MM-dd")
        d = add_months(date.today(), 24)
        self.expires.setDate(QDate(d.year, d.month, d.day))
        self.error = ErrorPanel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(_("Client secret (Value):"), self.secret)
        form.addRow("", self.show_secret)
        form.addRow("", self.note)
        form.addRow(_("Expires on:"), self.expires)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.secret.textChanged.connect(self._changed)
        self._changed()

    def _save_button(self) -> Any:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _changed(self) -> None:
        """The same notes as the wizard: trimmed, Secret ID pasted, unusable (and why)."""
        usable, note, kind = secret_feedback(self.secret.text())
        self._save_button().setEnabled(usable and not self.runner.busy)
        self.note.setText(note)
        self.note.setStyleSheet(NOTE_STYLE[kind])
        self.note.setVisible(bool(note))

    def save(self) -> None:
        secret = clean_secret(self.secret.text())[0]
        q = self.expires.date()
        expires = date(q.year(), q.month(), q.day())
        accounts, name = self.ctx.accounts, self.name
        self._save_button().setEnabled(False)
        self.runner.run(lambda: accounts.set_client_secret(name, secret, expires),
                        lambda _r: self.accept(), self._failed)

    def _failed(self, err: AppError) -> None:
        self.error.show_error(err)
        self._changed()
