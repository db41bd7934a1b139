"""Clean-up after a crashed app: its crash record, an rclone it left running, its cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from onedrive_gui.core.mounts import MountState
from onedrive_gui.core.recovery import (
    LeftMount,
    Leftovers,
    SessionRecord,
    dirty_files,
    pid_alive,
    recover_leftovers,
)

from .conftest import MountRig, is_mounted, wait_for

VFS = {"CacheMode": "writes", "WriteBack": 600_000_000_000}  # upload after 10 min


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_records_of_running_apps_are_left_alone(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    mine = SessionRecord(sessions)
    mine.write(None, None, {"work": "/m/work"})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        SessionRecord(sessions, app_pid=other.pid).write(None, None, {"home": "/m/home"})
        assert recover_leftovers(sessions, tmp_path / "cache") is None
        assert len(list(sessions.glob("*.json"))) == 2
    finally:
        other.kill()
        other.wait()
    mine.write(None, None, {})  # nothing mounted any more: no record
    assert not mine.path.exists()


def test_a_damaged_record_is_dropped_not_fatal(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    (sessions / "123.json").write_text("{not json")
    left = recover_leftovers(sessions, tmp_path / "cache")
    assert left == Leftovers([], [], [])
    assert not list(sessions.iterdir())


def test_dirty_files_are_counted_from_rclones_cache_records(tmp_path: Path) -> None:
    meta = tmp_path / "vfsMeta" / "work" / "Docs"
    meta.mkdir(parents=True)
    (meta / "a.txt").write_text(json.dumps({"Size": 3, "Dirty": True}))
    (meta / "b.txt").write_text(json.dumps({"Size": 3, "Dirty": False}))
    (meta.parent / "c.txt").write_text(json.dumps({"Dirty": True}))
    (meta.parent / "broken").write_text("{")
    assert dirty_files(tmp_path, "work") == 2
    assert dirty_files(tmp_path, "home") == 0


def test_what_the_user_is_told() -> None:
    left = Leftovers([LeftMount("home", "/m/home", 0), LeftMount("work", "/m/work", 3)],
                     [4242], ["/m/work"])
    assert left.describe(["work"], []) == (
        "The app had stopped unexpectedly while drives were mounted. The rclone it left "
        "running was stopped. Broken mounts were removed from /m/work. 'work' is mounted "
        "again; 3 file(s) written before the stop are being uploaded now.")
    text = left.describe([], ["'work' (Folder missing)"])
    assert text.endswith("Could not mount 'work' (Folder missing); its pending files stay in "
                         "the cache and are uploaded the next time you mount it.")


def test_rclone_left_running_by_a_crashed_app_is_stopped_and_uploads_resume(
    rig: MountRig,
) -> None:
    """As on Windows, where rclone outlives the app: the orphan still holds the mount."""
    # a remote whose VFS cache is kept under its own name, like the app's OneDrive remotes
    (rig.tmp / "rclone.conf").write_text("[acct]\ntype = local\n")
    fs = f"acct:{rig.backing}"
    sessions = rig.tmp / "sessions"
    crashed = rig.manager(session=SessionRecord(sessions, app_pid=_dead_pid()))
    mp = rig.mount_point()
    crashed.mount("acct", fs, str(mp), {}, VFS)
    (mp / "pending.txt").write_text("not uploaded before the crash\n")
    wait_for(lambda: crashed.status("acct").uploads_queued == 1, what="queued upload")
    orphan = crashed.rcd
    assert orphan is not None and orphan.pid is not None
    crashed._closed = True  # the crashed app's monitor is gone: nobody restarts its rclone

    left = recover_leftovers(sessions, rig.tmp / "cache")
    assert left is not None
    assert left.stopped_rclone == [orphan.pid] and not pid_alive(orphan.pid)
    assert left.mounts == [LeftMount("acct", str(mp), 1)]
    assert not is_mounted(mp) and not (rig.backing / "pending.txt").exists()
    assert not list(sessions.iterdir())

    fresh = rig.manager(session=SessionRecord(sessions))
    fresh.mount("acct", fs, str(mp), {}, VFS)  # same cache folder
    fresh.upload_now("acct")
    assert fresh.wait_for_uploads("acct", timeout=30)
    assert (rig.backing / "pending.txt").read_text() == "not uploaded before the crash\n"
    assert fresh.status("acct").state is MountState.MOUNTED
    assert json.loads((sessions / f"{os.getpid()}.json").read_text())["mounts"] == {
        "acct": str(mp)}
    fresh.shutdown()
    assert not list(sessions.iterdir())
