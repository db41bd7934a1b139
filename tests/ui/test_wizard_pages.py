"""The add-account wizard as a user sees it, with stand-in core services."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from onedrive_gui.core.validation import SECRET_ID_WARNING
from onedrive_gui.ui.wizard.state import CREDENTIALS, DONE, DRIVE, MOUNT, REGISTER, SIGN_IN
from onedrive_gui.ui.wizard.wizard import AddAccountWizard

CLIENT_ID = "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44"
SECRET = "Xq8~fakeSecretValue.0123456789abcdefGHIJ"


def next_button(wiz: QWizard):
    return wiz.button(QWizard.WizardButton.NextButton)


def commit_button(wiz: QWizard):
    return wiz.button(QWizard.WizardButton.CommitButton)


def open_wizard(qtbot, ctx) -> AddAccountWizard:
    wiz = AddAccountWizard(ctx)
    qtbot.addWidget(wiz)
    wiz.show()
    return wiz


def to_credentials(qtbot, wiz: AddAccountWizard) -> None:
    wiz.welcome.have_app.setChecked(True)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == CREDENTIALS


def fill_credentials(wiz: AddAccountWizard, client_id: str = CLIENT_ID,
                     secret: str = SECRET) -> None:
    wiz.credentials.client_id.setText(client_id)
    wiz.credentials.secret.setText(secret)


def test_guided_path_shows_exact_portal_values(qtbot, fake_ctx):
    wiz = open_wizard(qtbot, fake_ctx)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)  # "Guide me" is the default
    assert wiz.currentId() == REGISTER
    values = [f.value for f in wiz.register_page.copy_fields]
    assert "http://localhost" in values
    # a choice in the portal (nothing to paste): named in its step, no Copy button
    choice = "Accounts in any organizational directory and personal Microsoft accounts"
    assert choice not in values and choice in wiz.register_page.step_labels[1].text()
    # step 1 says "button below": the button follows it, before step 2
    page = wiz.register_page
    assert "button below" in page.step_labels[0].text()
    assert (page.step_labels[0].y() < page.open_portal.mapTo(page.steps_area.widget(),
                                                             page.open_portal.rect().topLeft()).y()
            < page.step_labels[1].y())
    for perm in ("Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All",
                 "offline_access", "User.Read"):
        assert perm in values
    field = wiz.register_page.copy_fields[values.index("http://localhost")]
    qtbot.mouseClick(field.button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "http://localhost"
    assert field.button.text() == "Copied"


def test_credentials_block_next_until_valid(qtbot, fake_ctx):
    wiz = open_wizard(qtbot, fake_ctx)
    to_credentials(qtbot, wiz)
    page = wiz.credentials
    assert not next_button(wiz).isEnabled()

    fill_credentials(wiz, client_id="not-a-guid")
    assert not next_button(wiz).isEnabled()
    assert page.client_id_note.isVisible()
    assert "is not an Application (client) ID" in page.client_id_note.text()

    fill_credentials(wiz, secret="")
    page.client_id.setText(CLIENT_ID)
    assert not page.client_id_note.isVisible()
    assert not next_button(wiz).isEnabled()  # empty secret

    page.secret.setText(SECRET)
    assert next_button(wiz).isEnabled()
    assert page.secret.echoMode() == page.secret.EchoMode.Password
    page.show_secret.trigger()
    assert page.secret.echoMode() == page.secret.EchoMode.Normal
    page.show_secret.trigger()
    assert page.secret.echoMode() == page.secret.EchoMode.Password


def test_secret_id_pasted_instead_of_value_is_warned(qtbot, fake_ctx):
    wiz = open_wizard(qtbot, fake_ctx)
    to_credentials(qtbot, wiz)
    fill_credentials(wiz, secret="9b2f5c1e-1111-4a2b-8c3d-0123456789ab")
    assert wiz.credentials.secret_note.isVisible()
    assert wiz.credentials.secret_note.text() == SECRET_ID_WARNING


def test_bad_tenant_opens_advanced_and_blocks(qtbot, fake_ctx):
    wiz = open_wizard(qtbot, fake_ctx)
    to_credentials(qtbot, wiz)
    fill_credentials(wiz)
    wiz.credentials.tenant.setText("not a tenant!")
    assert not next_button(wiz).isEnabled()
    assert wiz.credentials.advanced_box.isVisible()
    assert "is not a tenant" in wiz.credentials.tenant_note.text()


def test_secret_expiry_defaults_to_24_months(qtbot, fake_ctx):
    from datetime import date

    wiz = open_wizard(qtbot, fake_ctx)
    to_credentials(qtbot, wiz)
    d = wiz.credentials.expires.date()
    today = date.today()
    assert (d.year(), d.month()) == (today.year + 2, today.month)


def walk_to_sign_in(qtbot, wiz):
    to_credentials(qtbot, wiz)
    fill_credentials(wiz)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)
    assert wiz.currentId() == SIGN_IN
    assert not next_button(wiz).isEnabled()


def test_walk_through_adds_account_only_at_the_end(qtbot, fake_ctx):
    wiz = open_wizard(qtbot, fake_ctx)
    added = []
    wiz.account_added.connect(lambda a, now: added.append((a.name, now)))
    walk_to_sign_in(qtbot, wiz)
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.result.isVisible())
    assert "Alice Example" in wiz.signin.result.text()
    assert "alice@outlook.com" in wiz.signin.result.text()
    assert fake_ctx.opened and fake_ctx.opened[0].startswith("https://login.microsoftonline")
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)

    assert wiz.currentId() == DRIVE
    qtbot.waitUntil(lambda: wiz.drive.list.topLevelItemCount() == 1)
    item = wiz.drive.list.currentItem()  # the default, preselected
    # the user's words, not Graph's ("personal"), and one space before "(default)"
    assert (item.text(0), item.text(1)) == ("OneDrive (default)", "OneDrive")
    assert wiz.drive.personal_note.isVisible() and not wiz.drive.libraries_button.isVisible()
    assert "1.0 GB of 5.0 GB" == wiz.drive.list.currentItem().text(2)
    qtbot.mouseClick(next_button(wiz), Qt.MouseButton.LeftButton)

    assert wiz.currentId() == MOUNT
    assert wiz.mount.name.text() == "personal"
    assert wiz.mount.mount_point.text().endswith("personal")
    wiz.mount.name.setText("bad name!")
    assert not commit_button(wiz).isEnabled()
    assert wiz.mount.name_note.isVisible()
    wiz.mount.name.setText("home")
    assert wiz.mount.mount_point.text().endswith("home")
    assert commit_button(wiz).text() == "Add account"
    assert fake_ctx.accounts.added == []  # nothing saved before this point
    qtbot.mouseClick(commit_button(wiz), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.currentId() == DONE)
    assert [a.name for a in fake_ctx.accounts.added] == ["home"]
    assert added == [("home", True)]
    assert fake_ctx.autostart.is_enabled()  # first account: start at login preselected
    assert "home" in wiz.done_page.summary.text()


def test_sign_in_failure_shows_error_with_retry(qtbot, fake_ctx):
    fake_ctx.accounts.signin_behaviour = "deny"
    wiz = open_wizard(qtbot, fake_ctx)
    walk_to_sign_in(qtbot, wiz)
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.error.isVisible())
    text = wiz.signin.error.text()
    assert "Permission not granted" in text and "Sign in again and accept." in text
    assert "AADSTS65004" in text
    assert wiz.signin.retry_button.isVisible()
    assert not next_button(wiz).isEnabled()
    fake_ctx.accounts.signin_behaviour = "approve"
    qtbot.mouseClick(wiz.signin.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: next_button(wiz).isEnabled())


def test_error_card_says_the_code_once_and_the_admin_link_once(qtbot, fake_ctx):
    from onedrive_gui.core.microsoft.aad_errors import auth_error, with_admin_consent
    from onedrive_gui.core.microsoft.clouds import CLOUDS

    # the core puts Microsoft's code after its message; the card shows it on its Code line
    fake_ctx.accounts.signin_behaviour = auth_error(
        "invalid_request", "AADSTS50011: The redirect URI does not match.")
    wiz = open_wizard(qtbot, fake_ctx)
    walk_to_sign_in(qtbot, wiz)
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.error.isVisible())
    assert wiz.signin.error.text().count("AADSTS50011") == 1
    assert "Code: AADSTS50011" in wiz.signin.error.text()

    url = CLOUDS["global"].admin_consent_url("organizations", CLIENT_ID)
    fake_ctx.accounts.signin_behaviour = with_admin_consent(
        auth_error("invalid_client", "AADSTS90094: The grant requires admin permission."), url)
    qtbot.mouseClick(wiz.signin.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.admin_link.isVisible())
    card = wiz.signin.error.text()
    assert url not in card and "link below" in card and "admin consent" in card
    assert card.count("AADSTS90094") == 1
    assert wiz.signin.admin_link.edit.text() == url


def test_cancel_while_waiting_for_browser(qtbot, fake_ctx):
    fake_ctx.accounts.signin_behaviour = "ignore"
    wiz = open_wizard(qtbot, fake_ctx)
    walk_to_sign_in(qtbot, wiz)
    qtbot.mouseClick(wiz.signin.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wiz.signin.copy_link.isVisible())
    qtbot.mouseClick(wiz.signin.copy_link, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text().startswith("https://login.microsoftonline.com/")
    qtbot.mouseClick(wiz.signin.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in wiz.signin.status.text()
    assert wiz.signin.sign_in_button.isVisible()
    qtbot.waitUntil(lambda: fake_ctx.accounts.signins[0].closed)
    wiz.reject()
    assert fake_ctx.accounts.added == []
    assert fake_ctx.accounts.saved == []
