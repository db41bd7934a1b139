"""Done: what was set up, and what the tray icon does from now on."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWizardPage

from onedrive_gui.core.i18n import N_, _
from onedrive_gui.ui.format import drive_label, short_path
from onedrive_gui.ui.wizard.state import DRIVE, WizardState

TRAY_HELP = (
    N_("<p>The app keeps running in the <b>notification area</b> (system tray). Its icon shows "
    "the state of your drives — mounted, uploading, slowed down by Microsoft, or in trouble. "
    "Click it for a menu to mount, unmount or open a drive, add another account, or change "
    "settings.</p><p>Before you quit or unmount, the app waits for pending uploads so nothing "
    "is lost.</p>")
)


def _cloud_label(key: str) -> str:
    from onedrive_gui.core.microsoft.clouds import CLOUDS

    return _(CLOUDS[key].label)


class DonePage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle(_("All set"))
        self.setSubTitle(_("Your account was added. Finish closes this window; the app keeps "
                           "running in the notification area."))
        self.setFinalPage(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.now = QLabel()
        self.now.setWordWrap(True)
        tray = QLabel(_(TRAY_HELP))
        tray.setWordWrap(True)
        self.another = QPushButton(_("Add another drive or library from this sign-in…"))
        self.another.setToolTip(_("Pick another drive, SharePoint site or Teams library of the "
                                "same account; it becomes an account of its own, without "
                                "signing in again."))
        self.another.clicked.connect(self.add_another)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.now)
        lay.addWidget(tray)
        row = QHBoxLayout()
        row.addWidget(self.another)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(1)

    def add_another(self) -> None:
        """Back to the drive page with the same sign-in (its token and credentials)."""
        wiz = self.wizard()
        if wiz is None or self.state.token is None:
            return
        self.state.account = None
        self.state.keep_sign_in = True
        try:
            wiz.setStartId(DRIVE)
            wiz.restart()
        finally:
            self.state.keep_sign_in = False

    def nextId(self) -> int:
        """The last page: Finish only (the Cloud Shell page has a higher id, not a later one)."""
        return -1

    def initializePage(self) -> None:
        a = self.state.account
        if a is None:
            return
        e = html.escape
        who = (_("{name} <{mail}>").format(name=a.display_name, mail=a.username)
               if a.display_name and a.username else a.display_name or a.username or "—")
        rows = [
            (_("Account:"), a.name),
            (_("Signed in as:"), who),
            (_("Drive:"), drive_label(a.drive_name, a.drive_type)),
            *([(_("Microsoft cloud:"), _cloud_label(a.cloud))] if a.cloud != "global" else []),
            (_("Mount point:"), short_path(a.mount_point) or "—"),
            (_("Mount automatically:"), _("yes") if a.auto_mount else _("no")),
            (_("Client secret expires on:"),
             a.secret_expires.isoformat() if a.secret_expires else "—"),
        ]
        table = "\n".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>"
                          for k, v in rows)
        self.summary.setText(f"<table cellspacing='4'>{table}</table>")
        self.now.setText(_("The drive is being mounted now. The tray icon tells you when it is "
                           "ready.") if self.state.mount_now else "")
        self.now.setVisible(self.state.mount_now)
