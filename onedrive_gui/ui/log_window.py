"""The log view ("View log"): the app's and rclone's logs with a level filter and a search,
kept up to date while open; "Copy diagnostics" puts a redacted report on the clipboard.

Reading and parsing run in a worker (the logs can be megabytes); the window re-reads only
when a log file changed, and not at all while it is closed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from onedrive_gui.core import diagnostics
from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import N_, _
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.desktop import open_folder
from onedrive_gui.ui.format import status_line
from onedrive_gui.ui.messages import error_line
from onedrive_gui.ui.tasks import TaskRunner
from onedrive_gui.ui.widgets import LiveDialog

log = logging.getLogger(__name__)

REFRESH_MS = 1000
# (label, min level)
LEVEL_CHOICES = [(N_("Errors"), "ERROR"), (N_("Warnings and errors"), "WARNING"),
                 (N_("Information"), "INFO"), (N_("Everything (debug)"), "DEBUG")]
SOURCE_CHOICES = [(N_("App and rclone"), None), (N_("App only"), diagnostics.APP_SOURCE),
                  (N_("rclone only"), "rclone")]
MAX_SHOWN = 5000  # lines in the view (the newest)


def _stamp(log_dir: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for source, path in diagnostics.log_files(log_dir).items():
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((source, st.st_size, st.st_mtime_ns))
    return tuple(out)


class LogWindow(LiveDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(REFRESH_MS, parent)
        self.ctx = ctx
        self.setWindowTitle(_("Log"))  # Qt adds " — OneDrive GUI", the display name
        self.resize(900, 560)
        self.runner = TaskRunner(self)
        self.lines: list[diagnostics.LogLine] = []
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._reading = False

        self.level = QComboBox()
        for label, level in LEVEL_CHOICES:
            self.level.addItem(_(label), level)
        self.level.setCurrentIndex(2)
        self.source = QComboBox()
        for label, source in SOURCE_CHOICES:
            self.source.addItem(_(label), source)
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search"))
        self.search.setClearButtonEnabled(True)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Show:")))
        top.addWidget(self.level)
        top.addWidget(self.source)
        top.addWidget(self.search, 1)

        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.count = QLabel()

        self.copy_button = QPushButton(_("Copy diagnostics"))
        self.copy_button.setToolTip(
            _("Versions, settings (no secrets), mount states and the last 200 log lines, "
            "redacted, for a bug report"))
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.folder_button = QPushButton(_("Open log folder"))
        self.folder_button.clicked.connect(self._open_folder)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.copy_button)
        bottom.addWidget(self.folder_button)
        bottom.addWidget(close)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addLayout(bottom)

        self.level.currentIndexChanged.connect(self.refresh_view)
        self.source.currentIndexChanged.connect(self.refresh_view)
        self.search.textChanged.connect(self.refresh_view)

    # -- reading -------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the logs again (in a worker) if any of them changed."""
        if self._reading:
            return
        log_dir = self.ctx.paths.log_dir
        stamp = _stamp(log_dir)
        if stamp == self._stamp:
            return
        self._reading = True
        self.runner.run(lambda: (stamp, diagnostics.read_logs(log_dir)), self._read,
                        self._read_failed)

    def _read(self, result: tuple[Any, list[diagnostics.LogLine]]) -> None:
        self._reading = False
        self._stamp, self.lines = result
        self.refresh_view()

    def _read_failed(self, err: AppError) -> None:
        self._reading = False
        self.view.setPlainText(error_line(err))

    def shown_lines(self) -> list[diagnostics.LogLine]:
        return diagnostics.filter_lines(
            self.lines, min_level=self.level.currentData(), search=self.search.text(),
            source=self.source.currentData())

    def refresh_view(self) -> None:
        shown = self.shown_lines()
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.view.setPlainText("\n".join(ln.render() for ln in shown[-MAX_SHOWN:]))
        if at_end:
            bar.setValue(bar.maximum())
        if not self.lines:
            self.count.setText(_("Nothing logged yet."))
        else:
            self.count.setText(_(
                "{n_shown} of {n_lines} lines"
            ).format(n_shown=len(shown), n_lines=len(self.lines)))

    # -- actions -------------------------------------------------------------------------------
    def _states(self) -> dict[str, str]:
        controller = self.ctx.mounts
        out = {}
        for name in self.ctx.accounts.settings.names():
            status = controller.status(name) if controller is not None else None
            out[name] = status_line(name, status).split(": ", 1)[-1]
        return out

    def copy_diagnostics(self) -> None:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from onedrive_gui import __version__

        try:
            settings = self.ctx.accounts.settings
        except AppError:
            settings = None
        states = self._states()
        log_dir = self.ctx.paths.log_dir
        accounts = self.ctx.accounts

        def work() -> str:
            versions = {"onedrive-gui": __version__, "Qt": qVersion(),
                        "PySide6": pyside_version, "rclone": _rclone_version(accounts)}
            return diagnostics.diagnostics_report(
                versions=versions, settings=settings, states=states,
                lines=diagnostics.read_logs(log_dir))

        self.copy_button.setEnabled(False)
        self.runner.run(work, self._copied, self._copy_failed)

    def _copied(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copy_button.setEnabled(True)
        self.copy_button.setText(_("Copied"))
        QTimer.singleShot(1500, lambda: self.copy_button.setText(_("Copy diagnostics")))

    def _copy_failed(self, err: AppError) -> None:
        self.copy_button.setEnabled(True)
        from onedrive_gui.ui.messages import show_error

        show_error(self, err)

    def _open_folder(self) -> None:
        open_folder(self.ctx.paths.log_dir)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_F and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.search.setFocus()
            self.search.selectAll()
            return
        super().keyPressEvent(event)


def _rclone_version(accounts: Any) -> str:
    """The rclone the app uses ("not found: …" when it cannot be located)."""
    try:
        return str(accounts.engine.binary.version_text)
    except AppError as err:
        return _("not found ({title})").format(title=err.title)
