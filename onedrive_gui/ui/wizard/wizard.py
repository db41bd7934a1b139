"""The add-account wizard. Nothing is saved before the Mount page's "Add account"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from onedrive_gui.core.i18n import _
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.wizard.cloud_shell import CloudShellPage
from onedrive_gui.ui.wizard.credentials import CredentialsPage
from onedrive_gui.ui.wizard.done import DonePage
from onedrive_gui.ui.wizard.drive import DrivePage
from onedrive_gui.ui.wizard.mount import MountPage
from onedrive_gui.ui.wizard.register import RegisterPage
from onedrive_gui.ui.wizard.signin import SignInPage
from onedrive_gui.ui.wizard.state import (
    CLOUD_SHELL,
    CREDENTIALS,
    DONE,
    DRIVE,
    MOUNT,
    REGISTER,
    SIGN_IN,
    WELCOME,
    WizardState,
)
from onedrive_gui.ui.wizard.welcome import WelcomePage


class AddAccountWizard(QWizard):
    account_added = Signal(object, bool)  # Account, mount now

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.state = WizardState()
        self.setWindowTitle(_("Add a OneDrive account"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        # one size for every page (the largest needs it): the window does not jump between pages
        self.setMinimumSize(720, 620)
        self.welcome = WelcomePage(self.state)
        self.register_page = RegisterPage(self.state)
        self.credentials = CredentialsPage(self.state)
        self.signin = SignInPage(self.state, ctx)
        self.drive = DrivePage(self.state, ctx)
        self.mount = MountPage(self.state, ctx)
        self.done_page = DonePage(self.state)
        self.cloud_shell = CloudShellPage(self.state)
        for page_id, page in (
            (WELCOME, self.welcome), (REGISTER, self.register_page),
            (CREDENTIALS, self.credentials), (SIGN_IN, self.signin), (DRIVE, self.drive),
            (MOUNT, self.mount), (DONE, self.done_page), (CLOUD_SHELL, self.cloud_shell),
        ):
            self.setPage(page_id, page)
        self.setStartId(WELCOME)

    def reject(self) -> None:
        """Cancel: stop a sign-in in progress; nothing was saved yet."""
        if self.mount.runner.busy:
            return  # the account is being written all-or-nothing; wait for it
        self.signin.cancel()
        self.state.client_secret = ""
        self.state.token = None
        super().reject()
