"""The tray as a user sees it: icon, tooltip and menu follow the mounts' live state."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from onedrive_gui.core.drives import mounts
from onedrive_gui.core.drives.conflicts import Conflict, ConflictLog
from onedrive_gui.ui.mount_controller import MountController
from onedrive_gui.ui.shell import DesktopShell
from tests.ui.fakes import FakeAccount

MountState, MountStatus = mounts.MountState, mounts.MountStatus


class FakeManager:
    def __init__(self) -> None:
        from onedrive_gui.core.drives.conflicts import ConflictLog

        self.calls: list[tuple[str, ...]] = []
        self.shut = False
        self.conflicts = ConflictLog()

    def mount(self, name, fs, mount_point, mount_opt, vfs_opt, config=None):
        self.calls.append(("mount", name, mount_point))
        return MountStatus(name, MountState.MOUNTED, mount_point)

    def unmount(self, name, *, force=False):
        self.calls.append(("unmount", name, str(force)))

    def wait_for_uploads(self, name, timeout=None, on_progress=None):
        self.calls.append(("wait", name))
        return True

    def upload_now(self, name, path=None):
        self.calls.append(("upload now", name))

    def shutdown(self, upload_timeout=None):
        self.shut = True

    def recheck(self, name=None):
        self.calls.append(("recheck", name or ""))

    def activity(self, name):
        from onedrive_gui.core.drives.activity import Activity

        return getattr(self, "activities", {}).get(name, Activity(name))


@pytest.fixture
def shell(qtbot, fake_ctx, tmp_path: Path):
    fake_ctx.accounts.settings.accounts.append(
        FakeAccount(name="work", mount_point=str(tmp_path / "OneDrive" / "work")))
    controller = MountController(fake_ctx.accounts)
    controller.manager = FakeManager()
    fake_ctx.mounts = controller
    sh = DesktopShell(fake_ctx, tray_available=True)
    # Windows asks about open files before Unmount / Quit: tested in test_notifications.py
    sh.platform = "linux"
    sh.notes = []
    sh.surface.notify = lambda title, text, level="info", on_click=None: sh.notes.append(
        (title, text, level, on_click) if on_click else (title, text, level))
    return sh


def feed(controller: MountController, status) -> None:
    """Deliver a status the way MountManager does: from its own monitor thread."""
    t = threading.Thread(target=controller.on_change, args=(status,))
    t.start()
    t.join()


def test_tray_follows_mount_state(qtbot, shell, tmp_path):
    tray, controller = shell.tray, shell.controller
    assert tray.state == "idle"
    assert tray.icon.toolTip() == "work: not mounted"
    tray.menu.aboutToShow.emit()
    assert "Mount work" in tray.menu.action_texts()
    assert "Open work in file manager" not in tray.menu.action_texts()  # nothing mounted
    line = tray.menu.action("work: not mounted")
    assert line.isEnabled() and line.font().bold()  # not greyed out as if unavailable

    mp = str(Path.home() / "OneDrive" / "work")
    feed(controller, MountStatus("work", MountState.MOUNTED, mp, uploads_in_progress=2,
                                 uploads_queued=1, speed=2.1 * 2**20))
    qtbot.waitUntil(lambda: tray.state == "uploading")
    assert tray.icon.toolTip() == ("work: mounted on ~/OneDrive/work, uploading 3 files, "
                                   "2.1 MB/s")
    tray.menu.aboutToShow.emit()
    texts = tray.menu.action_texts()
    assert "Unmount work" in texts and "Mount work" not in texts
    assert tray.menu.action("Open work in file manager").isEnabled()
    assert texts[-5:] == ["Add account…", "Settings…", "Activity…", "View log", "Quit"]

    feed(controller, MountStatus("work", MountState.THROTTLED, mp, retry_after=30))
    qtbot.waitUntil(lambda: tray.state == "throttled")
    assert shell.notes[-1][0] == "work: slowed down by Microsoft"
    assert "30 s" in shell.notes[-1][1]

    feed(controller, MountStatus("work", MountState.ERROR, mp, error="rclone died"))
    qtbot.waitUntil(lambda: tray.state == "error")
    tray.menu.aboutToShow.emit()
    assert "Mount work again" in tray.menu.action_texts()
    assert "rclone died" in tray.icon.toolTip()


def test_offline_and_sign_in_needed_are_shown_and_offer_the_way_out(qtbot, shell):
    tray, controller = shell.tray, shell.controller
    mp = str(Path.home() / "OneDrive" / "work")
    feed(controller, MountStatus("work", MountState.MOUNTED, mp))
    feed(controller, MountStatus("work", MountState.OFFLINE, mp, uploads_queued=1,
                                 error=mounts.OFFLINE_TEXT))
    qtbot.waitUntil(lambda: tray.state == "throttled")
    assert tray.icon.toolTip() == ("work: offline — changes upload when OneDrive is reachable "
                                   "again, uploading 1 file")
    assert shell.notes[-1][:3] == (
        "work: OneDrive unreachable", "Files already on this computer stay readable; changes "
        "are uploaded when the connection is back.", "warning")
    tray.menu.aboutToShow.emit()
    assert tray.menu.action("Open work in file manager").isEnabled()  # still mounted
    feed(controller, MountStatus("work", MountState.MOUNTED, mp))
    qtbot.waitUntil(lambda: tray.state == "mounted")
    assert shell.notes[-1][0] == "work: back online"

    feed(controller, MountStatus("work", MountState.SIGN_IN_NEEDED, mp, error=(
        "Sign-in needed: Microsoft no longer accepts this sign-in (AADSTS50173) Sign in again.")))
    qtbot.waitUntil(lambda: tray.state == "error")
    title, text, level, on_click = shell.notes[-1]
    assert (title, level) == ("work: sign-in needed", "error")
    assert text.startswith("Microsoft no longer accepts this sign-in (AADSTS50173)")
    tray.menu.aboutToShow.emit()
    texts = tray.menu.action_texts()
    assert "Sign in to work again…" in texts and "Unmount work" in texts
    opened: list[str] = []
    shell.reauthorize = opened.append  # the dialog itself is tested with the real cloud
    tray.menu.action("Sign in to work again…").trigger()
    assert opened == ["work"]
    on_click()  # clicking the notification does the same
    assert opened == ["work", "work"]


@pytest.mark.parametrize(("kind", "title", "level"), [
    ("rcd-restarted", "rclone restarted", "warning"),
    ("recovered", "Recovered after a crash", "warning"),
    ("cache-full", "Cache disk full", "error"),
])
def test_what_happened_to_rclone_is_told(qtbot, shell, kind, title, level):
    t = threading.Thread(target=shell.controller.on_event, args=(kind, "what happened"))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: bool(shell.notes))
    assert shell.notes[-1][:3] == (title, "what happened", level)
    shell.notes[-1][3]()  # a click shows what is left to upload
    assert shell.activity_window is not None and shell.activity_window.isVisible()
    shell.activity_window.close()


def test_unmount_with_pending_uploads_asks_with_count(qtbot, shell):
    controller = shell.controller
    feed(controller, MountStatus("work", MountState.MOUNTED, "/m", uploads_queued=4))
    qtbot.waitUntil(lambda: controller.pending_uploads("work") == 4)
    asked: list[int] = []
    shell.ask_pending_unmount = lambda name, count: asked.append(count) or "wait"
    shell.tray.menu.aboutToShow.emit()
    shell.tray.menu.action("Unmount work").trigger()
    assert asked == [4]
    qtbot.waitUntil(lambda: ("unmount", "work", "False") in controller.manager.calls)
    # held files are checked and released at once, then waited for (issue 23)
    assert controller.manager.calls[:2] == [("upload now", "work"), ("wait", "work")]


def test_quit_with_pending_uploads_can_be_declined(qtbot, shell):
    controller = shell.controller
    feed(controller, MountStatus("work", MountState.MOUNTED, "/m", uploads_in_progress=2))
    qtbot.waitUntil(lambda: controller.pending_uploads() == 2)
    asked: list[int] = []
    shell.ask_pending_quit = lambda count: asked.append(count) or False
    shell.tray.menu.action("Quit").trigger()
    assert asked == [2]
    assert not controller.manager.shut


def test_mount_from_menu_notifies(qtbot, shell, tmp_path):
    shell.tray.menu.action("Mount work").trigger()
    qtbot.waitUntil(lambda: any(n[0] == "work mounted" for n in shell.notes))
    assert shell.controller.manager.calls[0][:2] == ("mount", "work")
    assert shell.tray.state == "mounted"


def test_reminder_for_expiring_secret(qtbot, shell):
    from datetime import date, timedelta

    a = shell.ctx.accounts.settings.accounts[0]
    a.secret_expires = date.today() + timedelta(days=10)
    shell.check_reminders()
    assert shell.notes[-1][0] == "work: secret expires in 10 days"


def test_fallback_window_when_no_tray(qtbot, fake_ctx):
    sh = DesktopShell(fake_ctx, tray_available=False)
    qtbot.addWidget(sh.window)
    assert sh.tray is None
    sh.window.show()
    assert "no system tray" in sh.window.centralWidget().findChildren(
        type(sh.window.status))[0].text()
    sh.window.menu.aboutToShow.emit()
    assert "Add account…" in sh.window.menu.action_texts()


def test_the_tray_survives_hours_of_status_updates(qtbot, shell):
    """PySide6 6.12.0 on Python 3.11 dropped a reference to None on each Qt call returning
    nothing (setToolTip, setEnabled…): a tray running for hours died with "none_dealloc"."""
    import sys

    tray, controller = shell.tray, shell.controller
    before = sys.getrefcount(None)
    for i in range(500):  # a few minutes of live statistics
        controller._apply_status(MountStatus("work", MountState.MOUNTED, "/m",
                                             uploads_queued=i % 3, speed=float(i)))
        tray.menu.rebuild()
    assert sys.getrefcount(None) - before > -100  # was -4,000 with the broken binding


class _UrlRecorder(QObject):
    """Takes file:// URLs through Qt's own hook (QDesktopServices.setUrlHandler)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())


def test_conflict_notice_names_both_files_and_opens_their_folder(qtbot, shell, tmp_path):
    folder = tmp_path / "OneDrive" / "work" / "Documents"
    conflict = Conflict("work", "Documents/notes.txt",
                        "Documents/notes (conflict from the cloud, 2026-11-30 14.05).txt",
                        str(folder), 0.0)
    shell.controller.manager.conflicts = ConflictLog()
    shell.controller.manager.conflicts.add(conflict)
    t = threading.Thread(target=shell.controller.on_event, args=("conflict", conflict.text()))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: bool(shell.notes))
    title, text, level, on_click = shell.notes[-1]
    assert len(title) <= 63 and "both kept" in title and level == "warning"
    assert "“notes.txt”" in text and "“notes (conflict from the cloud, 2026-11-30 14.05).txt”" \
        in text and len(text) <= 255
    recorder = _UrlRecorder()
    QDesktopServices.setUrlHandler("file", recorder, "open")
    try:
        on_click()  # "Open both"
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert recorder.urls == [str(folder)]


def test_account_line_says_what_is_left_read_when_the_menu_opens(qtbot, shell, tmp_path):
    from onedrive_gui.core.drives.activity import UPLOADING, WAITING, Activity, Upload

    tray, controller = shell.tray, shell.controller
    mp = str(tmp_path / "OneDrive" / "work")
    # the monitor's last look saw nothing pending (it looks at an idle drive every 5 s)
    feed(controller, MountStatus("work", MountState.MOUNTED, mp))
    qtbot.waitUntil(lambda: tray.state == "mounted")
    controller.manager.activities = {"work": Activity("work", (
        Upload("work", "a.bin", 10 * 2**20, UPLOADING, done=2 * 2**20, speed=2**20),
        Upload("work", "b.txt", 2 * 2**20, WAITING, due_in=4.0),
        Upload("work", "c.txt", 2 * 2**20, WAITING, due_in=4.0)))}
    tray.menu.aboutToShow.emit()
    qtbot.waitUntil(lambda: any("uploading 3 files (12.0 MB left), 1.0 MB/s" in t
                                for t in tray.menu.action_texts()))

    tray.menu.action("Activity…").trigger()
    win = shell.activity_window
    assert win is not None and win.isVisible()
    qtbot.waitUntil(lambda: win.row_of("b.txt") is not None)
    assert win.totals.text() == "3 files to upload, 12.0 MB left, 1.0 MB/s"
    assert win.row_of("a.bin").text(2) == "uploading"
    assert win.row_of("b.txt").text(2) == "waiting 4 s"
    win.close()

    controller.manager.activities = {}  # all uploaded
    tray.menu.aboutToShow.emit()
    qtbot.waitUntil(lambda: not any("uploading" in t for t in tray.menu.action_texts()))


def test_reading_ahead_shows_in_the_account_line_and_the_activity_window(qtbot, shell, tmp_path):
    from onedrive_gui.core.drives.activity import Activity
    from onedrive_gui.core.drives.indexing import INDEXING, SKIPPED, IndexStatus

    tray, controller = shell.tray, shell.controller
    feed(controller, MountStatus("work", MountState.MOUNTED, str(tmp_path / "OneDrive" / "work")))
    qtbot.waitUntil(lambda: tray.state == "mounted")
    controller.manager.activities = {"work": Activity(
        "work", index=IndexStatus("work", INDEXING, items=12_345, limit=200_000))}
    tray.menu.aboutToShow.emit()
    qtbot.waitUntil(lambda: any(t.startswith("work: mounted") and
                                t.endswith(" — Indexing 12,345 items…")
                                for t in tray.menu.action_texts()))
    tray.menu.action("Activity…").trigger()
    win = shell.activity_window
    qtbot.waitUntil(lambda: win.uploads.topLevelItemCount() == 1
                    and "Indexing 12,345 items…" in win.uploads.topLevelItem(0).text(0))
    # a drive over the limit: the window says why its folders are listed one by one
    controller.manager.activities = {"work": Activity(
        "work", index=IndexStatus("work", SKIPPED, items=350_000, limit=200_000))}
    qtbot.waitUntil(lambda: "more than the limit of 200,000" in
                    win.uploads.topLevelItem(0).text(0), timeout=5000)
    win.close()
    tray.menu.aboutToShow.emit()  # not reading ahead: the line says nothing about it
    qtbot.waitUntil(lambda: "work: mounted on" in " ".join(tray.menu.action_texts())
                    and not any("Indexing" in t or "limit" in t
                                for t in tray.menu.action_texts()))


def test_the_menu_stays_on_screen_when_its_lines_grow(qtbot, shell, tmp_path):
    """Opened at the screen's right edge (the tray), the menu keeps within the screen when
    the uploads read after it opened make an account's line longer."""
    from PySide6.QtCore import QPoint

    from onedrive_gui.core.drives.activity import UPLOADING, Activity, Upload

    tray, controller = shell.tray, shell.controller
    mp = str(tmp_path / "OneDrive" / "work")
    feed(controller, MountStatus("work", MountState.MOUNTED, mp))
    qtbot.waitUntil(lambda: tray.state == "mounted")
    controller.manager.activities = {"work": Activity("work", tuple(
        Upload("work", f"file-{i}.bin", 300 * 2**20, UPLOADING, done=2**20, speed=2**20)
        for i in range(40)))}
    menu = tray.menu
    area = menu.screen().availableGeometry()
    menu.popup(QPoint(area.right() - 10, area.top() + 10))  # placed for its short lines
    qtbot.waitUntil(lambda: any("uploading 40 files" in t for t in menu.action_texts()))
    qtbot.waitUntil(lambda: menu.geometry().right() <= area.right())
    assert area.contains(menu.geometry()), (menu.geometry(), area)
    menu.hide()
