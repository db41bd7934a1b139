"""The Settings dialog's tabs: General, Accounts (with the secret and sign-in actions)
and Performance, each editing the dialog's draft of AppSettings."""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import LANGUAGES, SYSTEM, _, ngettext
from onedrive_gui.ui.desktop import open_folder
from onedrive_gui.ui.format import drive_label, short_path, status_line
from onedrive_gui.ui.messages import error_line
from onedrive_gui.ui.wizard.mount import CACHE_PRESETS

if TYPE_CHECKING:
    from onedrive_gui.ui.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

LOG_LEVELS = ["ERROR", "WARNING", "INFO", "DEBUG"]
# Fields whose change only takes effect on the next mount.
REMOUNT_FIELDS = ("mount_point", "options")
# Options applied to a mounted drive at once (its rclone's limits; see MountManager.set_limits).
LIMIT_FIELDS = ("tpslimit", "tpslimit_burst", "transfers", "checkers", "bwlimit")



def _without_limits(options: Any) -> Any:
    from onedrive_gui.core.settings import MountOptions

    defaults = MountOptions()
    return replace(options, **{f: getattr(defaults, f) for f in LIMIT_FIELDS})


def limits_text(name: str, change: Any) -> str:
    """What happened to *name*'s new limits (a core.mounts.LimitsChange), for the user."""
    value = getattr(change, "value", "")
    if value == "applied":
        return _("The new bandwidth limit of '{name}' applies now.").format(name=name)
    if value == "restart pending":
        return (_(
            "The new limits of '{name}' apply as soon as its uploads are done: its rclone is "
            "then restarted and the drive mounted again (a few seconds; open files on it are "
            "closed)."
        ).format(name=name))
    if value == "next start":
        return _("The new limits of '{name}' apply the next time it is mounted.").format(name=name)
    return ""


def _scrolling_body(page: QWidget) -> QWidget:
    """A body for *page* that scrolls rather than squeezing its help texts (longer
    languages; the error panel below the tabs taking room)."""
    body = QWidget()
    area = QScrollArea()
    area.setWidget(body)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
    return body


def _help_label(text: str) -> QLabel:
    """A field's explanation under it: the ordinary text colour (grey help text is hard to
    read at length), a little space before the next field."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setContentsMargins(0, 0, 0, 8)
    return label


def _mount_options_help(name: str) -> str:
    from onedrive_gui.core.settings import MountOptions

    return MountOptions.help(name)


def _default_mount_point_text(name: str, others: list[str | None] | None = None) -> str:
    from onedrive_gui.core.drives.mountpoints import default_mount_point

    try:
        return _(
            "default: {default_mount_point}"
        ).format(default_mount_point=default_mount_point(name, others or []))
    except AppError:
        return _("default: a free drive letter")


def _same_path(a: str | None, b: str | None) -> bool:
    import os

    def norm(p: str | None) -> str:
        p = (p or "").strip()
        return os.path.normpath(os.path.expanduser(p)) if p else ""

    return norm(a) == norm(b)


class GeneralTab(QWidget):
    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.start_at_login = QCheckBox(_("Start OneDrive GUI when I sign in to this computer"))
        self.notifications = QCheckBox(_("Show notifications (mounted, errors, reminders)"))
        self.rclone_path = QLineEdit()
        self.rclone_path.setPlaceholderText(_("automatic (bundled rclone)"))
        self.rclone_browse = QPushButton(_("Choose…"))
        self.rclone_browse.clicked.connect(self._browse)
        self.rclone_version = QLabel(_("Checking rclone…"))
        self.rclone_version.setWordWrap(True)
        self.check_rclone = QPushButton(_("Check again"))
        self.check_rclone.clicked.connect(self.detect_rclone)
        self.log_level = QComboBox()
        self.log_level.addItems(LOG_LEVELS)
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(name or _("System default"), code)
        self.language_note = _help_label(_("Takes effect the next time OneDrive GUI starts."))
        self.open_logs = QPushButton(_("Open log folder"))
        self.open_logs.clicked.connect(self._open_logs)
        row = QHBoxLayout()
        row.addWidget(self.rclone_path, 1)
        row.addWidget(self.rclone_browse)
        vrow = QHBoxLayout()
        vrow.addWidget(self.rclone_version, 1)
        vrow.addWidget(self.check_rclone)
        form = QFormLayout(self)
        form.addRow(self.start_at_login)
        form.addRow(self.notifications)
        form.addRow(_("Language:"), self.language)
        form.addRow("", self.language_note)
        form.addRow(_("rclone program:"), row)
        form.addRow("", vrow)
        form.addRow(_("Log level:"), self.log_level)
        form.addRow("", self.open_logs)
        if dialog.ctx.autostart is None:
            self.start_at_login.setEnabled(False)
            self.start_at_login.setToolTip(_("Not available on this system."))

    def load(self, s: Any) -> None:
        self.start_at_login.setChecked(bool(s.start_at_login))
        self.notifications.setChecked(bool(s.notifications))
        self.rclone_path.setText(s.rclone_path or "")
        self.log_level.setCurrentText(s.log_level if s.log_level in LOG_LEVELS else "INFO")
        self.language.setCurrentIndex(max(self.language.findData(s.language or SYSTEM), 0))

    def store(self, s: Any) -> Any:
        return replace(s, start_at_login=self.start_at_login.isChecked(),
                       notifications=self.notifications.isChecked(),
                       rclone_path=self.rclone_path.text().strip() or None,
                       log_level=self.log_level.currentText(),
                       language=self.language.currentData() or SYSTEM)

    def _browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, _("rclone program"))
        if path:
            self.rclone_path.setText(path)

    def _open_logs(self) -> None:
        open_folder(self.dialog.ctx.paths.log_dir)

    def detect_rclone(self) -> None:
        configured = self.rclone_path.text().strip() or None
        self.rclone_version.setText(_("Checking rclone…"))
        accounts = self.dialog.ctx.accounts

        def work() -> Any:
            return accounts.find_rclone(configured)

        self.dialog.runner.run(work, self._rclone_found, self._rclone_missing)

    def _rclone_found(self, binary: Any) -> None:
        v = ".".join(str(x) for x in binary.version)
        self.rclone_version.setText(_("rclone {v} — {path}").format(
            v=v, path=short_path(str(binary.path))))
        self.rclone_version.setStyleSheet("")

    def _rclone_missing(self, err: AppError) -> None:
        self.rclone_version.setText(_("{title}: {message} {hint}").format(
            title=err.title, message=err.message, hint=err.hint) if err.hint else error_line(err))
        self.rclone_version.setStyleSheet("color: #c42b1c;")


class AccountsTab(QWidget):
    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.list = QListWidget()
        self.list.currentTextChanged.connect(self._select)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.status = QLabel()
        self.mount_point = QLineEdit()
        self.mount_point.setAccessibleName(_("Mount point"))
        self.mount_note = QLabel()  # Windows: inside a folder OneDrive's own app syncs
        self.mount_note.setWordWrap(True)
        self.mount_note.setStyleSheet("color: #9d5d00;")
        self.mount_note.hide()
        self.mount_point.textChanged.connect(self._mount_point_typed)
        self.auto_mount = QCheckBox(_("Mount automatically when the app starts"))
        self.cache_mode = QComboBox()
        for key, label, help_text in CACHE_PRESETS:
            self.cache_mode.addItem(_(label), key)
            self.cache_mode.setItemData(self.cache_mode.count() - 1, _(help_text),
                                        Qt.ItemDataRole.ToolTipRole)
        self.cache_max_size = QLineEdit()
        self.cache_max_age = QLineEdit()
        for w, f in ((self.cache_mode, "cache_mode"), (self.cache_max_size, "cache_max_size"),
                     (self.cache_max_age, "cache_max_age")):
            w.setToolTip(_mount_options_help(f))
        self.secret_expiry = QLabel()
        self.reauth = QPushButton(_("Re-authorize…"))
        self.reauth.setToolTip(_("Sign in again (after a password change, or when the sign-in "
                               "expired) and keep everything else."))
        self.rotate = QPushButton(_("New client secret…"))
        self.remove = QPushButton(_("Remove…"))
        self.reauth.clicked.connect(self._reauthorize)
        self.rotate.clicked.connect(self._rotate)
        self.remove.clicked.connect(self._remove)
        self.detail = QWidget()
        form = QFormLayout(self.detail)
        form.addRow(self.info)
        form.addRow(self.status)
        form.addRow(_("Mount point:"), self.mount_point)
        form.addRow(self.mount_note)
        form.addRow(self.auto_mount)
        form.addRow(_("Cache:"), self.cache_mode)
        form.addRow(_("Cache max size:"), self.cache_max_size)
        form.addRow(_("Cache max age:"), self.cache_max_age)
        form.addRow(_("Client secret expires:"), self.secret_expiry)
        buttons = QHBoxLayout()
        for b in (self.reauth, self.rotate, self.remove):
            buttons.addWidget(b)
        form.addRow(buttons)
        self.empty = QLabel(_("No account yet. Use “Add account…” in the tray menu."))
        lay = QHBoxLayout(self)
        self.list.setMaximumWidth(160)
        lay.addWidget(self.list)
        lay.addWidget(self.detail, 1)
        lay.addWidget(self.empty, 1)
        self._current: str | None = None

    def load(self, s: Any) -> None:
        self._current = None
        self.list.clear()
        self.list.addItems(s.names())
        has = bool(s.accounts)
        self.detail.setVisible(has)
        self.empty.setVisible(not has)
        if has:
            self.list.setCurrentRow(0)

    def _select(self, name: str) -> None:
        if self._current:
            self.commit()
        self._current = name or None
        if not name:
            return
        a = self.dialog.draft.account(name)
        who = (_("{name} <{mail}>").format(name=a.display_name, mail=a.username)
               if a.display_name and a.username else a.display_name or a.username or "")
        from onedrive_gui.core.microsoft.clouds import CLOUDS

        cloud = CLOUDS[a.cloud]  # fixed: the registration and the sign-in live in that cloud
        e = html.escape
        self.info.setText(_(
            "<b>{name}</b> — {drive} of {who}<br>Microsoft cloud: {cloud}"
        ).format(name=e(a.name), drive=e(drive_label(a.drive_name, a.drive_type)), who=e(who),
                 cloud=e(_(cloud.label))) if who else _(
            "<b>{name}</b> — {drive}<br>Microsoft cloud: {cloud}"
        ).format(name=e(a.name), drive=e(drive_label(a.drive_name, a.drive_type)),
                 cloud=e(_(cloud.label))))
        self.info.setToolTip(_("The cloud cannot change for an account: its app registration "
                             "and sign-in exist in that cloud only. Add the drive again as a "
                             "new account to use another cloud."))
        self.refresh_status()
        self.mount_point.setText(a.mount_point or "")
        self.mount_point.setPlaceholderText(_default_mount_point_text(
            a.name, [o.mount_point for o in self.dialog.draft.accounts if o.name != a.name]))
        self.auto_mount.setChecked(a.auto_mount)
        idx = self.cache_mode.findData(a.options.cache_mode)
        self.cache_mode.setCurrentIndex(max(idx, 0))
        self.cache_max_size.setText(a.options.cache_max_size)
        self.cache_max_age.setText(a.options.cache_max_age)
        self.show_secret_expiry(a.secret_expires)

    def show_secret_expiry(self, expires: date | None, today: date | None = None) -> None:
        """The expiry date; within the reminder window (or past) a warning saying when."""
        from onedrive_gui.core.reminders import SECRET_WARNING_DAYS

        self.secret_expiry.setStyleSheet("")
        if expires is None:
            self.secret_expiry.setText(_("not recorded"))
            return
        days = (expires - (today or date.today())).days
        if days < 0:
            text = _("{date} — expired").format(date=expires.isoformat())
            style = "color: #c42b1c; font-weight: 600;"
        elif days == 0:
            text = _("{date} — today").format(date=expires.isoformat())
            style = "color: #c42b1c; font-weight: 600;"
        elif days <= SECRET_WARNING_DAYS:
            text = ngettext("⚠ {date} — in {days} day", "⚠ {date} — in {days} days",
                            days).format(date=expires.isoformat(), days=days)
            style = "color: #9d5d00; font-weight: 600;"
        else:
            text, style = expires.isoformat(), ""
        self.secret_expiry.setText(text)
        self.secret_expiry.setStyleSheet(style)
        self.secret_expiry.setToolTip(_(
            "Create a new secret in the Azure portal (Certificates & secrets), then use “New "
            "client secret…”.") if style else "")


    def _mount_point_typed(self, text: str) -> None:
        from onedrive_gui.core.drives.mountpoints import onedrive_sync_note

        note = onedrive_sync_note(text.strip()) if text.strip() else ""
        self.mount_note.setText(note)
        self.mount_note.setVisible(bool(note))

    def refresh_status(self) -> None:
        if self._current:
            mounts = self.dialog.ctx.mounts
            self.status.setText(status_line(self._current, mounts.status(self._current)
                                            if mounts else None))

    def commit(self) -> None:
        """Copy the fields into the draft."""
        name = self._current
        if not name:
            return
        draft = self.dialog.draft
        a = draft.account(name)
        options = replace(a.options, cache_mode=self.cache_mode.currentData(),
                          cache_max_size=self.cache_max_size.text().strip(),
                          cache_max_age=self.cache_max_age.text().strip())
        new = replace(a, mount_point=self.mount_point.text().strip() or None,
                      auto_mount=self.auto_mount.isChecked(), options=options)
        self.dialog.draft = replace(draft, accounts=[new if x.name == name else x
                                                     for x in draft.accounts])

    def _reauthorize(self) -> None:
        from onedrive_gui.ui.reauthorize_dialog import ReauthorizeDialog

        if self._current:
            dlg = ReauthorizeDialog(self.dialog.ctx, self._current, self)
            dlg.start()
            dlg.open()

    def _rotate(self) -> None:
        from onedrive_gui.ui.secret_dialog import SecretDialog

        name = self._current
        if not name:
            return
        dlg = SecretDialog(self.dialog.ctx, name, self)
        dlg.accepted.connect(lambda: self.dialog.secret_rotated(name))
        dlg.open()

    def _remove(self) -> None:
        name = self._current
        if not name or not self.dialog.ask(
            _("Remove account?"),
            _(
                "Remove '{name}' from this computer? Its secret is deleted from the keyring "
                "and the drive is unmounted. Your files in OneDrive are not touched."
            ).format(name=name), _("Remove")):
            return
        self.dialog.remove_account(name)


class PerformanceTab(QWidget):
    FIELDS = ("tpslimit", "transfers", "checkers", "bwlimit", "chunk_size",
              "prefill_max_items")

    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.account = QComboBox()
        self.account.currentTextChanged.connect(self._select)
        self.tpslimit = QDoubleSpinBox()
        self.tpslimit.setRange(0, 1000)
        self.tpslimit.setDecimals(1)
        self.tpslimit.setSpecialValueText(_("unlimited"))
        self.transfers = QSpinBox()
        self.transfers.setRange(1, 64)
        self.checkers = QSpinBox()
        self.checkers.setRange(1, 64)
        self.bwlimit = QLineEdit()
        self.bwlimit.setPlaceholderText(_("no limit"))
        self.chunk_size = QLineEdit()
        self.prefill_max_items = QSpinBox()
        self.prefill_max_items.setRange(0, 100_000_000)
        self.prefill_max_items.setSingleStep(50_000)
        self.prefill_max_items.setGroupSeparatorShown(True)
        self.prefill_max_items.setSpecialValueText(_("never"))
        self.restore = QPushButton(_("Restore defaults"))
        self.restore.clicked.connect(self.restore_defaults)
        # a grid, not a form: QFormLayout gives word-wrapped help texts the height of a
        # narrower column (gaps between the fields)
        grid = QGridLayout(_scrolling_body(self))
        grid.setColumnStretch(1, 1)
        grid.addWidget(QLabel(_("Account:")), 0, 0)
        grid.addWidget(self.account, 0, 1)
        labels = {"tpslimit": _("Requests per second:"), "transfers": _("Parallel transfers:"),
                  "checkers": _("Parallel checks:"), "bwlimit": _("Bandwidth limit:"),
                  "chunk_size": _("Upload chunk size:"),
                  "prefill_max_items": _("Read ahead drives of up to (files and folders):")}
        row = 1
        for f in self.FIELDS:
            w = getattr(self, f)
            help_text = _mount_options_help(f)
            w.setToolTip(help_text)
            label = QLabel(labels[f])
            label.setBuddy(w)
            grid.addWidget(label, row, 0)
            grid.addWidget(w, row, 1)
            grid.addWidget(_help_label(help_text), row + 1, 1)
            row += 2
        restore = QHBoxLayout()
        restore.addWidget(self.restore)
        restore.addStretch(1)
        grid.addLayout(restore, row, 1)
        grid.setRowStretch(row + 1, 1)  # extra height below the fields, not between them
        self._current: str | None = None

    def load(self, s: Any) -> None:
        self._current = None
        self.account.clear()
        self.account.addItems(s.names())
        self.setEnabled(bool(s.accounts))

    def _select(self, name: str) -> None:
        if self._current:
            self.commit()
        self._current = name or None
        if name:
            self._show(self.dialog.draft.account(name).options)

    def _show(self, o: Any) -> None:
        self.tpslimit.setValue(float(o.tpslimit))
        self.transfers.setValue(int(o.transfers))
        self.checkers.setValue(int(o.checkers))
        self.bwlimit.setText(o.bwlimit)
        self.chunk_size.setText(o.chunk_size)
        self.prefill_max_items.setValue(int(o.prefill_max_items))

    def restore_defaults(self) -> None:
        from onedrive_gui.core.settings import MountOptions

        self._show(MountOptions())

    def commit(self) -> None:
        name = self._current
        if not name:
            return
        draft = self.dialog.draft
        a = draft.account(name)
        options = replace(a.options, tpslimit=float(self.tpslimit.value()),
                          transfers=int(self.transfers.value()),
                          checkers=int(self.checkers.value()),
                          bwlimit=self.bwlimit.text().strip(),
                          chunk_size=self.chunk_size.text().strip(),
                          prefill_max_items=int(self.prefill_max_items.value()))
        self.dialog.draft = replace(draft, accounts=[replace(a, options=options)
                                                     if x.name == name else x
                                                     for x in draft.accounts])
