"""Windows with WinFsp, as a user has it: the command line mounts an account on a drive
letter, a file written there reaches the (emulated) OneDrive when the mount is stopped with
Ctrl-Break, which waits for the upload; and after a crash — the `mount` process killed while
its rclone (which outlives it on Windows) still holds the drive with an upload pending — the
next `mount` stops that rclone over rc, mounts again and uploads the file.

Real processes throughout: this Python's onedrive_gui, or the frozen onedrive-gui-cli.exe
(ONEDRIVE_GUI_E2E_CLI, the Windows workflow runs both), the real rclone and WinFsp, Windows
Credential Manager, the emulated cloud trusted through the machine's Root store. Runs only
where WinFsp is installed (the Windows workflow installs it; missing there is a failure,
not a skip); elsewhere it is skipped, saying so. Linux runs the same paths on FUSE:
tests/e2e/test_accounts_cli.py and tests/e2e/test_crash_recovery.py.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.e2e.cli_helpers import add_account, cli_env, is_mounted, wait_for
from tests.e2e.test_accounts_cli import Proc
from tests.stand_ins import kill_hard

pytestmark = pytest.mark.e2e


@pytest.fixture
def cloud(fakecloud, app_home):  # type: ignore[no-untyped-def]
    return fakecloud.setup_default()


@pytest.fixture
def drive_letter() -> Iterator[str]:
    """A free drive letter on a Windows with WinFsp."""
    if sys.platform != "win32":
        pytest.skip("WinFsp is not installed (drive letters are Windows'; Linux runs the same "
                    "paths on FUSE: test_accounts_cli.py, test_crash_recovery.py)")
    from onedrive_gui.core.drives.mountpoints import free_drive_letters
    from onedrive_gui.core.drives.mounts import check_mount_support
    from onedrive_gui.core.errors import MountError

    try:
        check_mount_support()
    except MountError as exc:
        if in_ci():  # the workflow installs WinFsp: its absence is a broken run
            pytest.fail(f"WinFsp missing on the runner: {exc.message}")
        pytest.skip(f"WinFsp is not installed: {exc.message}")
    letters = free_drive_letters()
    assert letters, "no free drive letter"
    yield letters[0]
    assert not is_mounted(Path(letters[0])), f"{letters[0]} still mounted after the test"


def _mounted(proc: Proc, timeout: float = 120) -> None:
    wait_for(lambda: "Mounted 'work'" in proc.text() or proc.p.poll() is not None, timeout)
    assert proc.p.poll() is None, proc.text()


def _end(*procs: Proc | None) -> None:
    for proc in procs:
        if proc is not None and proc.p.poll() is None:
            proc.p.kill()
            proc.p.wait(30)


def test_mount_on_a_drive_letter_write_and_stop_safely(fakecloud, cloud, app_home,
                                                       drive_letter):
    env = cli_env(fakecloud.env())
    add_account(env, cloud, "work", Path(drive_letter))
    root = Path(drive_letter + "\\")
    mount = Proc(["mount", "work"], env)
    try:
        _mounted(mount)
        assert is_mounted(Path(drive_letter))
        assert (root / "Documents" / "hello.txt").read_bytes() == b"hello from the cloud\n"
        data = os.urandom(3 * 2**20)
        (root / "notes.bin").write_bytes(data)
        (root / "Documents" / "report.txt").write_text("written on Windows\n", encoding="utf-8")
        mount.interrupt()  # Ctrl-Break: the unmount waits for the uploads
        assert mount.p.wait(180) == 0, mount.text()
    finally:
        _end(mount)
    assert "Unmounted 'work'" in mount.text(), mount.text()
    assert not is_mounted(Path(drive_letter))
    assert fakecloud.get_file(cloud.drive_id, "/notes.bin") == data
    assert fakecloud.get_file(cloud.drive_id, "/Documents/report.txt") == (
        b"written on Windows\n")


def test_killed_with_pending_upload_is_recovered_on_next_start(
        fakecloud, cloud, app_home, drive_letter):
    from onedrive_gui.core.drives.mountpoints import normalize_drive_letter
    from onedrive_gui.core.drives.recovery import pid_alive
    from onedrive_gui.core.system.paths import AppPaths

    env = cli_env(fakecloud.env())
    # Upload delay 60 s (Settings → Performance): the file is still pending when it dies
    add_account(env, cloud, "work", Path(drive_letter), write_back="60s")
    root = Path(drive_letter + "\\")
    sessions = AppPaths.default().sessions_dir
    first = Proc(["mount", "work"], env)
    second = None
    try:
        _mounted(first)
        data = os.urandom(200_000)
        (root / "unsaved-work.bin").write_bytes(data)
        record = json.loads((sessions / f"{first.p.pid}.json").read_text(encoding="utf-8"))
        rclone_pid = record["rcd_pid"]
        assert {k: normalize_drive_letter(v) for k, v in record["mounts"].items()} == {
            "work": drive_letter}

        kill_hard(first.p.pid)  # the app dies; nothing runs its clean-up
        first.p.wait(30)
        # its rclone outlives it and still holds the drive, the upload not done
        assert pid_alive(rclone_pid) and is_mounted(Path(drive_letter))
        assert fakecloud.get_file(cloud.drive_id, "/unsaved-work.bin") is None

        second = Proc(["mount", "work"], env)
        _mounted(second)
        text = second.text()
        assert "The app had stopped unexpectedly while drives were mounted." in text
        assert ("'work' is mounted again; 1 file(s) written before the stop are being "
                "uploaded now.") in text
        assert not pid_alive(rclone_pid)  # asked to quit over rc (it unmounted itself)
        wait_for(lambda: fakecloud.get_file(cloud.drive_id, "/unsaved-work.bin") == data, 60)
        assert (root / "unsaved-work.bin").read_bytes() == data

        second.interrupt()
        assert second.p.wait(120) == 0, second.text()
        assert not list(sessions.glob("*.json"))  # a clean stop leaves no record
    finally:
        _end(first, second)
