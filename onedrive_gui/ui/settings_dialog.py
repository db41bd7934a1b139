"""Settings: General, Accounts and Performance tabs (ui/settings_tabs.py) over a draft of
AppSettings.

OK/Apply validate the draft (MountOptions.validate), save it through AccountService in a
worker, keep start-at-login in sync, apply a mounted drive's new limits to its running
rclone (saying when they take effect) and offer to remount drives whose other options
changed.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.messages import ErrorPanel, confirm
from onedrive_gui.ui.settings_tabs import (
    REMOUNT_FIELDS,
    AccountsTab,
    GeneralTab,
    PerformanceTab,
    _same_path,
    _without_limits,
    limits_text,
)
from onedrive_gui.ui.tasks import TaskRunner

log = logging.getLogger(__name__)




class SettingsDialog(QDialog):
    remount_requested = Signal(str)
    saved = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = TaskRunner(self)
        self.setWindowTitle(_("Settings"))  # Qt adds " — OneDrive GUI", the display name
        self.draft = copy.deepcopy(ctx.accounts.settings)
        self.tabs = QTabWidget()
        self.general = GeneralTab(self)
        self.accounts_tab = AccountsTab(self)
        self.performance = PerformanceTab(self)
        self.tabs.addTab(self.general, _("General"))
        self.tabs.addTab(self.accounts_tab, _("Accounts"))
        self.tabs.addTab(self.performance, _("Performance"))
        self.error = ErrorPanel()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel)
        for b in self.buttons.buttons():  # the desktop theme's ✓/✗ look foreign on Windows
            b.setIcon(QIcon())
        self.buttons.accepted.connect(lambda: self.apply(close=True))
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(
            lambda: self.apply(close=False))
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.error)
        lay.addWidget(self.note)
        lay.addWidget(self.buttons)
        self.resize(680, 640)
        self.load()
        self.general.detect_rclone()

    def load(self) -> None:
        self.draft = copy.deepcopy(self.ctx.accounts.settings)
        self.general.load(self.draft)
        self.accounts_tab.load(self.draft)
        self.performance.load(self.draft)

    def refresh_status(self) -> None:
        self.accounts_tab.refresh_status()

    def ask(self, title: str, text: str, yes: str) -> bool:
        return confirm(self, title, text, yes)

    def collect(self) -> Any:
        self.accounts_tab.commit()
        self.performance.commit()
        return self.general.store(self.draft)

    def checked(self, new: Any) -> Any:
        """*new* with every field checked by the core: mount options, changed mount points
        (against the disk and the other accounts; stored as full paths) and the rclone path.
        Raises AppError naming the account."""
        from onedrive_gui.core.drives.mountpoints import (
            check_mount_point,
            default_mount_point,
            other_mount_points,
        )
        from onedrive_gui.core.errors import MountError
        from onedrive_gui.core.validation import validate_rclone_path

        for a in new.accounts:
            a.options.validate()
        old = self.ctx.accounts.settings
        accounts = []
        for a in new.accounts:
            before = old.account(a.name).mount_point if a.name in old.names() else None
            if _same_path(a.mount_point, before):
                accounts.append(a)
                continue
            wanted = a.mount_point or default_mount_point(
                a.name, [o.mount_point for o in new.accounts if o.name != a.name])
            try:
                path = check_mount_point(
                    wanted, others=other_mount_points(new.accounts, exclude=a.name))
            except MountError as err:
                raise MountError(err.title, _(
                    "Mount point of '{name}': {message}"
                ).format(name=a.name, message=err.message),
                                 err.hint) from None
            accounts.append(replace(a, mount_point=path if a.mount_point else None))
        return replace(new, accounts=accounts,
                       rclone_path=validate_rclone_path(new.rclone_path or ""))

    def apply(self, *, close: bool) -> None:
        self.error.clear()
        try:
            new = self.checked(self.collect())
        except AppError as err:
            self.error.show_error(err)
            return
        old = self.ctx.accounts.settings
        accounts, autostart = self.ctx.accounts, self.ctx.autostart
        login_changed = (autostart is not None
                         and bool(new.start_at_login) != bool(old.start_at_login))
        rclone_changed = bool(new.rclone_path) and new.rclone_path != old.rclone_path

        def work() -> Any:
            if rclone_changed:  # run it: is it rclone, and new enough?
                accounts.find_rclone(new.rclone_path)
            if login_changed and autostart is not None:
                if new.start_at_login:
                    autostart.enable()
                else:
                    autostart.disable()
            accounts.save_settings(new)
            return old

        self.buttons.setEnabled(False)
        self.runner.run(work, lambda o: self._applied(o, new, close), self._apply_failed)

    def _applied(self, old: Any, new: Any, close: bool) -> None:
        self.buttons.setEnabled(True)
        self.draft = copy.deepcopy(new)
        self.saved.emit()
        mounts = self.ctx.mounts
        for a in new.accounts:
            if mounts is not None and self._limits_changed(old, a):
                mounts.set_limits(a.name, a.options.global_flags(),
                                  on_done=self._on_limits(a.name))
        changed = [a.name for a in new.accounts if self._needs_remount(old, a)]
        if changed and self.ask(
            _("Remount to apply?"),
            _("These changes take effect when the drive is mounted again: {names}. Remount "
              "now? (Pending uploads finish first.)").format(names=", ".join(changed)),
            _("Remount now")):
            for name in changed:
                self.remount_requested.emit(name)
        if close:
            self.accept()

    def _needs_remount(self, old: Any, a: Any) -> bool:
        mounts = self.ctx.mounts
        if mounts is None or not mounts.is_mounted(a.name) or a.name not in old.names():
            return False
        before = old.account(a.name)
        return any(getattr(before, f) != getattr(a, f) for f in REMOUNT_FIELDS if f != "options"
                   ) or _without_limits(before.options) != _without_limits(a.options)

    def _limits_changed(self, old: Any, a: Any) -> bool:
        mounts = self.ctx.mounts
        if mounts is None or not mounts.is_mounted(a.name) or a.name not in old.names():
            return False
        return bool(old.account(a.name).options.global_flags() != a.options.global_flags())

    def _on_limits(self, name: str) -> Callable[[Any], None]:
        def done(change: Any) -> None:
            text = limits_text(name, change)
            if text:
                self.note.setText(text)
                self.note.show()

        return done

    def _apply_failed(self, err: AppError) -> None:
        self.buttons.setEnabled(True)
        self.error.show_error(err)

    def secret_rotated(self, name: str) -> None:
        self.load()
        self.note.setText(_("The new client secret of '{name}' is saved.").format(name=name))
        self.note.show()
        mounts = self.ctx.mounts
        if mounts is not None and mounts.is_mounted(name) and self.ask(
                _("Remount to apply?"), _(
                    "Remount '{name}' so rclone uses the new secret now?"
                ).format(name=name),
                _("Remount now")):
            self.remount_requested.emit(name)

    def remove_account(self, name: str) -> None:
        accounts, mounts = self.ctx.accounts, self.ctx.mounts
        manager = mounts.manager if mounts is not None and mounts.is_mounted(name) else None

        def work() -> None:
            if manager is not None:
                manager.upload_now(name)  # held files: checked and released now
                manager.wait_for_uploads(name)
                manager.unmount(name)
            accounts.remove_account(name)

        self.runner.run(work, lambda _r: self._removed(name), self.error.show_error)

    def _removed(self, name: str) -> None:
        if self.ctx.mounts is not None:
            self.ctx.mounts.statuses.pop(name, None)
        self.load()
        self.note.setText(_("'{name}' was removed.").format(name=name))
        self.note.show()
