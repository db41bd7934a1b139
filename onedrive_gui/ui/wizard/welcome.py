"""Welcome: what the app does, what you need, and whether you already have an app."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWizardPage,
)

from onedrive_gui.core.i18n import N_, _
from onedrive_gui.ui.widgets import disclosure
from onedrive_gui.ui.wizard.cloud import CloudChooser
from onedrive_gui.ui.wizard.state import CLOUD_SHELL, CREDENTIALS, REGISTER, WizardState

INTRO = (
    N_("<p>This app connects your OneDrive as a drive on this computer, using "
    "<b>your own Azure app registration</b>. It signs you in, keeps the app's secret in "
    "your system keyring and mounts the drive with rclone — no terminal needed.</p>"
    "<p><b>You need:</b></p><ul>"
    "<li>a Microsoft account (personal, work or school);</li>"
    "<li>an app registration in the Azure portal with its <i>Application (client) ID</i> "
    "and a <i>client secret</i> — or five minutes to create one.</li></ul>")
)


class WelcomePage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle(_("Welcome to OneDrive GUI"))
        self.setSubTitle(_("Mount OneDrive with your own Azure app registration."))
        intro = QLabel(_(INTRO))
        intro.setWordWrap(True)
        self.have_app = QRadioButton(_("I already have an app registration"))
        self.guide_me = QRadioButton(_("Guide me through creating one"))
        self.guide_me.setChecked(True)
        self.cloud_shell = QRadioButton(_("Create it for me with Azure Cloud Shell (one command)"))
        self.cloud_shell.setToolTip(_("Needs an account that may register apps in its "
                                    "directory (work or school, or a free Azure account)."))
        group = QButtonGroup(self)
        group.addButton(self.have_app)
        group.addButton(self.guide_me)
        group.addButton(self.cloud_shell)
        self.advanced = disclosure(_("Advanced: Microsoft cloud"))
        self.advanced.toggled.connect(self._toggle_advanced)
        self.cloud = CloudChooser()
        self.cloud.hide()
        self.cloud.changed.connect(self._cloud_changed)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addSpacing(8)
        lay.addWidget(self.have_app)
        lay.addWidget(self.guide_me)
        lay.addWidget(self.cloud_shell)
        lay.addSpacing(12)
        lay.addWidget(self.advanced, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.cloud)
        lay.addStretch(1)

    def _toggle_advanced(self, shown: bool) -> None:
        self.cloud.setVisible(shown)

    def _cloud_changed(self, key: str) -> None:
        self.state.cloud = key

    def nextId(self) -> int:
        if self.cloud_shell.isChecked():
            return CLOUD_SHELL
        return REGISTER if self.guide_me.isChecked() else CREDENTIALS

    def validatePage(self) -> bool:
        self.state.guided = self.guide_me.isChecked()
        return True
