"""What the drives are uploading, and steering it: real rclone, real FUSE, the emulated cloud.

MountManager.activity reads an account's upload queue and transfers from its rclone;
upload_now / retry release a file through its upload guard (checked against the cloud
first, so a cloud edit made meanwhile is still kept).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from onedrive_gui.core.drives.activity import RETRYING, UPLOADING, WAITING, totals
from onedrive_gui.core.drives.mounts import MountManager
from tests.fakecloud import graph
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.test_fakecloud import rclone_token, write_rclone_conf

from .conftest import MountRig, wait_for

LONG = {"CacheMode": "writes", "WriteBack": "10m", "PollInterval": "10m"}


@pytest.fixture
def cloud_rig(rig: MountRig, fakecloud: FakeCloud,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MountRig, FakeCloud, Defaults]]:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    write_rclone_conf(rig.tmp / "rclone.conf", d, rclone_token(fakecloud, d))
    yield rig, fakecloud, d


def _upload_of(mgr: MountManager, path: str, state: str | None = None) -> object:
    act = mgr.activity("od")
    found = [u for u in act.uploads if u.path == path and (state is None or u.state == state)]
    return found[0] if found else None


def test_waiting_file_listed_and_upload_now_sends_it_at_once(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(LONG))
    assert mgr.activity("od").uploads == ()  # nothing to upload
    (mp / "Documents" / "report.txt").write_bytes(b"quarterly report\n" * 100)

    up = wait_for(lambda: _upload_of(mgr, "Documents/report.txt", WAITING),
                  what="the file waiting to upload")
    assert up.size == 1700 and up.due_in is not None and up.due_in > 500  # 10 minutes
    assert up.local_folder == str(mp / "Documents")
    files, left, _speed = totals([mgr.activity("od")])
    assert (files, left) == (1, 1700)
    assert cloud.get_file(d.drive_id, "/Documents/report.txt") is None

    mgr.upload_now("od", "Documents/report.txt")
    wait_for(lambda: cloud.get_file(d.drive_id, "/Documents/report.txt")
             == b"quarterly report\n" * 100, timeout=30, what="the upload, started at once")
    wait_for(lambda: mgr.activity("od").files == 0, what="the queue to empty")


def test_upload_now_still_keeps_a_cloud_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/notes.txt", b"first version\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(LONG))
    notes = mp / "Documents" / "notes.txt"
    assert notes.read_bytes() == b"first version\n"
    notes.write_bytes(b"edited here\n")
    cloud.put_file(d.drive_id, "/Documents/notes.txt", b"edited on the phone\n")
    wait_for(lambda: _upload_of(mgr, "Documents/notes.txt"), what="the queued edit")

    mgr.upload_now("od", "Documents/notes.txt")  # checked with the cloud first
    wait_for(lambda: cloud.get_file(d.drive_id, "/Documents/notes.txt") == b"edited here\n",
             timeout=30, what="the upload")
    copies = [p for p in cloud.list_paths(d.drive_id) if "(conflict from the cloud, " in p]
    assert len(copies) == 1 and cloud.get_file(d.drive_id, copies[0]) == (
        b"edited on the phone\n")
    assert [c.path for c in mgr.conflicts.items()] == ["Documents/notes.txt"]


def test_slow_upload_shows_progress_speed_and_time_left(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    rig.extra_args = ["--bwlimit", "100k"]  # a slow line: 600 KB take 6 s
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**LONG, "WriteBack": "0s"})
    data = os.urandom(600 * 1024)
    (mp / "big.bin").write_bytes(data)

    up = wait_for(lambda: (lambda u: u if u is not None and 0 < u.done < u.size
                           and u.speed > 0 else None)(_upload_of(mgr, "big.bin", UPLOADING)),
                  what="the upload under way")
    assert up.size == len(data) and 0 < up.progress < 1
    assert up.eta is not None and up.eta > 0
    act = mgr.activity("od")
    assert act.speed > 0 and 0 < act.bytes_left < len(data)
    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/big.bin") == data


def test_failed_upload_is_listed_and_retried(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    rig.extra_args = ["--low-level-retries", "1"]
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(LONG))
    data = os.urandom(5 * 1024 * 1024)  # over 4 MiB: an upload session on the upload host
    (mp / "video.bin").write_bytes(data)
    wait_for(lambda: _upload_of(mgr, "video.bin", WAITING), what="the queued file")

    cloud.throttle(10_000, status=503, retry_after=0, host=graph.UPLOAD_HOST, path_prefix="/")
    mgr.upload_now("od", "video.bin")
    failed = wait_for(lambda: _upload_of(mgr, "video.bin", RETRYING), timeout=60,
                      what="the failed upload")
    assert failed.tries >= 1 and failed.failed
    assert failed.due_in is not None and failed.due_in > 30  # rclone's back-off, minutes
    assert mgr.activity("od").failed == 1
    assert cloud.get_file(d.drive_id, "/video.bin") is None

    with cloud.state.lock:  # the cloud takes uploads again
        cloud.state.throttles.clear()
    mgr.retry("od", "video.bin")
    wait_for(lambda: cloud.get_file(d.drive_id, "/video.bin") == data, timeout=60,
             what="the retried upload")
