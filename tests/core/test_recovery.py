"""Clean-up after a crashed app: its crash record, an rclone it left running, its cache."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from onedrive_gui.core.drives import recovery
from onedrive_gui.core.drives.mounts import MountManager, MountState
from onedrive_gui.core.drives.recovery import (
    LeftMount,
    Leftovers,
    SessionRecord,
    dirty_files,
    long_path,
    parse_proc_start_time,
    pid_alive,
    process_start_time,
    recover_leftovers,
    remove_leftover_mount_folder,
    stop_orphan,
)
from onedrive_gui.core.rclone.binary import RcloneBinary
from onedrive_gui.core.rclone.process import Rcd, rc_password

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
        "The app had stopped unexpectedly while drives were mounted. 'work' is mounted "
        "again; 3 file(s) written before the stop are being uploaded now. The rclone it left "
        "running was stopped. Broken mounts were removed from /m/work.")
    text = left.describe([], ["'work' (Folder missing)"])
    assert ("Could not mount 'work' (Folder missing); its pending files stay in the cache "
            "and are uploaded the next time you mount it. The rclone") in text


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
    # no config password known: interrupted like Ctrl-C, so rclone unmounted by itself
    assert left.stopped_how == {orphan.pid: "interrupt"} and left.detached == []
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


# --- the crash record names the process, not just its pid ------------------------------------


def test_proc_start_time_is_read_past_a_name_with_brackets_and_spaces() -> None:
    stat_text = ("4242 (rclone (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 12 0 "
                 "987654 1000 200")
    assert parse_proc_start_time(stat_text) == "987654"
    assert parse_proc_start_time("1 (x) S 1") is None


def test_a_reused_pid_does_not_hide_a_crash_record(tmp_path: Path) -> None:
    """Windows reuses process IDs: a live, unrelated process now holding the recorded pid
    (told apart by its start time or its executable) means the recorded app is gone."""
    sessions = tmp_path / "sessions"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = process_start_time(other.pid)
        assert started is not None
        record = SessionRecord(sessions, app_pid=other.pid)
        assert record.app_started == started
        record.write(None, None, {"work": "/m/work"})
        assert recover_leftovers(sessions, tmp_path / "cache") is None  # the same process

        data = json.loads(record.path.read_text())
        data["app_started"] = str(int(started) - 1)  # an earlier process with this pid
        record.path.write_text(json.dumps(data))
        left = recover_leftovers(sessions, tmp_path / "cache")
        assert left is not None and left.mounts == [LeftMount("work", "/m/work", 0)]
        assert not record.path.exists() and pid_alive(other.pid)

        record.write(None, None, {"work": "/m/work"})
        data = json.loads(record.path.read_text())
        data["app_exe"] = str(tmp_path / "OneDrive GUI" / "onedrive-gui.exe")
        record.path.write_text(json.dumps(data))
        assert recover_leftovers(sessions, tmp_path / "cache") is not None
        assert not record.path.exists() and pid_alive(other.pid)
    finally:
        other.kill()
        other.wait()


def test_the_record_holds_no_secret_but_enough_to_stop_rclone(tmp_path: Path) -> None:
    record = SessionRecord(tmp_path / "sessions")
    record.write(os.getpid(), "/opt/rclone", {"work": "/m/work"},
                 rc_url="http://127.0.0.1:5572", rc_user="onedrive-gui-1a2b3c4d")
    data = json.loads(record.path.read_text())
    assert data["app_exe"] and data["app_started"] and data["rcd_started"]
    assert (data["rc_url"], data["rc_user"]) == ("http://127.0.0.1:5572",
                                                  "onedrive-gui-1a2b3c4d")
    assert set(data) == {"app_pid", "app_started", "app_exe", "rcd_pid", "rcd_started",
                         "rclone", "rc_url", "rc_user", "rcds", "mounts"}
    assert data["rcds"] == [{"pid": os.getpid(), "started": data["rcd_started"],
                             "rc_url": "http://127.0.0.1:5572",
                             "rc_user": "onedrive-gui-1a2b3c4d"}]


def test_every_accounts_rclone_is_recorded_and_each_is_stopped(tmp_path: Path) -> None:
    """One rclone per account: the record names each with its start time and rc address,
    and a later start stops every one of them (here: two sleeping stand-ins)."""
    sessions = tmp_path / "sessions"
    record = SessionRecord(sessions, app_pid=_dead_pid())
    procs = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              start_new_session=True) for _ in range(2)]
    try:
        record.write(procs[0].pid, os.path.realpath(sys.executable),
                     {"work": "/m/work", "home": "/m/home"},
                     rcds=[(p.pid, None, None) for p in procs])
        data = json.loads(record.path.read_text())
        assert [e["pid"] for e in data["rcds"]] == [p.pid for p in procs]
        assert all(e["started"] for e in data["rcds"])
        left = recover_leftovers(sessions, tmp_path / "cache")
        assert left is not None and sorted(left.stopped_rclone) == sorted(p.pid for p in procs)
        # no rc address: SIGINT first; a console process on Windows cannot send Ctrl-Break
        # to another console (AttachConsole is refused), so there they are killed
        assert set(left.stopped_how.values()) == {
            "killed" if sys.platform == "win32" else "interrupt"}
        for p in procs:
            assert p.wait(timeout=15) is not None
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_rc_password_is_derived_not_stored() -> None:
    a = rc_password("config-password", "onedrive-gui-1")
    assert a == rc_password("config-password", "onedrive-gui-1")
    assert a != rc_password("config-password", "onedrive-gui-2")
    assert a != rc_password("other-password", "onedrive-gui-1")
    assert "config-password" not in a and len(a) == 64


# --- rclone's cache with long paths -----------------------------------------------------------


@pytest.mark.parametrize(("windows", "path", "expected"), [
    (True, "C:\\Users\\me\\AppData\\Local\\onedrive-gui\\cache\\vfsMeta\\work",
     "\\\\?\\C:\\Users\\me\\AppData\\Local\\onedrive-gui\\cache\\vfsMeta\\work"),
    (True, "\\\\server\\share\\cache\\vfsMeta", "\\\\?\\UNC\\server\\share\\cache\\vfsMeta"),
    (True, "\\\\?\\C:\\cache", "\\\\?\\C:\\cache"),
    (True, "C:/Users/me/cache/../cache", "\\\\?\\C:\\Users\\me\\cache"),
    (False, "/home/me/.cache/onedrive-gui", "/home/me/.cache/onedrive-gui"),
])
def test_cache_is_walked_with_windows_long_paths(windows: bool, path: str, expected: str) -> None:
    assert long_path(path, windows=windows) == expected


def test_dirty_files_deep_in_the_cache_are_counted(tmp_path: Path) -> None:
    """Past Windows' 260-character limit (rclone writes such paths with \\\\?\\)."""
    deep = tmp_path / "vfsMeta" / "work"
    for i in range(12):
        deep = deep / f"a rather long folder name number {i:02d}"
    assert len(str(deep)) > 400
    made = Path(long_path(str(deep), windows=sys.platform == "win32"))  # as rclone makes it
    made.mkdir(parents=True)
    (made / "report.docx").write_text(json.dumps({"Dirty": True}))
    (made / "old.docx").write_text(json.dumps({"Dirty": False}))
    assert dirty_files(tmp_path, "work") == 1


def _deeper_than_the_os_allows(top: Path, levels: int = 20) -> None:
    """Folders nested past PATH_MAX (Linux' 4,096 bytes; on Windows without ``\\\\?\\``:
    260 characters), made relative to each other as rclone does, each with a dirty record."""
    fd = os.open(top, os.O_RDONLY)
    try:
        for i in range(levels):
            name = f"{i:02d}" + "x" * 240
            os.mkdir(name, dir_fd=fd)
            new = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
            record = os.open("deep.docx", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd)
            os.write(record, json.dumps({"Dirty": True}).encode())
            os.close(record)
    finally:
        os.close(fd)


@pytest.mark.skipif(sys.platform == "win32", reason="built with dir_fd (POSIX); with \\\\?\\ "
                    "Windows walks such paths, see test_dirty_files_deep_in_the_cache_are_counted")
def test_a_cache_walk_error_does_not_keep_the_crash_record(tmp_path: Path) -> None:
    """Part of the cache cannot be walked (a path longer than the OS takes: Python 3.11's
    rglob raises there): it is skipped, the record goes, what could be read is counted."""
    meta = tmp_path / "cache" / "vfsMeta" / "work"
    meta.mkdir(parents=True)
    (meta / "a.txt").write_text(json.dumps({"Dirty": True}))
    _deeper_than_the_os_allows(meta)
    sessions = tmp_path / "sessions"
    SessionRecord(sessions, app_pid=_dead_pid()).write(None, None, {"work": "/m/work"})
    left = recover_leftovers(sessions, tmp_path / "cache")
    assert left is not None and left.mounts[0].name == "work"
    assert 1 < left.mounts[0].pending < 21  # the records within reach
    assert not list(sessions.iterdir())


# --- stopping a left-over rclone politely -----------------------------------------------------


def test_left_over_rclone_is_asked_to_quit_over_rc(rig: MountRig) -> None:
    """With the config password from the keyring the next start asks rclone to quit over
    rc (core/quit): it unmounts cleanly, nothing is stale, nothing killed."""
    (rig.tmp / "rclone.conf").write_text("[acct]\ntype = local\n")
    fs = f"acct:{rig.backing}"
    sessions = rig.tmp / "sessions"
    password = "config-password-from-the-keyring"

    def rcd(_name: str, _limits: object = None) -> Rcd:  # MountManager's factory
        r = Rcd(rig.binary, config_path=rig.tmp / "rclone.conf", config_password=password,
                cache_dir=rig.tmp / "cache", log_file=rig.log_file, log_level="DEBUG")
        rig.rcds.append(r)
        return r

    crashed = MountManager(rcd, poll_interval=0.5,
                           session=SessionRecord(sessions, app_pid=_dead_pid()))
    rig.managers.append(crashed)
    mp = rig.mount_point()
    crashed.mount("acct", fs, str(mp), {}, VFS)
    orphan = crashed.rcd
    assert orphan is not None and orphan.pid is not None
    crashed._closed = True  # the crashed app's monitor is gone: nobody restarts its rclone
    record = json.loads(next(sessions.iterdir()).read_text())
    assert record["rc_url"] == orphan.url and password not in json.dumps(record)

    asked: list[str] = []  # the keyring is read only when a left-over rclone is found
    left = recover_leftovers(sessions, rig.tmp / "cache",
                             config_password=lambda: asked.append("keyring") or password)
    assert asked == ["keyring"]
    assert left is not None and left.stopped_how == {orphan.pid: "rc"}
    assert not pid_alive(orphan.pid) and not is_mounted(mp) and left.detached == []


def test_a_recorded_address_now_answered_by_another_rclone_is_not_asked_to_quit(
    tmp_path: Path, rclone_binary: RcloneBinary
) -> None:
    """Issue 22: the crash record's rc address is asked to quit only when rc core/pid there
    names the left-over rclone; another rclone now answering there (with the same keyring's
    credentials) keeps running, and the left-over one is stopped by an interrupt instead."""
    password = "config-password-from-the-keyring"
    started = []
    for name in ("orphan", "other"):
        r = Rcd(rclone_binary, config_path=tmp_path / f"{name}.conf", config_password=password,
                cache_dir=tmp_path / "cache", log_file=tmp_path / f"{name}.log")
        r.start()
        started.append(r)
    orphan, other = started
    try:
        assert orphan.pid is not None and other.url is not None
        how = stop_orphan(orphan.pid, rc_url=other.url, rc_user=other.client.user,
                          config_password=password)
        assert how == "interrupt"
        assert not pid_alive(orphan.pid)
        assert other.alive() and other.client.noop() == {}
    finally:
        for r in started:
            r.stop(timeout=5)


def test_an_rclone_that_ignores_being_asked_is_killed_at_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery, "_STOP_WAIT", 0.5)
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time\n"
         "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\n"
         "print('ready', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
        assert stop_orphan(stubborn.pid) == "killed"
        code = stubborn.wait(timeout=10)
        assert code == (-signal.SIGKILL if sys.platform != "win32" else signal.SIGTERM)
    finally:
        stubborn.kill()
        stubborn.wait()


def _windows_error(cls: type[OSError], err: int, winerror: int, text: str) -> OSError:
    """An error shaped as CPython's os.kill raises it on Windows (PyErr_SetFromWindowsErr:
    errno mapped from the Windows error, which stays in .winerror)."""
    exc = cls(err, text)
    exc.winerror = winerror  # type: ignore[attr-defined,unused-ignore]
    return exc


# How os.kill reports a process that has just exited, per platform: none of these may escape
# into `mount` or the GUI's start (the kill was the last resort; the process is gone anyway).
GONE = [
    pytest.param(False, ProcessLookupError(errno.ESRCH, "No such process"), id="posix-esrch"),
    pytest.param(False, PermissionError(errno.EPERM, "Operation not permitted"), id="posix-eperm"),
    pytest.param(True, _windows_error(OSError, errno.EINVAL, 87, "The parameter is incorrect"),
                 id="windows-87"),
    pytest.param(True, _windows_error(PermissionError, errno.EACCES, 5, "Access is denied"),
                 id="windows-5"),
]


@pytest.mark.parametrize(("windows", "error"), GONE)
def test_an_rclone_that_exits_just_before_the_kill_is_not_an_error(
        windows: bool, error: OSError, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = _dead_pid()
    real_kill = os.kill

    def kill(pid: int, sig: int) -> None:
        if sig == 0:  # pid_alive on POSIX
            real_kill(pid, sig)
            return
        assert pid == dead
        raise error

    monkeypatch.setattr(recovery.os, "kill", kill)
    recovery.kill(dead, windows=windows)  # no exception
    assert recovery.signal_refused(error, windows=windows)
    # the same error number read on the other platform means something else
    assert not recovery.signal_refused(error, windows=not windows)
    monkeypatch.setattr(recovery, "_interrupt", lambda pid: False)
    if windows == (sys.platform == "win32"):
        assert stop_orphan(dead) == "killed"


@pytest.mark.parametrize("windows", [False, True], ids=["posix", "windows"])
def test_any_other_kill_failure_is_raised(windows: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    other = (_windows_error(OSError, errno.EBADF, 6, "The handle is invalid") if windows
             else OSError(errno.EINVAL, "Invalid argument"))

    def kill(pid: int, sig: int) -> None:
        raise other

    monkeypatch.setattr(recovery.os, "kill", kill)
    with pytest.raises(OSError) as caught:
        recovery.kill(12345, windows=windows)
    assert caught.value is other


def test_killing_a_pid_that_exited_for_real() -> None:
    recovery.kill(_dead_pid())  # this platform's own error for it, not an exception


# --- a WinFsp mount-point folder left behind (Windows) ----------------------------------------


def test_only_an_empty_plain_mount_folder_is_removed(tmp_path: Path) -> None:
    empty = tmp_path / "OneDrive - work"
    empty.mkdir()
    assert not remove_leftover_mount_folder(str(empty), windows=False)  # FUSE: not ours
    assert remove_leftover_mount_folder(str(empty), windows=True)
    assert not empty.exists()

    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(full, target_is_directory=True)
    file = tmp_path / "file"
    file.write_text("x")
    for path in (full, link, file, tmp_path / "missing"):
        assert not remove_leftover_mount_folder(str(path), windows=True)
    assert (full / "notes.txt").exists() and link.is_symlink() and file.exists()
    assert not remove_leftover_mount_folder("Z:", windows=True)
    assert not remove_leftover_mount_folder("Z:\\", windows=True)
