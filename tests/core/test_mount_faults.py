"""Faults a mounted OneDrive survives, with real rclone + FUSE against the emulated cloud:
the sign-in revoked, the cloud down for a minute, the cache disk full."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onedrive_gui.core.drives.mounts import OFFLINE_TEXT, MountManager, MountState
from onedrive_gui.core.rclone.remotes import update_token
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.test_fakecloud import rclone_token, write_rclone_conf

from .conftest import MountRig, is_mounted, wait_for

S = MountState
VFS = {"CacheMode": "writes", "WriteBack": 1_000_000_000}  # 1 s write-back, as rclone's 5 s


@pytest.fixture
def cloud_rig(rig: MountRig, fakecloud: FakeCloud,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MountRig, FakeCloud, Defaults]]:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)  # rclone reaches the emulated cloud through its proxy
    yield rig, fakecloud, d


def _write_conf(rig: MountRig, cloud: FakeCloud, d: Defaults) -> None:
    write_rclone_conf(rig.tmp / "rclone.conf", d, rclone_token(cloud, d))


def _mount(rig: MountRig, probe_interval: float = 1.0,
           vfs: dict[str, object] = VFS) -> tuple[MountManager, Path]:
    mgr = rig.manager(probe_interval=probe_interval)
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(vfs))
    return mgr, mp


def test_revoked_sign_in_then_reauthorized_uploads_land(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    cloud.access_token_lifetime = 6  # rclone must renew the sign-in during the test
    _write_conf(rig, cloud, d)
    # the upload starts 8 s after the file is closed: after the access token has expired
    mgr, mp = _mount(rig, vfs={**VFS, "WriteBack": 8_000_000_000})
    (mp / "report.txt").write_bytes(b"written while the sign-in was revoked\n")
    cloud.revoke_refresh_tokens(d.user_upn)  # e.g. the user changed their password
    st = wait_for(lambda: (s := mgr.status("od")).state is S.SIGN_IN_NEEDED and s,
                  timeout=60, what="SIGN_IN_NEEDED")
    assert st.error is not None and "(AADSTS50173)" in st.error
    assert st.error.startswith("Sign-in needed: Microsoft no longer accepts this sign-in")
    assert is_mounted(mp) and (mp / "report.txt").read_bytes().startswith(b"written while")
    assert cloud.get_file(d.drive_id, "/report.txt") is None
    refused_before = len(cloud.requests_to("login.microsoftonline.com", "/token"))
    time.sleep(4)  # it stays there, and the app does not hammer Microsoft with a dead token
    assert mgr.status("od").state is S.SIGN_IN_NEEDED
    assert len(cloud.requests_to("login.microsoftonline.com", "/token")) - refused_before <= 1

    # Re-authorize: a new consent, its token written into the running rclone's config
    cloud.access_token_lifetime = 3600
    rcd = mgr.rcd
    assert rcd is not None
    update_token(rcd.client, "od", json.dumps(rclone_token(cloud, d)))
    mgr.recheck("od")
    wait_for(lambda: mgr.status("od").state is S.MOUNTED, timeout=30, what="MOUNTED again")
    assert mgr.status("od").error is None
    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/report.txt") == b"written while the sign-in was revoked\n"
    rig.recorder.wait_states("od", [S.MOUNTING, S.MOUNTED, S.SIGN_IN_NEEDED, S.MOUNTED])


def test_cloud_down_for_a_minute_then_back(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    _write_conf(rig, cloud, d)
    mgr, mp = _mount(rig, probe_interval=5.0)
    assert sorted(os.listdir(mp)) == ["Documents", "Photos"]

    cloud.set_down(True)
    down_at = time.monotonic()
    data = os.urandom(300_000)
    (mp / "offline.bin").write_bytes(data)  # lands in the cache; the upload fails
    st = wait_for(lambda: (s := mgr.status("od")).state is S.OFFLINE and s,
                  timeout=40, what="OFFLINE")
    assert st.error == OFFLINE_TEXT and st.pending_uploads == 1
    seen: set[S] = set()
    while time.monotonic() - down_at < 60:  # a minute without the cloud
        seen.add(mgr.status("od").state)
        assert is_mounted(mp)
        time.sleep(1)
    assert seen == {S.OFFLINE}
    assert (mp / "offline.bin").read_bytes() == data  # still readable from the cache
    assert sorted(os.listdir(mp)) == ["Documents", "Photos", "offline.bin"]

    cloud.set_down(False)
    wait_for(lambda: mgr.status("od").state is S.MOUNTED, timeout=30, what="MOUNTED again")
    assert mgr.wait_for_uploads("od", timeout=30)  # without waiting out rclone's back-off
    assert cloud.get_file(d.drive_id, "/offline.bin") == data
    rig.recorder.wait_states("od", [S.MOUNTING, S.MOUNTED, S.OFFLINE, S.MOUNTED])


@pytest.fixture
def small_cache(rig: MountRig) -> Iterator[Path]:
    """rclone's cache on a 4 MiB tmpfs (the tests run as root, as in CI)."""
    cache = rig.tmp / "cache"
    cache.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=700", "tmpfs", str(cache)],
                   check=True)
    try:
        yield cache
    finally:
        for mgr in rig.managers:
            mgr.shutdown(upload_timeout=0)
        subprocess.run(["umount", "-l", str(cache)], check=False)


def test_full_cache_disk_is_reported_and_nothing_else_is_harmed(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], small_cache: Path,
) -> None:
    rig, cloud, d = cloud_rig
    _write_conf(rig, cloud, d)
    conf_before = (rig.tmp / "rclone.conf").read_bytes()
    mgr, mp = _mount(rig)
    (mp / "small.txt").write_bytes(b"fits\n")
    assert mgr.wait_for_uploads("od", timeout=30)

    big = os.urandom(6 << 20)  # more than the cache disk holds
    with pytest.raises(OSError):
        (mp / "big.bin").write_bytes(big)
    _kind, text = wait_for(
        lambda: next((e for e in list(rig.recorder.events) if e[0] == "cache-full"), None),
        timeout=20, what="the cache-full notice")
    assert text.startswith("'big.bin' could not be written to 'od' completely: the disk ")
    assert "Free up space on that disk, then copy the file again." in text
    assert mgr.status("od").state is S.MOUNTED and is_mounted(mp)

    # The partial file is what the writing program left behind, as on a full local disk.
    # Everything else is untouched, and once there is room again, writing works.
    (mp / "big.bin").unlink()
    assert mgr.wait_for_uploads("od", timeout=30)
    (mp / "after.txt").write_bytes(b"room again\n")
    assert mgr.wait_for_uploads("od", timeout=30)
    assert cloud.get_file(d.drive_id, "/small.txt") == b"fits\n"
    assert cloud.get_file(d.drive_id, "/after.txt") == b"room again\n"
    assert cloud.get_file(d.drive_id, "/Documents/hello.txt") == b"hello from the cloud\n"
    conf_after = (rig.tmp / "rclone.conf").read_text()
    assert "[od]" in conf_after and conf_before.split(b"token")[0] in conf_after.encode()
