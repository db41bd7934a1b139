"""Choose drive: the drives the signed-in user can mount (default one preselected), and for
work or school accounts "A SharePoint site or Teams library…": followed sites, the user's
Teams and a site search, with a second sign-in for the optional permissions they need."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from onedrive_gui.core.errors import AppError, CancelledError
from onedrive_gui.core.i18n import N_, _, ngettext
from onedrive_gui.ui.context import AppContext
from onedrive_gui.ui.format import drive_type_label, human_bytes
from onedrive_gui.ui.messages import ErrorPanel
from onedrive_gui.ui.tasks import TaskRunner
from onedrive_gui.ui.wizard.state import MOUNT, WizardState

LIBRARIES_BUTTON = N_("A SharePoint site or Teams library…")
SITE_SCOPES = ("Sites.Read.All", "Team.ReadBasic.All")  # = core.oauth.SITE_SCOPES


def usage_text(drive: Any) -> str:
    if drive.quota_total:
        used = human_bytes(drive.quota_used or 0)
        return _(
            "{used} of {human_bytes}"
        ).format(used=used, human_bytes=human_bytes(drive.quota_total))
    return "—"


class DrivePage(QWizardPage):
    _consent_started = Signal(str)  # sign-in URL, from the worker

    def __init__(self, state: WizardState, ctx: AppContext) -> None:
        super().__init__()
        self.state = state
        self.ctx = ctx
        self.runner = TaskRunner(self)
        self._job: int | None = None
        self._lib_job: int | None = None
        self._signin: Any = None
        self._shown: set[str] = set()
        self.setTitle(_("Choose the drive"))
        self.setSubTitle(_("Pick the drive to mount on this computer."))
        self.status = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.list = QTreeWidget()
        self.list.setHeaderLabels([_("Name"), _("Type"), _("Space used")])
        self.list.setRootIsDecorated(False)
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.list.itemSelectionChanged.connect(self._selected)
        self.error = ErrorPanel()
        self.retry = QPushButton(_("Retry"))
        self.retry.clicked.connect(self.load)

        from onedrive_gui.core.microsoft.libraries import PERSONAL_NOTE

        self.personal_note = QLabel(_(PERSONAL_NOTE))
        self.personal_note.setWordWrap(True)
        self.personal_note.hide()
        self.libraries_button = QPushButton(_(LIBRARIES_BUTTON))
        self.libraries_button.clicked.connect(self.open_libraries)
        self.libraries_button.hide()
        self.lib_box = QWidget()
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search SharePoint sites by name, e.g. Marketing"))
        self.search.setAccessibleName(_("Search SharePoint sites"))
        self.search.returnPressed.connect(self.search_sites)
        self.search_button = QPushButton(_("Search"))
        self.search_button.clicked.connect(self.search_sites)
        self.lib_status = QLabel()
        self.lib_status.setWordWrap(True)
        self.lib_status.setTextFormat(Qt.TextFormat.PlainText)
        self.consent_button = QPushButton(_("Sign in again with these permissions"))
        self.consent_button.clicked.connect(self.sign_in_for_sites)
        self.consent_button.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.search, 1)
        row.addWidget(self.search_button)
        box = QVBoxLayout(self.lib_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.lib_status)
        box.addWidget(self.consent_button)
        self.lib_box.hide()
        self._consent_started.connect(self._on_consent_started)

        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.personal_note)
        lay.addWidget(self.libraries_button)
        lay.addWidget(self.lib_box)
        lay.addWidget(self.error)
        lay.addWidget(self.retry)

    def initializePage(self) -> None:
        self.load()

    def load(self) -> None:
        self.state.drive = None
        self.state.drives = []
        self.list.clear()
        self._shown = set()
        self.error.clear()
        self.retry.hide()
        self.personal_note.hide()
        self.libraries_button.hide()
        self.lib_box.hide()
        self.progress.show()
        self.status.setText(_("Looking up your drives…"))
        token, accounts, cloud = self.state.token, self.ctx.accounts, self.state.cloud
        self._job = self.runner.run(lambda: accounts.discover(token, cloud), self._loaded,
                                    self._failed)
        self.completeChanged.emit()

    def _loaded(self, found: tuple[Any, list[Any]]) -> None:
        self._job = None
        user, drives = found
        self.progress.hide()
        self.state.user = user
        self.state.drives = list(drives)
        self.status.setText(_(
            "Drives of {display_name} ({email}):"
        ).format(display_name=user.display_name, email=user.email))
        default_item: QTreeWidgetItem | None = None
        for drive in drives:
            item = self._add_item(drive, _("{name} (default)").format(name=drive.name)
                                  if drive.is_default else drive.name)
            if default_item is None or (drive.is_default and not _is_default(default_item)):
                default_item = item
        from onedrive_gui.core.microsoft.libraries import is_personal

        personal = is_personal(self.state.drives)
        self.personal_note.setVisible(personal)
        self.libraries_button.setVisible(not personal)
        if default_item is not None:
            self.list.setCurrentItem(default_item)
        else:
            self.status.setText(_("{email} has no OneDrive drive.").format(email=user.email))
        for col in (1, 2):
            self.list.resizeColumnToContents(col)

    def _add_item(self, drive: Any, label: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([label, drive_type_label(drive.drive_type), usage_text(drive)])
        item.setData(0, Qt.ItemDataRole.UserRole, drive)
        self.list.addTopLevelItem(item)
        self._shown.add(drive.id)
        return item

    # -- SharePoint sites and Teams --------------------------------------------------------
    def open_libraries(self) -> None:
        """Show the library finder and list the followed sites' and the Teams' libraries."""
        self.libraries_button.hide()
        self.lib_box.show()
        self.search.setFocus()
        self._find(None)

    def search_sites(self) -> None:
        if self.search.text().strip():
            self._find(self.search.text())

    def _find(self, query: str | None) -> None:
        if self._lib_job is not None:
            self.runner.forget(self._lib_job)
        from onedrive_gui.core.microsoft.graph import GraphClient
        from onedrive_gui.core.microsoft.libraries import find_libraries

        token, cloud = self.state.token, self.state.cloud
        self.consent_button.hide()
        self.lib_status.setText(_(
            "Searching for sites named “{strip}”…"
        ).format(strip=query.strip()) if query
                                else _("Looking for your sites and Teams…"))
        self.search_button.setEnabled(False)

        def work() -> Any:
            return find_libraries(GraphClient(token.access_token, cloud=cloud), query)

        self._lib_job = self.runner.run(work, lambda found: self._libraries(found, query),
                                        self._lib_failed)

    def _libraries(self, found: Any, query: str | None) -> None:
        self._lib_job = None
        self.search_button.setEnabled(True)
        first: QTreeWidgetItem | None = None
        for lib in found.libraries:
            if lib.drive.id in self._shown:
                continue
            item = self._add_item(lib.drive, lib.label)
            first = first or item
        for col in (1, 2):
            self.list.resizeColumnToContents(col)
        new = len(found.libraries)
        lines = []
        if query and new:
            lines.append(ngettext("{n} library found for “{query}”; pick one in the list above.",
                                  "{n} libraries found for “{query}”; pick one in the list "
                                  "above.", new).format(n=new, query=query.strip()))
        elif query:
            lines.append(_("No library found for “{query}”.").format(query=query.strip()))
        elif new:
            lines.append(ngettext(
                "{n} library found in the sites you follow and your Teams; pick one in the "
                "list above.",
                "{n} libraries found in the sites you follow and your Teams; pick one in the "
                "list above.", new).format(n=new))
        elif not found.missing:
            lines.append(_("No library found in the sites you follow and your Teams."))
        if found.missing:
            scopes = (_("{first} and {second}").format(first=found.missing[0],
                                                       second=found.missing[1])
                      if len(found.missing) == 2 else found.missing[0])
            sites = "Sites.Read.All" in found.missing
            lines.append(ngettext(
                "Finding {what} needs the permission {scopes}, which this sign-in does not have. "
                "Add it to your app registration's API permissions (Microsoft Graph, delegated) "
                "if needed, then sign in again and accept.",
                "Finding {what} needs the permissions {scopes}, which this sign-in does not "
                "have. Add them to your app registration's API permissions (Microsoft Graph, "
                "delegated) if needed, then sign in again and accept.",
                len(found.missing),
            ).format(what=_("sites") if sites else _("Teams"), scopes=scopes))
            self.consent_button.show()
        self.lib_status.setText("\n".join(lines))
        if first is not None:
            self.list.setCurrentItem(first)

    def _lib_failed(self, err: AppError) -> None:
        self._lib_job = None
        self.search_button.setEnabled(True)
        self.lib_status.setText("")
        self.error.show_error(err)

    def sign_in_for_sites(self) -> None:
        """Incremental consent: a new sign-in asking also for the site and Teams permissions;
        its token replaces the first one (it keeps every permission that one had)."""
        st, accounts, open_browser = self.state, self.ctx.accounts, self.ctx.open_browser
        extra = tuple(dict.fromkeys((*st.extra_scopes, *SITE_SCOPES)))
        args = (st.client_id, st.client_secret, st.tenant)
        cloud = st.cloud
        self.consent_button.setEnabled(False)
        self.lib_status.setText(_("Your browser opens Microsoft's sign-in page: accept the "
                                "additional permissions there."))

        def work() -> Any:
            signin = accounts.sign_in(*args, cloud=cloud, extra_scopes=extra)
            self._signin = signin
            try:
                url = signin.start()
                self._consent_started.emit(url)
                open_browser(url)
                return signin.wait()
            finally:
                signin.close()

        def done(token: Any) -> None:
            self._signin = None
            self.consent_button.setEnabled(True)
            self.consent_button.hide()
            st.token = token
            st.extra_scopes = extra
            self._find(self.search.text() or None)

        def failed(err: AppError) -> None:
            self._signin = None
            self.consent_button.setEnabled(True)
            if isinstance(err, CancelledError):
                self.lib_status.setText(_("Sign-in cancelled."))
            else:
                self.error.show_error(err)

        self._lib_job = self.runner.run(work, done, failed)

    def _on_consent_started(self, url: str) -> None:
        self.lib_status.setText(_("Waiting for you to accept the permissions in your browser…"))

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
        if self._lib_job is not None:
            self.runner.forget(self._lib_job)
            self._lib_job = None
        signin, self._signin = self._signin, None
        if signin is not None:
            signin.cancel()
        self.state.drive = None

    def nextId(self) -> int:
        return MOUNT


def _is_default(item: QTreeWidgetItem) -> bool:
    return bool(item.data(0, Qt.ItemDataRole.UserRole).is_default)
