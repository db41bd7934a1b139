"""Register your app: the Azure portal steps with the exact values to copy."""

from __future__ import annotations

import html

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.microsoft.clouds import CLOUDS
from onedrive_gui.ui.widgets import CopyField
from onedrive_gui.ui.wizard.state import CREDENTIALS, WizardState

REDIRECT_URI = "http://localhost"
ACCOUNT_TYPES = N_("Accounts in any organizational directory and personal Microsoft accounts")
# National clouds have no personal accounts: their portal offers organizations only.
ACCOUNT_TYPES_NATIONAL = N_("Accounts in any organizational directory (Multitenant)")
OPTIONAL_PERMISSIONS = ("Sites.Read.All", "Team.ReadBasic.All")
PERMISSIONS = (
    "Files.Read",
    "Files.ReadWrite",
    "Files.Read.All",
    "Files.ReadWrite.All",
    "offline_access",
    "User.Read",
)

# (step text, values to copy); "{choice}" in a step is the account types to pick (a choice in
# the portal, nothing to paste)
STEPS: list[tuple[str, list[str]]] = [
    (N_("Open the Azure portal (button below), sign in, and choose <b>New registration</b>."), []),
    (N_("<b>Name</b>: anything, e.g. “My OneDrive”. <b>Supported account types</b>: choose "
        "<b>{choice}</b>."), []),
    (N_("<b>Redirect URI</b>: select the platform <b>Web</b> and enter:"), [REDIRECT_URI]),
    (N_("Click <b>Register</b>. On the <b>Overview</b> page, copy the "
     "<b>Application (client) ID</b> — you paste it on the next page."), []),
    (N_("<b>API permissions</b> → Add a permission → Microsoft Graph → "
     "<b>Delegated permissions</b>; tick these six, then <b>Add permissions</b>:"),
     list(PERMISSIONS)),
    (N_("<b>Certificates &amp; secrets</b> → New client secret. Pick the <b>longest lifetime</b> "
     "(24 months) and <b>note its expiry date</b> — the app reminds you before it runs out."),
     []),
    (N_("Copy the secret's <b>Value</b>, not its <b>Secret ID</b>. The Value is shown only once, "
     "right after you create it."), []),
    (N_("Optional, for work or school accounts: to mount <b>SharePoint sites and Teams "
     "libraries</b>, also add these delegated permissions (you can add them later; the app "
     "asks for them when you look for a library):"), list(OPTIONAL_PERMISSIONS)),
]


def steps_for(cloud_key: str) -> list[tuple[str, list[str]]]:
    """The steps for the portal of *cloud_key*, translated (account types differ outside
    Global)."""
    c = CLOUDS[cloud_key]
    out = [(_(text), values) for text, values in STEPS]
    if c.personal_accounts:
        out[1] = (out[1][0].format(choice=html.escape(_(ACCOUNT_TYPES))), [])
        return out
    out[0] = (_(
        "Open the Azure portal of <b>{label}</b> ({portal_host}, button below), sign in with "
        "your organization's account, and choose <b>New registration</b>."
    ).format(label=_(c.label), portal_host=c.portal_host),
              [])
    out[1] = (_("<b>Name</b>: anything, e.g. “My OneDrive”. <b>Supported account types</b> "
              "(personal Microsoft accounts do not exist in this cloud): choose "
              "<b>{choice}</b>.").format(choice=html.escape(_(ACCOUNT_TYPES_NATIONAL))), [])
    return out


class RegisterPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle(_("Register your app in Azure"))
        self.setSubTitle(_("Follow these steps in the Azure portal; copy each value exactly."))
        self.copy_fields: list[CopyField] = []
        self.steps_area = QScrollArea()
        self.steps_area.setWidgetResizable(True)
        self.steps_area.setFrameShape(QFrame.Shape.NoFrame)
        self.open_portal = QPushButton(_("Open Azure portal"))
        self.open_portal.clicked.connect(self._open_portal)
        self.portal_url = ""
        self.step_labels: list[QLabel] = []
        lay = QVBoxLayout(self)
        lay.addWidget(self.steps_area, 1)
        self._fill()

    def _fill(self) -> None:
        c = CLOUDS[self.state.cloud]
        self.portal_url = c.app_registrations_url
        self.open_portal.setToolTip(self.portal_url)
        self.open_portal.setText(_("Open Azure portal") if c.personal_accounts
                                 else _(
                                     "Open Azure portal ({portal_host})"
                                 ).format(portal_host=c.portal_host))
        self.copy_fields = []
        self.step_labels = []
        self.open_portal.setParent(None)  # kept: the old body (its parent) goes below
        body = QWidget()
        col = QVBoxLayout(body)
        for i, (text, values) in enumerate(steps_for(c.key), start=1):
            label = QLabel(_("<b>{n}.</b> {step}").format(n=i, step=text))
            label.setWordWrap(True)
            self.step_labels.append(label)
            col.addWidget(label)
            if i == 1:  # "button below": right under the step that says so
                row = QHBoxLayout()
                row.setContentsMargins(18, 0, 0, 0)
                row.addWidget(self.open_portal)
                row.addStretch(1)
                col.addLayout(row)
            for value in values:
                field = CopyField(value)
                field.setContentsMargins(18, 0, 0, 0)
                self.copy_fields.append(field)
                col.addWidget(field)
        col.addStretch(1)
        self.steps_area.setWidget(body)

    def initializePage(self) -> None:
        self._fill()

    def _open_portal(self) -> None:
        QDesktopServices.openUrl(QUrl(self.portal_url))

    def nextId(self) -> int:
        return CREDENTIALS
