"""The wizard's mount page on Windows (the platform and GetLogicalDrives' answer are
parameters): a free drive letter is chosen, letters other accounts use are not offered."""

from __future__ import annotations

from onedrive_gui.ui.wizard.mount import MountPage
from onedrive_gui.ui.wizard.state import WizardState
from tests.ui.fakes import FakeAccount, FakeDrive

MASK_ACD = 0b1101  # A:, C:, D: in use


def test_windows_offers_free_letters_without_other_accounts_letters(qtbot, fake_ctx):
    # 'home' is on Z: (not mounted now: Windows reports Z: free), 'old' on a folder.
    fake_ctx.accounts.settings.accounts.extend([
        FakeAccount(name="home", mount_point="Z:"),
        FakeAccount(name="old", mount_point="C:\\Users\\ana\\Cloud-old")])
    page = MountPage(WizardState(drive=FakeDrive(drive_type="business")), fake_ctx,
                     platform="win32", drive_mask=MASK_ACD)
    qtbot.addWidget(page)
    page.initializePage()
    page.show()
    letters = [page.drive_letter.itemText(i) for i in range(page.drive_letter.count())]
    assert letters[:2] == ["Y:", "X:"]
    assert "Z:" not in letters and "C:" not in letters and "D:" not in letters
    assert page.drive_letter.isVisible() and not page.mount_point.isVisible()
    assert page.chosen_mount_point() == "Y:"
    assert page.name.text() == "work"
    assert page.mount_note.isHidden(), page.mount_note.text()
    assert page.isComplete()


def test_linux_shows_a_folder_under_home(qtbot, fake_ctx, app_home):
    page = MountPage(WizardState(drive=FakeDrive()), fake_ctx, platform="linux")
    qtbot.addWidget(page)
    page.initializePage()
    page.show()
    assert not page.drive_letter.isVisible()
    assert page.chosen_mount_point() == str(app_home / "OneDrive" / "personal")
