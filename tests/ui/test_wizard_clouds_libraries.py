"""The wizard against the emulated cloud for the national clouds and for SharePoint / Teams
libraries: the real core, real msal sign-in through the fake browser, real rclone and FUSE."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from onedrive_gui.ui.wizard.state import CREDENTIALS, DONE, DRIVE, MOUNT, REGISTER, SIGN_IN
from onedrive_gui.ui.wizard.wizard import AddAccountWizard
from tests.fakecloud.state import CLOUDS
from tests.ui.fakes import FakeAutostart
from tests.ui.test_wizard_fakecloud import SLOW, click


def _ctx(fakecloud, monkeypatch, defaults):  # type: ignore[no-untyped-def]
    from onedrive_gui.app import build_context
    from onedrive_gui.core.system.paths import AppPaths

    fakecloud.apply_env(monkeypatch, browser_action="approve", browser_user=defaults.user_upn)
    ctx = build_context(AppPaths.default())
    ctx.autostart = FakeAutostart()
    ctx.defaults = defaults
    return ctx


@pytest.fixture
def work_ctx(app_home, ui_core, fakecloud, monkeypatch):  # type: ignore[no-untyped-def]
    ctx = _ctx(fakecloud, monkeypatch, fakecloud.setup_work())
    try:
        yield ctx
    finally:
        ctx.mounts.shutdown_now()


def sign_in_to_drive_page(qtbot, ctx, *, cloud: str = "global") -> AddAccountWizard:
    wiz = AddAccountWizard(ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    if cloud != "global":
        wiz.welcome.advanced.setChecked(True)
        wiz.welcome.cloud.set_key(cloud)
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
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == DRIVE
    qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() > 0 or wiz.drive.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.drive.error.isVisible(), wiz.drive.error.text()
    return wiz


def _items(wiz) -> list[str]:  # type: ignore[no-untyped-def]
    return [wiz.drive.list.topLevelItem(i).text(0)
            for i in range(wiz.drive.list.topLevelItemCount())]


def _select(wiz, text: str) -> None:  # type: ignore[no-untyped-def]
    for i in range(wiz.drive.list.topLevelItemCount()):
        item = wiz.drive.list.topLevelItem(i)
        if item.text(0) == text:
            wiz.drive.list.setCurrentItem(item)
            return
    raise AssertionError(f"{text!r} not in {_items(wiz)}")


def _commit(qtbot, wiz, name: str, mnt) -> None:  # type: ignore[no-untyped-def]
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    assert wiz.currentId() == MOUNT
    wiz.mount.name.setText(name)
    wiz.mount.mount_point.setText(str(mnt))
    wiz.mount.mount_now.setChecked(False)
    click(qtbot, wiz, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: wiz.currentId() == DONE or wiz.mount.error.isVisible(),
                    timeout=SLOW)
    assert not wiz.mount.error.isVisible(), wiz.mount.error.text()


def _mount_write_unmount(qtbot, ctx, name: str, path, data: bytes) -> None:  # type: ignore[no-untyped-def]
    controller = ctx.mounts
    failures: list[object] = []
    states: list[str] = []
    controller.failed.connect(lambda n, err: failures.append(err))
    controller.changed.connect(lambda st: states.append(st.state.name) if st.name == name
                               else None)
    controller.mount(name)
    qtbot.waitUntil(lambda: "MOUNTED" in states or bool(failures), timeout=SLOW)
    assert not failures, failures
    path.write_bytes(data)
    done: list[object] = []
    controller.unmount(name, wait_for_uploads=True, on_done=done.append)
    qtbot.waitUntil(lambda: bool(done) or bool(failures), timeout=SLOW)
    assert not failures, failures


def test_library_by_search_and_from_a_team_mounted_and_written(qtbot, work_ctx, fakecloud,
                                                               tmp_path):
    bob = work_ctx.defaults.user_upn
    site = fakecloud.add_site("Marketing", [bob])
    fakecloud.add_site("Engineering", [bob], followers=(bob,))
    team = fakecloud.add_team("Sales Team", [bob])
    wiz = sign_in_to_drive_page(qtbot, work_ctx)
    assert not wiz.drive.personal_note.isVisible()
    assert wiz.drive.list.currentItem().text(1) == "OneDrive for work or school"

    # the first sign-in asked for the base permissions only: the page says so and offers
    # to sign in again with them (incremental consent)
    qtbot.mouseClick(wiz.drive.libraries_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.drive.consent_button.isVisible()
                    or wiz.drive.error.isVisible(), timeout=SLOW)
    assert "Sites.Read.All and Team.ReadBasic.All" in wiz.drive.lib_status.text()
    qtbot.mouseClick(wiz.drive.consent_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Team: Sales Team" in " ".join(_items(wiz))
                    or wiz.drive.error.isVisible(), timeout=SLOW)
    assert not wiz.drive.error.isVisible(), wiz.drive.error.text()
    authorize = fakecloud.requests_to("login.microsoftonline.com", "/authorize")[-1]
    assert {"Sites.Read.All", "Team.ReadBasic.All"} <= set(authorize.query["scope"].split())
    assert "Documents — Site: Engineering" in _items(wiz)  # a followed site
    assert not wiz.drive.consent_button.isVisible()

    wiz.drive.search.setText("market")
    qtbot.mouseClick(wiz.drive.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Documents — Site: Marketing" in _items(wiz), timeout=SLOW)
    _select(wiz, "Documents — Site: Marketing")
    assert wiz.state.drive.id == site.drives[0]
    assert wiz.drive.list.currentItem().text(1) == "SharePoint library"
    _commit(qtbot, wiz, "marketing", tmp_path / "mnt" / "marketing")
    summary = wiz.done_page.summary.text()
    assert "(SharePoint library)" in summary and "documentLibrary" not in summary

    # a second library of the same sign-in, without signing in again
    authorizations = len(fakecloud.requests_to("login.microsoftonline.com", "/authorize"))
    qtbot.mouseClick(wiz.done_page.another, Qt.MouseButton.LeftButton)
    assert wiz.currentId() == DRIVE
    qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() > 0, timeout=SLOW)
    qtbot.mouseClick(wiz.drive.libraries_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Documents — Team: Sales Team" in _items(wiz), timeout=SLOW)
    _select(wiz, "Documents — Team: Sales Team")
    _commit(qtbot, wiz, "sales", tmp_path / "mnt" / "sales")
    assert len(fakecloud.requests_to("login.microsoftonline.com", "/authorize")) == \
        authorizations

    accounts = work_ctx.accounts
    assert accounts.account("marketing").drive_type == "documentLibrary"
    assert accounts.account("sales").drive_id == team.drive_id

    _mount_write_unmount(qtbot, work_ctx, "marketing",
                         tmp_path / "mnt" / "marketing" / "plan.txt", b"plan\n")
    _mount_write_unmount(qtbot, work_ctx, "sales",
                         tmp_path / "mnt" / "sales" / "leads.txt", b"leads\n")
    assert fakecloud.get_file(site.drives[0], "/plan.txt") == b"plan\n"
    assert fakecloud.get_file(team.drive_id, "/leads.txt") == b"leads\n"
    assert fakecloud.get_file(team.drive_id, "/plan.txt") is None
    assert fakecloud.get_file(work_ctx.defaults.drive_id, "/leads.txt") is None


def test_personal_account_is_told_why_it_sees_only_its_drives(qtbot, real_ctx, fakecloud):
    wiz = sign_in_to_drive_page(qtbot, real_ctx)
    assert wiz.drive.personal_note.isVisible()
    assert "Personal Microsoft accounts have no SharePoint sites or Teams" in \
        wiz.drive.personal_note.text()
    assert not wiz.drive.libraries_button.isVisible()


@pytest.mark.parametrize("cloud_key", ["us", "cn"])
def test_national_cloud_in_the_wizard(qtbot, app_home, ui_core, fakecloud, monkeypatch,
                                      tmp_path, cloud_key):
    ctx = _ctx(fakecloud, monkeypatch, fakecloud.setup_work(cloud_key))
    try:
        wiz = AddAccountWizard(ctx)
        qtbot.addWidget(wiz)
        wiz.show()
        wiz.welcome.advanced.setChecked(True)
        assert "DoD" in wiz.welcome.cloud.dod.text() and "rclone" in wiz.welcome.cloud.dod.text()
        wiz.welcome.cloud.set_key(cloud_key)
        assert "no personal Microsoft accounts" in wiz.welcome.cloud.note.text()
        click(qtbot, wiz, QWizard.WizardButton.NextButton)  # the guide
        assert wiz.currentId() == REGISTER
        portal = {"us": "portal.azure.us", "cn": "portal.azure.cn"}[cloud_key]
        assert wiz.register_page.portal_url.startswith(f"https://{portal}/")
        values = [f.edit.text() for f in wiz.register_page.copy_fields]
        assert ("Accounts in any organizational directory (Multitenant)"
                in wiz.register_page.step_labels[1].text())
        assert "Sites.Read.All" in values and "Team.ReadBasic.All" in values
        click(qtbot, wiz, QWizard.WizardButton.NextButton)
        assert wiz.currentId() == CREDENTIALS
        assert wiz.credentials.tenant.text() == "organizations"  # steered
        wiz.credentials.client_id.setText(ctx.defaults.client_id)
        wiz.credentials.secret.setText(ctx.defaults.secret)
        assert wiz.credentials.isComplete()
        wiz.credentials.tenant.setText("consumers")
        assert "has no personal Microsoft accounts" in wiz.credentials.tenant_note.text()
        assert not wiz.credentials.isComplete()
        wiz.credentials.tenant.setText("organizations")
        assert wiz.credentials.isComplete()
        click(qtbot, wiz, QWizard.WizardButton.NextButton)
        qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: wiz.signin.result.isVisible() or wiz.signin.error.isVisible(),
                        timeout=SLOW)
        assert not wiz.signin.error.isVisible(), wiz.signin.error.text()
        click(qtbot, wiz, QWizard.WizardButton.NextButton)
        qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() > 0
                        or wiz.drive.error.isVisible(), timeout=SLOW)
        assert not wiz.drive.error.isVisible(), wiz.drive.error.text()
        _commit(qtbot, wiz, "gov", tmp_path / "mnt" / "gov")
        label = {"us": "US Government (GCC High)", "cn": "China (operated by 21Vianet)"}
        assert label[cloud_key] in wiz.done_page.summary.text()
        account = ctx.accounts.account("gov")
        assert account.cloud == cloud_key and account.tenant == "organizations"
        _mount_write_unmount(qtbot, ctx, "gov", tmp_path / "mnt" / "gov" / "memo.txt",
                             b"memo\n")
        assert fakecloud.get_file(ctx.defaults.drive_id, "/memo.txt") == b"memo\n"
        assert fakecloud.hosts_reached() <= set(CLOUDS[cloud_key])
    finally:
        ctx.mounts.shutdown_now()


def test_admin_approval_required_shows_the_admin_consent_link(qtbot, work_ctx, fakecloud):
    """A tenant where only administrators may consent (AADSTS90094): the sign-in page gives
    the organization's admin-consent link to send to an administrator."""
    fakecloud.state.apps[work_ctx.defaults.client_id.lower()].admin_consent_only = True
    wiz = AddAccountWizard(work_ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.welcome.have_app.setChecked(True)
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    wiz.credentials.client_id.setText(work_ctx.defaults.client_id)
    wiz.credentials.secret.setText(work_ctx.defaults.secret)
    wiz.credentials.tenant.setText("organizations")
    click(qtbot, wiz, QWizard.WizardButton.NextButton)
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.error.isVisible(), timeout=SLOW)
    assert "Administrator approval required" in wiz.signin.error.text()
    assert wiz.signin.admin_link.isVisible()
    assert wiz.signin.admin_link.value == (
        "https://login.microsoftonline.com/organizations/adminconsent?client_id="
        + work_ctx.defaults.client_id)
