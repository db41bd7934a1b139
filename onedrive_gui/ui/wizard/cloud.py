"""The Microsoft cloud chooser of the wizard's Advanced sections (Global, US Government,
China operated by 21Vianet), with what the choice means for the account."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.microsoft.clouds import CLOUDS, DOD_NOTE, GLOBAL

NATIONAL_NOTE = (N_("{label} has no personal Microsoft accounts: sign in with your "
                 "organization's account. Register the app in {portal} (an app registered in "
                 "the global Azure portal does not exist there); the tenant is set to "
                 "'organizations' — or use your organization's tenant ID."))


class CloudChooser(QWidget):
    changed = Signal(str)  # cloud key

    def __init__(self) -> None:
        super().__init__()
        self.combo = QComboBox()
        self.combo.setAccessibleName(_("Microsoft cloud"))
        for c in CLOUDS.values():
            self.combo.addItem(_(c.label), c.key)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.dod = QLabel(_(DOD_NOTE))
        self.dod.setWordWrap(True)
        self.dod.setStyleSheet("color: palette(placeholder-text);")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.combo)
        lay.addWidget(self.note)
        lay.addWidget(self.dod)
        self.combo.currentIndexChanged.connect(self._changed)
        self._changed()

    def key(self) -> str:
        return str(self.combo.currentData() or GLOBAL)

    def set_key(self, key: str) -> None:
        i = self.combo.findData(key)
        if i >= 0 and i != self.combo.currentIndex():
            self.combo.setCurrentIndex(i)

    def _changed(self) -> None:
        c = CLOUDS[self.key()]
        self.note.setText("" if c.personal_accounts else
                          _(NATIONAL_NOTE).format(label=_(c.label), portal=c.portal_host))
        self.note.setVisible(not c.personal_accounts)
        self.changed.emit(c.key)
