"""The app killed (SIGKILL) with uploads pending: the next start cleans up and uploads them.

Real processes throughout: the CLI ``mount`` is killed like a crashed app; its rclone dies
with it (its log pipe breaks) and leaves a stale FUSE mount and a file not yet uploaded in
the VFS cache. The next ``mount`` must find that, detach the stale mount, mount on the same
cache and get the file to the (emulated) OneDrive, and say what happened.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
from pathlib import Path

import pytest

from onedrive_gui.core.system.paths import AppPaths
from tests.e2e.cli_helpers import add_account, cli_env, force_unmount, is_mounted, wait_for
from tests.e2e.test_accounts_cli import Proc, cloud  # noqa: F401 - fixture


def _stale(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == 107  # ENOTCONN: "Transport endpoint is not connected"
    return False


def test_killed_with_pending_upload_is_recovered_on_next_start(fakecloud, cloud, app_home,  # noqa: F811
                                                                 tmp_path):
    env = cli_env(fakecloud.env())
    mnt = tmp_path / "mnt" / "work"
    # Upload delay 60 s (Settings → Performance): the file is still pending when we kill
    add_account(env, cloud, "work", mnt, write_back="60s")
    sessions = AppPaths.default().sessions_dir

    first = Proc(["mount", "work"], env)
    second = None
    try:
        wait_for(lambda: "Mounted 'work'" in first.text() or first.p.poll() is not None, 60)
        assert first.p.poll() is None, first.text()
        data = os.urandom(200_000)
        (mnt / "unsaved-work.bin").write_bytes(data)
        record = sessions / f"{first.p.pid}.json"
        assert stat.S_IMODE(record.stat().st_mode) == 0o600
        rec = json.loads(record.read_text())
        assert rec["mounts"] == {"work": str(mnt)} and isinstance(rec["rcd_pid"], int)
        assert cloud.secret not in record.read_text()

        first.p.send_signal(signal.SIGKILL)  # the app dies; nothing runs its clean-up
        first.p.wait(10)
        wait_for(lambda: _stale(mnt), 30)  # its rclone died too: a broken mount is left
        assert fakecloud.get_file(cloud.drive_id, "/unsaved-work.bin") is None

        second = Proc(["mount", "work"], env)
        wait_for(lambda: "Mounted 'work'" in second.text() or second.p.poll() is not None, 60)
        assert second.p.poll() is None, second.text()
        text = second.text()
        assert "The app had stopped unexpectedly while drives were mounted." in text
        assert f"Broken mounts were removed from {mnt}." in text
        assert ("'work' is mounted again; 1 file(s) written before the stop are being "
                "uploaded now.") in text
        # uploaded at once, not after the 60 s upload delay
        wait_for(lambda: fakecloud.get_file(cloud.drive_id, "/unsaved-work.bin") == data, 30)
        assert is_mounted(mnt)
        assert (mnt / "unsaved-work.bin").read_bytes() == data, second.text()[-4000:]
        assert not record.exists()

        second.p.send_signal(signal.SIGINT)
        assert second.p.wait(60) == 0, second.text()
        assert not list(sessions.glob("*.json"))  # a clean stop leaves no record
    finally:
        for proc in (first, second):
            if proc is not None and proc.p.poll() is None:
                proc.p.kill()
        force_unmount(mnt)



@pytest.mark.parametrize("before", [None, b"the version before the crash\n"],
                         ids=["new-file", "edited-file"])
def test_recovered_upload_reads_whole_after_a_listing_made_before_it(
        fakecloud, cloud, app_home, tmp_path, monkeypatch, before):  # noqa: F811
    """A folder listing made while the recovered file is still on its way up (a user's
    ``ls`` right after the remount; the read-ahead itself waits for such files) and slow to
    answer (held here until the cloud has the upload, 10 s at most). rclone's reloaded entry
    has no cloud object and its upload sets none: a listing answered after the upload left
    the first open reading the file as empty (a new file) or as the version before the
    edit, for the dir cache's 6 hours. The scheduler reads the file through the mount before
    releasing it (that read waits for the listing) and lists its folder again after the
    upload. Seen under load in the test above."""
    env = cli_env(fakecloud.env())
    mnt = tmp_path / "mnt" / "work"
    add_account(env, cloud, "work", mnt, write_back="60s")
    if before is not None:
        fakecloud.put_file(cloud.drive_id, "/unsaved-work.bin", before)
    data = os.urandom(200_000)
    held = threading.Event()
    listed_after = threading.Event()
    handle = fakecloud.graph.handle

    def in_cloud() -> bool:
        return fakecloud.get_file(cloud.drive_id, "/unsaved-work.bin") == data

    def listing_before_upload(req):
        listing = "/children" in req.raw_path or (
            "/delta" in req.raw_path and "token" not in req.query)
        if listing and not held.is_set() and not in_cloud():
            held.set()
            resp = handle(req)  # the listing as the cloud is now...
            try:  # ...answered once the upload is done (or 10 s later)
                wait_for(in_cloud, 10)
            except AssertionError:
                pass  # the upload waits for this listing (the scheduler's read first)
            return resp
        if "/children" in req.raw_path and in_cloud():
            listed_after.set()  # a listing answered after the upload
        return handle(req)

    first = Proc(["mount", "work"], env)
    second = None
    try:
        wait_for(lambda: "Mounted 'work'" in first.text() or first.p.poll() is not None, 60)
        assert first.p.poll() is None, first.text()
        if before is not None:
            assert (mnt / "unsaved-work.bin").read_bytes() == before
        (mnt / "unsaved-work.bin").write_bytes(data)
        first.p.send_signal(signal.SIGKILL)
        first.p.wait(10)
        wait_for(lambda: _stale(mnt), 30)
        monkeypatch.setattr(fakecloud.graph, "handle", listing_before_upload)

        second = Proc(["mount", "work"], env)
        wait_for(lambda: "Mounted 'work'" in second.text() or second.p.poll() is not None, 60)
        assert second.p.poll() is None, second.text()
        threading.Thread(target=os.listdir, args=(mnt,), daemon=True).start()  # a user's ls
        wait_for(held.is_set, 60)
        wait_for(in_cloud, 60)
        wait_for(listed_after.is_set, 60)  # the folder listed again after the upload
        assert "unsaved-work.bin" in os.listdir(mnt)
        assert (mnt / "unsaved-work.bin").read_bytes() == data
        second.p.send_signal(signal.SIGINT)
        assert second.p.wait(60) == 0, second.text()
    finally:
        for proc in (first, second):
            if proc is not None and proc.p.poll() is None:
                proc.p.kill()
        force_unmount(mnt)
