"""The wizard walked from Welcome to its last page for each way in (an app I have, the guide,
Azure Cloud Shell) with real button clicks, against the emulated Microsoft cloud: the last
page shows Finish only — no Next into another page, no Cancel that reads as undoing the
account — Finish closes the wizard, and the window keeps one size on every page."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWizard

from onedrive_gui.core.microsoft.registration import LINE_MARK
from onedrive_gui.ui.wizard.state import (
    CLOUD_SHELL,
    CREDENTIALS,
    DONE,
    DRIVE,
    MOUNT,
    REGISTER,
    SIGN_IN,
    WELCOME,
)
from onedrive_gui.ui.wizard.wizard import AddAccountWizard
from tests.ui.test_wizard_clouds_libraries import _ctx
from tests.ui.test_wizard_fakecloud import SLOW, click

B = QWizard.WizardButton


def _shown(wiz: QWizard, which: QWizard.WizardButton) -> bool:
    button = wiz.button(which)
    return button is not None and button.isVisible()


@pytest.mark.parametrize("choice", ["have_app", "guide_me", "cloud_shell"])
def test_each_way_in_ends_with_finish_which_closes_the_wizard(
        qtbot, app_home, ui_core, fakecloud, monkeypatch, choice):
    defaults = (fakecloud.setup_work() if choice == "cloud_shell"
                else fakecloud.setup_default())
    ctx = _ctx(fakecloud, monkeypatch, defaults)
    name = f"fin_{uuid.uuid4().hex[:8]}"
    try:
        wiz = AddAccountWizard(ctx)
        qtbot.addWidget(wiz)
        wiz.show()
        sizes = {WELCOME: wiz.size()}
        path = [WELCOME]

        def next_page(button: QWizard.WizardButton = B.NextButton) -> None:
            assert wiz.button(button).isEnabled(), wiz.currentPage().title()
            click(qtbot, wiz, button)
            path.append(wiz.currentId())
            sizes[wiz.currentId()] = wiz.size()

        getattr(wiz.welcome, choice).setChecked(True)
        assert _shown(wiz, B.CancelButton) and not _shown(wiz, B.FinishButton)
        next_page()
        if choice == "cloud_shell":
            page = wiz.cloud_shell
            r = subprocess.run(["bash", "-c", page.command.toPlainText()], capture_output=True,
                               text=True, env=fakecloud.cloud_shell_env(defaults.user_upn),
                               timeout=120, check=False)
            assert r.returncode == 0, r.stderr
            page.line.setText(next(ln for ln in r.stdout.splitlines()
                                   if ln.startswith(LINE_MARK)))
        else:
            if choice == "guide_me":
                next_page()  # the portal steps, read
            wiz.credentials.client_id.setText(defaults.client_id)
            wiz.credentials.secret.setText(defaults.secret)
        next_page()
        assert wiz.currentId() == SIGN_IN
        qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: wiz.signin.result.isVisible() or wiz.signin.error.isVisible(),
                        timeout=SLOW)
        assert not wiz.signin.error.isVisible(), wiz.signin.error.text()
        next_page()
        qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() > 0
                        or wiz.drive.error.isVisible(), timeout=SLOW)
        assert not wiz.drive.error.isVisible(), wiz.drive.error.text()
        next_page()
        wiz.mount.name.setText(name)
        wiz.mount.mount_now.setChecked(False)
        click(qtbot, wiz, B.CommitButton)
        qtbot.waitUntil(lambda: wiz.currentId() == DONE or wiz.mount.error.isVisible(),
                        timeout=SLOW)
        assert not wiz.mount.error.isVisible(), wiz.mount.error.text()
        path.append(DONE)
        sizes[DONE] = wiz.size()
        assert path == {"have_app": [WELCOME, CREDENTIALS, SIGN_IN, DRIVE, MOUNT, DONE],
                        "guide_me": [WELCOME, REGISTER, CREDENTIALS, SIGN_IN, DRIVE, MOUNT,
                                     DONE],
                        "cloud_shell": [WELCOME, CLOUD_SHELL, SIGN_IN, DRIVE, MOUNT,
                                        DONE]}[choice]

        # the last page: Finish only, and a subtitle (the header band stays)
        assert wiz.currentPage().isFinalPage()
        assert _shown(wiz, B.FinishButton)
        for gone in (B.NextButton, B.CancelButton, B.BackButton, B.CommitButton):
            assert not _shown(wiz, gone), gone
        assert wiz.currentPage().subTitle()
        assert name in wiz.done_page.summary.text()
        assert len(set(sizes.values())) == 1, sizes  # no jumping between pages

        click(qtbot, wiz, B.FinishButton)
        assert not wiz.isVisible()
        assert wiz.result() == QDialog.DialogCode.Accepted
        assert name in ctx.accounts.settings.names()  # Finish keeps the account
    finally:
        if name in ctx.accounts.settings.names():
            ctx.accounts.remove_account(name)
        ctx.mounts.shutdown_now()
