"""MountManager with a real rclone rcd and real FUSE mounts of a local backing folder."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import pytest

from onedrive_gui.core.drives import mount_errors
from onedrive_gui.core.drives.mounts import (
    MountState,
    PendingUploadsError,
    check_mount_support,
    mount_error,
)
from onedrive_gui.core.errors import MountError
from onedrive_gui.core.rclone.log_signals import LogTail, parse_throttle
from onedrive_gui.core.rclone.rc import RcCallError

from .conftest import MountRig, is_mounted, wait_for

S = MountState
VFS = {"CacheMode": "writes"}


def test_mount_write_wait_and_unmount(rig: MountRig) -> None:
    rig.extra_args = ["--bwlimit", "200k"]  # a slow "cloud": uploads stay pending a while
    mgr = rig.manager()
    mp = rig.mount_point()

    st = mgr.mount("acct", "acct:", str(mp), {}, VFS)

    assert st.state is S.MOUNTED and st.mount_point == str(mp)
    assert is_mounted(mp)
    assert (mp / "hello.txt").read_text() == "hello from the remote\n"

    data = os.urandom(1_500_000)
    (mp / "big.bin").write_bytes(data)
    with pytest.raises(PendingUploadsError) as info:
        mgr.unmount("acct")
    assert info.value.count == 1
    assert "not uploaded yet" in info.value.message and info.value.hint
    assert mgr.status("acct").state is S.MOUNTED and is_mounted(mp)
    wait_for(lambda: rig.recorder.saw(lambda s: s.pending_uploads == 1), what="pending shown")

    assert mgr.wait_for_uploads("acct", timeout=0.2) is False  # 1.5 MB at 200 kB/s
    seen: list[int] = []
    assert mgr.wait_for_uploads("acct", timeout=120, on_progress=seen.append) is True
    assert seen[0] == 1 and seen[-1] == 0
    assert (rig.backing / "big.bin").read_bytes() == data

    mgr.unmount("acct")

    assert mgr.status("acct").state is S.UNMOUNTED
    assert not is_mounted(mp)
    mgr.shutdown()
    rig.recorder.wait_states("acct", [S.MOUNTING, S.MOUNTED, S.UNMOUNTING, S.UNMOUNTED])


def test_live_stats_reach_on_change(rig: MountRig) -> None:
    rig.extra_args = ["--bwlimit", "100k"]
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("acct", "acct:", str(mp), {}, {**VFS, "WriteBack": "1s"})
    (mp / "f.bin").write_bytes(os.urandom(1_000_000))
    wait_for(
        lambda: rig.recorder.saw(
            lambda s: s.uploads_in_progress == 1 and s.transfers == 1 and s.speed > 0
        ),
        timeout=60,
        what="an upload in progress with speed",
    )
    assert mgr.wait_for_uploads("acct", timeout=120)
    wait_for(lambda: mgr.status("acct").transfers == 0 and mgr.status("acct").speed == 0,
             what="idle stats")


def test_uploads_without_write_back_delay_still_count_as_pending(rig: MountRig) -> None:
    # WriteBack 0: rclone uploads outside its write-back queue, vfs/stats shows nothing
    rig.extra_args = ["--bwlimit", "100k"]
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("acct", "acct:", str(mp), {}, {**VFS, "WriteBack": "0s"})
    (mp / "f.bin").write_bytes(os.urandom(1_000_000))
    with pytest.raises(PendingUploadsError) as info:
        mgr.unmount("acct")
    assert info.value.count == 1
    assert mgr.wait_for_uploads("acct", timeout=120)
    mgr.unmount("acct")
    assert (rig.backing / "f.bin").stat().st_size == 1_000_000


def test_invalid_transitions_are_clear_errors(rig: MountRig) -> None:
    mgr = rig.manager()
    mp = rig.mount_point()
    with pytest.raises(MountError, match="not mounted"):
        mgr.unmount("acct")
    mgr.mount("acct", "acct:", str(mp), {}, VFS)
    with pytest.raises(MountError) as info:
        mgr.mount("acct", "acct:", str(rig.mount_point("other")), {}, VFS)
    assert info.value.title == "Already mounted" and str(mp) in info.value.message
    assert mgr.status("acct").state is S.MOUNTED and is_mounted(mp)
    mgr.unmount("acct")
    with pytest.raises(MountError, match="not mounted"):
        mgr.unmount("acct")


def test_mount_point_not_empty(rig: MountRig) -> None:
    mgr = rig.manager()
    mp = rig.mount_point()
    (mp / "stuff.txt").write_text("mine")
    with pytest.raises(MountError) as info:
        mgr.mount("acct", "acct:", str(mp), {}, VFS)
    err = info.value
    assert err.title == "Mount folder not empty"
    assert str(mp) in err.message and "empty folder" in err.hint
    st = mgr.status("acct")
    assert st.state is S.ERROR and st.error == err.message
    assert not is_mounted(mp)
    wait_for(lambda: rig.recorder.states("acct") == [S.MOUNTING, S.ERROR], what="on_change")
    # an ERROR mount can be retried once the cause is gone
    (mp / "stuff.txt").unlink()
    assert mgr.mount("acct", "acct:", str(mp), {}, VFS).state is S.MOUNTED


def test_rcd_killed_is_restarted_and_remounted(rig: MountRig) -> None:
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("acct", "acct:", str(mp), {}, VFS)
    (mp / "pending.txt").write_text("written just before rclone died")  # write-back: 5 s
    wait_for(lambda: mgr.status("acct").uploads_queued == 1, what="the upload queued")
    first = mgr.rcd
    assert first is not None and first.pid is not None

    os.kill(first.pid, signal.SIGKILL)

    # detected, restarted and remounted within the 5 s the app promises
    kind, text = wait_for(lambda: next(iter(rig.recorder.events), None), timeout=5,
                          what="an event")
    assert kind == "rcd-restarted"
    assert "rclone stopped unexpectedly" in text and "acct remounted" in text
    second = mgr.rcd
    assert second is not None and second is not first and second.alive()
    assert mgr.status("acct").state is S.MOUNTED
    assert sorted(os.listdir(mp)) == ["hello.txt", "pending.txt"]
    assert (mp / "hello.txt").read_text() == "hello from the remote\n"
    # the VFS cache survived: the pending upload reaches the remote
    assert mgr.wait_for_uploads("acct", timeout=60)
    wait_for(lambda: (rig.backing / "pending.txt").exists(), timeout=60, what="upload")
    assert (rig.backing / "pending.txt").read_text() == "written just before rclone died"
    rig.recorder.wait_states("acct", [S.MOUNTING, S.MOUNTED, S.MOUNTING, S.MOUNTED])


def test_rcd_killed_in_the_middle_of_an_upload(rig: MountRig) -> None:
    mgr = rig.manager(poll_interval=0.25)
    mp = rig.mount_point()
    mgr.mount("acct", "acct:", str(mp), {}, {**VFS, "WriteBack": 0})
    first = mgr.rcd
    assert first is not None and first.pid is not None
    first.client.call("core/bwlimit", {"rate": "1M"})  # a slow line: 6 MiB take 6 s
    data = os.urandom(6 * 2**20)
    (mp / "video.bin").write_bytes(data)
    wait_for(lambda: mgr.status("acct").uploads_in_progress == 1, what="the upload running")

    os.kill(first.pid, signal.SIGKILL)

    kind, text = wait_for(lambda: next(iter(rig.recorder.events), None), timeout=5,
                          what="an event")
    assert kind == "rcd-restarted" and "acct remounted" in text
    assert mgr.wait_for_uploads("acct", timeout=60)  # uploaded again from the cache
    wait_for(lambda: (rig.backing / "video.bin").exists()
             and (rig.backing / "video.bin").stat().st_size == len(data), timeout=60,
             what="the upload")
    assert (rig.backing / "video.bin").read_bytes() == data


def test_callback_errors_are_logged_and_monitor_goes_on(
    rig: MountRig, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[MountState] = []

    def bad(st: object) -> None:
        got.append(st.state)  # type: ignore[attr-defined]
        raise RuntimeError("bug in a callback")

    mgr = rig.manager(on_change=bad)
    mp = rig.mount_point()
    with caplog.at_level(logging.ERROR, logger="onedrive_gui.core.drives"):
        mgr.mount("acct", "acct:", str(mp), {}, VFS)
        mgr.unmount("acct")
        mgr.shutdown()
    assert got == [S.MOUNTING, S.MOUNTED, S.UNMOUNTING, S.UNMOUNTED]
    assert "callback failed" in caplog.text and "bug in a callback" in caplog.text


def test_shutdown_waits_for_uploads_then_unmounts_and_stops(rig: MountRig) -> None:
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("acct", "acct:", str(mp), {}, VFS)
    (mp / "late.txt").write_text("written right before quitting")
    rcd = mgr.rcd
    assert rcd is not None

    mgr.shutdown()

    assert (rig.backing / "late.txt").read_text() == "written right before quitting"
    assert not is_mounted(mp) and not rcd.alive()
    assert mgr.status("acct").state is S.UNMOUNTED
    with pytest.raises(MountError, match="stopping"):
        mgr.mount("acct", "acct:", str(mp), {}, VFS)


# ---- FUSE / WinFsp -------------------------------------------------------------------------


def test_fuse_missing_is_a_clear_error(
    rig: MountRig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(mount_errors, "_DEV_FUSE", tmp_path / "no-dev-fuse")
    mgr = rig.manager()
    with pytest.raises(MountError) as info:
        mgr.mount("acct", "acct:", str(rig.mount_point()), {}, VFS)
    err = info.value
    assert err.title == "FUSE is not available"
    assert "no-dev-fuse does not exist" in err.message
    assert "fuse3" in err.hint and "modprobe fuse" in err.hint
    assert mgr.status("acct").state is S.ERROR
    assert rig.rcds == []  # no rclone was started for nothing


def test_winfsp_missing_points_to_the_download(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mount_errors, "_winfsp_install_dir", lambda: None)
    with pytest.raises(MountError) as info:
        check_mount_support("win32")
    assert info.value.title == "WinFsp is not installed"
    assert "https://winfsp.dev/rel/" in info.value.hint
    monkeypatch.setattr(mount_errors, "_winfsp_install_dir", lambda: r"C:\Program Files\WinFsp")
    check_mount_support("win32")


@pytest.mark.parametrize(
    ("rclone_text", "title"),
    [
        ("mount failed: cgofuse: cannot find winfsp", "WinFsp is not installed"),
        ('failed to mount FUSE fs: "/m" is not empty, use --allow-non-empty to mount anyway',
         "Mount folder not empty"),
        ("failed to mount FUSE fs: directory already mounted, use --allow-non-empty to mount "
         "anyway: /m", "Mount folder in use"),
        ("failed to mount FUSE fs: cannot open: /m: open /m: no such file or directory",
         "Mount folder missing"),
        ('didn\'t find section in config file ("acct")', "Account not set up in rclone"),
        ("failed to mount FUSE fs: something new", "Mount failed"),
    ],
)
def test_rclone_mount_errors_are_explained(rclone_text: str, title: str) -> None:
    err = mount_error("acct", "/m", RcCallError("mount/mount", 500, rclone_text))
    assert err.title == title and err.hint
    if title == "Mount failed":
        assert "something new" in err.message and "failed to mount FUSE fs" not in err.message


# ---- throttling ----------------------------------------------------------------------------

# Lines written by rclone 1.75.2 at DEBUG while the emulated OneDrive answered 429 then 503.
RCLONE_429 = "2026/11/26 21:08:52 DEBUG : Too many requests. Trying again in 2 seconds."
RCLONE_RETRY = ("2026/11/26 21:08:52 DEBUG : pacer: low level retry 1/10 (error "
                "TooManyRequests: Too many requests: trying again in 2s)")
RCLONE_503 = "2026/11/26 21:08:54 DEBUG : Too many requests. Trying again in 3 seconds."


def test_throttle_lines_are_recognised() -> None:
    assert parse_throttle(RCLONE_429) == 2.0
    assert parse_throttle(RCLONE_RETRY) == 2.0
    assert parse_throttle(RCLONE_503) == 3.0
    assert parse_throttle("2026/11/26 21:08:52 DEBUG : rc: \"core/stats\": reply map[]") is None


def test_log_tail_reads_only_new_complete_lines(tmp_path: Path) -> None:
    f = tmp_path / "r.log"
    f.write_text("old line\n")
    tail = LogTail(f)
    assert tail.read_lines() == []
    with f.open("a") as out:
        out.write(RCLONE_429 + "\npartial")
    assert tail.read_lines() == [RCLONE_429]
    with f.open("a") as out:
        out.write(" line\n")
    assert tail.read_lines() == ["partial line"]
    f.write_text("after rotation\n")
    assert tail.read_lines() == ["after rotation"]


def test_throttled_from_the_log_then_back_to_mounted(rig: MountRig) -> None:
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("acct", "acct:", str(mp), {}, VFS)
    with rig.log_file.open("a") as out:  # the line rclone writes when the cloud says 429
        out.write(RCLONE_429.replace(" 2 seconds", " 3 seconds") + "\n")
    st = wait_for(lambda: (s := mgr.status("acct")).state is S.THROTTLED and s, what="THROTTLED")
    assert st.retry_after == 3.0
    wait_for(lambda: mgr.status("acct").state is S.MOUNTED, timeout=30, what="MOUNTED again")
    assert mgr.status("acct").retry_after is None
    rig.recorder.wait_states("acct", [S.MOUNTING, S.MOUNTED, S.THROTTLED, S.MOUNTED])


def test_real_throttling_by_the_emulated_onedrive(
    rig: MountRig, fakecloud: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakecloud.cloud import FakeCloud
    from tests.fakecloud.test_fakecloud import rclone_token, write_rclone_conf

    assert isinstance(fakecloud, FakeCloud)
    d = fakecloud.setup_default()
    fakecloud.make_folder(d.drive_id, "/Fresh")
    write_rclone_conf(rig.tmp / "rclone.conf", d, rclone_token(fakecloud, d))
    fakecloud.apply_env(monkeypatch)  # rclone reaches the emulated cloud through its proxy
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, VFS)
    fakecloud.throttle(2, retry_after=2)

    listing: list[str] = []
    lister = threading.Thread(target=lambda: listing.extend(os.listdir(mp / "Fresh")))
    lister.start()
    st = wait_for(lambda: (s := mgr.status("od")).state is S.THROTTLED and s, what="THROTTLED")
    assert st.retry_after == 2.0
    lister.join(timeout=60)
    assert not lister.is_alive() and listing == []
    wait_for(lambda: mgr.status("od").state is S.MOUNTED, timeout=30, what="MOUNTED again")
    rig.recorder.wait_states("od", [S.MOUNTING, S.MOUNTED, S.THROTTLED, S.MOUNTED])


def test_new_limits_apply_live_or_after_the_uploads(rig: MountRig) -> None:
    """Bandwidth changes on the running rclone; a request limit restarts the account's
    rclone, but only once its uploads are done, and the drive is mounted again."""
    from onedrive_gui.core.drives.mounts import LimitsChange

    mgr = rig.manager()
    mp = rig.mount_point()
    slow = {"BwLimit": "100k", "TPSLimit": 0.0}
    mgr.mount("acct", "acct:", str(mp), {}, VFS, slow)
    first = mgr.rcd_of("acct")
    assert first is not None and first.client.call("core/bwlimit")["rate"] == "100Ki"

    data = os.urandom(700_000)  # seconds at 100 KiB/s: still uploading at the change
    (mp / "big.bin").write_bytes(data)
    wait_for(lambda: mgr.status("acct").uploads_in_progress == 1, what="upload running")
    assert mgr.set_limits("acct", {**slow, "TPSLimit": 2.0}) is LimitsChange.RESTART_PENDING
    assert mgr.rcd_of("acct") is first  # not while the upload runs
    assert mgr.status("acct").pending_uploads == 1

    wait_for(lambda: any(k == "limits-applied" for k, _ in rig.recorder.events), timeout=60,
             what="the restart with the new limits")
    assert (rig.backing / "big.bin").read_bytes() == data  # finished first: nothing lost
    second = mgr.rcd_of("acct")
    assert second is not None and second is not first and not first.alive()
    assert second.client.call("options/get")["main"]["TPSLimit"] == 2
    assert mgr.status("acct").state is S.MOUNTED and is_mounted(mp)
    assert (mp / "big.bin").read_bytes() == data

    assert mgr.set_limits("acct", {"BwLimit": "1M", "TPSLimit": 2.0}) is LimitsChange.APPLIED
    assert second.client.call("core/bwlimit")["rate"] == "1Mi" and mgr.rcd_of("acct") is second
    assert mgr.set_limits("acct", {"BwLimit": "1M", "TPSLimit": 2.0}) is LimitsChange.UNCHANGED
    mgr.unmount("acct")
    assert mgr.set_limits("acct", {"TPSLimit": 3.0}) is LimitsChange.NEXT_START
    mgr.mount("acct", "acct:", str(mp), {}, VFS, {"TPSLimit": 3.0})
    third = mgr.rcd_of("acct")
    assert third is not None and third.client.call("options/get")["main"]["TPSLimit"] == 3


def test_one_accounts_rclone_dying_leaves_the_others_mounted(rig: MountRig) -> None:
    other = rig.tmp / "other"
    other.mkdir()
    with (rig.tmp / "rclone.conf").open("a") as f:
        f.write(f"[acct2]\ntype = alias\nremote = {other}\n")
    mgr = rig.manager()
    mp1, mp2 = rig.mount_point("one"), rig.mount_point("two")
    mgr.mount("acct", "acct:", str(mp1), {}, VFS)
    mgr.mount("acct2", "acct2:", str(mp2), {}, VFS)
    first, second = mgr.rcd_of("acct"), mgr.rcd_of("acct2")
    assert first is not None and second is not None and first is not second
    assert first.pid is not None

    os.kill(first.pid, signal.SIGKILL)

    kind, text = wait_for(lambda: next(iter(rig.recorder.events), None), timeout=5,
                          what="an event")
    assert kind == "rcd-restarted" and "acct remounted" in text
    assert mgr.status("acct").state is S.MOUNTED
    assert mgr.rcd_of("acct2") is second and second.alive()  # untouched
    rig.recorder.wait_states("acct2", [S.MOUNTING, S.MOUNTED])  # never left MOUNTED
    (mp2 / "still.txt").write_text("the other drive stayed mounted\n")
    assert mgr.wait_for_uploads("acct2", timeout=60)
    wait_for(lambda: (other / "still.txt").exists(), timeout=60, what="upload")
