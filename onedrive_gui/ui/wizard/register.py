"""Register your app: the Azure portal steps with the exact values to copy."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from onedrive_gui.ui.widgets import CopyField
from onedrive_gui.ui.wizard.state import AZURE_PORTAL_URL, CREDENTIALS, WizardState

REDIRECT_URI = "http://localhost"
ACCOUNT_TYPES = "Accounts in any organizational directory and personal Microsoft accounts"
PERMISSIONS = (
    "Files.Read",
    "Files.ReadWrite",
    "Files.Read.All",
    "Files.ReadWrite.All",
    "offline_access",
    "User.Read",
)

# (step text, values to copy)
STEPS: list[tuple[str, list[str]]] = [
    ("Open the Azure portal (button below), sign in, and choose <b>New registration</b>.", []),
    ("<b>Name</b>: anything, e.g. <i>My OneDrive</i>. <b>Supported account types</b>:",
     [ACCOUNT_TYPES]),
    ("<b>Redirect URI</b>: select the platform <b>Web</b> and enter:", [REDIRECT_URI]),
    ("Click <b>Register</b>. On the <b>Overview</b> page, copy the "
     "<b>Application (client) ID</b> — you paste it on the next page.", []),
    ("<b>API permissions</b> → Add a permission → Microsoft Graph → "
     "<b>Delegated permissions</b>; tick these six, then <b>Add permissions</b>:",
     list(PERMISSIONS)),
    ("<b>Certificates &amp; secrets</b> → New client secret. Pick the <b>longest lifetime</b> "
     "(24 months) and <b>note its expiry date</b> — the app reminds you before it runs out.",
     []),
    ("Copy the secret's <b>Value</b>, not its <i>Secret ID</i>. The Value is shown only once, "
     "right after you create it.", []),
]


class RegisterPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Register your app in Azure")
        self.setSubTitle("Follow these steps in the Azure portal; copy each value exactly.")
        self.copy_fields: list[CopyField] = []
        body = QWidget()
        col = QVBoxLayout(body)
        for i, (text, values) in enumerate(STEPS, start=1):
            label = QLabel(f"<b>{i}.</b> {text}")
            label.setWordWrap(True)
            col.addWidget(label)
            for value in values:
                field = CopyField(value)
                field.setContentsMargins(18, 0, 0, 0)
                self.copy_fields.append(field)
                col.addWidget(field)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.open_portal = QPushButton("Open Azure portal")
        self.open_portal.setToolTip(AZURE_PORTAL_URL)
        self.open_portal.clicked.connect(self._open_portal)
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.open_portal)

    def _open_portal(self) -> None:
        QDesktopServices.openUrl(QUrl(AZURE_PORTAL_URL))

    def nextId(self) -> int:
        return CREDENTIALS
