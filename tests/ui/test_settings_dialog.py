"""Settings: edits persist through the service; invalid ones are refused with the reason."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from onedrive_gui.ui.settings_dialog import SettingsDialog
from tests.ui.fakes import FakeAccount


@pytest.fixture
def dialog(qtbot, fake_ctx, tmp_path):
    fake_ctx.accounts.settings.accounts.append(
        FakeAccount(name="work", mount_point=str(tmp_path / "work")))
    dlg = SettingsDialog(fake_ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def press(dlg: SettingsDialog, which: QDialogButtonBox.StandardButton) -> None:
    dlg.buttons.button(which).click()


def test_tabs_and_help_texts(qtbot, dialog):
    from onedrive_gui.core.settings import MountOptions

    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "General", "Accounts", "Performance"]
    assert dialog.performance.tpslimit.toolTip() == MountOptions.help("tpslimit")
    assert dialog.performance.chunk_size.toolTip() == MountOptions.help("chunk_size")
    assert dialog.accounts_tab.list.count() == 1
    # OK / Cancel / Apply as words: no desktop theme's ✓ / ✗ (foreign on Windows)
    assert all(b.icon().isNull() for b in dialog.buttons.buttons())


def test_edits_persist(qtbot, dialog, fake_ctx):
    dialog.general.notifications.setChecked(False)
    dialog.general.start_at_login.setChecked(True)
    dialog.accounts_tab.auto_mount.setChecked(True)
    dialog.performance.tpslimit.setValue(3)
    dialog.performance.chunk_size.setText("20M")
    dialog.performance.prefill_max_items.setValue(50_000)
    press(dialog, QDialogButtonBox.StandardButton.Apply)
    qtbot.waitUntil(lambda: bool(fake_ctx.accounts.saved))
    saved = fake_ctx.accounts.settings
    assert saved.notifications is False and saved.start_at_login is True
    assert fake_ctx.autostart.is_enabled()
    work = saved.account("work")
    assert work.auto_mount is True
    assert work.options.tpslimit == 3 and work.options.chunk_size == "20M"
    assert work.options.prefill_max_items == 50_000  # its effect: tests/core/test_indexing.py


def test_invalid_option_is_refused(qtbot, dialog, fake_ctx):
    dialog.performance.chunk_size.setText("1M")  # not a multiple of 320 KiB
    press(dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.error.isVisible()
    assert "Chunk size" in dialog.error.text() and "320 KiB" in dialog.error.text()
    assert fake_ctx.accounts.saved == []
    assert dialog.isVisible()


def test_restore_defaults(qtbot, dialog):
    from onedrive_gui.core.settings import MountOptions

    dialog.performance.transfers.setValue(17)
    dialog.performance.restore.click()
    assert dialog.performance.transfers.value() == MountOptions().transfers


def test_remove_account_after_confirm(qtbot, dialog, fake_ctx):
    dialog.tabs.setCurrentWidget(dialog.accounts_tab)
    dialog.ask = lambda title, text, yes: "files in OneDrive are not touched" in text
    dialog.accounts_tab.remove.click()
    qtbot.waitUntil(lambda: fake_ctx.accounts.removed == ["work"])
    qtbot.waitUntil(lambda: dialog.accounts_tab.list.count() == 0)
    assert dialog.accounts_tab.empty.isVisible()


@pytest.mark.skipif(__import__("sys").platform != "win32",
                    reason="Microsoft's OneDrive app and its folders exist on Windows only")
def test_a_mount_point_inside_a_onedrive_synced_folder_is_warned_about(
    qtbot, dialog, tmp_path, monkeypatch
) -> None:
    synced = tmp_path / "OneDrive - Contoso"
    monkeypatch.setenv("OneDriveCommercial", str(synced))
    tab = dialog.accounts_tab
    dialog.tabs.setCurrentWidget(tab)
    tab.mount_point.setText(str(synced / "Documents" / "work"))
    assert tab.mount_note.isVisible()
    assert f"is inside {synced}" in tab.mount_note.text()
    tab.mount_point.setText("Z:")
    assert not tab.mount_note.isVisible()


def test_a_secret_expiring_within_the_reminder_window_is_a_warning(qtbot, fake_ctx, tmp_path):
    """Reminders start 30 days before the secret expires: Settings → Accounts says so too."""
    from datetime import date, timedelta

    from onedrive_gui.core.reminders import SECRET_WARNING_DAYS

    today = date.today()
    fake_ctx.accounts.settings.accounts.extend([
        FakeAccount(name="soon", secret_expires=today + timedelta(days=12)),
        FakeAccount(name="later", secret_expires=today + timedelta(days=SECRET_WARNING_DAYS + 1)),
        FakeAccount(name="gone", secret_expires=today - timedelta(days=1)),
    ])
    dlg = SettingsDialog(fake_ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    tab = dlg.accounts_tab
    shown = {}
    for row in range(tab.list.count()):
        tab.list.setCurrentRow(row)
        shown[tab.list.currentItem().text()] = (tab.secret_expiry.text(),
                                                tab.secret_expiry.styleSheet())
    soon, later, gone = shown["soon"], shown["later"], shown["gone"]
    assert "in 12 days" in soon[0] and (today + timedelta(days=12)).isoformat() in soon[0]
    assert "color" in soon[1] and soon[1] != later[1]
    assert later == ((today + timedelta(days=SECRET_WARNING_DAYS + 1)).isoformat(), "")
    assert "expired" in gone[0] and "color" in gone[1]
