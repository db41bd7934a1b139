"""Every notification and tooltip the tray shows fits what Windows shows (Qt copies them into
NOTIFYICONDATA: title 63, text 255, tooltip 127 UTF-16 units, and cuts the rest), and a
click on a notification does what that notification offered."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from onedrive_gui.core.drives import mounts
from onedrive_gui.core.drives.conflicts import Conflict
from onedrive_gui.core.drives.recovery import LeftMount, Leftovers
from onedrive_gui.core.errors import MountError, RcloneError
from onedrive_gui.core.microsoft.aad_errors import auth_error
from onedrive_gui.ui.format import (
    NOTIFY_BODY_MAX,
    NOTIFY_TITLE_MAX,
    TOOLTIP_MAX,
    clip,
    text_len,
)
from onedrive_gui.ui.mount_controller import MountController
from onedrive_gui.ui.shell import DesktopShell
from onedrive_gui.ui.tray import ICON_CLICK_GRACE_MS
from tests.ui.fakes import FakeAccount
from tests.ui.test_tray import FakeManager, feed

MountState, MountStatus = mounts.MountState, mounts.MountStatus

# The longest account names the app takes (32 characters), and long real-world values.
NAME = "Contoso_Research_Department_2026"
OTHER = "Fabrikam_Personal_Photos_Archive"
LONG_MP = ("/home/alvaro.fernandez-de-la-vega/Documents/Work projects 2026/"
           "Contoso Research Department/OneDrive mounts/" + NAME)
LONG_FILE = ("Quarterly financial report — final version reviewed by the board (2026-Q3) "
             "including all appendices and the auditors’ comments.xlsx")
# What Microsoft says when the client secret expired, as the token endpoint words it.
AADSTS7000222 = (
    "AADSTS7000222: The provided client secret keys for app "
    "'3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44' are expired. Visit the Azure portal to create "
    "new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate "
    "credentials for added security: https://aka.ms/certCreds. Trace ID: "
    "0b7d3b2e-5a8c-4c1e-9f3a-2d6e8f1a4b5c Correlation ID: 11111111-2222-3333-4444-"
    "555555555555 Timestamp: 2026-11-30 05:00:00Z"
)


class Shown:
    """What reached the tray icon (QSystemTrayIcon.showMessage), as Windows would get it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def __call__(self, title: str, body: str, _icon: Any, _ms: int) -> None:
        self.messages.append((title, body))

    def last(self) -> tuple[str, str]:
        return self.messages[-1]


@pytest.fixture
def shell(qtbot, fake_ctx, tmp_path: Path):
    fake_ctx.accounts.settings.accounts.extend([
        FakeAccount(name=NAME, mount_point=LONG_MP),
        FakeAccount(name=OTHER, mount_point=str(tmp_path / "OneDrive" / OTHER))])
    controller = MountController(fake_ctx.accounts)
    controller.manager = FakeManager()
    fake_ctx.mounts = controller
    sh = DesktopShell(fake_ctx, tray_available=True)
    sh.shown = Shown()
    sh.tray.icon.showMessage = sh.shown
    return sh


def event(shell: DesktopShell, kind: str, text: str) -> None:
    """As MountManager reports it: from its monitor thread."""
    t = threading.Thread(target=shell.controller.on_event, args=(kind, text))
    t.start()
    t.join()


def _fits(title: str, body: str) -> None:
    assert text_len(title) <= NOTIFY_TITLE_MAX, (text_len(title), title)
    assert text_len(body) <= NOTIFY_BODY_MAX, (text_len(body), body)


def test_every_notification_fits_what_windows_shows(qtbot, shell, monkeypatch) -> None:
    shown, controller = shell.shown, shell.controller
    titles: list[str] = []

    def expect(what: str) -> tuple[str, str]:
        qtbot.waitUntil(lambda: bool(shown.messages) and shown.last()[0].startswith(what))
        title, body = shown.last()
        _fits(title, body)
        titles.append(what)
        shown.messages.clear()
        return title, body

    # mounted (on a long path)
    shell.tray.menu.action(f"Mount {NAME}").trigger()
    _t, body = expect(f"{NAME} mounted")
    assert body.startswith("OneDrive is on /home/alvaro")

    # mount failed, with the reason and what to do
    controller.failed.emit(NAME, MountError(
        "Folder not empty", f"{LONG_MP} already contains files; the drive would hide them "
        "while mounted.", "Choose an empty or new folder, such as ~/OneDrive/<account name>."))
    title, body = expect(f"{NAME}: Folder not")
    assert body.startswith(f"{LONG_MP[:60]}") and body.endswith("Click for details.")
    from onedrive_gui.ui import messages

    shell.tray._run_message_action()  # the whole error, with what to do
    box = next(b for b in messages._open_boxes if b.windowTitle() == "Folder not empty")
    assert "Choose an empty or new folder" in box.informativeText()
    box.close()

    # throttled, offline, back online, sign-in needed, drive problem
    feed(controller, MountStatus(NAME, MountState.MOUNTED, LONG_MP))
    feed(controller, MountStatus(NAME, MountState.THROTTLED, LONG_MP, retry_after=120))
    expect(f"{NAME}: slowed down by Microsoft")
    feed(controller, MountStatus(NAME, MountState.OFFLINE, LONG_MP, error=mounts.OFFLINE_TEXT))
    expect(f"{NAME}: OneDrive unreachable")
    feed(controller, MountStatus(NAME, MountState.MOUNTED, LONG_MP))
    expect(f"{NAME}: back online")
    err = auth_error("invalid_client", AADSTS7000222)
    feed(controller, MountStatus(NAME, MountState.SIGN_IN_NEEDED, LONG_MP,
                                 error=f"Sign-in needed: {err.message} {err.hint}"))
    _t, body = expect(f"{NAME}: sign-in needed")
    assert "AADSTS7000222" in body and f"“Sign in to {NAME} again…”" in body
    feed(controller, MountStatus(NAME, MountState.ERROR, LONG_MP, error=(
        "rclone reported: mount helper error: fusermount3: failed to access mountpoint "
        f"{LONG_MP}: Transport endpoint is not connected. " * 2)))
    expect(f"{NAME}: drive problem")

    # started while offline: waiting to mount, then mounted by itself
    feed(controller, MountStatus(NAME, MountState.UNMOUNTED))
    feed(controller, MountStatus(NAME, MountState.WAITING_OFFLINE, LONG_MP,
                                 error=mounts.WAITING_OFFLINE_TEXT))
    _t, body = expect(f"{NAME}: OneDrive unreachable")
    assert "mounted by itself" in body
    feed(controller, MountStatus(NAME, MountState.MOUNTED, LONG_MP))
    expect(f"{NAME} mounted")

    # what rclone and the mount monitor report
    left = Leftovers([LeftMount(NAME, LONG_MP, 12), LeftMount(OTHER, "/m/o", 3)], [4242],
                     [LONG_MP])
    for kind, title, text in [
        ("rcd-restarted", "rclone restarted",
         f"rclone stopped unexpectedly; it was restarted and {OTHER} remounted; could not "
         f"remount {NAME} (Something is already mounted on {LONG_MP} (an rclone mount, "
         "perhaps left over from a crash).)"),
        ("recovered", "Recovered after a crash",
         left.describe([NAME], [(OTHER, "Folder missing")])),
        ("cache-full", "Cache disk full",
         f"'{LONG_FILE}' could not be written to '{NAME}' completely: the disk holding the "
         "app's cache is full. Files already uploaded are not affected. Free up space on "
         "that disk, then copy the file again."),
        ("uploads-abandoned", "Uploads left pending",
         f"1234 upload(s) of '{NAME}' did not finish; they stay in the cache and are "
         "uploaded the next time you mount it."),
        ("rcd-failed", "rclone stopped",
         "rclone stopped unexpectedly and could not be restarted: " + RcloneError(
             "rclone did not start", "rclone exited at once with code 1.\nrclone's log "
             "says:\n" + "2026/11/30 05:00:00 CRITICAL: Failed to start remote control: "
             "listen tcp 127.0.0.1:5572: bind: An attempt was made to access a socket in a "
             "way forbidden by its access permissions.", "See the rclone log for details; "
             "then restart the app.").message),
        ("unmount-failed", "Unmount failed", MountError(
            "Unmount failed", f"{LONG_MP} could not be unmounted: the device is busy.",
            "Close the programs using files on the drive, then try again.").user_text()),
        ("monitor-error", "Mount check failed",
         "Checking the mounts failed unexpectedly: " + "KeyError('transferring') " * 12),
        ("conflict", "Changed in two places: both kept", Conflict(
            NAME, f"Documents/Board/{LONG_FILE}",
            f"Documents/Board/{LONG_FILE[:-5]} (conflict from the cloud, 2026-11-30 14.05).xlsx",
            f"{LONG_MP}/Documents/Board", 0.0).text()),
        ("mount-failed", "Mount failed",  # the network came back, the mount failed
         f"'{NAME}' could not be mounted: '{NAME}' cannot be mounted on {LONG_MP}: the "
         "folder is not empty. Choose an empty folder as mount point, or move the files out "
         "of it."),
        ("rcd-stop-failed", "rclone did not stop", RcloneError(
            "rclone did not stop", "rclone did not quit within 10 s and was killed; "
            f"{LONG_MP} may need unmounting by hand.", "Restart the computer if the drive "
            "still shows.").user_text()),
    ]:
        event(shell, kind, text)
        _t, body = expect(title)
        if kind == "conflict":  # names both files, whole; a click opens their folder
            assert "(conflict from the cloud, 2026-11-30 14.05).xlsx" in body
            assert body.startswith(NAME[:15]) and body == text
            continue
        if text_len(text) > NOTIFY_BODY_MAX:  # cut: a click shows the whole text
            assert body.endswith("Click for details.")
            shell.tray._run_message_action()
            assert shell.details_box.text() == text
            shell.details_box.close()
        else:
            assert body == text

    # finishing uploads (unmount and quit), signed in again
    feed(controller, MountStatus(NAME, MountState.MOUNTED, LONG_MP, uploads_queued=3))
    qtbot.waitUntil(lambda: controller.pending_uploads(NAME) == 3)
    shell.ask_pending_unmount = lambda name, count: "wait"
    shell.tray.menu.aboutToShow.emit()
    shell.tray.menu.action(f"Unmount {NAME}").trigger()
    expect(f"{NAME}: finishing uploads")
    shell._reauthorized(NAME)
    expect(f"{NAME}: signed in again")
    feed(controller, MountStatus(NAME, MountState.MOUNTED, LONG_MP, uploads_queued=3))
    monkeypatch.setattr(shell, "_finish_quit", lambda _r: None)
    shell.quit(ask=False)
    expect("Finishing uploads")

    # reminders: secret expired / expiring, sign-in unused for 80 days
    a, b = shell.ctx.accounts.settings.accounts
    a.secret_expires = date.today() - timedelta(days=3)
    b.secret_expires = date.today() + timedelta(days=29)
    a.last_sign_in = datetime.now(UTC) - timedelta(days=85)
    shell.check_reminders()
    got = [title for title, body in shown.messages if _fits(title, body) is None]
    assert got == [f"{NAME}: client secret expired", f"{NAME}: sign-in about to lapse",
                   f"{OTHER}: secret expires in 29 days"]

    # the README's list of notifications, each seen above
    for kind in (" mounted", "Folder not", "slowed down", "unreachable", "back online",
                 "sign-in needed", "Cache disk full", "rclone restarted", "Recovered",
                 "Changed in two places"):
        assert any(kind in t for t in titles), kind


def test_sign_in_notice_keeps_the_aadsts_code_and_the_way_out(qtbot, shell) -> None:
    reason = ("Microsoft no longer accepts this sign-in (it expired, was already used, or "
              "was revoked — for example after a password change or 90 days without use). "
              "Details: " + "x" * 200 + " (AADSTS50173)")
    feed(shell.controller, MountStatus(NAME, MountState.SIGN_IN_NEEDED, LONG_MP,
                                       error=f"Sign-in needed: {reason} Sign in again."))
    qtbot.waitUntil(lambda: bool(shell.shown.messages))
    title, body = shell.shown.last()
    _fits(title, body)
    assert "(AADSTS50173)" in body and body.startswith("Microsoft no longer accepts")
    # the whole reason is on the account's line in the menu
    shell.tray.menu.aboutToShow.emit()
    line = next(a for a in shell.tray.menu.actions() if a.text().startswith(f"{NAME}: "))
    assert reason in line.toolTip()


@pytest.mark.parametrize("count", [1, 2, 5])
def test_the_tooltip_fits_with_long_names_and_busy_drives(qtbot, shell, count) -> None:
    accounts = shell.ctx.accounts.settings.accounts
    accounts[:] = [FakeAccount(name=f"{NAME[:30]}{i:02d}", mount_point=f"{LONG_MP}{i}")
                   for i in range(count)]
    for a in accounts:
        feed(shell.controller, MountStatus(a.name, MountState.MOUNTED, a.mount_point,
                                           uploads_in_progress=4, uploads_queued=1234,
                                           speed=12.5 * 2**20))
    qtbot.waitUntil(lambda: len(shell.controller.statuses) == count)
    tip = shell.tray.icon.toolTip()
    assert text_len(tip) <= TOOLTIP_MAX, tip
    if count <= 2:  # each account still named, with its state
        for a in accounts:
            assert f"{a.name}: mounted, uploading 1238" in tip
    else:
        assert tip == f"OneDrive GUI, {count} accounts: {count} mounted"


def test_clip_cuts_at_a_word_and_counts_like_windows() -> None:
    assert clip("short", 10) == "short"
    assert clip("one two three four", 12) == "one two…"
    assert text_len("😀") == 2  # outside the BMP: two UTF-16 units
    assert text_len(clip("😀" * 200, NOTIFY_BODY_MAX)) <= NOTIFY_BODY_MAX


# --- clicks -----------------------------------------------------------------------------------


def _click_message(qtbot, shell) -> None:
    shell.tray.icon.messageClicked.emit()
    qtbot.wait(ICON_CLICK_GRACE_MS + 200)


def test_a_later_notice_does_not_take_away_click_to_sign_in(qtbot, shell) -> None:
    opened: list[str] = []
    shell.reauthorize = opened.append
    feed(shell.controller, MountStatus(NAME, MountState.MOUNTED, LONG_MP))
    feed(shell.controller, MountStatus(NAME, MountState.SIGN_IN_NEEDED, LONG_MP,
                                       error="Sign-in needed: (AADSTS50173) Sign in again."))
    qtbot.waitUntil(lambda: any("sign-in needed" in t for t, _b in shell.shown.messages))
    shell.tray.menu.action(f"Mount {OTHER}").trigger()  # "… mounted", without an action
    qtbot.waitUntil(lambda: shell.shown.last()[0] == f"{OTHER} mounted")
    _click_message(qtbot, shell)
    assert opened == [NAME]
    _click_message(qtbot, shell)  # used: a second click does not open it again
    assert opened == [NAME]


def test_a_click_on_the_icon_is_not_taken_for_a_click_on_the_notification(
    qtbot, shell
) -> None:
    """Windows reports a click on the tray icon while a notification shows as a click on
    the notification too, before or after the icon's own click."""
    opened: list[str] = []
    shell.reauthorize = opened.append
    shell.tray.menu.popup = lambda *_a: None  # the menu itself is tested elsewhere
    feed(shell.controller, MountStatus(NAME, MountState.SIGN_IN_NEEDED, LONG_MP,
                                       error="Sign-in needed: (AADSTS50173) Sign in again."))
    qtbot.waitUntil(lambda: bool(shell.shown.messages))
    trigger = shell.tray.icon.ActivationReason.Trigger
    shell.tray.icon.activated.emit(trigger)
    _click_message(qtbot, shell)  # reported right after the icon click
    assert opened == []
    shell.tray.icon.messageClicked.emit()
    shell.tray.icon.activated.emit(trigger)  # reported right before it
    qtbot.wait(ICON_CLICK_GRACE_MS + 200)
    assert opened == []
    _click_message(qtbot, shell)  # a real click on the notification, later
    assert opened == [NAME]


def test_an_elevated_start_is_warned_about(qtbot, shell) -> None:
    from tests.core.test_elevation import RecordedShell32

    shell.warn_if_elevated(platform="linux", shell32=RecordedShell32(1))
    assert shell.shown.messages == []
    shell.warn_if_elevated(platform="win32", shell32=RecordedShell32(1))
    title, body = shell.shown.last()
    _fits(title, body)
    assert title == "Running as administrator" and "not visible in File Explorer" in body


# --- unmount on Windows asks about open files ---------------------------------------------------


@pytest.mark.parametrize("platform", ["win32", "linux"])
def test_unmount_asks_about_open_files_on_windows(qtbot, shell, platform, tmp_path) -> None:
    from tests.core.test_open_files import RecordedRestartManager

    cached = shell.ctx.paths.rclone_cache_dir / "vfs" / NAME / "Offer.docx"
    cached.parent.mkdir(parents=True)
    cached.write_text("x")
    shell.platform = platform
    shell.file_lister = RecordedRestartManager([(4242, "Microsoft Word")])
    asked: list[tuple[str, str, Any]] = []
    answers = [False, True]
    shell.ask_open_files = lambda n, mp, holders: asked.append((n, mp, holders)) or answers.pop(0)
    feed(shell.controller, MountStatus(NAME, MountState.MOUNTED, "Z:"))
    qtbot.waitUntil(lambda: shell.controller.is_mounted(NAME))
    manager = shell.controller.manager
    shell.tray.menu.aboutToShow.emit()
    shell.tray.menu.action(f"Unmount {NAME}").trigger()
    if platform != "win32":  # FUSE refuses to unmount a busy drive by itself
        qtbot.waitUntil(lambda: ("unmount", NAME, "False") in manager.calls)
        assert asked == []
        return
    qtbot.waitUntil(lambda: len(asked) == 1)
    name, mp, holders = asked[0]
    assert (name, mp) == (NAME, "Z:")
    assert [(h.pid, h.app) for h in holders] == [(4242, "Microsoft Word")]
    assert shell.file_lister.asked == [["Z:\\Offer.docx"]]
    qtbot.wait(200)
    assert manager.calls == []  # declined: still mounted
    shell.tray.menu.action(f"Unmount {NAME}").trigger()
    qtbot.waitUntil(lambda: ("unmount", NAME, "False") in manager.calls)


@pytest.mark.parametrize("platform", ["win32", "linux"])
def test_quit_asks_about_open_files_on_windows(qtbot, shell, platform) -> None:
    from tests.core.test_open_files import RecordedRestartManager

    for name in (NAME, OTHER):
        cached = shell.ctx.paths.rclone_cache_dir / "vfs" / name / "Offer.docx"
        cached.parent.mkdir(parents=True)
        cached.write_text("x")
    shell.platform = platform
    shell.file_lister = RecordedRestartManager([(4242, "Microsoft Word")])
    asked: list[tuple[str, str, Any]] = []
    answers = [False, True]
    shell.ask_open_files = lambda n, mp, holders: asked.append((n, mp, holders)) or answers.pop(0)
    quits: list[bool] = []
    shell.quit = lambda **_kw: quits.append(True)
    feed(shell.controller, MountStatus(NAME, MountState.MOUNTED, "Z:"))
    feed(shell.controller, MountStatus(OTHER, MountState.MOUNTED, "Y:\\"))
    qtbot.waitUntil(lambda: shell.controller.is_mounted(OTHER))
    shell.tray.menu.action("Quit").trigger()
    if platform != "win32":
        assert quits == [True] and asked == []
        return
    qtbot.waitUntil(lambda: len(asked) == 1)
    assert asked[0][:2] == ("", "Z:, Y:")
    assert sorted(shell.file_lister.asked[0]) == ["Y:\\Offer.docx", "Z:\\Offer.docx"]
    qtbot.wait(200)
    assert quits == []  # declined
    shell.tray.menu.action("Quit").trigger()
    qtbot.waitUntil(lambda: quits == [True])


def test_the_stand_in_window_shows_notifications_whole(qtbot, fake_ctx) -> None:
    """Without a system tray there is no length limit (and no click): nothing is cut."""
    sh = DesktopShell(fake_ctx, tray_available=False)
    qtbot.addWidget(sh.window)
    text = f"'{LONG_FILE}' could not be written: the disk holding the app's cache is full. " * 3
    sh.notify("Cache disk full", text, "error")
    assert sh.window.notifications.toPlainText() == f"Cache disk full: {text}"
