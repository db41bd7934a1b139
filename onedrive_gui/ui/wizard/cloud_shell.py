"""Create the app registration with Azure Cloud Shell: one command to copy into Cloud Shell,
and the one line it prints pasted back here (client ID, secret and its expiry)."""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWizardPage,
)

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.microsoft.clouds import CLOUDS
from onedrive_gui.core.microsoft.registration import LINE_MARK, CreatedApp, cloud_shell_command
from onedrive_gui.ui.messages import error_text
from onedrive_gui.ui.wizard.state import SIGN_IN, WizardState

ERROR_STYLE = "color: #c42b1c;"
OK_STYLE = "color: #0f7b0f;"


class CloudShellPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.created: CreatedApp | None = None
        self.setTitle(_("Create the app registration with Azure Cloud Shell"))
        self.setSubTitle(_("One command creates it exactly as the guide describes; you need an "
                         "account that may register apps in your directory."))
        self.steps = QLabel()
        self.steps.setWordWrap(True)
        self.command = QPlainTextEdit()
        self.command.setReadOnly(True)
        self.command.setAccessibleName(_("Command for Azure Cloud Shell"))
        self.command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.command.setMaximumHeight(110)
        self.copy_button = QPushButton(_("Copy command"))
        self.copy_button.clicked.connect(self.copy_command)
        self.open_shell = QPushButton(_("Open Azure Cloud Shell"))
        self.open_shell.clicked.connect(self._open_shell)
        self.shell_url = ""
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.open_shell)
        buttons.addStretch(1)
        self.paste_label = QLabel(_(
            "Paste the line that starts with <b>{LINE_MARK}</b>:"
        ).format(LINE_MARK=LINE_MARK))
        self.line = QLineEdit()
        self.line.setEchoMode(QLineEdit.EchoMode.Password)  # it carries the client secret
        self.line.setPlaceholderText(f"{LINE_MARK} cloud=… client_id=… secret=… expires=…")
        self.line.setAccessibleName(_("Line printed by the command"))
        self.show_line = QAction(_("Show"), self.line)
        self.show_line.setCheckable(True)
        self.show_line.toggled.connect(self._toggle_shown)
        show_button = QToolButton()
        show_button.setDefaultAction(self.show_line)
        row = QHBoxLayout()
        row.addWidget(self.line, 1)
        row.addWidget(show_button)
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.steps)
        lay.addWidget(self.command)
        lay.addLayout(buttons)
        lay.addSpacing(8)
        lay.addWidget(self.paste_label)
        lay.addLayout(row)
        lay.addWidget(self.note)
        lay.addStretch(1)
        self.line.textChanged.connect(self._changed)

    def _toggle_shown(self, shown: bool) -> None:
        self.line.setEchoMode(QLineEdit.EchoMode.Normal if shown
                              else QLineEdit.EchoMode.Password)
        self.show_line.setText(_("Hide") if shown else _("Show"))

    def initializePage(self) -> None:
        c = CLOUDS[self.state.cloud]
        self.command.setPlainText(cloud_shell_command(c.key, date.today()))
        self.shell_url = c.cloud_shell_url
        self.open_shell.setToolTip(self.shell_url)
        steps = [
            _("<b>Open Azure Cloud Shell</b> (button below) and sign in; choose <b>Bash</b>. If "
              "it asks for storage, an ephemeral session without a storage account is enough."),
            _("<b>Copy the command</b>, paste it into Cloud Shell and press Enter. It creates a "
              "new app registration (it never changes an existing one) with a client secret of "
              "the longest lifetime your organization allows."),
            _("Copy the last line it prints (it starts with {LINE_MARK}) and paste it "
              "below.").format(LINE_MARK=LINE_MARK),
        ]
        if not c.personal_accounts:
            steps[1] = _(
                "<b>Copy the command</b>, paste it into Cloud Shell and press Enter. It creates "
                "a new app registration (it never changes an existing one) with a client secret "
                "of the longest lifetime your organization allows. The app is created in "
                "<b>{cloud}</b> for organizations' accounts (this cloud has no personal "
                "Microsoft accounts).").format(cloud=html.escape(_(c.label)))
        items = "\n".join(f"<li>{step}</li>" for step in steps)
        self.steps.setText(f"<ol>{items}</ol>")
        self._changed()

    def copy_command(self) -> None:
        QGuiApplication.clipboard().setText(self.command.toPlainText())
        self.copy_button.setText(_("Command copied"))

    def _open_shell(self) -> None:
        QDesktopServices.openUrl(QUrl(self.shell_url))

    def _changed(self) -> None:
        from onedrive_gui.core.microsoft.registration import parse_result_line

        text = self.line.text()
        before = self.created
        self.created = None
        if not text.strip():
            self.note.setText("")
        else:
            try:
                self.created = parse_result_line(text, expected_cloud=self.state.cloud)
            except ValidationError as err:
                self.note.setStyleSheet(ERROR_STYLE)
                self.note.setText(error_text(err))
            else:
                self.note.setStyleSheet(OK_STYLE)
                self.note.setText(
                    _(
                        "✔ App {client_id}; its secret expires on {isoformat}. Next: sign in."
                    ).format(
                        client_id=self.created.client_id,
                        isoformat=self.created.expires.isoformat(),
                    ))
        if (before is None) != (self.created is None):
            self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.created is not None

    def validatePage(self) -> bool:
        created = self.created
        if created is None:
            return False
        st = self.state
        st.client_id = created.client_id
        st.client_secret = created.secret
        st.secret_expires = created.expires
        st.cloud = created.cloud
        st.tenant = "common" if CLOUDS[created.cloud].personal_accounts else "organizations"
        return True

    def nextId(self) -> int:
        return SIGN_IN
