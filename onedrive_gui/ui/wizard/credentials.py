"""Credentials: client ID (checked as you type), client secret (masked), its expiry, tenant."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.microsoft.clouds import CLOUDS, validate_tenant_for_cloud
from onedrive_gui.core.validation import (
    clean_secret,
    secret_feedback,
    validate_client_id,
    validate_secret_expiry,
    validate_tenant,
)
from onedrive_gui.ui.messages import error_text
from onedrive_gui.ui.widgets import disclosure
from onedrive_gui.ui.wizard.cloud import CloudChooser
from onedrive_gui.ui.wizard.state import SIGN_IN, WizardState

ERROR_STYLE = "color: #c42b1c;"
WARNING_STYLE = "color: #9d5d00;"
INFO_STYLE = "color: palette(placeholder-text);"
NOTE_STYLE = {"error": ERROR_STYLE, "warning": WARNING_STYLE, "info": INFO_STYLE, "": ""}


def add_months(d: date, months: int) -> date:
    """*d* plus *months* calendar months (the day clamped to the month's length)."""
    import calendar

    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


def _note() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.hide()
    return label


class CredentialsPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle(_("Your app's credentials"))
        self.setSubTitle(_("From your app registration in the Azure portal."))

        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
        self.client_id.setAccessibleName(_("Application (client) ID"))
        self.client_id_note = _note()

        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText(_("the secret's Value"))
        self.secret.setAccessibleName(_("Client secret"))
        self.show_secret = QAction(_("Show"), self.secret)
        self.show_secret.setCheckable(True)
        self.show_secret.setToolTip(_("Show or hide the secret"))
        self.show_secret.toggled.connect(self._toggle_secret)
        self.show_secret_button = QToolButton()
        self.show_secret_button.setDefaultAction(self.show_secret)
        self.secret_note = _note()
        secret_row = QWidget()
        hl = QHBoxLayout(secret_row)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.secret, 1)
        hl.addWidget(self.show_secret_button)

        self.expires = QDateEdit()
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy-MM-dd")
        self.expires.setAccessibleName(_("Client secret expires on"))
        default_expiry = add_months(date.today(), 24)
        self.expires.setDate(QDate(default_expiry.year, default_expiry.month, default_expiry.day))
        self.expires_note = _note()
        expires_help = QLabel(_("The “Expires” date shown next to the secret. You get a reminder "
                              "30 days before."))
        expires_help.setWordWrap(True)

        self.advanced = disclosure(_("Advanced"))
        self.advanced.toggled.connect(self._toggle_advanced)
        self.tenant = QLineEdit("common")
        self.tenant.setAccessibleName(_("Tenant"))
        self.tenant.setToolTip(
            _("common: any account (default). consumers: personal accounts only. "
            "organizations: work/school only. Or your tenant ID / domain for a single-tenant app.")
        )
        self.tenant_note = _note()
        self.cloud = CloudChooser()
        self.cloud.changed.connect(self._cloud_changed)
        self.advanced_box = QWidget()
        adv = QFormLayout(self.advanced_box)
        adv.setContentsMargins(0, 0, 0, 0)
        adv.addRow(_("Microsoft cloud:"), self.cloud)
        adv.addRow(_("Tenant:"), self.tenant)
        adv.addRow("", self.tenant_note)
        self.advanced_box.hide()

        form = QFormLayout()
        form.addRow(_("Application (client) ID:"), self.client_id)
        form.addRow("", self.client_id_note)
        form.addRow(_("Client secret (Value):"), secret_row)
        form.addRow("", self.secret_note)
        form.addRow(_("Secret expires on:"), self.expires)
        form.addRow("", self.expires_note)
        form.addRow("", expires_help)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.advanced, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.advanced_box)
        lay.addStretch(1)

        self._forms = (form, adv)
        for note in (self.client_id_note, self.secret_note, self.expires_note,
                     self.tenant_note):
            self._say(note, "")
        for edit in (self.client_id, self.secret, self.tenant):
            edit.textChanged.connect(self._changed)
        self.expires.dateChanged.connect(self._changed)
        self._valid = False

    # -- display -------------------------------------------------------------------------
    def _toggle_secret(self, shown: bool) -> None:
        self.secret.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self.show_secret.setText(_("Hide") if shown else _("Show"))

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced_box.setVisible(shown)

    def _say(self, label: QLabel, text: str, style: str = ERROR_STYLE) -> None:
        """A note under its field; with no text its row goes (no empty gap in the form)."""
        label.setText(text)
        label.setStyleSheet(style)
        for form in self._forms:
            if form.indexOf(label) >= 0:
                form.setRowVisible(label, bool(text))
        label.setVisible(bool(text))

    def initializePage(self) -> None:
        self.cloud.set_key(self.state.cloud)
        if self.state.cloud != "global":
            self.advanced.setChecked(True)  # show where the cloud is set

    def _cloud_changed(self, key: str) -> None:
        """Steer the tenant: no personal accounts (so no 'common' guess) outside Global."""
        self.state.cloud = key
        tenant = self.tenant.text().strip().lower()
        if not CLOUDS[key].personal_accounts and tenant in ("common", "consumers", ""):
            self.tenant.setText("organizations")
        elif CLOUDS[key].personal_accounts and tenant == "organizations":
            self.tenant.setText("common")
        self._changed()

    # -- validation ----------------------------------------------------------------------
    def _changed(self) -> None:
        valid = True
        raw_id = self.client_id.text()
        try:
            validate_client_id(raw_id)
            self._say(self.client_id_note, "")
        except ValidationError as err:
            valid = False
            # Say nothing while the field is still empty: the user has not typed yet.
            self._say(self.client_id_note,
                      error_text(err) if raw_id.strip() else "")
        usable, note, kind = secret_feedback(self.secret.text())
        valid = valid and usable
        self._say(self.secret_note, note, NOTE_STYLE[kind])
        try:
            validate_secret_expiry(self._expiry())
            self._say(self.expires_note, "")
        except ValidationError as err:
            valid = False
            self._say(self.expires_note, error_text(err))
        try:
            validate_tenant_for_cloud(validate_tenant(self.tenant.text()),
                                      CLOUDS[self.cloud.key()])
            self._say(self.tenant_note, "")
        except ValidationError as err:
            valid = False
            self._say(self.tenant_note, error_text(err))
            self.advanced.setChecked(True)
        if valid != self._valid:
            self._valid = valid
            self.completeChanged.emit()

    def _expiry(self) -> date:
        d = self.expires.date()
        return date(d.year(), d.month(), d.day())

    def isComplete(self) -> bool:
        return self._valid

    def validatePage(self) -> bool:
        self.state.client_id = validate_client_id(self.client_id.text())
        self.state.client_secret = clean_secret(self.secret.text())[0]
        self.state.cloud = self.cloud.key()
        self.state.tenant = validate_tenant_for_cloud(validate_tenant(self.tenant.text()),
                                                      CLOUDS[self.state.cloud])
        self.state.secret_expires = validate_secret_expiry(self._expiry())
        return True

    def nextId(self) -> int:
        return SIGN_IN
