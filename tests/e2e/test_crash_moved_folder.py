"""The app killed while it copies a cloud edit into a folder moved in the cloud (issue 23,
"uploads that lose nothing").

Through the command line, as tests/e2e/test_crash_held_uploads.py: ``onedrive-gui mount``;
a file is edited here while another device moves its folder into another folder and edits
it there; the app's check copies the cloud's version beside it (a server-side copy the cloud
holds "in progress") when the app and its rclone are killed (SIGKILL); the cloud finishes
the copy. ``onedrive-gui mount`` again: neither edit is lost, none is kept twice.
"""

from __future__ import annotations

import os
import signal

from tests.e2e.cli_helpers import add_account, cli_env, force_unmount, wait_for
from tests.e2e.test_accounts_cli import Proc, cloud  # noqa: F401 - fixture
from tests.e2e.test_crash_held_uploads import _rclone_pids_of

LOCAL = b"plan v1\nmy paragraph\n"
CLOUD_EDIT = b"plan v1\ncolleague's paragraph\n"


def _contents(fakecloud, drive_id: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    return [data for p in fakecloud.list_paths(drive_id)
            if not p.endswith("/") and (data := fakecloud.get_file(drive_id, p))]


def test_app_killed_while_a_cloud_edit_is_copied_into_a_moved_folder(
        fakecloud, cloud, app_home, tmp_path):  # noqa: F811
    env = cli_env(fakecloud.env())
    mnt = tmp_path / "mnt" / "work"
    add_account(env, cloud, "work", mnt, write_back="2s")
    fakecloud.put_file(cloud.drive_id, "/Documents/Project/plan.txt", b"plan v1\n")
    fakecloud.make_folder(cloud.drive_id, "/Archive")

    first = Proc(["mount", "work"], env)
    second = None
    try:
        wait_for(lambda: "Mounted 'work'" in first.text() or first.p.poll() is not None, 60)
        assert first.p.poll() is None, first.text()
        plan = mnt / "Documents" / "Project" / "plan.txt"
        assert plan.read_bytes() == b"plan v1\n"
        fakecloud.hold_copies()
        plan.write_bytes(LOCAL)
        fakecloud.move_path(cloud.drive_id, "/Documents/Project", "/Archive/Project")
        fakecloud.put_file(cloud.drive_id, "/Archive/Project/plan.txt", CLOUD_EDIT)
        wait_for(lambda: fakecloud.held_copies(), 60)  # the check copies the cloud's edit

        rclones = _rclone_pids_of(first.p.pid)
        assert rclones, "the app's rclone was not found"
        first.p.send_signal(signal.SIGKILL)
        for pid in rclones:
            os.kill(pid, signal.SIGKILL)
        first.p.wait(10)
        fakecloud.finish_copies()  # the cloud copies on, whatever became of the client
        fakecloud.hold_copies(False)
        assert fakecloud.get_file(cloud.drive_id, "/Archive/Project/plan.txt") == CLOUD_EDIT

        second = Proc(["mount", "work"], env)
        wait_for(lambda: "Mounted 'work'" in second.text() or second.p.poll() is not None, 60)
        assert second.p.poll() is None, second.text()
        wait_for(lambda: LOCAL in _contents(fakecloud, cloud.drive_id), 120)
        second.p.send_signal(signal.SIGINT)  # Ctrl-C: waits for the uploads, then stops
        assert second.p.wait(120) == 0, second.text()
        everything = _contents(fakecloud, cloud.drive_id)
        assert everything.count(LOCAL) == 1 and everything.count(CLOUD_EDIT) == 1, (
            fakecloud.list_paths(cloud.drive_id))
    finally:
        for proc in (first, second):
            if proc is not None and proc.p.poll() is None:
                proc.p.kill()
        force_unmount(mnt)
