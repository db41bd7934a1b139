"""Render the wizard pages, the tray menu and the settings tabs into docs/screenshots/*.png.

Run under a display (e.g. ``xvfb-run -a .venv/bin/python scripts/screenshots.py``). Uses the
stand-in services of tests/ui/fakes.py, so no network, keyring or rclone is touched.

``--lang zh_CN`` renders the same screens in another language (the app's catalogue and Qt's
own translation, as the app loads them) into docs/screenshots/<lang>/; the display needs a
font for that language (for Chinese: fonts-wqy-microhei, scripts/system-packages.txt).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en", help="e.g. zh_CN (default: en)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(REPO))
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("OneDrive GUI")
    from onedrive_gui.app import install_language
    from onedrive_gui.core.i18n import _

    global OUT
    if install_language(app, args.lang) != "en":
        OUT = OUT / args.lang
    from onedrive_gui.core.drives.mounts import MountState, MountStatus
    from onedrive_gui.core.system.paths import AppPaths
    from onedrive_gui.ui.context import AppContext
    from onedrive_gui.ui.icons import app_icon
    from onedrive_gui.ui.mount_controller import MountController
    from onedrive_gui.ui.settings_dialog import SettingsDialog
    from onedrive_gui.ui.tray_menu import TrayMenu
    from onedrive_gui.ui.wizard import state as ids
    from onedrive_gui.ui.wizard.wizard import AddAccountWizard
    from tests.ui.fakes import FakeAccount, FakeAccountService, FakeAutostart

    app.setWindowIcon(app_icon())
    tmp = Path(tempfile.mkdtemp())
    paths = AppPaths(tmp / "c", tmp / "d", tmp / "ca", tmp / "l")
    from onedrive_gui.core.drives import mountpoints

    # the screenshots show the usual ~/OneDrive/<name>, whatever HOME this runs with
    mountpoints.default_mount_point = (  # type: ignore[assignment]
        lambda n, platform=None: str(Path.home() / "OneDrive" / n))
    OUT.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 150) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait(cond, timeout_ms: int = 5000) -> None:  # type: ignore[no-untyped-def]
        waited = 0
        while not cond() and waited < timeout_ms:
            settle(50)
            waited += 50

    ctx = AppContext(paths=paths, accounts=FakeAccountService(), autostart=FakeAutostart(),
                     open_browser=lambda url: True)
    wiz = AddAccountWizard(ctx)
    wiz.resize(700, 600)
    wiz.show()

    def shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
        settle()
        widget.grab().save(str(OUT / f"{name}.png"))
        print("wrote", OUT / f"{name}.png")

    shot(wiz, "wizard-1-welcome")
    wiz.next()
    shot(wiz, "wizard-2-register")
    wiz.next()
    shot(wiz, "wizard-3-credentials-empty")
    wiz.credentials.client_id.setText("3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a4")
    wiz.credentials.secret.setText("9b2f5c1e-1111-4a2b-8c3d-0123456789ab")
    shot(wiz, "wizard-3-credentials-mistakes")
    wiz.credentials.client_id.setText("3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44")
    wiz.credentials.secret.setText("Xq8~fakeSecretValue.0123456789abcdefGHIJ")
    wiz.credentials.advanced.setChecked(True)
    shot(wiz, "wizard-3-credentials")
    wiz.next()
    assert wiz.currentId() == ids.SIGN_IN
    shot(wiz, "wizard-4-sign-in")
    ctx.accounts.signin_behaviour = "ignore"
    wiz.signin.start()
    wait(lambda: wiz.signin.copy_link.isVisible())
    shot(wiz, "wizard-4-sign-in-waiting")
    wiz.signin.cancel()
    ctx.accounts.signin_behaviour = "deny"
    wiz.signin.start()
    wait(lambda: wiz.signin.error.isVisible())
    from onedrive_gui.core.microsoft.aad_errors import auth_error

    # what the core makes of Microsoft's answer (the stand-in's own text is English only)
    wiz.signin._show_failed(auth_error(
        "access_denied", "AADSTS65004: User declined to consent to access the app."))
    shot(wiz, "wizard-4-sign-in-failed")
    ctx.accounts.signin_behaviour = "approve"
    wiz.signin.start()
    wait(lambda: wiz.signin.result.isVisible())
    shot(wiz, "wizard-4-sign-in-done")
    wiz.next()
    wait(lambda: wiz.drive.list.topLevelItemCount() > 0)
    shot(wiz, "wizard-5-drive")
    wiz.next()
    wiz.mount.name.setText("personal")
    shot(wiz, "wizard-6-mount")
    wiz.mount.validatePage()
    wait(lambda: wiz.currentId() == ids.DONE)
    shot(wiz, "wizard-7-done")
    wiz.hide()

    # Tray menu with two accounts in different states.
    accounts = FakeAccountService()
    home = Path.home()
    accounts.settings.accounts.extend([
        FakeAccount(name="work", drive_type="business", mount_point=str(home / "OneDrive/work"),
                    secret_expires=date.today() + timedelta(days=12)),
        FakeAccount(name="personal", mount_point=str(home / "OneDrive/personal")),
    ])
    controller = MountController(accounts)
    controller._apply_status(MountStatus("work", MountState.MOUNTED, str(home / "OneDrive/work"),
                                         uploads_in_progress=2, uploads_queued=1,
                                         speed=2.1 * 2**20))
    menu = TrayMenu(accounts, controller)
    menu.popup(QPoint(40, 40))
    shot(menu, "tray-menu")
    menu.hide()


    ctx2 = AppContext(paths=paths, accounts=accounts, mounts=controller,
                      autostart=FakeAutostart())
    dlg = SettingsDialog(ctx2)
    dlg.show()
    for i, name in enumerate(("general", "accounts", "performance")):
        dlg.tabs.setCurrentIndex(i)
        wait(lambda: _("Checking rclone…") not in dlg.general.rclone_version.text(), 3000)
        shot(dlg, f"settings-{name}")
    dlg.performance.chunk_size.setText("1M")
    dlg.apply(close=False)
    shot(dlg, "settings-invalid")
    dlg.hide()

    # The same menu when Microsoft wants a new sign-in and when the cloud is unreachable.
    from onedrive_gui.core.drives.mounts import OFFLINE_TEXT

    controller._apply_status(MountStatus(
        "work", MountState.SIGN_IN_NEEDED, str(home / "OneDrive/work"), uploads_queued=1,
        error=_("Sign-in needed: {message} {hint}").format(
            message=_("Microsoft no longer accepts this sign-in (it expired, was already used, "
                      "or was revoked — for example after a password change or 90 days "
                      "without use).") + " (AADSTS50173)", hint=_("Sign in again."))))
    controller._apply_status(MountStatus("personal", MountState.OFFLINE,
                                         str(home / "OneDrive/personal"), error=_(OFFLINE_TEXT)))
    menu.popup(QPoint(40, 40))
    shot(menu, "tray-menu-trouble")
    menu.hide()

    # The log view ("View log"): both logs, errors and warnings, and a search.
    from onedrive_gui.ui.log_window import LogWindow

    paths.log_dir.mkdir(parents=True, exist_ok=True)
    (paths.log_dir / "onedrive-gui.log").write_text(
        "2026-11-30 09:00:01,100 INFO onedrive_gui.core.drives.mounts: work: mounted on "
        f"{home}/OneDrive/work\n"
        "2026-11-30 09:12:40,210 WARNING onedrive_gui.core.drives.mounts: work: the cloud asked to "
        "wait 2 s (throttled)\n"
        "2026-11-30 09:12:45,020 INFO onedrive_gui.core.drives.mounts: work: mounted "
        "(throttling over)\n"
        "2026-11-30 09:30:02,500 WARNING onedrive_gui.core.drives.mounts: personal: offline — "
        "changes upload when OneDrive is reachable again\n", encoding="utf-8")
    (paths.log_dir / "rclone.log").write_text(
        "2026/11/30 09:00:01 INFO  : work: vfs cache: cleaned: objects 12 (was 12) in use 0\n"
        "2026/11/30 09:12:40 DEBUG : pacer: low level retry 1/10 (error Too many requests."
        " Trying again in 2 seconds.)\n"
        "2026/11/30 09:20:11 ERROR : Budget 2026.xlsx: Failed to copy: quota exceeded\n"
        "2026/11/30 09:30:02 ERROR : personal: vfs cache: failed to upload try #1, will retry "
        "in 10s: couldn't connect\n", encoding="utf-8")
    logs = LogWindow(ctx)
    logs.resize(860, 360)
    logs.level.setCurrentIndex(3)
    logs.show()
    wait(lambda: bool(logs.lines))
    shot(logs, "log-view")
    logs.close()

    activity_window(paths, accounts, controller, shot, wait)
    clouds_and_libraries(ctx, shot, wait)
    return 0


def activity_window(paths, accounts, controller, shot, wait) -> None:  # type: ignore[no-untyped-def]
    """The activity window: uploads of two accounts (one slow, one failed, some waiting) and a
    conflict of this run, as MountManager.activity and .conflicts report them."""
    import time
    from pathlib import Path

    from onedrive_gui.core.drives.activity import RETRYING, UPLOADING, WAITING, Activity, Upload
    from onedrive_gui.core.drives.conflicts import Conflict, ConflictLog
    from onedrive_gui.core.drives.mounts import MountState, MountStatus
    from onedrive_gui.ui.activity_window import ActivityWindow
    from onedrive_gui.ui.context import AppContext

    home = Path.home()
    work, personal = str(home / "OneDrive/work"), str(home / "OneDrive/personal")
    mib = 2**20

    class Manager:  # stands for MountManager (what it reads from each account's rclone)
        conflicts = ConflictLog()

        def activity(self, name: str) -> Activity:
            if name == "work":
                return Activity("work", (
                    Upload("work", "Projects/Q4 review.pptx", 48 * mib, UPLOADING,
                           done=31 * mib, speed=2.1 * mib, eta=8.0, local_folder=work),
                    Upload("work", "Projects/Budget 2026.xlsx", 3 * mib, WAITING,
                           due_in=4.0, local_folder=work),
                    Upload("work", "Notes/meeting.docx", 220 * 1024, WAITING, due_in=4.0,
                           local_folder=work)))
            return Activity("personal", (
                Upload("personal", "Photos/2026/IMG_2041.jpg", 6 * mib, RETRYING,
                       due_in=95.0, tries=2, local_folder=personal),))

    Manager.conflicts.add(Conflict(
        "work", "Notes/plan.txt", "Notes/plan (conflict from the cloud, 2026-11-30 09.41).txt",
        work + "/Notes", time.time() - 600))
    controller.manager = Manager()
    controller._apply_status(MountStatus("work", MountState.MOUNTED, work))
    controller._apply_status(MountStatus("personal", MountState.MOUNTED, personal))
    ctx = AppContext(paths=paths, accounts=accounts, mounts=controller)
    win = ActivityWindow(ctx)
    win.resize(900, 460)
    win.show()
    wait(lambda: win.row_of("Notes/meeting.docx") is not None)
    win.uploads.setCurrentItem(win.row_of("Projects/Budget 2026.xlsx"))
    shot(win, "activity-window")
    win.close()


def clouds_and_libraries(ctx, shot, wait) -> None:  # type: ignore[no-untyped-def]
    """The national-cloud choice, the Cloud Shell path and SharePoint/Teams libraries; the
    library finder talks to the emulated cloud (tests/fakecloud) in this process."""
    import os
    import tempfile
    from types import SimpleNamespace

    from onedrive_gui.core.accounts import AccountService
    from onedrive_gui.core.i18n import _
    from onedrive_gui.core.microsoft.aad_errors import AdminConsentRequired
    from onedrive_gui.core.microsoft.clouds import CLOUDS
    from onedrive_gui.core.microsoft.registration import LINE_MARK
    from onedrive_gui.ui.wizard import state as ids
    from onedrive_gui.ui.wizard.wizard import AddAccountWizard
    from tests.fakecloud.cloud import FakeCloud

    # Welcome → Advanced → US Government; the guide for its portal
    wiz = AddAccountWizard(ctx)
    wiz.resize(700, 600)
    wiz.show()
    wiz.welcome.advanced.setChecked(True)
    wiz.welcome.cloud.set_key("us")
    shot(wiz, "wizard-1-welcome-cloud")
    wiz.next()
    shot(wiz, "wizard-2-register-usgov")
    wiz.hide()

    # Create it for me with Azure Cloud Shell: the command, and the pasted line
    wiz = AddAccountWizard(ctx)
    wiz.resize(700, 640)
    wiz.show()
    wiz.welcome.cloud_shell.setChecked(True)
    shot(wiz, "wizard-1-welcome-paths")
    wiz.next()
    wiz.cloud_shell.line.setText(
        f"{LINE_MARK} cloud=global client_id=3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44 "
        "secret=Xq8~fakeSecretValue.0123456789abcdefGHIJ expires=2028-11-30")
    shot(wiz, "wizard-cloud-shell")
    wiz.hide()

    # The organization requires an administrator's approval: the link for them
    wiz = AddAccountWizard(ctx)
    wiz.resize(700, 600)
    wiz.show()
    wiz.setStartId(ids.SIGN_IN)
    wiz.restart()
    url = CLOUDS["global"].admin_consent_url("organizations",
                                             "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44")
    wiz.signin._show_failed(AdminConsentRequired(
        _("The app was not given access to your OneDrive.") + " (AADSTS90094)", url,
        code="AADSTS90094"))
    shot(wiz, "wizard-4-admin-consent")
    wiz.hide()

    # A work account's libraries, from the emulated cloud
    cloud = FakeCloud(Path(tempfile.mkdtemp()) / "fakecloud").start()
    try:
        for k, v in cloud.env().items():
            os.environ[k] = v
        d = cloud.setup_work()
        cloud.add_site("Marketing", [d.user_upn], libraries=("Documents", "Brand assets"))
        cloud.add_site("Engineering", [d.user_upn], followers=(d.user_upn,))
        cloud.add_team("Sales Team", [d.user_upn])
        state = cloud.state
        from tests.fakecloud.state import AccessToken

        def token(scopes: list[str]) -> SimpleNamespace:
            import secrets
            import time

            t = "EwB" + secrets.token_urlsafe(40)
            state.access_tokens[t] = AccessToken(t, d.user_upn, d.client_id,
                                                 ["Files.Read", "User.Read", *scopes],
                                                 time.time() + 3600)
            return SimpleNamespace(access_token=t, display_name="Bob Worker",
                                   username=d.user_upn)

        ctx.accounts.discover = lambda tok, cloud="global": AccountService.discover(
            None, tok, cloud)  # type: ignore[arg-type]
        wiz = AddAccountWizard(ctx)
        wiz.resize(700, 620)
        wiz.show()
        wiz.state.token = token([])
        wiz.setStartId(ids.DRIVE)
        wiz.restart()
        wait(lambda: wiz.drive.libraries_button.isVisible(), 10000)
        wiz.drive.open_libraries()
        wait(lambda: wiz.drive.consent_button.isVisible(), 10000)
        shot(wiz, "wizard-5-libraries-permission")
        wiz.state.token = token(["Sites.Read.All", "Team.ReadBasic.All"])
        wiz.drive.consent_button.hide()
        wiz.drive.search.setText("market")
        wiz.drive.search_sites()
        wait(lambda: "Marketing" in wiz.drive.lib_status.text(), 10000)
        wiz.drive._find(None)
        wait(lambda: "found in the sites you follow" in wiz.drive.lib_status.text(), 10000)
        shot(wiz, "wizard-5-libraries")
        wiz.hide()
    finally:
        cloud.stop()


if __name__ == "__main__":
    sys.exit(main())
