"""Sign in: consent in the browser; the app's loopback receiver catches the answer.

SignIn.start(), opening the browser and SignIn.wait() all run in a worker; the page shows a
waiting state with Cancel and "Copy sign-in link", then the signed-in user or the error.
"""

from __future__ import annotations

import html
import logging
import threading
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from onedrive_gui.core.errors import AppError, CancelledError, SignInTimeoutError
from onedrive_gui.core.i18n import _
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.messages import ErrorPanel
from onedrive_gui.ui.tasks import TaskRunner
from onedrive_gui.ui.widgets import CopyField
from onedrive_gui.ui.wizard.state import DRIVE, WizardState

log = logging.getLogger(__name__)
OK_STYLE = "color: #0f7b0f;"


def microsoft_logo(size: int = 20) -> QIcon:
    """Microsoft's four squares, as on its "Sign in with Microsoft" buttons."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    half, gap = size // 2, max(1, size // 20)
    for (x, y), color in zip(((0, 0), (1, 0), (0, 1), (1, 1)),
                             ("#f25022", "#7fba00", "#00a4ef", "#ffb900"), strict=True):
        p.fillRect(x * (half + gap), y * (half + gap), half - gap, half - gap, QColor(color))
    p.end()
    return QIcon(pix)


class _Attempt:
    """One sign-in attempt, shared between the page and its worker."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.signin: Any = None

    def cancel(self) -> None:
        self.cancelled.set()
        signin = self.signin
        if signin is not None:
            signin.cancel()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise CancelledError(_("Sign-in cancelled"), _("You cancelled the sign-in."), "")


class SignInPage(QWizardPage):
    # (attempt, sign-in URL, port, port fell back, browser opened) — from the worker thread
    _started = Signal(object, str, int, bool)
    _browser = Signal(object, bool)

    def __init__(self, state: WizardState, ctx: AppContext) -> None:
        super().__init__()
        self.state = state
        self.ctx = ctx
        self.runner = TaskRunner(self)
        self._attempt: _Attempt | None = None
        self.auth_url = ""
        self.setTitle(_("Sign in with Microsoft"))
        self.setSubTitle(_("Your browser opens Microsoft's sign-in page. Sign in and accept the "
                         "permissions; then come back here."))

        self.sign_in_button = QPushButton(microsoft_logo(), _("Sign in with Microsoft"))
        self.sign_in_button.setIconSize(QSize(20, 20))
        self.sign_in_button.setMinimumHeight(40)
        self.sign_in_button.setStyleSheet("QPushButton { padding: 6px 16px; font-weight: 600; }")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.start)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.cancel_button = QPushButton(_("Cancel sign-in"))
        self.cancel_button.clicked.connect(self.cancel)
        self.copy_link = QPushButton(_("Copy sign-in link"))
        self.copy_link.setToolTip(_("If the browser did not open, paste this link into one."))
        self.copy_link.clicked.connect(self._copy_link)
        self.port_note = QLabel()
        self.port_note.setWordWrap(True)
        self.port_note.hide()
        self.error = ErrorPanel()
        # AADSTS65001/90094: the organization's admin-consent link, to send to an admin
        self.admin_link_label = QLabel(_("Link for your administrator:"))
        self.admin_link = CopyField("")
        self.admin_link_label.hide()
        self.admin_link.hide()
        self.retry_button = QPushButton(_("Retry"))
        self.retry_button.clicked.connect(self.start)
        self.back_note = QLabel(_("If a value is wrong, go <b>Back</b> and correct it."))
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setStyleSheet(OK_STYLE)  # as the Cloud Shell page's success line

        waiting = QHBoxLayout()
        waiting.addWidget(self.cancel_button)
        waiting.addWidget(self.copy_link)
        waiting.addStretch(1)
        retry = QHBoxLayout()
        retry.addWidget(self.retry_button)
        retry.addWidget(self.back_note, 1)
        button_row = QHBoxLayout()
        button_row.addWidget(self.sign_in_button)
        button_row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addSpacing(12)
        lay.addLayout(button_row)
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addLayout(waiting)
        lay.addWidget(self.port_note)
        lay.addWidget(self.error)
        lay.addWidget(self.admin_link_label)
        lay.addWidget(self.admin_link)
        lay.addLayout(retry)
        lay.addWidget(self.result)
        lay.addStretch(1)
        self._started.connect(self._on_started)
        self._browser.connect(self._on_browser)
        self._show_idle()

    # -- states ----------------------------------------------------------------------------
    def _set_waiting_widgets(self, waiting: bool) -> None:
        self.progress.setVisible(waiting)
        self.cancel_button.setVisible(waiting)
        self.copy_link.setVisible(waiting and bool(self.auth_url))

    def _show_idle(self) -> None:
        self.sign_in_button.setVisible(True)
        self.sign_in_button.setEnabled(True)
        self.status.setText("")
        self._set_waiting_widgets(False)
        self.port_note.hide()
        self.error.clear()
        self.admin_link_label.hide()
        self.admin_link.hide()
        self.retry_button.hide()
        self.back_note.hide()
        self.result.hide()

    def _show_failed(self, err: AppError) -> None:
        from onedrive_gui.core.microsoft.aad_errors import AdminConsentRequired

        self._set_waiting_widgets(False)
        self.sign_in_button.hide()
        self.status.setText("")
        if isinstance(err, AdminConsentRequired):  # the link is in the field below, once
            self.error.show_error(err, _(
                "Your organization lets only administrators approve this app. Send the link "
                "below to an administrator of your organization; after they grant admin "
                "consent, sign in again."))
        else:
            self.error.show_error(err)
        if isinstance(err, AdminConsentRequired):
            self.admin_link.value = err.admin_consent_url
            self.admin_link.edit.setText(err.admin_consent_url)
            self.admin_link.edit.setCursorPosition(0)
            self.admin_link_label.show()
            self.admin_link.show()
        self.retry_button.show()
        self.back_note.show()

    # -- flow ------------------------------------------------------------------------------
    def initializePage(self) -> None:
        self.state.token = None
        self.auth_url = ""
        self._show_idle()

    def start(self) -> None:
        if self._attempt is not None:
            return
        attempt = _Attempt()
        self._attempt = attempt
        self.auth_url = ""
        self.error.clear()
        self.admin_link_label.hide()
        self.admin_link.hide()
        self.retry_button.hide()
        self.back_note.hide()
        self.result.hide()
        self.port_note.hide()
        self.sign_in_button.hide()
        self.status.setText(_("Contacting Microsoft…"))
        self._set_waiting_widgets(True)
        client_id, secret, tenant = (
            self.state.client_id, self.state.client_secret, self.state.tenant)
        cloud, extra = self.state.cloud, self.state.extra_scopes
        accounts = self.ctx.accounts
        open_browser = self.ctx.open_browser

        def work() -> Any:
            signin = accounts.sign_in(client_id, secret, tenant, cloud=cloud,
                                      extra_scopes=extra)
            attempt.signin = signin
            try:
                attempt.check()
                url = signin.start()
                attempt.check()
                self._started.emit(attempt, url, int(signin.port), bool(signin.port_fell_back))
                self._browser.emit(attempt, bool(open_browser(url)))
                return signin.wait()
            finally:
                signin.close()

        self.runner.run(work, lambda token: self._done(attempt, token),
                        lambda err: self._failed(attempt, err))

    def _on_started(self, attempt: _Attempt, url: str, port: int, fell_back: bool) -> None:
        if attempt is not self._attempt:
            return
        self.auth_url = url
        self.copy_link.setVisible(True)
        self.status.setText(_("Waiting for you to sign in in your browser…"))
        if fell_back:
            self.port_note.setText(
                _(
                    "Port 53682 is in use on this computer, so the app listens on port {port} "
                    "instead. That works because your app's redirect URI http://localhost "
                    "accepts any port."
                ).format(port=port)
            )
            self.port_note.show()

    def _on_browser(self, attempt: _Attempt, opened: bool) -> None:
        if attempt is self._attempt and not opened:
            self.status.setText(_("The browser could not be opened. Click “Copy sign-in link” and "
                                "paste the link into your browser."))

    def _copy_link(self) -> None:
        if self.auth_url:
            QGuiApplication.clipboard().setText(self.auth_url)
            self.copy_link.setText(_("Link copied"))

    def cancel(self) -> None:
        attempt, self._attempt = self._attempt, None
        if attempt is not None:
            attempt.cancel()
        self.copy_link.setText(_("Copy sign-in link"))
        self._show_idle()
        if attempt is not None:
            self.status.setText(_("Sign-in cancelled."))

    def _done(self, attempt: _Attempt, token: Any) -> None:
        if attempt is not self._attempt:
            return
        self._attempt = None
        self.state.token = token
        self._set_waiting_widgets(False)
        self.sign_in_button.hide()
        self.status.setText("")
        who = html.escape(token.display_name or "")
        mail = html.escape(token.username or "")
        self.result.setText(
            _("✔ Signed in as <b>{name}</b> ({mail}).").format(name=who, mail=mail)
            if who and mail else
            _("✔ Signed in as <b>{name}</b>.").format(name=who or mail))
        self.result.show()
        self.completeChanged.emit()

    def _failed(self, attempt: _Attempt, err: AppError) -> None:
        if attempt is not self._attempt:
            log.debug("stale sign-in attempt ended: %s", err.title)
            return
        self._attempt = None
        if isinstance(err, CancelledError) and not isinstance(err, SignInTimeoutError):
            self._show_idle()
            self.status.setText(_("Sign-in cancelled."))
            return
        self._show_failed(err)

    # -- wizard hooks ------------------------------------------------------------------------
    def isComplete(self) -> bool:
        return self.state.token is not None

    def cleanupPage(self) -> None:
        """Back: a later sign-in must use the corrected values (but "add another drive from
        this sign-in" restarts the wizard at the drive page keeping it)."""
        self.cancel()
        if not self.state.keep_sign_in:
            self.state.token = None

    @property
    def busy(self) -> bool:
        return self._attempt is not None

    def nextId(self) -> int:
        return DRIVE
