"""Bad input typed into the real widgets of the wizard and the settings dialog: the button
stays blocked (or OK refuses) and the message says what to do. Core services are stand-ins
(they are not what is tested); the rules and the disk checks are the real core's."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit

from onedrive_gui.core.validation import SECRET_TRIMMED_NOTE
from onedrive_gui.ui.settings_dialog import SettingsDialog
from onedrive_gui.ui.wizard.state import DONE, MOUNT
from tests.stand_ins import printing_program
from tests.ui.fakes import FakeAccount
from tests.ui.test_wizard_pages import (
    CLIENT_ID,
    SECRET,
    commit_button,
    next_button,
    open_wizard,
    to_credentials,
    walk_to_sign_in,
)


def type_into(qtbot, edit: QLineEdit, text: str) -> None:
    """Replace the field's text as a user does when pasting a value: select all, paste.

    (Pasting, not key by key: PySide6 6.12 on Python 3.11 drops a reference to None on each
    call of a Qt method returning nothing, and the pages' slots run once per keystroke; a
    few thousand keystrokes would make the test process crash at exit.)"""
    edit.setFocus()
    paste_into(edit, text)
    assert edit.text() == text


def paste_into(edit: QLineEdit, text: str) -> None:
    """Replace the field's text by pasting (keeps tabs and line breaks, as a paste does)."""
    clipboard = QApplication.clipboard()
    clipboard.setText(text)
    edit.selectAll()
    edit.paste()
    clipboard.clear()


# --- wizard: credentials ----------------------------------------------------------------


@pytest.fixture
def credentials(qtbot, fake_ctx, app_home):
    wiz = open_wizard(qtbot, fake_ctx)
    to_credentials(qtbot, wiz)
    type_into(qtbot, wiz.credentials.client_id, CLIENT_ID)
    type_into(qtbot, wiz.credentials.secret, SECRET)
    assert next_button(wiz).isEnabled()
    return wiz


@pytest.mark.parametrize(
    ("value", "says"),
    [("not-a-guid", "is not an Application (client) ID"),
     (CLIENT_ID[:-1], "is not an Application (client) ID"),
     ("ä" * 200, "is not an Application (client) ID"),
     ("Xq8~fakeSecretValue.0123", "looks like a client secret"),
     ("   ", "")],  # nothing typed yet: blocked without a message
)
def test_bad_client_id_blocks_next(qtbot, credentials, value: str, says: str) -> None:
    page = credentials.credentials
    type_into(qtbot, page.client_id, value)
    assert not next_button(credentials).isEnabled()
    assert page.client_id_note.isVisible() == bool(says)
    assert says in page.client_id_note.text()
    if says:
        assert "Overview page" in page.client_id_note.text()  # what to do


@pytest.mark.parametrize("value", [f"  {CLIENT_ID}  ", "{" + CLIENT_ID.upper() + "}"])
def test_client_id_with_spaces_or_braces_is_taken(qtbot, credentials, value: str) -> None:
    page = credentials.credentials
    type_into(qtbot, page.client_id, value)
    assert next_button(credentials).isEnabled()
    assert not page.client_id_note.isVisible()
    qtbot.mouseClick(next_button(credentials), Qt.MouseButton.LeftButton)
    assert credentials.state.client_id == CLIENT_ID


@pytest.mark.parametrize(
    ("pasted", "says"),
    [("Xq8~s3cr3t\t9f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44", "the whole table row"),
     ("Xq8~s3cr3t\nsecond line", "line break"),
     ("Xq8*******************************", "hidden form the portal shows"),
     ("x" * 1500, "1500 characters long")],
)
def test_bad_secret_blocks_next(qtbot, credentials, pasted: str, says: str) -> None:
    page = credentials.credentials
    paste_into(page.secret, pasted)
    assert not next_button(credentials).isEnabled()
    assert page.secret_note.isVisible()
    assert says in page.secret_note.text()
    assert pasted[:6] not in page.secret_note.text()  # the secret is never repeated


def test_empty_secret_blocks_next_quietly(qtbot, credentials) -> None:
    page = credentials.credentials
    type_into(qtbot, page.secret, "")
    assert not next_button(credentials).isEnabled()
    assert not page.secret_note.isVisible()


@pytest.mark.parametrize("pasted", [f"  {SECRET}  ", f"{SECRET}\n", f"\u200b{SECRET}\xa0"])
def test_secret_with_spaces_around_is_trimmed_and_said(qtbot, credentials, pasted: str) -> None:
    page = credentials.credentials
    paste_into(page.secret, pasted)
    assert next_button(credentials).isEnabled()
    assert page.secret_note.isVisible()
    assert page.secret_note.text() == SECRET_TRIMMED_NOTE
    qtbot.mouseClick(next_button(credentials), Qt.MouseButton.LeftButton)
    assert credentials.state.client_secret == SECRET


@pytest.mark.parametrize(
    ("value", "says"),
    [("foo", "Leave it at 'common'"), ("personal", "Did you mean 'consumers'?"),
     ("comon", "Did you mean 'common'?"), ("../etc", "is not a tenant"),
     ("", "No tenant was given"), ("{" + CLIENT_ID, "is not a tenant")],
)
def test_bad_tenant_blocks_next(qtbot, credentials, value: str, says: str) -> None:
    page = credentials.credentials
    type_into(qtbot, page.tenant, value)
    assert not next_button(credentials).isEnabled()
    assert page.advanced_box.isVisible()
    assert says in page.tenant_note.text()


@pytest.mark.parametrize(("value", "stored"),
                         [("common ", "common"), ("Consumers", "consumers"),
                          ("{" + CLIENT_ID.upper() + "}", CLIENT_ID)])
def test_tenant_spellings_that_are_taken(qtbot, credentials, value: str, stored: str) -> None:
    type_into(qtbot, credentials.credentials.tenant, value)
    assert next_button(credentials).isEnabled()
    qtbot.mouseClick(next_button(credentials), Qt.MouseButton.LeftButton)
    assert credentials.state.tenant == stored


def test_secret_expiry_in_the_past_blocks_next(qtbot, credentials) -> None:
    page = credentials.credentials
    yesterday = date.today() - timedelta(days=1)
    page.expires.setDate(QDate(yesterday.year, yesterday.month, yesterday.day))
    assert not next_button(credentials).isEnabled()
    assert "is in the past, so this secret no longer works" in page.expires_note.text()
    assert "create a new one" in page.expires_note.text()
    today = date.today()
    page.expires.setDate(QDate(today.year, today.month, today.day))
    assert next_button(credentials).isEnabled()
    assert not page.expires_note.isVisible()


# --- wizard: account name and mount point -----------------------------------------------


@pytest.fixture
def mount_page(qtbot, fake_ctx, app_home):
    fake_ctx.accounts.settings.accounts.append(
        FakeAccount("work", mount_point=str(app_home / "OneDrive" / "work")))
    wiz = open_wizard(qtbot, fake_ctx)
    walk_to_sign_in(qtbot, wiz)
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: next_button(wiz).isEnabled())
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() == 1)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == MOUNT
    assert commit_button(wiz).isEnabled()
    return wiz


@pytest.mark.parametrize(
    ("value", "says"),
    [("", "No account name was given"), ("my drive", "contains a space"),
     ("wörk", "contains 'ö'"), ("../x", "contains '.'"), ("a/b", "names are not paths"),
     ("x" * 40, "has 40 characters; at most 32"), ("CON", "reserved by Windows"),
     ("Work", "An account named 'Work' already exists")],
)
def test_bad_account_name_blocks_add(qtbot, mount_page, value: str, says: str) -> None:
    page = mount_page.mount
    type_into(qtbot, page.name, value)
    assert not commit_button(mount_page).isEnabled()
    assert page.name_note.isVisible()
    assert says in page.name_note.text()


def test_name_with_spaces_around_is_trimmed(qtbot, mount_page, fake_ctx, app_home) -> None:
    page = mount_page.mount
    type_into(qtbot, page.name, "  home  ")
    assert not page.name_note.isVisible()
    assert page.mount_point.text() == str(app_home / "OneDrive" / "home")
    qtbot.mouseClick(commit_button(mount_page), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: mount_page.currentId() == DONE)
    assert [a.name for a in fake_ctx.accounts.added] == ["home"]


def _bad_mount_points(home: Path) -> list[tuple[str, str]]:
    (home / "file.txt").write_text("x")
    (home / "Documents").mkdir()
    (home / "Documents" / "cv.odt").write_text("x")
    return [
        ("", "No folder or drive letter was given"),
        (str(home / "file.txt"), "is a file, not a folder"),
        (str(home / "file.txt" / "OneDrive"), "is a file, not a folder"),
        (str(home / "Documents"), "already contains files"),
        (str(home / "OneDrive" / ".." / "Documents"), "already contains files"),
        ("OneDrive/personal", "is a relative path"),
        (str(home / "OneDrive" / "work"), "already the mount point of the account 'work'"),
        (str(home / "OneDrive" / "work" / "sub"), "is inside"),
        (str(home / "OneDrive"), "contains"),
        ("/proc", "Something is already mounted on /proc"),
        (str(home / ("y" * 300)), "at most 255"),
    ]


def test_bad_mount_points_block_add(qtbot, mount_page, app_home, fake_ctx) -> None:
    page = mount_page.mount
    for value, says in _bad_mount_points(app_home):
        type_into(qtbot, page.mount_point, value)
        assert not commit_button(mount_page).isEnabled(), value
        assert page.mount_note.isVisible(), value
        assert says in page.mount_note.text(), (value, page.mount_note.text())
    type_into(qtbot, page.mount_point, "~/Drives/personal")
    assert commit_button(mount_page).isEnabled()
    assert "does not exist yet; it is created when the drive is mounted" in (
        page.mount_note.text())
    qtbot.mouseClick(commit_button(mount_page), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: mount_page.currentId() == DONE)
    assert fake_ctx.accounts.added[0].mount_point == str(app_home / "Drives" / "personal")
    assert not (app_home / "Drives").exists()  # created at the first mount, not before


def test_mount_point_that_went_bad_after_typing_is_refused_at_add(qtbot, mount_page, app_home,
                                                                   fake_ctx) -> None:
    page = mount_page.mount
    target = app_home / "OneDrive" / "personal"
    assert page.mount_point.text() == str(target) and commit_button(mount_page).isEnabled()
    target.mkdir(parents=True)
    (target / "new file").write_text("x")  # another program wrote there meanwhile
    qtbot.mouseClick(commit_button(mount_page), Qt.MouseButton.LeftButton)
    assert "already contains files" in page.mount_note.text()
    assert mount_page.currentId() == MOUNT and fake_ctx.accounts.added == []


# --- settings dialog ------------------------------------------------------------------


@pytest.fixture
def dialog(qtbot, fake_ctx, app_home):
    accounts = fake_ctx.accounts.settings.accounts
    accounts.append(FakeAccount("work", mount_point=str(app_home / "OneDrive" / "work")))
    accounts.append(FakeAccount("home", mount_point=None))
    dlg = SettingsDialog(fake_ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.tabs.setCurrentWidget(dlg.accounts_tab)
    return dlg


def press_ok(dlg: SettingsDialog) -> None:
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def error_shown(dlg: SettingsDialog) -> str:
    """The error panel's text as the user reads it."""
    doc = QTextDocument()
    doc.setHtml(dlg.error.text())
    return doc.toPlainText().replace("\n", " ")


def test_bad_mount_points_are_refused_by_ok(qtbot, dialog, fake_ctx, app_home) -> None:
    tab = dialog.accounts_tab
    tab.list.setCurrentRow(1)  # home
    assert tab.mount_point.text() == ""
    assert tab.mount_point.placeholderText() == f"default: {app_home / 'OneDrive' / 'home'}"
    bad = _bad_mount_points(app_home)
    bad += [(str(app_home / "a\tb"), "line break, tab or other control character")]
    for value, says in bad:
        if not value:
            continue  # empty = the default mount point (below)
        paste_into(tab.mount_point, value)
        press_ok(dialog)
        assert dialog.error.isVisible(), value
        assert "Mount point of 'home':" in error_shown(dialog), value
        assert says in error_shown(dialog), (value, dialog.error.text())
        assert "What to do:" in error_shown(dialog)
        assert fake_ctx.accounts.saved == [] and dialog.isVisible()


def test_mount_point_empty_means_default_and_new_folders_are_stored_in_full(
        qtbot, dialog, fake_ctx, app_home) -> None:
    tab = dialog.accounts_tab
    tab.list.setCurrentRow(0)  # work
    type_into(qtbot, tab.mount_point, "~/Drives/work")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()
    qtbot.waitUntil(lambda: bool(fake_ctx.accounts.saved), timeout=20000)  # a worker saves
    assert fake_ctx.accounts.settings.account("work").mount_point == str(
        app_home / "Drives" / "work")
    type_into(qtbot, tab.mount_point, "")
    press_ok(dialog)
    qtbot.waitUntil(lambda: len(fake_ctx.accounts.saved) == 2, timeout=20000)
    assert fake_ctx.accounts.settings.account("work").mount_point is None


def test_default_mount_point_that_is_unusable_is_refused(qtbot, dialog, fake_ctx,
                                                          app_home) -> None:
    (app_home / "OneDrive" / "work").mkdir(parents=True)
    (app_home / "OneDrive" / "work" / "old.txt").write_text("x")
    tab = dialog.accounts_tab
    tab.list.setCurrentRow(0)  # work: cleared, so its default, which is not empty
    type_into(qtbot, tab.mount_point, "")
    press_ok(dialog)
    assert "already contains files" in error_shown(dialog)
    assert fake_ctx.accounts.saved == []


def test_unchanged_mount_point_is_not_checked_again(qtbot, dialog, fake_ctx, app_home) -> None:
    # the account's own folder has files (e.g. it is mounted): saving other fields still works
    (app_home / "OneDrive" / "work").mkdir(parents=True)
    (app_home / "OneDrive" / "work" / "file").write_text("x")
    dialog.general.notifications.setChecked(False)
    press_ok(dialog)
    qtbot.waitUntil(lambda: bool(fake_ctx.accounts.saved))
    assert not dialog.error.isVisible()


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [("cache_max_size", "lots", "Cache size: 'lots' is not valid"),
     ("cache_max_size", "", "Cache size: '' is not valid"),
     ("cache_max_size", "-5G", "Cache size: '-5G' is not valid"),
     ("cache_max_age", "forever", "Cache max age: 'forever' is not valid"),
     ("cache_max_age", "1 day", "Cache max age: '1 day' is not valid"),
     ("bwlimit", "fast", "Bandwidth limit: 'fast' is not valid"),
     ("chunk_size", "", "Chunk size: '' is not valid"),
     ("chunk_size", "0", "Chunk size: '0' is not valid"),
     ("chunk_size", "9" * 300, "Chunk size"),
     ("chunk_size", "10 MB", "Chunk size: '10 MB' is not valid")],
)
def test_bad_option_text_is_refused_by_ok(qtbot, dialog, fake_ctx, field: str, value: str,
                                          says: str) -> None:
    tab = dialog.accounts_tab if field.startswith("cache") else dialog.performance
    type_into(qtbot, getattr(tab, field), value)
    press_ok(dialog)
    assert dialog.error.isVisible()
    assert says in error_shown(dialog)
    assert "What to do:" in error_shown(dialog)
    assert fake_ctx.accounts.saved == [] and dialog.isVisible()


@pytest.mark.parametrize("typed", ["abc", "0", "-5", "999", ""])
def test_number_boxes_take_only_numbers_in_range(qtbot, dialog, typed: str) -> None:
    perf = dialog.performance
    for box, low, high in ((perf.transfers, 1, 64), (perf.checkers, 1, 64),
                           (perf.tpslimit, 0, 1000)):
        box.lineEdit().selectAll()
        qtbot.keyClicks(box.lineEdit(), typed)
        box.interpretText()
        assert low <= box.value() <= high, (box, typed)


def test_bad_rclone_paths_are_refused_by_ok(qtbot, dialog, fake_ctx, tmp_path) -> None:
    general = dialog.general
    dialog.tabs.setCurrentWidget(general)
    type_into(qtbot, general.rclone_path, "rclone")
    press_ok(dialog)
    assert "Not a full path" in error_shown(dialog)

    type_into(qtbot, general.rclone_path, str(tmp_path / "no" / "rclone"))
    press_ok(dialog)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert "rclone not found" in error_shown(dialog)

    fake = printing_program(tmp_path / "not-rclone", "hello")
    type_into(qtbot, general.rclone_path, str(fake))
    press_ok(dialog)
    qtbot.waitUntil(lambda: "rclone version unknown" in error_shown(dialog))
    assert fake_ctx.accounts.saved == [] and dialog.isVisible()

    old = printing_program(tmp_path / "rclone-1.74", "rclone v1.74.3")
    type_into(qtbot, general.rclone_path, str(old))
    press_ok(dialog)
    qtbot.waitUntil(lambda: "rclone is too old" in error_shown(dialog))
    assert "v1.75.0 or newer" in error_shown(dialog)
    assert "ignore each drive" in error_shown(dialog)
    assert fake_ctx.accounts.saved == [] and dialog.isVisible()

    type_into(qtbot, general.rclone_path, "  ")  # empty: the bundled rclone
    press_ok(dialog)
    qtbot.waitUntil(lambda: bool(fake_ctx.accounts.saved))
    assert fake_ctx.accounts.settings.rclone_path is None
    assert os.path.exists(fake)


# --- Settings → Accounts → New client secret… ---------------------------------------------


@pytest.fixture
def secret_dialog(qtbot, fake_ctx):
    from onedrive_gui.ui.secret_dialog import SecretDialog

    dlg = SecretDialog(fake_ctx, "work")
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


@pytest.mark.parametrize(
    ("pasted", "says"),
    [("Xq8~s3cr3t\t9f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44", "the whole table row"),
     ("Xq8*******************************", "hidden form the portal shows")],
)
def test_new_secret_dialog_says_why_it_cannot_save(qtbot, secret_dialog, pasted: str,
                                                   says: str) -> None:
    paste_into(secret_dialog.secret, pasted)
    assert not secret_dialog._save_button().isEnabled()
    assert secret_dialog.note.isVisible() and says in secret_dialog.note.text()
    assert pasted[:6] not in secret_dialog.note.text()


def test_new_secret_dialog_trims_and_says_so(qtbot, secret_dialog, fake_ctx) -> None:
    paste_into(secret_dialog.secret, f"  {SECRET}\n")
    assert secret_dialog.note.text() == SECRET_TRIMMED_NOTE
    qtbot.mouseClick(secret_dialog._save_button(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fake_ctx.accounts.secrets_set != [])
    assert fake_ctx.accounts.secrets_set[0][0] == "work"
