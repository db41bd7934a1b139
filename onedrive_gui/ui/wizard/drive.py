"""Choose drive: the drives the signed-in user can mount (default one preselected)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from onedrive_gui.core.errors import AppError
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.format import human_bytes
from onedrive_gui.ui.messages import ErrorPanel
from onedrive_gui.ui.tasks import TaskRunner
from onedrive_gui.ui.wizard.state import MOUNT, WizardState

DRIVE_TYPES = {
    "personal": "OneDrive (personal)",
    "business": "OneDrive for work or school",
    "documentLibrary": "SharePoint library",
}


def usage_text(drive: Any) -> str:
    if drive.quota_total:
        used = human_bytes(drive.quota_used or 0)
        return f"{used} of {human_bytes(drive.quota_total)}"
    return "—"


class DrivePage(QWizardPage):
    def __init__(self, state: WizardState, ctx: AppContext) -> None:
        super().__init__()
        self.state = state
        self.ctx = ctx
        self.runner = TaskRunner(self)
        self._job: int | None = None
        self.setTitle("Choose the drive")
        self.setSubTitle("Pick the drive to mount on this computer.")
        self.status = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Name", "Type", "Used"])
        self.list.setRootIsDecorated(False)
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.list.itemSelectionChanged.connect(self._selected)
        self.error = ErrorPanel()
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.load)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.error)
        lay.addWidget(self.retry)

    def initializePage(self) -> None:
        self.load()

    def load(self) -> None:
        self.state.drive = None
        self.state.drives = []
        self.list.clear()
        self.error.clear()
        self.retry.hide()
        self.progress.show()
        self.status.setText("Looking up your drives…")
        token, accounts = self.state.token, self.ctx.accounts
        self._job = self.runner.run(lambda: accounts.discover(token), self._loaded, self._failed)
        self.completeChanged.emit()

    def _loaded(self, found: tuple[Any, list[Any]]) -> None:
        self._job = None
        user, drives = found
        self.progress.hide()
        self.state.user = user
        self.state.drives = list(drives)
        self.status.setText(f"Drives of {user.display_name} ({user.email}):")
        default_item: QTreeWidgetItem | None = None
        for drive in drives:
            item = QTreeWidgetItem([
                drive.name + ("  (default)" if drive.is_default else ""),
                DRIVE_TYPES.get(drive.drive_type, drive.drive_type),
                usage_text(drive),
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, drive)
            self.list.addTopLevelItem(item)
            if default_item is None or (drive.is_default and not _is_default(default_item)):
                default_item = item
        if default_item is not None:
            self.list.setCurrentItem(default_item)
        else:
            self.status.setText(f"{user.email} has no OneDrive drive.")
        for col in (1, 2):
            self.list.resizeColumnToContents(col)

    def _failed(self, err: AppError) -> None:
        self._job = None
        self.progress.hide()
        self.status.setText("")
        self.error.show_error(err)
        self.retry.show()

    def _selected(self) -> None:
        item = self.list.currentItem()
        self.state.drive = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.state.drive is not None

    def cleanupPage(self) -> None:
        if self._job is not None:
            self.runner.forget(self._job)
            self._job = None
        self.state.drive = None

    def nextId(self) -> int:
        return MOUNT


def _is_default(item: QTreeWidgetItem) -> bool:
    return bool(item.data(0, Qt.ItemDataRole.UserRole).is_default)
