"""The desktop app in another language: a pseudo catalogue shows that every string a user
reads comes from the catalogue, and the wizard walked in Simplified Chinese against the
emulated cloud adds the account."""

from __future__ import annotations

import html
import importlib.util
import re
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabWidget,
    QTreeWidget,
    QWidget,
    QWizard,
)

from onedrive_gui.core import i18n
from onedrive_gui.ui.wizard.state import (
    CLOUD_SHELL,
    CREDENTIALS,
    DONE,
    DRIVE,
    MOUNT,
    REGISTER,
    SIGN_IN,
)
from onedrive_gui.ui.wizard.wizard import AddAccountWizard
from tests.ui.fakes import FakeAccount

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("i18n_script", REPO / "scripts" / "i18n.py")
assert _spec is not None and _spec.loader is not None
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)
MARK = script.PSEUDO_OPEN

CLIENT_ID = "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44"
SECRET = "Xq8~fakeSecretValue.0123456789abcdefGHIJ"
SLOW = 60_000

# Values that are data, not text of the app: shown as they are in every language.
_DATA = [
    r"[0-9a-fx]{8}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{12}",  # IDs, their form
    r"https?://\S+",  # URLs
    r"[~/]\S*|[A-Z]:\\?\S*|[A-Z]:",  # paths, drive letters
    r"\S+@\S+",  # e-mail addresses
    r"[\d\s.,:/%-]*(?:[KMGT]i?B|B)?(?:/s)?",  # numbers, sizes
    r"(?:Files|Sites|Team|User)\.[A-Za-z.]+|offline_access",  # permission names
    r"DEBUG|INFO|WARNING|ERROR",  # log levels as rclone and the settings file name them
    r"English|简体中文",  # each language's name in itself
    r"common|consumers|organizations|writes|full|minimal|off",  # values typed as they are
    r"OneDrive|Alice|Example|Alice Example|personal|work|Documents",  # drives and accounts
    r"ONEDRIVE-GUI-APP",  # the mark of the Cloud Shell command's line
    r"az .*|#!.*|.*cloud=.*client_id=.*",  # the Cloud Shell command and its line
    r"\*+|•+|[✔✖⚠]",
]
_DATA_RE = re.compile("|".join(f"(?:{p})" for p in _DATA))


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "  ", text)).strip()


def _is_data(text: str) -> bool:
    return _DATA_RE.fullmatch(text.strip()) is not None


def texts_of(root: QWidget) -> list[str]:
    """The strings a user reads in *root*'s visible widgets (not what they typed)."""
    out: list[str] = []
    if root.windowTitle():
        out.append(root.windowTitle())
    qt_own: list[QWidget] = []  # Qt's own buttons: Qt's translation, not the catalogue
    if isinstance(root, QWizard):
        for b in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                  QWizard.WizardButton.CancelButton, QWizard.WizardButton.FinishButton,
                  QWizard.WizardButton.HelpButton):
            qt_own.append(root.button(b))
        page = root.currentPage()
        out += [page.title(), page.subTitle()]
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisibleTo(root) or any(w is o for o in qt_own):
            continue
        box = w.parent()
        if isinstance(box, QDialogButtonBox) and isinstance(w, QAbstractButton) and (
                box.standardButton(w) != QDialogButtonBox.StandardButton.NoButton):
            continue
        if isinstance(w, QLabel):
            out.append(w.text())
        elif isinstance(w, QAbstractButton):
            out.append(w.text())
        elif isinstance(w, QGroupBox):
            out.append(w.title())
        elif isinstance(w, QLineEdit):
            out.append(w.placeholderText())
        elif isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QTabWidget):
            out += [w.tabText(i) for i in range(w.count())]
        elif isinstance(w, QTreeWidget):
            header = w.headerItem()
            out += [header.text(i) for i in range(header.columnCount())]
        if w.toolTip():
            out.append(w.toolTip())
    return [t for t in (_plain(t) for t in out) if t]


def outside_catalogue(texts: list[str]) -> list[str]:
    """The words of *texts* (plain ASCII: the pseudo catalogue's letters are fullwidth)
    that are neither from the catalogue nor data."""
    out = []
    for t in texts:
        if _is_data(t):
            continue
        for token in t.split():
            word = token.strip(".,;:()“”\"'!?…—[]⟦⟧")
            if re.search("[A-Za-z]", word) and not _is_data(word):
                out.append(f"{word} (in {t!r})")
    return out


@pytest.fixture
def pseudo(tmp_path, monkeypatch):
    localedir = tmp_path / "locale"
    script.pseudo(localedir)
    monkeypatch.setattr(i18n, "LOCALE_DIR", localedir)
    assert i18n.install(["zz"]) == "zz"
    yield
    i18n.install(["en"])


@pytest.fixture
def chinese():
    """The app in zh_CN, with Qt's own buttons from qtbase_zh_CN.qm as app.py loads them."""
    from onedrive_gui.app import install_language

    app = QApplication.instance()
    before = set(app.findChildren(QTranslator))
    assert install_language(app, "zh_CN") == "zh_CN"
    yield
    for t in set(app.findChildren(QTranslator)) - before:
        app.removeTranslator(t)
        t.deleteLater()
    i18n.install(["en"])


def next_button(wiz: QWizard):
    return wiz.button(QWizard.WizardButton.NextButton)


def test_every_wizard_page_shows_only_catalogue_text(qtbot, fake_ctx, pseudo):
    wiz = AddAccountWizard(fake_ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    seen: dict[int, list[str]] = {}

    def look() -> None:
        texts = texts_of(wiz)
        seen[wiz.currentId()] = texts
        assert not outside_catalogue(texts), (wiz.currentId(), outside_catalogue(texts))
        page = wiz.currentPage()  # its content (the header above it is QWizard's own)
        assert not _clipped(page), (wiz.currentId(), _clipped(page))  # longer text fits

    look()  # welcome
    wiz.welcome.cloud_shell.setChecked(True)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == CLOUD_SHELL
    look()
    wiz.back()
    wiz.welcome.guide_me.setChecked(True)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == REGISTER
    look()
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == CREDENTIALS
    wiz.credentials.client_id.setText("1234-5678")  # a validation message, translated
    look()
    wiz.credentials.client_id.setText(CLIENT_ID)
    wiz.credentials.secret.setText(SECRET)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == SIGN_IN
    look()
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.result.isVisible())
    look()
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == DRIVE
    qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() == 1)
    look()
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == MOUNT
    look()
    assert MARK in wiz.button(QWizard.WizardButton.CommitButton).text()
    qtbot.mouseClick(wiz.button(QWizard.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.currentId() == DONE)
    look()
    assert len(seen) == 8
    assert all(any(MARK in t for t in texts) for texts in seen.values())


def test_tray_menu_and_settings_show_only_catalogue_text(qtbot, fake_ctx, pseudo, tmp_path):
    from onedrive_gui.ui.mount_controller import MountController
    from onedrive_gui.ui.settings_dialog import SettingsDialog
    from onedrive_gui.ui.shell import DesktopShell

    fake_ctx.accounts.settings.accounts.append(
        FakeAccount(name="work", mount_point=str(tmp_path / "OneDrive" / "work")))
    fake_ctx.mounts = MountController(fake_ctx.accounts)
    shell = DesktopShell(fake_ctx, tray_available=True)
    menu = shell.tray.menu
    menu.aboutToShow.emit()
    actions = [a.text() for a in menu.actions() if not a.isSeparator()]
    for sub in menu.findChildren(QMenu):
        actions += [a.text() for a in sub.actions() if not a.isSeparator()]
    assert actions
    assert not outside_catalogue([_plain(a) for a in actions]), actions
    assert MARK in shell.tray.icon.toolTip()

    dlg = SettingsDialog(fake_ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    for i in range(dlg.tabs.count()):
        dlg.tabs.setCurrentIndex(i)
        texts = texts_of(dlg)
        assert not outside_catalogue(texts), (dlg.tabs.tabText(i), outside_catalogue(texts))
    combo = dlg.general.language
    assert [combo.itemText(i) for i in range(combo.count())][1:] == ["English", "简体中文"]
    assert MARK in combo.itemText(0)


def test_language_setting_is_saved_and_read_back(qtbot, fake_ctx):
    from onedrive_gui.ui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(fake_ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    combo = dlg.general.language
    assert combo.currentData() == ""  # System default
    assert "next time" in dlg.general.language_note.text()
    combo.setCurrentIndex(combo.findData("zh_CN"))
    dlg.apply(close=False)
    qtbot.waitUntil(lambda: bool(fake_ctx.accounts.saved))
    assert fake_ctx.accounts.saved[-1].language == "zh_CN"


def test_wizard_in_chinese_against_the_emulated_cloud(qtbot, real_ctx, fakecloud, chinese):
    """Simplified Chinese end to end: the app's text from the catalogue, Qt's wizard
    buttons from qtbase_zh_CN.qm, Microsoft's sign-in through the emulated cloud."""
    from onedrive_gui.core.settings import SettingsStore
    from tests.ui.test_wizard_fakecloud import click, walk_to_mount

    wiz = walk_to_mount(qtbot, real_ctx)
    assert wiz.currentPage().title() == "挂载驱动器"
    assert wiz.button(QWizard.WizardButton.BackButton).text().startswith("< 上一步")
    assert wiz.button(QWizard.WizardButton.CommitButton).text() == "添加帐户"
    name = f"zh_{uuid.uuid4().hex[:8]}"
    wiz.mount.name.setText(name)
    wiz.mount.mount_now.setChecked(False)
    click(qtbot, wiz, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: wiz.currentId() == DONE or wiz.mount.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.mount.error.isVisible(), wiz.mount.error.text()
    assert wiz.currentPage().title() == "全部完成"
    assert "帐户已添加" in wiz.currentPage().subTitle()
    assert "帐户：" in wiz.done_page.summary.text() and name in wiz.done_page.summary.text()
    assert wiz.button(QWizard.WizardButton.FinishButton).text().startswith("完成")
    settings = SettingsStore(real_ctx.paths.settings_file).load()
    assert name in settings.names()


def test_qt_translation_is_found_where_the_app_looks():
    """qtbase_zh_CN.qm ships with PySide6 (and in the frozen build): Qt's own buttons."""
    t = QTranslator()
    assert t.load(QLocale("zh_CN"), "qtbase", "_",
                  QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    assert t.translate("QPlatformTheme", "Cancel")


def _clipped(root: QWidget) -> list[str]:
    """Visible word-wrapped labels given less height than their text needs."""
    out = []
    for label in root.findChildren(QLabel):
        if (label.isVisibleTo(root) and label.wordWrap() and label.text()
                and label.height() < label.heightForWidth(label.width())):
            out.append(f"{label.text()[:60]!r}: {label.height()} < "
                       f"{label.heightForWidth(label.width())}")
    return out


@pytest.mark.parametrize("language", ["pseudo", "zh_CN"])
def test_settings_keep_every_text_readable(qtbot, fake_ctx, tmp_path, monkeypatch, language):
    """Longer (pseudo: fullwidth letters) and shorter (Chinese) text, with the error panel
    taking room below the tabs: no help text is squeezed; the tabs scroll instead."""
    from onedrive_gui.ui.settings_dialog import SettingsDialog

    if language == "pseudo":
        localedir = tmp_path / "locale"
        script.pseudo(localedir)
        monkeypatch.setattr(i18n, "LOCALE_DIR", localedir)
        assert i18n.install(["zz"]) == "zz"
    else:
        assert i18n.install(["zh_CN"]) == "zh_CN"
    try:
        fake_ctx.accounts.settings.accounts.append(
            FakeAccount(name="work", mount_point=str(tmp_path / "OneDrive" / "work")))
        dlg = SettingsDialog(fake_ctx)
        qtbot.addWidget(dlg)
        dlg.show()
        dlg.tabs.setCurrentIndex(2)
        dlg.performance.chunk_size.setText("1M")
        dlg.apply(close=False)
        qtbot.waitUntil(lambda: dlg.error.isVisible())
        for i in range(dlg.tabs.count()):
            dlg.tabs.setCurrentIndex(i)
            qtbot.wait(50)
            assert not _clipped(dlg), (dlg.tabs.tabText(i), _clipped(dlg))
    finally:
        i18n.install(["en"])


def test_activity_window_shows_only_catalogue_text(qtbot, fake_ctx, pseudo, tmp_path):
    from onedrive_gui.ui.activity_window import ActivityWindow
    from onedrive_gui.ui.mount_controller import MountController

    fake_ctx.accounts.settings.accounts.append(
        FakeAccount(name="work", mount_point=str(tmp_path / "OneDrive" / "work")))
    fake_ctx.mounts = MountController(fake_ctx.accounts)
    win = ActivityWindow(fake_ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.wait(200)
    texts = texts_of(win)
    assert any(MARK in t for t in texts)
    assert not outside_catalogue(texts), outside_catalogue(texts)
