"""Re-authorize an account: sign in again in the browser and replace the token in place."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from onedrive_gui.core.errors import AppError, CancelledError, SignInTimeoutError
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.messages import ErrorPanel
from onedrive_gui.ui.tasks import TaskRunner


class ReauthorizeDialog(QDialog):
    _started = Signal(str)

    def __init__(self, ctx: AppContext, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.name = name
        self.runner = TaskRunner(self)
        self._cancel = threading.Event()
        self._signin: Any = None
        self.auth_url = ""
        self.setWindowTitle(f"Re-authorize {name}")
        self.status = QLabel("Contacting Microsoft…")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.copy_link = QPushButton("Copy sign-in link")
        self.copy_link.hide()
        self.copy_link.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.auth_url))
        self.error = ErrorPanel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addWidget(self.copy_link)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self._started.connect(self._on_started)
        self.resize(460, 160)

    def start(self) -> None:
        accounts, name, cancel = self.ctx.accounts, self.name, self._cancel
        open_browser = self.ctx.open_browser

        def work() -> None:
            account = accounts.account(name)
            secret = accounts.secrets.get_client_secret(name)
            signin = accounts.sign_in(account.client_id, secret, account.tenant,
                                      cloud=account.cloud)
            self._signin = signin
            try:
                if cancel.is_set():
                    raise CancelledError("Cancelled", "You cancelled the sign-in.", "")
                url = signin.start()
                self._started.emit(url)
                open_browser(url)
                token = signin.wait()
            finally:
                signin.close()
            accounts.reauthorize(name, token)

        self.runner.run(work, self._done, self._failed)

    def _on_started(self, url: str) -> None:
        self.auth_url = url
        self.status.setText("Sign in in your browser with the same Microsoft account…")
        self.copy_link.show()

    def _done(self, _r: Any) -> None:
        self.accept()

    def _failed(self, err: AppError) -> None:
        if isinstance(err, CancelledError) and not isinstance(err, SignInTimeoutError):
            return
        self.progress.hide()
        self.copy_link.hide()
        self.status.setText("")
        self.error.show_error(err)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

    def reject(self) -> None:
        self._cancel.set()
        if self._signin is not None:
            self._signin.cancel()
        super().reject()
