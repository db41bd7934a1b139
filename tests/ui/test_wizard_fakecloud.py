"""The wizard walked end to end with the real core against the emulated Microsoft cloud:
real msal sign-in through the fake browser, Graph discovery, keyring, encrypted rclone config."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from onedrive_gui.ui.wizard.state import CREDENTIALS, DONE, DRIVE, MOUNT, SIGN_IN
from onedrive_gui.ui.wizard.wizard import AddAccountWizard

SLOW = 60_000


def click(qtbot, wiz: QWizard, which: QWizard.WizardButton) -> None:
    qtbot.mouseClick(wiz.button(which), Qt.MouseButton.LeftButton)


def walk_to_mount(qtbot, ctx) -> AddAccountWizard:
    wiz = AddAccountWizard(ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.welcome.have_app.setChecked(True)
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == CREDENTIALS
    wiz.credentials.client_id.setText(ctx.defaults.client_id)
    wiz.credentials.secret.setText(ctx.defaults.secret)
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == SIGN_IN
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.result.isVisible() or wiz.signin.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.signin.error.isVisible(), wiz.signin.error.text()
    assert "Alice Example" in wiz.signin.result.text()
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == DRIVE
    qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() > 0 or wiz.drive.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.drive.error.isVisible(), wiz.drive.error.text()
    assert "alice@outlook.com" in wiz.drive.status.text()
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == MOUNT
    return wiz


def test_wizard_adds_account_against_emulated_cloud(qtbot, real_ctx, fakecloud):
    from onedrive_gui.core.settings import SettingsStore
    from onedrive_gui.core.system.secrets import SecretStore

    wiz = walk_to_mount(qtbot, real_ctx)
    name = f"e2e_{uuid.uuid4().hex[:8]}"
    wiz.mount.name.setText(name)
    wiz.mount.mount_now.setChecked(False)
    click(qtbot, wiz, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: wiz.currentId() == DONE or wiz.mount.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.mount.error.isVisible(), wiz.mount.error.text()
    try:
        on_disk = SettingsStore(real_ctx.paths.settings_file).load()
        account = on_disk.account(name)
        assert account.drive_id == real_ctx.defaults.drive_id
        assert account.username == "alice@outlook.com"
        assert SecretStore().get_client_secret(name) == real_ctx.defaults.secret
        config = real_ctx.paths.account_rclone_config(name).read_text()
        assert "RCLONE_ENCRYPT_V0:" in config and real_ctx.defaults.secret not in config
        assert name in wiz.done_page.summary.text()
    finally:
        real_ctx.accounts.remove_account(name)


def test_cancel_leaves_nothing_behind(qtbot, real_ctx):
    from onedrive_gui.core.errors import KeyringError
    from onedrive_gui.core.system.secrets import SecretStore

    wiz = walk_to_mount(qtbot, real_ctx)
    name = f"e2e_{uuid.uuid4().hex[:8]}"
    wiz.mount.name.setText(name)
    click(qtbot, wiz, QWizard.WizardButton.CancelButton)
    assert not wiz.isVisible()
    assert not real_ctx.paths.settings_file.exists() or not real_ctx.accounts.store.load().accounts
    with pytest.raises(KeyringError):
        SecretStore().get_client_secret(name)


def test_denied_consent_shows_error_and_retry(qtbot, real_ctx, fakecloud, monkeypatch):
    fakecloud.apply_env(monkeypatch, browser_action="deny")
    wiz = AddAccountWizard(real_ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.welcome.have_app.setChecked(True)
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    wiz.credentials.client_id.setText(real_ctx.defaults.client_id)
    wiz.credentials.secret.setText(real_ctx.defaults.secret)
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.error.isVisible(), timeout=SLOW)
    assert wiz.signin.error.error is not None and wiz.signin.error.error.hint
    assert wiz.signin.retry_button.isVisible()
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
