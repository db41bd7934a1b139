"""The activity window with the real core: wizard-added account → tray → MountController →
MountManager → real rclone and FUSE against the emulated cloud.

A file waiting out a long upload delay is listed and "Upload now" sends it at once; a slow
upload shows its progress; an upload the cloud refuses is listed as failed and "Retry" sends
it once the cloud takes uploads again. The tray's account line tells what is left.
"""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar

from onedrive_gui.ui.shell import DesktopShell
from tests.fakecloud import graph
from tests.ui.test_gui_mount import add_in_wizard
from tests.ui.test_wizard_fakecloud import SLOW


def _row(win, path):  # type: ignore[no-untyped-def]
    return win.row_of(path)


def _select(qtbot, win, path):  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: _row(win, path) is not None, timeout=SLOW)
    win.uploads.setCurrentItem(_row(win, path))


def test_activity_window_upload_now_progress_and_retry(qtbot, real_ctx, fakecloud, tmp_path):
    name, mnt = add_in_wizard(qtbot, real_ctx, tmp_path)
    accounts = real_ctx.accounts
    account = accounts.account(name)
    # Settings → Performance: uploads wait 10 minutes; a slow line (100 KB/s)
    accounts.update_account(replace(account, options=replace(
        account.options, write_back="10m", bwlimit="100k")))
    drive = real_ctx.defaults.drive_id

    shell = DesktopShell(real_ctx, tray_available=True)
    notes: list[tuple[str, str]] = []
    shell.surface.notify = lambda t, x, level="info", on_click=None: notes.append((t, x))
    controller = real_ctx.mounts
    failures: list[object] = []
    controller.failed.connect(lambda n, err: failures.append(err))
    shell.mount(name)
    qtbot.waitUntil(lambda: bool(failures) or (
        controller.status(name) is not None
        and controller.status(name).state.name == "MOUNTED"), timeout=SLOW)
    assert not failures, failures

    menu = shell.tray.menu
    menu.rebuild()
    menu.action("Activity…").trigger()
    win = shell.activity_window
    assert win is not None and win.isVisible()
    qtbot.waitUntil(lambda: win.reads > 0, timeout=SLOW)
    assert win.totals.text() == "Nothing to upload: everything is in the cloud."

    # 1. a file waits out its delay; Upload now sends it at once
    (mnt / "Documents" / "report.txt").write_bytes(b"quarterly report\n" * 100)
    _select(qtbot, win, "Documents/report.txt")
    row = _row(win, "Documents/report.txt")
    assert row.text(2).startswith("waiting ") and row.text(2).endswith(" min")
    assert row.text(1) == "1.7 KB"
    assert win.totals.text().startswith("1 file to upload, 1.7 KB left")
    # the tray's line for the account, read fresh when the menu opens
    menu.aboutToShow.emit()
    qtbot.waitUntil(lambda: any("uploading 1 file (1.7 KB left)" in t
                                for t in menu.action_texts()), timeout=SLOW)
    assert win.upload_now_button.isEnabled() and not win.retry_button.isEnabled()
    assert win.open_button.isEnabled()
    qtbot.mouseClick(win.upload_now_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fakecloud.get_file(drive, "/Documents/report.txt")
                    == b"quarterly report\n" * 100, timeout=30_000)  # not 10 minutes
    qtbot.waitUntil(lambda: _row(win, "Documents/report.txt") is None, timeout=SLOW)

    # 2. a slow upload shows its progress, speed and time left
    data = os.urandom(700 * 1024)
    (mnt / "big.bin").write_bytes(data)
    qtbot.waitUntil(lambda: _row(win, "big.bin") is not None, timeout=SLOW)
    qtbot.mouseClick(win.upload_all_button, Qt.MouseButton.LeftButton)

    def bar():  # type: ignore[no-untyped-def]
        r = _row(win, "big.bin")
        w = win.uploads.itemWidget(r, 3) if r is not None else None
        return w if isinstance(w, QProgressBar) and 0 < w.value() < 1000 else None

    qtbot.waitUntil(lambda: bar() is not None, timeout=SLOW)
    r = _row(win, "big.bin")
    assert r.text(2) == "uploading" and r.text(4).endswith("/s") and r.text(5)
    assert "KB left, " in win.totals.text() and win.totals.text().endswith("/s")
    qtbot.waitUntil(lambda: fakecloud.get_file(drive, "/big.bin") == data, timeout=SLOW)

    # 3. the cloud refuses uploads for a while: the file is listed as failed; Retry sends it
    controller.set_limits(name, {**account.options.global_flags(), "BwLimit": "off"})
    fakecloud.throttle(10_000, status=503, retry_after=0, host=graph.UPLOAD_HOST,
                       path_prefix="/")
    video = os.urandom(5 * 1024 * 1024)  # an upload session on the upload host
    (mnt / "video.bin").write_bytes(video)
    _select(qtbot, win, "video.bin")
    qtbot.mouseClick(win.upload_now_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _row(win, "video.bin") is not None
                    and _row(win, "video.bin").text(2).startswith("retrying in "),
                    timeout=120_000)
    assert _row(win, "video.bin").text(2).endswith(" after an error")
    win.uploads.setCurrentItem(_row(win, "video.bin"))
    assert win.retry_button.isEnabled()
    assert fakecloud.get_file(drive, "/video.bin") is None
    with fakecloud.state.lock:  # the cloud takes uploads again
        fakecloud.state.throttles.clear()
    qtbot.mouseClick(win.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fakecloud.get_file(drive, "/video.bin") == video, timeout=60_000)
    qtbot.waitUntil(lambda: win.totals.text().startswith("Nothing to upload"), timeout=SLOW)

    # closed: no reading any more
    win.close()
    reads = win.reads
    qtbot.wait(1500)
    assert win.reads == reads and not win.timer.isActive()
