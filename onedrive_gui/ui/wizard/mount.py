"""Mount: account name, where the drive appears, cache mode, and what happens at start-up.

Going Next ("Add account") creates the account — keyring secret, encrypted rclone remote and
settings entry, all or nothing — through AccountService.add_account in a worker.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from onedrive_gui.core.errors import AppError, ValidationError
from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.validation import validate_account_name
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.messages import ErrorPanel, error_text
from onedrive_gui.ui.tasks import TaskRunner
from onedrive_gui.ui.wizard.state import DONE, WizardState

CACHE_PRESETS: list[tuple[str, str, str]] = [
    ("writes", N_("Writes — recommended"),
     N_("Files you write are cached and uploaded in the background; reads stream from OneDrive.")),
    ("full", N_("Full — best for apps that seek in files"),
     N_("Everything read or written is cached on disk (uses more disk space).")),
    ("minimal", N_("Minimal — least disk"),
     N_("Only files opened for both reading and writing are cached. Some apps cannot save.")),
    ("off", N_("Off — no cache"),
     N_("Reads and writes go straight to OneDrive. Many apps cannot save files this way.")),
]


def suggest_name(drive: Any, existing: list[str]) -> str:
    base = {"personal": "personal", "business": "work"}.get(getattr(drive, "drive_type", ""), "")
    if not base:
        base = re.sub(r"[^A-Za-z0-9_]", "_", getattr(drive, "name", "") or "onedrive")[:28]
        base = base.strip("_") or "onedrive"
    taken = {e.lower() for e in existing}
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}{n}", n + 1
    return name


def _default_mount_point(name: str) -> str:
    from onedrive_gui.core.drives.mountpoints import default_mount_point

    return str(default_mount_point(name))


class MountPage(QWizardPage):
    def __init__(self, state: WizardState, ctx: AppContext, *, platform: str | None = None,
                 drive_mask: int | None = None) -> None:
        """*platform*, *drive_mask* (GetLogicalDrives' answer): this machine's, when None."""
        super().__init__()
        self.state = state
        self.platform = platform or sys.platform
        self.drive_mask = drive_mask
        self.ctx = ctx
        self.runner = TaskRunner(self)
        self.setTitle(_("Mount the drive"))
        self.setSubTitle(_("Choose how the drive appears on this computer."))
        self.setCommitPage(True)
        self.setButtonText(self.wizard_commit_button(), _("Add account"))

        self.name = QLineEdit()
        self.name.setAccessibleName(_("Account name"))
        self.name.setToolTip(_("A short name for this account; letters, digits and _."))
        self.name_note = QLabel()
        self.name_note.setWordWrap(True)
        self.name_note.setStyleSheet("color: #c42b1c;")
        self.name_note.hide()
        self.mount_note = QLabel()
        self.mount_note.setWordWrap(True)
        self.mount_note.hide()
        self._mount_error: AppError | None = None

        self.windows = self.platform == "win32"
        self.drive_letter = QComboBox()
        self.drive_letter.setAccessibleName(_("Drive letter"))
        self.mount_point = QLineEdit()
        self.mount_point.setAccessibleName(_("Mount folder"))
        self.browse = QPushButton(_("Choose…"))
        self.browse.clicked.connect(self._browse)
        self._mount_point_edited = False
        self.mount_point.textEdited.connect(self._mark_edited)
        where = QWidget()
        wl = QHBoxLayout(where)
        wl.setContentsMargins(0, 0, 0, 0)
        if self.windows:
            wl.addWidget(self.drive_letter)
            wl.addStretch(1)
            self.mount_point.hide()
            self.browse.hide()
        else:
            wl.addWidget(self.mount_point, 1)
            wl.addWidget(self.browse)
            self.drive_letter.hide()

        self.cache_mode = QComboBox()
        for key, label, help_text in CACHE_PRESETS:
            self.cache_mode.addItem(_(label), key)
            self.cache_mode.setItemData(self.cache_mode.count() - 1, _(help_text),
                                        Qt.ItemDataRole.ToolTipRole)
        self.cache_help = QLabel()
        self.cache_help.setWordWrap(True)
        self.cache_mode.currentIndexChanged.connect(self._cache_changed)

        self.mount_now = QCheckBox(_("Mount now"))
        self.mount_now.setChecked(True)
        self.auto_mount = QCheckBox(_("Mount automatically when the app starts"))
        self.auto_mount.setChecked(True)
        self.start_at_login = QCheckBox(_("Start the app when I sign in to this computer"))

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.status = QLabel()
        self.error = ErrorPanel()

        form = QFormLayout()
        form.addRow(_("Account name:"), self.name)
        form.addRow("", self.name_note)
        form.addRow(_("Drive letter:") if self.windows else _("Mount folder:"), where)
        form.addRow("", self.mount_note)
        form.addRow(_("Cache:"), self.cache_mode)
        form.addRow("", self.cache_help)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.mount_now)
        lay.addWidget(self.auto_mount)
        lay.addWidget(self.start_at_login)
        lay.addStretch(1)
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addWidget(self.error)
        self.name.textChanged.connect(self._name_changed)
        self.mount_point.textChanged.connect(self._mount_point_changed)
        self.drive_letter.currentTextChanged.connect(self._mount_point_changed)
        self._cache_changed()

    @staticmethod
    def wizard_commit_button() -> Any:
        from PySide6.QtWidgets import QWizard

        return QWizard.WizardButton.CommitButton

    # -- page life ---------------------------------------------------------------------------
    def initializePage(self) -> None:
        existing = self._existing_names()
        self._mount_point_edited = False
        self.name.setText(suggest_name(self.state.drive, existing))
        if self.windows:
            from onedrive_gui.core.drives.mountpoints import free_drive_letters

            self.drive_letter.clear()
            # Letters other accounts use are not offered, even while those are unmounted.
            taken = [a.mount_point for a in self.ctx.accounts.settings.accounts]
            for letter in free_drive_letters(taken, platform=self.platform,
                                             mask=self.drive_mask):
                self.drive_letter.addItem(str(letter))
        self._name_changed(self.name.text())
        if self.ctx.autostart is not None:
            self.start_at_login.setChecked(self.ctx.autostart.is_enabled() or not existing)
        else:
            self.start_at_login.setEnabled(False)
            self.start_at_login.setToolTip(_("Not available on this system."))

    def _existing_names(self) -> list[str]:
        return list(self.ctx.accounts.settings.names())

    # -- inputs ------------------------------------------------------------------------------
    def _mark_edited(self, _text: str) -> None:
        self._mount_point_edited = True

    def _name_changed(self, text: str) -> None:
        try:
            name = validate_account_name(text, self._existing_names())
        except ValidationError as err:
            self.name_note.setText(error_text(err))
            self.name_note.show()
        else:
            self.name_note.hide()
            if not self.windows and not self._mount_point_edited:
                self.mount_point.setText(_default_mount_point(name))
        self._mount_point_changed()

    def _check_mount_point(self) -> str:
        """The chosen mount point, checked against the disk and the other accounts."""
        from onedrive_gui.core.drives.mountpoints import check_mount_point, other_mount_points

        return check_mount_point(self.chosen_mount_point(),
                                 others=other_mount_points(self.ctx.accounts.settings.accounts,
                                                           platform=self.platform),
                                 platform=self.platform, mask=self.drive_mask)

    def _mount_point_changed(self, *_args: Any) -> None:
        from onedrive_gui.core.drives.mountpoints import mount_point_note, onedrive_sync_note

        try:
            path = self._check_mount_point()
        except AppError as err:
            self._show_mount_error(err)
        else:
            self._mount_error = None
            note = mount_point_note(path, platform=self.platform)
            self.mount_note.setText(note)
            warning = bool(note) and note == onedrive_sync_note(path)
            self.mount_note.setStyleSheet("color: #9d5d00;" if warning
                                          else "color: palette(placeholder-text);")
            self.mount_note.setVisible(bool(note))
        self.completeChanged.emit()

    def _show_mount_error(self, err: AppError) -> None:
        self._mount_error = err
        self.mount_note.setText(error_text(err))
        self.mount_note.setStyleSheet("color: #c42b1c;")
        self.mount_note.show()

    def _browse(self) -> None:
        start = str(Path(self.mount_point.text() or Path.home()).parent)
        parent = QFileDialog.getExistingDirectory(
            self, _("Folder in which to create the mount folder"), start)
        if parent:
            name = self.name.text().strip() or "OneDrive"
            self.mount_point.setText(str(Path(parent) / name))
            self._mount_point_edited = True

    def _cache_changed(self) -> None:
        self.cache_help.setText(_(CACHE_PRESETS[max(self.cache_mode.currentIndex(), 0)][2]))

    def chosen_mount_point(self) -> str:
        if self.windows:
            return self.drive_letter.currentText()
        return self.mount_point.text().strip()

    def isComplete(self) -> bool:
        if self.runner.busy:
            return False
        if self.state.account is not None:
            return True
        return (self.name_note.isHidden() and bool(self.name.text().strip())
                and self._mount_error is None and bool(self.chosen_mount_point()))

    # -- commit ------------------------------------------------------------------------------
    def validatePage(self) -> bool:
        if self.state.account is not None:
            return True
        if self.runner.busy:
            return False
        self._commit()
        return False

    def _commit(self) -> None:
        from onedrive_gui.core.settings import MountOptions

        st = self.state
        name = self.name.text().strip()
        try:  # again: the disk may have changed since it was typed
            mount_point = self._check_mount_point()
        except AppError as err:
            self._show_mount_error(err)
            self.completeChanged.emit()
            return
        auto_mount = self.auto_mount.isChecked()
        options = MountOptions(cache_mode=self.cache_mode.currentData())
        accounts, autostart = self.ctx.accounts, self.ctx.autostart
        want_autostart = self.start_at_login.isChecked() if autostart is not None else None
        st.mount_now = self.mount_now.isChecked()

        def work() -> Any:
            account = accounts.add_account(
                name, client_id=st.client_id, client_secret=st.client_secret,
                tenant=st.tenant, token=st.token, user=st.user, drive=st.drive,
                secret_expires=st.secret_expires, mount_point=mount_point,
                auto_mount=auto_mount, options=options, cloud=st.cloud,
            )
            if (autostart is not None and want_autostart is not None
                    and want_autostart != autostart.is_enabled()):
                if want_autostart:
                    autostart.enable()
                else:
                    autostart.disable()
                accounts.save_settings(replace(accounts.settings, start_at_login=want_autostart))
            return account

        self._set_busy(True)
        self.runner.run(work, self._added, self._failed)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.status.setText(_("Saving the account…") if busy else "")
        for w in (self.name, self.mount_point, self.browse, self.drive_letter, self.cache_mode,
                  self.mount_now, self.auto_mount, self.start_at_login):
            w.setEnabled(not busy)
        wiz = self.wizard()
        if wiz is not None:
            from PySide6.QtWidgets import QWizard

            for b in (QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton):
                button = wiz.button(b)
                if button is not None:
                    button.setEnabled(not busy)
        self.completeChanged.emit()

    def _added(self, account: Any) -> None:
        self.state.account = account
        self._set_busy(False)
        self.error.clear()
        wiz = self.wizard()
        if wiz is not None:
            added = getattr(wiz, "account_added", None)
            if added is not None:
                added.emit(account, self.state.mount_now)
            wiz.next()

    def _failed(self, err: AppError) -> None:
        self._set_busy(False)
        self.error.show_error(err)

    def nextId(self) -> int:
        return DONE
