"""The wizard's third path: the command shown is run (Bash + an `az rest` stand-in against the
emulated Graph), the line it prints is pasted, and the wizard goes on to sign in with the new
registration. Malformed or partial lines get a clear message and no Next."""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from onedrive_gui.core.microsoft.registration import LINE_MARK
from onedrive_gui.ui.wizard.state import CLOUD_SHELL, DRIVE, SIGN_IN
from onedrive_gui.ui.wizard.wizard import AddAccountWizard
from tests.ui.test_wizard_fakecloud import SLOW, click


@pytest.mark.parametrize("cloud_key", ["global", "cn"])
def test_cloud_shell_command_fills_the_wizard_and_signs_in(qtbot, cloud_ctx, fakecloud,
                                                           cloud_key):
    defaults = fakecloud.setup_work(cloud_key)
    ctx = cloud_ctx(defaults, browser_user=defaults.user_upn)
    wiz = AddAccountWizard(ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    if cloud_key != "global":
        wiz.welcome.advanced.setChecked(True)
        wiz.welcome.cloud.set_key(cloud_key)
    wiz.welcome.cloud_shell.setChecked(True)
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == CLOUD_SHELL
    page = wiz.cloud_shell
    assert page.shell_url == {"global": "https://shell.azure.com/",
                              "cn": "https://portal.azure.cn/#cloudshell/"}[cloud_key]
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    page.copy_command()
    from PySide6.QtGui import QGuiApplication

    command = QGuiApplication.clipboard().text()
    assert command == page.command.toPlainText()
    r = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                       env=fakecloud.cloud_shell_env(ctx.defaults.user_upn), timeout=120,
                       check=False)
    assert r.returncode == 0, r.stderr

    # a line cut off when copying
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith(LINE_MARK))
    page.line.setText(line.rsplit(" ", 1)[0])
    assert "lacks expires" in page.note.text()
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()

    page.line.setText(r.stdout)  # the whole output pasted: the line is found in it
    assert wiz.button(QWizard.WizardButton.NextButton).isEnabled(), page.note.text()
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == SIGN_IN
    app_id = next(a for a in fakecloud.state.apps if a != ctx.defaults.client_id)
    assert wiz.state.client_id == app_id
    assert wiz.state.client_secret == fakecloud.state.apps[app_id].secret
    assert wiz.state.secret_expires is not None
    assert wiz.state.tenant == ("common" if cloud_key == "global" else "organizations")

    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.result.isVisible() or wiz.signin.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.signin.error.isVisible(), wiz.signin.error.text()
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == DRIVE
    qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() > 0
                    or wiz.drive.error.isVisible(), timeout=SLOW)
    assert not wiz.drive.error.isVisible(), wiz.drive.error.text()


def test_line_from_another_cloud_is_refused(qtbot, fake_ctx):
    wiz = AddAccountWizard(fake_ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.welcome.cloud_shell.setChecked(True)
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    wiz.cloud_shell.line.setText(
        f"{LINE_MARK} cloud=us client_id=3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44 secret=abc~def "
        "expires=2028-11-30")
    assert "US Government" in wiz.cloud_shell.note.text()
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    wiz.cloud_shell.line.setText("hello")
    assert f"no line starting with {LINE_MARK}" in wiz.cloud_shell.note.text()
