"""Start while offline: a drive mounted while the cloud cannot be reached waits ("offline",
no error) and is mounted by itself once the cloud is back. Real rclone, real FUSE, the
emulated cloud (its proxy refusing every connection while "down")."""

from __future__ import annotations

import time

from onedrive_gui.core.drives.mounts import MountState

from .conftest import CloudRig, is_mounted

S = MountState
VFS = {"CacheMode": "writes", "WriteBack": "1s"}


def test_mount_while_offline_waits_then_mounts_by_itself(
    cloud_rig: CloudRig,
) -> None:
    rig, cloud, d = cloud_rig
    rig.extra_args = ["--low-level-retries", "1"]
    mgr = rig.manager(probe_interval=1.0)
    mp = rig.mount_point()
    cloud.set_down(True)  # the network is down when the app starts

    st = mgr.mount("od", "od:", str(mp), {}, dict(VFS))  # no error raised

    assert st.state is S.WAITING_OFFLINE and st.error and "mounted by itself" in st.error
    assert not is_mounted(mp)
    rig.recorder.wait_states("od", [S.MOUNTING, S.WAITING_OFFLINE])  # (told by the monitor)
    assert not rig.recorder.events  # nothing to tell but the state

    cloud.set_down(False)  # the connection is back
    rig.recorder.wait_states("od", [S.MOUNTING, S.WAITING_OFFLINE, S.MOUNTED], timeout=60)
    assert is_mounted(mp)
    assert (mp / "Documents" / "hello.txt").read_bytes() == b"hello from the cloud\n"
    (mp / "back.txt").write_bytes(b"written once online\n")
    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/back.txt") == b"written once online\n"


def test_waiting_for_the_cloud_can_be_called_off(
    cloud_rig: CloudRig,
) -> None:
    rig, cloud, _d = cloud_rig
    rig.extra_args = ["--low-level-retries", "1"]
    mgr = rig.manager(probe_interval=1.0)
    mp = rig.mount_point()
    cloud.set_down(True)
    assert mgr.mount("od", "od:", str(mp), {}, dict(VFS)).state is S.WAITING_OFFLINE
    mgr.unmount("od")  # "Unmount": stop waiting
    assert mgr.status("od").state is S.UNMOUNTED
    before = len(cloud.requests)
    cloud.set_down(False)
    time.sleep(3)  # several retry intervals: nothing is tried, it stays unmounted
    assert mgr.status("od").state is S.UNMOUNTED and not is_mounted(mp)
    assert len(cloud.requests) == before
