"""The log view as a user sees it: "View log" in the tray menu, the app's and rclone's lines,
level filter, search, live while open, and "Copy diagnostics" on the clipboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from onedrive_gui.ui.mount_controller import MountController
from onedrive_gui.ui.shell import DesktopShell
from tests.ui.fakes import FakeAccount
from tests.ui.test_tray import FakeManager

APP_LINES = (
    "2026-11-30 05:00:01,100 INFO onedrive_gui.core.drives.mounts: work: mounted on "
    "/home/a/OneDrive\n"
    "2026-11-30 05:00:05,000 ERROR onedrive_gui.ui.tasks: unexpected error in a background task\n"
    "Traceback (most recent call last):\n"
    "ValueError: broken\n"
)
RCLONE_LINES = (
    "2026/11/30 05:00:02 INFO  : vfs cache: cleaned: objects 3 (was 3) in use 0\n"
    "2026/11/30 05:00:03 ERROR : report.docx: Failed to copy: upload failed\n"
    "2026/11/30 05:00:04 DEBUG : pacer: Too many requests. Trying again in 2 seconds.\n"
)


@pytest.fixture
def shell(qtbot, fake_ctx, tmp_path: Path):  # type: ignore[no-untyped-def]
    fake_ctx.accounts.settings.accounts.append(
        FakeAccount(name="work", mount_point=str(tmp_path / "OneDrive" / "work")))
    controller = MountController(fake_ctx.accounts)
    controller.manager = FakeManager()
    fake_ctx.mounts = controller
    log_dir = fake_ctx.paths.log_dir
    log_dir.mkdir(parents=True)
    (log_dir / "onedrive-gui.log").write_text(APP_LINES, encoding="utf-8")
    (log_dir / "rclone.log").write_text(RCLONE_LINES, encoding="utf-8")
    sh = DesktopShell(fake_ctx, tray_available=True)
    yield sh
    if sh.log_window is not None:
        sh.log_window.close()


def _open(qtbot, shell):  # type: ignore[no-untyped-def]
    menu = shell.surface.menu
    menu.aboutToShow.emit()
    menu.action("View log").trigger()
    win = shell.log_window
    qtbot.waitUntil(lambda: win.isVisible() and bool(win.lines))
    return win


def test_view_log_shows_app_and_rclone_lines_in_time_order(qtbot, shell) -> None:
    win = _open(qtbot, shell)
    text = win.view.toPlainText().splitlines()
    assert text[0].startswith("2026-11-30 05:00:01 INFO    [app] onedrive_gui.core.drives.mounts")
    assert "[rclone] vfs cache: cleaned" in text[1]
    assert "[rclone] report.docx: Failed to copy" in text[2]
    assert "[app] onedrive_gui.ui.tasks: unexpected error" in text[3]
    assert text[4:] == ["Traceback (most recent call last):", "ValueError: broken"]
    assert not any("Too many requests" in t for t in text)  # debug: hidden by default
    assert win.count.text() == "4 of 5 lines"


def test_level_filter_and_search(qtbot, shell) -> None:
    win = _open(qtbot, shell)
    win.level.setCurrentIndex(0)  # Errors
    shown = win.view.toPlainText()
    assert "report.docx: Failed to copy" in shown and "unexpected error" in shown
    assert "mounted on" not in shown and "vfs cache" not in shown
    win.level.setCurrentIndex(3)  # Everything (debug)
    assert "Too many requests" in win.view.toPlainText()
    win.search.setText("DOCX")
    assert win.view.toPlainText() == (
        "2026-11-30 05:00:03 ERROR   [rclone] report.docx: Failed to copy: upload failed")
    win.search.clear()
    win.source.setCurrentIndex(1)  # App only
    assert "[rclone]" not in win.view.toPlainText()


def test_new_lines_appear_while_open_and_nothing_is_read_while_closed(qtbot, shell) -> None:
    win = _open(qtbot, shell)
    with open(shell.ctx.paths.log_dir / "rclone.log", "a", encoding="utf-8") as f:
        f.write("2026/11/30 05:00:09 ERROR : new.txt: Failed to copy: quota exceeded\n")
    qtbot.waitUntil(lambda: "new.txt: Failed to copy" in win.view.toPlainText(), timeout=5000)

    win.close()
    assert not win.timer.isActive()
    seen = len(win.lines)
    with open(shell.ctx.paths.log_dir / "rclone.log", "a", encoding="utf-8") as f:
        f.write("2026/11/30 05:00:10 ERROR : later.txt: Failed\n")
    qtbot.wait(2500)  # more than two refresh periods: a closed window reads nothing
    assert len(win.lines) == seen
    shell.view_log()  # opened again: the same window, up to date
    assert shell.log_window is win
    qtbot.waitUntil(lambda: "later.txt" in win.view.toPlainText(), timeout=5000)


def test_copy_diagnostics(qtbot, shell) -> None:
    win = _open(qtbot, shell)
    QGuiApplication.clipboard().clear()
    win.copy_button.click()
    qtbot.waitUntil(lambda: "## Versions" in QGuiApplication.clipboard().text(),
                    timeout=15000)
    text = QGuiApplication.clipboard().text()
    assert "rclone: v1.75.2" in text  # the rclone the app runs, asked in a worker
    assert "work: not mounted" in text
    assert "3f1c…1a44" in text and "3f1c2b7a-9d4e-4c61" not in text
    assert "alice@outlook.com" not in text and "a***@outlook.com" in text
    assert "report.docx: Failed to copy" in text
    assert win.copy_button.text() == "Copied"
