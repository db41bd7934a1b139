"""The activity window (tray → "Activity…"): per account, the files waiting to upload and
uploading, with progress, speed and time left; Upload now, Retry, Open folder; the conflicts
of this run.

Read in a worker from each account's rclone (MountManager.activity) every REFRESH_MS while the
window is shown, never while it is hidden or closed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from onedrive_gui.core.drives.activity import (
    CHECKING,
    RETRYING,
    STATE_LABELS,
    UPLOADING,
    WAITING,
    Activity,
    Upload,
    totals,
)
from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _, ngettext
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.desktop import open_folder
from onedrive_gui.ui.format import human_bytes, human_speed
from onedrive_gui.ui.messages import error_line
from onedrive_gui.ui.tasks import TaskRunner
from onedrive_gui.ui.widgets import LiveDialog

log = logging.getLogger(__name__)

REFRESH_MS = 500  # while shown: at most this much (plus one rc round) behind the queue
_ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("name", "size", "state", "progress", "speed", "left")


def duration(seconds: float) -> str:
    """"45 s", "3 min", "2 h 5 min"."""
    s = max(0, round(seconds))
    if s < 60:
        return _("{n} s").format(n=s)
    if s < 3600:
        return _("{n} min").format(n=round(s / 60))
    return _("{h} h {m} min").format(h=s // 3600, m=(s % 3600) // 60)


def state_text(u: Upload) -> str:
    """"waiting 12 s", "checking with the cloud", "uploading", "retrying in 2 min after an
    error"."""
    if u.state == WAITING:
        return (_("waiting {time}").format(time=duration(u.due_in)) if u.due_in
                else _("starting"))
    if u.state == CHECKING:
        return _("checking with the cloud")
    if u.state == RETRYING:
        if u.due_in:
            return _("retrying in {time} after an error").format(time=duration(u.due_in))
        return _(STATE_LABELS[RETRYING])
    return _(STATE_LABELS.get(u.state, u.state))


def summary(files: int, left: int, speed: float) -> str:
    """The totals line: "3 files to upload, 12.0 MB left, 1.2 MB/s"."""
    if not files:
        return _("Nothing to upload: everything is in the cloud.")
    if speed > 0:
        return ngettext("{n} file to upload, {left} left, {speed}",
                        "{n} files to upload, {left} left, {speed}", files).format(
            n=files, left=human_bytes(left), speed=human_speed(speed))
    return ngettext("{n} file to upload, {left} left", "{n} files to upload, {left} left",
                    files).format(n=files, left=human_bytes(left))


class ActivityWindow(LiveDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(REFRESH_MS, parent)
        self.ctx = ctx
        self.setWindowTitle(_("Activity"))  # Qt adds " — OneDrive GUI", the display name
        self.resize(860, 520)
        self.runner = TaskRunner(self)
        self.activities: list[Activity] = []
        self.conflicts: list[Any] = []
        self._reading = False
        self.reads = 0  # completed reads (tests, and to tell "nothing yet" from "nothing")

        self.totals = QLabel(_("Reading…"))
        font = self.totals.font()
        font.setBold(True)
        self.totals.setFont(font)

        self.uploads = QTreeWidget()
        self.uploads.setColumnCount(len(COLUMNS))
        self.uploads.setHeaderLabels([_("Name"), _("Size"), _("State"), _("Progress"),
                                      _("Speed"), _("Time left")])
        self.uploads.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.uploads.setRootIsDecorated(True)
        header = self.uploads.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.uploads.itemSelectionChanged.connect(self._update_buttons)

        self.upload_now_button = QPushButton(_("Upload now"))
        self.upload_now_button.setToolTip(
            _("Upload the selected file now instead of after its delay (checked with the "
              "cloud first, so an edit made there is kept)"))
        self.upload_now_button.clicked.connect(self.upload_selected)
        self.upload_all_button = QPushButton(_("Upload all now"))
        self.upload_all_button.clicked.connect(self.upload_all)
        self.retry_button = QPushButton(_("Retry"))
        self.retry_button.setToolTip(_("Try the failed upload again now"))
        self.retry_button.clicked.connect(self.retry_selected)
        self.open_button = QPushButton(_("Open folder"))
        self.open_button.setToolTip(_("Open the folder of the selected file or conflict"))
        self.open_button.clicked.connect(self.open_selected_folder)
        actions = QHBoxLayout()
        actions.addWidget(self.upload_now_button)
        actions.addWidget(self.upload_all_button)
        actions.addWidget(self.retry_button)
        actions.addStretch(1)
        actions.addWidget(self.open_button)

        self.conflicts_label = QLabel(_("Changed in two places during this session (both "
                                        "versions kept):"))
        self.conflict_list = QTreeWidget()
        self.conflict_list.setHeaderLabels([_("File"), _("The cloud's version kept as"),
                                            _("Account"), _("When")])
        self.conflict_list.setRootIsDecorated(False)
        conflict_header = self.conflict_list.header()
        for col, mode in enumerate((QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.ResizeToContents)):
            conflict_header.setSectionResizeMode(col, mode)
        conflict_header.setStretchLastSection(False)
        self.uploads.itemSelectionChanged.connect(self._upload_chosen)
        self.conflict_list.itemSelectionChanged.connect(self._conflict_chosen)
        self.conflict_list.setMaximumHeight(120)
        close = QPushButton(_("Close"))
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)

        lay = QVBoxLayout(self)
        lay.addWidget(self.totals)
        lay.addWidget(self.uploads, 1)
        lay.addLayout(actions)
        lay.addWidget(self.conflicts_label)
        lay.addWidget(self.conflict_list)
        lay.addLayout(bottom)

        self._update_buttons()
        self._show_conflicts()

    @property
    def manager(self) -> Any:
        controller = self.ctx.mounts
        return getattr(controller, "manager", None) if controller is not None else None

    # -- reading -------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read every account's uploads again (in a worker), unless a read is under way."""
        if self._reading:
            return
        manager = self.manager
        names = list(self.ctx.accounts.settings.names())
        controller = self.ctx.mounts
        live = [n for n in names if controller is not None and controller.is_mounted(n)]
        self._reading = True

        def work() -> tuple[list[Activity], list[Any]]:
            acts = []
            for n in names:
                acts.append(manager.activity(n) if manager is not None and n in live
                            else Activity(n))
            return acts, (manager.conflicts.items() if manager is not None else [])

        self.runner.run(work, self._read, self._read_failed)

    def _read(self, result: tuple[list[Activity], list[Any]]) -> None:
        self._reading = False
        self.reads += 1
        self.activities, conflicts = result
        self._show_uploads()
        if len(conflicts) != len(self.conflicts):
            self.conflicts = conflicts
            self._show_conflicts()

    def _read_failed(self, err: AppError) -> None:
        self._reading = False
        log.info("reading the uploads: %s", err.message)
        self.totals.setText(error_line(err))

    # -- showing -------------------------------------------------------------------------------
    def _show_uploads(self) -> None:
        selected = self.selected_upload()
        key = (selected.account, selected.path) if selected is not None else None
        self.uploads.clear()
        self.totals.setText(summary(*totals(self.activities)))
        reselect = None
        for act in self.activities:
            top = QTreeWidgetItem([act.account])
            told = act.index.text() if act.index is not None else ""  # reading ahead
            if told:
                top.setText(0, f"{act.account} — {told}")
                top.setToolTip(0, told)
            if act.files:
                top.setText(2, ngettext("{n} file", "{n} files", act.files).format(n=act.files))
                top.setText(1, _("{size} left").format(size=human_bytes(act.bytes_left)))
                if act.speed > 0:
                    top.setText(4, human_speed(act.speed))
            else:
                top.setText(2, _("nothing to upload"))
            self.uploads.addTopLevelItem(top)
            for u in act.uploads:
                row = QTreeWidgetItem([u.path, human_bytes(u.size), state_text(u), "",
                                       human_speed(u.speed) if u.speed > 0 else "",
                                       duration(u.eta) if u.eta is not None else ""])
                row.setData(0, _ROLE, u)
                row.setToolTip(0, u.path)
                if u.failed:
                    row.setToolTip(2, ngettext("The upload failed {n} time.",
                                               "The upload failed {n} times.",
                                               u.tries).format(n=u.tries))
                top.addChild(row)
                if u.state == UPLOADING:
                    bar = QProgressBar()
                    bar.setRange(0, 1000)
                    bar.setValue(round(u.progress * 1000))
                    bar.setFormat(_("{percent}%").format(percent=round(u.progress * 100)))
                    bar.setMaximumHeight(18)
                    self.uploads.setItemWidget(row, 3, bar)
                if key == (u.account, u.path):
                    reselect = row
            top.setExpanded(True)
        if reselect is not None:
            self.uploads.setCurrentItem(reselect)
        self._update_buttons()

    def _show_conflicts(self) -> None:
        self.conflict_list.clear()
        for c in self.conflicts:
            row = QTreeWidgetItem([c.path, c.conflict_name, c.account,
                                   time.strftime("%H:%M", time.localtime(c.when))])
            row.setData(0, _ROLE, c)
            self.conflict_list.addTopLevelItem(row)
        has = bool(self.conflicts)
        self.conflicts_label.setVisible(has)
        self.conflict_list.setVisible(has)
        self._update_buttons()

    def selected_upload(self) -> Upload | None:
        item = self.uploads.currentItem()
        data = item.data(0, _ROLE) if item is not None else None
        return data if isinstance(data, Upload) else None

    def row_of(self, path: str) -> QTreeWidgetItem | None:
        for i in range(self.uploads.topLevelItemCount()):
            top = self.uploads.topLevelItem(i)
            for j in range(top.childCount() if top is not None else 0):
                row = top.child(j) if top is not None else None
                data = row.data(0, _ROLE) if row is not None else None
                if isinstance(data, Upload) and data.path == path:
                    return row
        return None

    def _update_buttons(self) -> None:
        u = self.selected_upload()
        self.upload_now_button.setEnabled(u is not None and u.state == WAITING)
        self.retry_button.setEnabled(u is not None and u.failed)
        self.upload_all_button.setEnabled(any(
            x.state in (WAITING, RETRYING) for a in self.activities for x in a.uploads))
        self.open_button.setEnabled(bool(self._chosen_folder()))

    def _upload_chosen(self) -> None:
        if self.selected_upload() is not None:
            self.conflict_list.clearSelection()
        self._update_buttons()

    def _conflict_chosen(self) -> None:
        if self.conflict_list.selectedItems():
            self.uploads.clearSelection()
        self._update_buttons()

    def _chosen_folder(self) -> str | None:
        """The folder of the selected upload, else of the selected conflict."""
        u = self.selected_upload()
        if u is not None and self.uploads.selectedItems():
            return u.local_folder or None
        items = self.conflict_list.selectedItems()
        c = items[0].data(0, _ROLE) if items else None
        return c.local_folder if c is not None and c.local_folder else None

    # -- actions -------------------------------------------------------------------------------
    def _act(self, fn: Any) -> None:
        manager = self.manager
        if manager is None:
            return
        self.runner.run(lambda: fn(manager), lambda _r: self.reload())

    def upload_selected(self) -> None:
        u = self.selected_upload()
        if u is not None:
            self._act(lambda m: m.upload_now(u.account, u.path))

    def upload_all(self) -> None:
        names = [a.account for a in self.activities if a.files]
        self._act(lambda m: [m.upload_now(n) for n in names])

    def retry_selected(self) -> None:
        u = self.selected_upload()
        if u is not None:
            self._act(lambda m: m.retry(u.account, u.path))

    def open_selected_folder(self) -> None:
        folder = self._chosen_folder()
        if folder:
            open_folder(folder)
