"""Retake every README image (docs/screenshots/*.png) as an ordinary user sees the app.

    .venv/bin/python scripts/screenshots.py               # English
    .venv/bin/python scripts/screenshots.py --lang zh_CN  # into docs/screenshots/zh_CN/

It starts its own virtual desktop — Xvfb, the openbox window manager (window frames) and the
trayer tray host (the real tray icon) — unless ``--display`` says to use the current one.
Windows are taken with their frame, as the screen shows them; every page is reached by
clicking through the wizard from Welcome, as a user would (Back works). The services are the
stand-ins of tests/ui/fakes.py and, for SharePoint and Teams, the emulated cloud of
tests/fakecloud: no network, keyring or real account is touched. The user is "alice" with
her home in /home/alice (only a name here: nothing is written there), and rclone is shown
where a pipx install puts it.

Chinese needs a CJK font: Noto Sans CJK SC (Debian ``fonts-noto-cjk``). Look at every image
after a retake.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
SCREEN = (1280, 800)
HOME = "/home/alice"
CJK_FONT = "Noto Sans CJK SC"


# -- the virtual desktop -----------------------------------------------------------------------
def start_desktop() -> list[subprocess.Popen[bytes]]:
    """Xvfb + openbox + trayer; DISPLAY set for this process."""
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0",
                             f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"], pass_fds=(w,))
    os.close(w)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            raise SystemExit("Xvfb did not start")
        number += chunk
    os.close(r)
    os.environ["DISPLAY"] = f":{number.decode().strip()}"
    procs = [xvfb]
    procs.append(subprocess.Popen(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    procs.append(subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
         "--height", "26", "--SetDockType", "true", "--tint", "0x2b2b2b",
         "--transparent", "true", "--alpha", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1.5)  # the window manager and the tray host take their selections
    return procs


def stop_desktop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en", help="e.g. zh_CN (default: en)")
    parser.add_argument("--display", action="store_true",
                        help="use the current DISPLAY (its window manager and tray host)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    os.environ["HOME"] = HOME  # what the screens show as the user's home
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    procs = [] if args.display else start_desktop()
    try:
        return take(args.lang)
    finally:
        stop_desktop(procs)


# -- taking the pictures -----------------------------------------------------------------------
def take(lang: str) -> int:
    sys.path.insert(0, str(REPO))
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtGui import QFont, QGuiApplication, QLinearGradient, QPainter
    from PySide6.QtWidgets import QApplication, QWidget, QWizard

    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("OneDrive GUI")
    app.setQuitOnLastWindowClosed(False)
    from onedrive_gui.app import install_language

    global OUT
    if install_language(app, lang) != "en":
        OUT = OUT / lang
    if lang.startswith("zh"):
        app.setFont(QFont(CJK_FONT, 10))
    OUT.mkdir(parents=True, exist_ok=True)
    from onedrive_gui.ui.icons import app_icon

    app.setWindowIcon(app_icon())

    def settle(ms: int = 200) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait(cond: Any, timeout_ms: int = 10000) -> None:
        waited = 0
        while not cond():
            if waited >= timeout_ms:
                raise SystemExit(f"timed out waiting ({cond})")
            settle(50)
            waited += 50

    class Desktop(QWidget):
        """The desktop's background (Xvfb's root window is black)."""

        def __init__(self) -> None:
            super().__init__(None, Qt.WindowType.FramelessWindowHint)
            self.setAttribute(Qt.WidgetAttribute.WA_X11NetWmWindowTypeDesktop)
            self.setGeometry(0, 0, *SCREEN)

        def paintEvent(self, _event: Any) -> None:
            p = QPainter(self)
            g = QLinearGradient(0, 0, 0, self.height())
            g.setColorAt(0, Qt.GlobalColor.darkCyan)
            g.setColorAt(1, Qt.GlobalColor.darkBlue)
            p.fillRect(self.rect(), g)

    desktop = Desktop()
    desktop.show()

    def screen_png(x: int, y: int, w: int, h: int, name: str) -> None:
        settle()
        pix = QGuiApplication.primaryScreen().grabWindow(0, x, y, w, h)
        pix.save(str(OUT / f"{name}.png"))
        print("wrote", OUT / f"{name}.png")

    def shot(widget: Any, name: str) -> None:
        """*widget*'s window as the screen shows it, frame included."""
        window = widget.window()
        window.raise_()
        window.activateWindow()
        settle(300)
        g = window.frameGeometry()
        screen_png(g.x(), g.y(), g.width(), g.height(), name)

    def place(window: Any, x: int = 120, y: int = 60) -> None:
        window.move(x, y)
        window.show()
        settle(300)

    ctx, accounts = scripted_context()
    from onedrive_gui.ui.shell import DesktopShell

    shell = DesktopShell(ctx, tray_available=True)
    shell.start()  # no account yet: the wizard opens, as on a first run
    wiz = shell.wizard
    place(wiz)
    if lang == "en":
        screen_png(0, 0, SCREEN[0], 720, "desktop-first-run")
    B = QWizard.WizardButton

    def click(which: Any) -> None:
        button = wiz.button(which)
        assert button.isEnabled(), (wiz.currentPage().title(), which)
        button.click()
        settle()

    shot(wiz, "wizard-1-welcome")
    click(B.NextButton)  # "Guide me" is the default
    shot(wiz, "wizard-2-register")
    click(B.NextButton)
    shot(wiz, "wizard-3-credentials-empty")
    wiz.credentials.client_id.setText("3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a4")
    wiz.credentials.secret.setText("9b2f5c1e-1111-4a2b-8c3d-0123456789ab")
    shot(wiz, "wizard-3-credentials-mistakes")
    wiz.credentials.client_id.setText("3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44")
    wiz.credentials.secret.setText("Xq8~fakeSecretValue.0123456789abcdefGHIJ")
    wiz.credentials.advanced.setChecked(True)
    shot(wiz, "wizard-3-credentials")
    wiz.credentials.advanced.setChecked(False)
    click(B.NextButton)
    shot(wiz, "wizard-4-sign-in")
    accounts.next_signin = "wait"
    wiz.signin.sign_in_button.click()
    wait(lambda: wiz.signin.copy_link.isVisible())
    shot(wiz, "wizard-4-sign-in-waiting")
    wiz.signin.cancel_button.click()
    from onedrive_gui.core.microsoft.aad_errors import auth_error, with_admin_consent
    from onedrive_gui.core.microsoft.clouds import CLOUDS

    # what the core makes of Microsoft's answers
    accounts.next_signin = auth_error(
        "access_denied", "AADSTS65004: User declined to consent to access the app.")
    wiz.signin.sign_in_button.click()
    wait(lambda: wiz.signin.error.isVisible())
    shot(wiz, "wizard-4-sign-in-failed")
    accounts.next_signin = with_admin_consent(
        auth_error("invalid_client", "AADSTS90094: The grant requires admin permission."),
        CLOUDS["global"].admin_consent_url("organizations",
                                           "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44"))
    wiz.signin.retry_button.click()
    wait(lambda: wiz.signin.admin_link.isVisible())
    shot(wiz, "wizard-4-admin-consent")
    accounts.next_signin = "approve"
    wiz.signin.retry_button.click()
    wait(lambda: wiz.signin.result.isVisible())
    shot(wiz, "wizard-4-sign-in-done")
    click(B.NextButton)
    wait(lambda: wiz.drive.list.topLevelItemCount() > 0)
    shot(wiz, "wizard-5-drive")
    click(B.NextButton)
    wiz.mount.name.setText("personal")
    shot(wiz, "wizard-6-mount")
    wiz.mount.mount_now.setChecked(False)
    click(B.CommitButton)
    wait(lambda: wiz.currentId() == 6)
    shot(wiz, "wizard-7-done")
    click(B.FinishButton)

    clouds_and_libraries(ctx, place, shot, wait, settle)
    everyday(app, shell, accounts, ctx, place, shot, screen_png, wait, settle, lang)
    shell.quit_now()
    return 0


def scripted_context() -> tuple[Any, Any]:
    """The app's context over the stand-in services; sign-ins do what ``next_signin`` says:
    "approve", "wait" (until cancelled) or raise the AppError it holds."""
    import threading

    from onedrive_gui.core.drives import mountpoints
    from onedrive_gui.core.errors import CancelledError
    from onedrive_gui.core.rclone import binary
    from onedrive_gui.core.system.paths import AppPaths
    from onedrive_gui.ui.context import AppContext
    from onedrive_gui.ui.mount_controller import MountController
    from tests.ui.fakes import FakeAccountService, FakeAutostart, FakeToken

    # the usual ~/OneDrive/<name>, and rclone where a pipx install of the app puts it
    mountpoints.default_mount_point = (  # type: ignore[assignment]
        lambda n, others=None, platform=None: str(Path(HOME) / "OneDrive" / n))
    real = binary.locate_rclone(None)
    installed = Path(HOME) / ".local/share/pipx/venvs/onedrive-gui/bin/rclone"
    from dataclasses import replace

    binary.locate_rclone = (  # type: ignore[assignment]
        lambda configured=None: replace(real, path=installed))

    class SignIn:
        def __init__(self, behaviour: Any) -> None:
            self.behaviour = behaviour
            self.port, self.port_fell_back = 53682, False
            self._cancel = threading.Event()

        def start(self) -> str:
            return "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=…"

        def wait(self) -> Any:
            if self.behaviour == "approve":
                return FakeToken()
            if self.behaviour == "wait":
                self._cancel.wait(60)
                raise CancelledError("Sign-in cancelled", "You cancelled the sign-in.", "")
            raise self.behaviour

        def cancel(self) -> None:
            self._cancel.set()

        def close(self) -> None:
            pass

    class Accounts(FakeAccountService):
        next_signin: Any = "approve"

        def sign_in(self, *args: Any, **kw: Any) -> Any:
            return SignIn(self.next_signin)

    tmp = Path(tempfile.mkdtemp())
    paths = AppPaths(tmp / "c", tmp / "d", tmp / "ca", tmp / "l")
    accounts = Accounts()
    ctx = AppContext(paths=paths, accounts=accounts, autostart=FakeAutostart(),
                     open_browser=lambda url: True)
    ctx.mounts = MountController(accounts)
    return ctx, accounts


def clouds_and_libraries(ctx: Any, place: Any, shot: Any, wait: Any, settle: Any) -> None:
    """The national-cloud choice, the Cloud Shell path and SharePoint/Teams libraries; the
    library finder talks to the emulated cloud (tests/fakecloud) in this process."""
    from types import SimpleNamespace

    from PySide6.QtWidgets import QWizard

    from onedrive_gui.core.accounts import AccountService
    from onedrive_gui.core.microsoft.registration import LINE_MARK
    from onedrive_gui.ui.wizard.wizard import AddAccountWizard
    from tests.fakecloud.cloud import FakeCloud

    B = QWizard.WizardButton

    # Welcome → Advanced → US Government; the guide for its portal
    wiz = AddAccountWizard(ctx)
    place(wiz)
    wiz.welcome.advanced.setChecked(True)
    wiz.welcome.cloud.set_key("us")
    shot(wiz, "wizard-1-welcome-cloud")
    wiz.button(B.NextButton).click()
    shot(wiz, "wizard-2-register-usgov")
    wiz.reject()

    # Create it for me with Azure Cloud Shell: the command, and the pasted line
    wiz = AddAccountWizard(ctx)
    place(wiz)
    wiz.welcome.cloud_shell.setChecked(True)
    shot(wiz, "wizard-1-welcome-paths")
    wiz.button(B.NextButton).click()
    wiz.cloud_shell.line.setText(
        f"{LINE_MARK} cloud=global client_id=3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44 "
        "secret=Xq8~fakeSecretValue.0123456789abcdefGHIJ expires=2028-11-30")
    shot(wiz, "wizard-cloud-shell")
    wiz.reject()

    # A work account's libraries, from the emulated cloud
    cloud = FakeCloud(Path(tempfile.mkdtemp()) / "fakecloud").start()
    accounts = ctx.accounts
    try:
        for k, v in cloud.env().items():
            os.environ[k] = v
        d = cloud.setup_work()
        cloud.add_site("Marketing", [d.user_upn], libraries=("Documents", "Brand assets"))
        cloud.add_site("Engineering", [d.user_upn], followers=(d.user_upn,))
        cloud.add_team("Sales Team", [d.user_upn])
        state = cloud.state
        from tests.fakecloud.state import AccessToken

        def token(scopes: tuple[str, ...]) -> SimpleNamespace:
            import secrets

            t = "EwB" + secrets.token_urlsafe(40)
            state.access_tokens[t] = AccessToken(t, d.user_upn, d.client_id,
                                                 ["Files.Read", "User.Read", *scopes],
                                                 time.time() + 3600)
            return SimpleNamespace(access_token=t, display_name="Bob Worker",
                                   username=d.user_upn)

        class WorkSignIn:  # Microsoft's consent answered at once, with the scopes asked for
            port, port_fell_back = 53682, False

            def __init__(self, scopes: tuple[str, ...]) -> None:
                self.scopes = scopes

            def start(self) -> str:
                return "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"

            def wait(self) -> Any:
                return token(self.scopes)

            def cancel(self) -> None:
                pass

            def close(self) -> None:
                pass

        saved = accounts.sign_in, accounts.discover
        accounts.sign_in = lambda *a, extra_scopes=(), **kw: WorkSignIn(tuple(extra_scopes))
        accounts.discover = lambda tok, cloud="global": AccountService.discover(
            None, tok, cloud)  # type: ignore[arg-type]
        wiz = AddAccountWizard(ctx)
        place(wiz)
        wiz.welcome.have_app.setChecked(True)
        wiz.button(B.NextButton).click()
        wiz.credentials.client_id.setText(d.client_id)
        wiz.credentials.secret.setText(d.secret)
        wiz.button(B.NextButton).click()
        wiz.signin.sign_in_button.click()
        wait(lambda: wiz.signin.result.isVisible())
        wiz.button(B.NextButton).click()
        wait(lambda: wiz.drive.libraries_button.isVisible())
        wiz.drive.libraries_button.click()
        wait(lambda: wiz.drive.consent_button.isVisible())
        shot(wiz, "wizard-5-libraries-permission")
        wiz.drive.consent_button.click()
        wait(lambda: wiz.drive.search_button.isEnabled()
             and wiz.drive.list.topLevelItemCount() > 1)
        wiz.drive.search.setText("market")
        wiz.drive.search_button.click()
        wait(lambda: wiz.drive.search_button.isEnabled() and "market" in
             wiz.drive.lib_status.text())
        shot(wiz, "wizard-5-libraries")
        wiz.reject()
        accounts.sign_in, accounts.discover = saved
    finally:
        cloud.stop()
        for k in cloud.env():
            os.environ.pop(k, None)


def everyday(app: Any, shell: Any, accounts: Any, ctx: Any, place: Any, shot: Any,
             screen_png: Any, wait: Any, settle: Any, lang: str) -> None:
    """The tray menu, Settings, View log and Activity of a user with two accounts."""
    from PySide6.QtGui import QCursor

    from onedrive_gui.core.drives.mounts import OFFLINE_TEXT, MountState, MountStatus
    from onedrive_gui.core.i18n import _
    from onedrive_gui.core.settings import AppSettings
    from tests.ui.fakes import FakeAccount

    home = Path(HOME)
    work, personal = str(home / "OneDrive/work"), str(home / "OneDrive/personal")
    accounts.settings = AppSettings(accounts=[
        FakeAccount(name="work", drive_type="business", mount_point=work,
                    display_name="Alice Example", username="alice@contoso.com",
                    secret_expires=date.today() + timedelta(days=12)),
        FakeAccount(name="personal", mount_point=personal,
                    secret_expires=date.today() + timedelta(days=600)),
    ])
    controller = ctx.mounts
    controller._apply_status(MountStatus("work", MountState.MOUNTED, work,
                                         uploads_in_progress=2, uploads_queued=1,
                                         speed=2.1 * 2**20))
    controller._apply_status(MountStatus("personal", MountState.MOUNTED, personal))
    shell.surface.refresh()
    tray = shell.tray

    def menu_shot(name: str) -> None:
        menu = tray.menu
        icon = tray.icon.geometry()
        at = icon.bottomLeft() if icon.isValid() else QCursor.pos()
        menu.popup(at)
        settle(400)
        g = menu.geometry()
        screen_png(g.x(), g.y(), g.width(), g.height(), name)
        menu.hide()

    menu_shot("tray-menu")

    from onedrive_gui.ui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(ctx)
    place(dlg)
    for i, name in enumerate(("general", "accounts", "performance")):
        dlg.tabs.setCurrentIndex(i)
        wait(lambda: _("Checking rclone…") not in dlg.general.rclone_version.text())
        shot(dlg, f"settings-{name}")
    dlg.performance.chunk_size.setText("1M")
    dlg.buttons.button(dlg.buttons.StandardButton.Apply).click()
    wait(lambda: dlg.error.isVisible())
    from PySide6.QtWidgets import QScrollArea

    area = dlg.performance.findChild(QScrollArea)
    settle()
    area.ensureWidgetVisible(dlg.performance.chunk_size)
    shot(dlg, "settings-invalid")
    dlg.reject()

    # the same menu when Microsoft wants a new sign-in and when the cloud is unreachable
    controller._apply_status(MountStatus(
        "work", MountState.SIGN_IN_NEEDED, work, uploads_queued=1,
        error=_("Sign-in needed: {message} {hint}").format(
            # as the core words Microsoft's AADSTS50173 (its code after the message)
            message=_("Microsoft no longer accepts this sign-in (it expired, was already used, "
                      "or was revoked — for example after a password change or 90 days "
                      "without use).") + " (AADSTS50173)",
            hint=_("Sign in again."))))
    settle(600)
    if lang == "en":  # the notification, as the tray host shows it
        screen_png(SCREEN[0] - 520, 0, 520, 170, "desktop-sign-in-needed")
    controller._apply_status(MountStatus("personal", MountState.OFFLINE, personal,
                                         error=_(OFFLINE_TEXT)))
    menu_shot("tray-menu-trouble")

    # View log: both logs, errors and warnings, and a search
    from onedrive_gui.ui.log_window import LogWindow

    ctx.paths.log_dir.mkdir(parents=True, exist_ok=True)
    (ctx.paths.log_dir / "onedrive-gui.log").write_text(
        "2026-11-30 09:00:01,100 INFO onedrive_gui.core.drives.mounts: work: mounted on "
        f"{work}\n"
        "2026-11-30 09:12:40,210 WARNING onedrive_gui.core.drives.mounts: work: the cloud "
        "asked to wait 2 s (throttled)\n"
        "2026-11-30 09:12:45,020 INFO onedrive_gui.core.drives.mounts: work: mounted "
        "(throttling over)\n"
        "2026-11-30 09:30:02,500 WARNING onedrive_gui.core.drives.mounts: personal: offline — "
        "changes upload when OneDrive is reachable again\n", encoding="utf-8")
    (ctx.paths.log_dir / "rclone.log").write_text(
        "2026/11/30 09:00:01 INFO  : work: vfs cache: cleaned: objects 12 (was 12) in use 0\n"
        "2026/11/30 09:12:40 DEBUG : pacer: low level retry 1/10 (error Too many requests."
        " Trying again in 2 seconds.)\n"
        "2026/11/30 09:20:11 ERROR : Budget 2026.xlsx: Failed to copy: quota exceeded\n"
        "2026/11/30 09:30:02 ERROR : personal: vfs cache: failed to upload try #1, will retry "
        "in 10s: couldn't connect\n", encoding="utf-8")
    logs = LogWindow(ctx)
    logs.resize(900, 380)
    logs.level.setCurrentIndex(3)
    place(logs, 60, 240)  # below the notifications at the top right
    wait(lambda: bool(logs.lines))
    shot(logs, "log-view")
    logs.close()

    controller._apply_status(MountStatus("work", MountState.MOUNTED, work))
    controller._apply_status(MountStatus("personal", MountState.MOUNTED, personal))
    activity_window(ctx, controller, place, shot, wait)


def activity_window(ctx: Any, controller: Any, place: Any, shot: Any, wait: Any) -> None:
    """The activity window: uploads of two accounts (one slow, one failed, some waiting) and a
    conflict of this run, as MountManager.activity and .conflicts report them."""
    from onedrive_gui.core.drives.activity import RETRYING, UPLOADING, WAITING, Activity, Upload
    from onedrive_gui.core.drives.conflicts import Conflict, ConflictLog
    from onedrive_gui.ui.activity_window import ActivityWindow

    home = Path(HOME)
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

        def shutdown(self, upload_timeout: Any = None) -> None:
            pass

    Manager.conflicts.add(Conflict(
        "work", "Notes/plan.txt", "Notes/plan (conflict from the cloud, 2026-11-30 09.41).txt",
        work + "/Notes", time.time() - 600))
    controller.manager = Manager()
    win = ActivityWindow(ctx)
    win.resize(900, 460)
    place(win, 60, 240)
    wait(lambda: win.row_of("Notes/meeting.docx") is not None)
    win.uploads.setCurrentItem(win.row_of("Projects/Budget 2026.xlsx"))
    shot(win, "activity-window")
    win.close()
    controller.manager = None


if __name__ == "__main__":
    sys.exit(main())
