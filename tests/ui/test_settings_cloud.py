"""Settings show an account's Microsoft cloud (read-only: the registration lives there)."""

from __future__ import annotations

from onedrive_gui.ui.settings_dialog import SettingsDialog
from tests.ui.fakes import FakeAccount


def test_account_cloud_is_shown(qtbot, fake_ctx, tmp_path):
    fake_ctx.accounts.settings.accounts.append(
        FakeAccount(name="gov", cloud="cn", mount_point=str(tmp_path / "gov")))
    dlg = SettingsDialog(fake_ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    assert "Microsoft cloud: China (operated by 21Vianet)" in dlg.accounts_tab.info.text()
    assert "cannot change" in dlg.accounts_tab.info.toolTip()
