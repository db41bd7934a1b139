"""Folders changed in the cloud while a file in them waits to upload (issue 23, "uploads
that lose nothing"): moved into another folder, renamed twice, a new folder made at the old
path, deleted; and rclone killed while the cloud's version is copied into a moved folder.

Real rclone, real FUSE, the emulated cloud; the cloud changes are made "from another
device" straight in the emulator, between two of rclone's change polls (PollInterval long).
"""

from __future__ import annotations

import json
import os
import posixpath
from pathlib import Path

import pytest

from onedrive_gui.core.drives.cache_repair import cache_roots, repair_pending
from onedrive_gui.core.drives.indexing import READY
from onedrive_gui.core.drives.mounts import LIVE_STATES, MountManager
from tests.fakecloud.cloud import Defaults, FakeCloud

from .conftest import MountRig, wait_for

VFS = {"CacheMode": "writes", "WriteBack": "2s", "PollInterval": "10m"}
FIRST = b"first version\n"
LOCAL = b"first version\nedited on this computer\n"
CLOUD_EDIT = b"first version\nedited on the phone, meanwhile\n"


def _copies(cloud: FakeCloud, d: Defaults) -> dict[str, bytes]:
    """Every conflict copy in the drive: path -> content."""
    out = {}
    for p in cloud.list_paths(d.drive_id):
        if "(conflict from the cloud, " in p:
            data = cloud.get_file(d.drive_id, p)
            assert data is not None
            out[p] = data
    return out


def _mounted(rig: MountRig, cloud: FakeCloud, d: Defaults,
             files: dict[str, bytes]) -> tuple[MountManager, os.PathLike[str]]:
    for path, data in files.items():
        cloud.put_file(d.drive_id, path, data)
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    for path, data in files.items():
        assert (mp / path.lstrip("/")).read_bytes() == data
    # the read-ahead is done: the mount shows the drive as it was (until a change poll)
    wait_for(lambda: (a := mgr.activity("od").index) is not None and a.state == READY,
             what="the read-ahead")
    return mgr, mp


def _shown(mp: os.PathLike[str], path: str) -> bytes | None:
    try:
        with open(os.path.join(mp, path.lstrip("/")), "rb") as f:
            return f.read()
    except OSError:
        return None


@pytest.mark.parametrize("dest", ["/Archive/Project", "/Archive/2025/Project-old"])
@pytest.mark.parametrize("edited", [True, False], ids=["edited there", "not edited"])
def test_folder_moved_into_another_folder_keeps_both_without_a_restart(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], dest: str, edited: bool,
) -> None:
    # Another device moves the folder of a file whose local edit waits into another folder
    # (maybe renaming it), and may edit the file there. rclone uploads into the folder by
    # its ID: the local edit lands in the moved folder; the cloud's edit is kept as a
    # conflict copy beside it first; the mount shows the folder at its new place. The same
    # rclone all along (no restart).
    rig, cloud, d = cloud_rig
    cloud.make_folder(d.drive_id, "/Archive")
    mgr, mp = _mounted(rig, cloud, d, {"/Documents/Project/plan.txt": FIRST,
                                       "/Documents/Project/other.txt": b"untouched\n"})
    rcd = mgr.rcd_of("od")
    (mp / "Documents" / "Project" / "plan.txt").write_bytes(LOCAL)
    if dest.count("/") > 2:
        cloud.make_folder(d.drive_id, posixpath.dirname(dest))
    cloud.move_path(d.drive_id, "/Documents/Project", dest)
    if edited:
        cloud.put_file(d.drive_id, f"{dest}/plan.txt", CLOUD_EDIT)

    assert mgr.wait_for_uploads("od", timeout=60)
    assert mgr.rcd_of("od") is rcd
    assert cloud.get_file(d.drive_id, f"{dest}/plan.txt") == LOCAL
    assert cloud.get_file(d.drive_id, f"{dest}/other.txt") == b"untouched\n"
    assert not [p for p in cloud.list_paths(d.drive_id) if p.startswith("/Documents/Project")]
    copies = _copies(cloud, d)
    if edited:
        assert list(copies.values()) == [CLOUD_EDIT]
        (copy_path,) = copies
        assert posixpath.dirname(copy_path) == dest
        (conflict,) = wait_for(lambda: mgr.conflicts.items(), what="the conflict")
        assert conflict.path == f"{dest}/plan.txt".lstrip("/")
        assert conflict.conflict_path == copy_path.lstrip("/")
        assert conflict.local_folder == os.path.join(mp, dest.lstrip("/"))
    else:
        assert copies == {} and not mgr.conflicts.items()
    # the mount shows the folder at its new place (not at the next change poll), the local
    # edit in it, and no longer at the old one
    wait_for(lambda: _shown(mp, f"{dest}/plan.txt") == LOCAL, timeout=30,
             what=f"the moved folder in the mount: {os.listdir(mp / 'Archive')}")
    if edited:
        assert _shown(mp, copy_path) == CLOUD_EDIT
    wait_for(lambda: "Project" not in os.listdir(mp / "Documents"), timeout=30,
             what="the old folder gone from the mount")



def test_folder_renamed_twice_keeps_both(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # A -> B -> C in the cloud before the check, the file edited in C: rclone uploads into
    # the folder by its ID (C); the cloud's edit is kept beside it.
    rig, cloud, d = cloud_rig
    mgr, mp = _mounted(rig, cloud, d, {"/Documents/A/plan.txt": FIRST})
    (mp / "Documents" / "A" / "plan.txt").write_bytes(LOCAL)
    cloud.move_path(d.drive_id, "/Documents/A", "/Documents/B")
    cloud.put_file(d.drive_id, "/Documents/B/plan.txt", CLOUD_EDIT)
    cloud.move_path(d.drive_id, "/Documents/B", "/Documents/C")

    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/C/plan.txt") == LOCAL
    copies = _copies(cloud, d)
    assert list(copies.values()) == [CLOUD_EDIT]
    assert [posixpath.dirname(p) for p in copies] == ["/Documents/C"]
    assert not [p for p in cloud.list_paths(d.drive_id)
                if p.startswith(("/Documents/A", "/Documents/B"))]
    wait_for(lambda: _shown(mp, "/Documents/C/plan.txt") == LOCAL, timeout=30,
             what="the renamed folder in the mount")
    wait_for(lambda: "A" not in os.listdir(mp / "Documents"), timeout=30,
             what="the old folder gone from the mount")


@pytest.mark.parametrize("moved_to", ["/Documents/Project (old)", "/Archive/Project"])
@pytest.mark.parametrize("edited", [True, False], ids=["edited there", "not edited"])
def test_new_folder_at_the_old_path_is_not_overwritten(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], moved_to: str, edited: bool,
) -> None:
    # The folder is renamed (or moved) in the cloud, maybe the file edited there, and a new
    # folder is made at the old path with a file of the same name. rclone uploads into the
    # moved folder (by its ID), not into the new one: the new file stays as it is, the
    # moved folder gets the local edit (and a conflict copy of the cloud's edit), and
    # nothing else is copied.
    rig, cloud, d = cloud_rig
    cloud.make_folder(d.drive_id, "/Archive")
    mgr, mp = _mounted(rig, cloud, d, {"/Documents/Project/plan.txt": FIRST})
    (mp / "Documents" / "Project" / "plan.txt").write_bytes(LOCAL)
    cloud.move_path(d.drive_id, "/Documents/Project", moved_to)
    if edited:
        cloud.put_file(d.drive_id, f"{moved_to}/plan.txt", CLOUD_EDIT)
    other = b"a new plan, made in the new folder\n"
    cloud.put_file(d.drive_id, "/Documents/Project/plan.txt", other)

    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/Project/plan.txt") == other
    assert cloud.get_file(d.drive_id, f"{moved_to}/plan.txt") == LOCAL
    copies = _copies(cloud, d)
    assert list(copies.values()) == ([CLOUD_EDIT] if edited else [])
    assert [posixpath.dirname(p) for p in copies] == ([moved_to] if edited else [])
    wait_for(lambda: _shown(mp, f"{moved_to}/plan.txt") == LOCAL, timeout=30,
             what="the moved folder in the mount")
    wait_for(lambda: _shown(mp, "/Documents/Project/plan.txt") == other, timeout=30,
             what="the new folder in the mount")


def test_new_folder_at_the_old_path_listed_by_the_mount_first_keeps_all(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # As above, but the mount lists the old folder's parent before the check (a change
    # poll, the read-ahead, the user opening it): rclone's cached ID of the old path is
    # the new folder's then, and the upload goes there. The new file is kept as a conflict
    # copy beside the local edit; the moved folder keeps the cloud's edit.
    rig, cloud, d = cloud_rig
    cloud.make_folder(d.drive_id, "/Archive")
    mgr, mp = _mounted(rig, cloud, d, {"/Documents/Project/plan.txt": FIRST})
    (mp / "Documents" / "Project" / "plan.txt").write_bytes(LOCAL)
    cloud.move_path(d.drive_id, "/Documents/Project", "/Archive/Project")
    cloud.put_file(d.drive_id, "/Archive/Project/plan.txt", CLOUD_EDIT)
    other = b"a new plan, made in the new folder\n"
    cloud.put_file(d.drive_id, "/Documents/Project/plan.txt", other)
    rcd = mgr.rcd_of("od")
    assert rcd is not None
    rcd.client.call("vfs/refresh", {"fs": "od:", "dir": "Documents"}, timeout=60)

    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/Project/plan.txt") == LOCAL
    assert cloud.get_file(d.drive_id, "/Archive/Project/plan.txt") == CLOUD_EDIT
    copies = _copies(cloud, d)
    assert list(copies.values()) == [other]
    assert [posixpath.dirname(p) for p in copies] == ["/Documents/Project"]


@pytest.mark.parametrize("parent", [False, True], ids=["its folder", "the folder above"])
def test_folder_deleted_in_the_cloud_keeps_the_local_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], parent: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The folder of a file whose local edit waits (or the folder above it) is deleted in
    # the cloud. A running rclone uploads into the folder by its cached ID, which no longer
    # exists, and never forgets it: the file stays held (shown in the mount and as pending),
    # nothing is lost; a new rclone (a restart) makes the folders again at their path and
    # uploads it there.
    rig, cloud, d = cloud_rig
    mgr, mp = _mounted(rig, cloud, d, {"/Documents/A/Project/plan.txt": FIRST,
                                       "/Documents/A/Project/other.txt": b"untouched\n"})
    (mp / "Documents" / "A" / "Project" / "plan.txt").write_bytes(LOCAL)
    cloud.delete_path(d.drive_id, "/Documents/A" if parent else "/Documents/A/Project")
    name = "Documents/A/Project/plan.txt"

    def held_checks() -> int:
        return len([r for r in caplog.records if name in r.getMessage()
                    and "stays held" in r.getMessage()])

    wait_for(held_checks, timeout=60, what="a check that keeps the file held")
    mgr.upload_now("od")  # checked at once again: still held
    wait_for(lambda: held_checks() >= 2, timeout=60, what="a second check")
    assert [u.path for u in mgr.activity("od").uploads] == [name]
    # (not read through the mount here: rclone rewrites a file's cache metadata when a
    # handle closes, in place, and a kill while it does makes it drop the file at its
    # restart — test_rclone_killed_while_it_rewrites_cache_metadata)
    assert sorted(os.listdir(mp / "Documents" / "A" / "Project")) == ["other.txt", "plan.txt"]
    assert not [p for p in cloud.list_paths(d.drive_id) if p.startswith("/Documents/A/Project")]

    rcd = mgr.rcd_of("od")
    assert rcd is not None and rcd.pid is not None
    os.kill(rcd.pid, 9)  # rclone stops (a crash, or the app restarted): a new one mounts
    wait_for(lambda: mgr.rcd_of("od") not in (None, rcd)
             and mgr.status("od").state in LIVE_STATES, timeout=120,
             what=f"the drive mounted again: {mgr.statuses()}")
    mgr.upload_now("od")
    wait_for(lambda: cloud.get_file(d.drive_id, f"/{name}") == LOCAL, timeout=120,
             what=f"the local edit uploaded: {cloud.list_paths(d.drive_id)}")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/A/Project/other.txt") is None
    assert _copies(cloud, d) == {}
    wait_for(lambda: _shown(mp, name) == LOCAL, timeout=30,
             what="the local edit in the mount")


def _contents(cloud: FakeCloud, d: Defaults) -> list[bytes]:
    return sorted(data for p in cloud.list_paths(d.drive_id)
                  if not p.endswith("/") and (data := cloud.get_file(d.drive_id, p)))


@pytest.mark.parametrize("made", [True, False], ids=["copy made", "copy not made"])
def test_rclone_killed_while_the_cloud_edit_is_copied_into_a_moved_folder(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], made: bool,
) -> None:
    # The folder is moved into another folder in the cloud and the file edited there; the
    # check copies the cloud's version beside it (a server-side copy, slow) and rclone is
    # killed (SIGKILL) meanwhile. The copy is made by the cloud anyway (or never reached
    # it). After the restart no edit is lost and none is kept twice.
    rig, cloud, d = cloud_rig
    cloud.make_folder(d.drive_id, "/Archive")
    mgr, mp = _mounted(rig, cloud, d, {"/Documents/Project/plan.txt": FIRST})
    cloud.hold_copies()
    (mp / "Documents" / "Project" / "plan.txt").write_bytes(LOCAL)
    cloud.move_path(d.drive_id, "/Documents/Project", "/Archive/Project")
    cloud.put_file(d.drive_id, "/Archive/Project/plan.txt", CLOUD_EDIT)

    wait_for(lambda: cloud.held_copies(), timeout=60, what="the conflict copy started")
    rcd = mgr.rcd_of("od")
    assert rcd is not None and rcd.pid is not None
    os.kill(rcd.pid, 9)
    cloud.finish_copies(made=made)
    cloud.hold_copies(False)
    wait_for(lambda: mgr.rcd_of("od") not in (None, rcd)
             and mgr.status("od").state in LIVE_STATES, timeout=120,
             what=f"the drive mounted again: {mgr.statuses()}")
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    everything = _contents(cloud, d)
    assert everything.count(LOCAL) == 1 and everything.count(CLOUD_EDIT) == 1, (
        cloud.list_paths(d.drive_id))
    # the new rclone does not know the moved folder: the local edit goes to its path, made
    # again; the cloud's edit was not replaced, so a copy of it made before is spare
    assert cloud.get_file(d.drive_id, "/Documents/Project/plan.txt") == LOCAL
    assert cloud.get_file(d.drive_id, "/Archive/Project/plan.txt") == CLOUD_EDIT
    assert _copies(cloud, d) == {}
    wait_for(lambda: _shown(mp, "/Documents/Project/plan.txt") == LOCAL, timeout=30,
             what="the local edit in the mount")
    wait_for(lambda: os.listdir(mp / "Archive" / "Project") == ["plan.txt"], timeout=30,
             what=f"the moved folder in the mount: {os.listdir(mp / 'Archive' / 'Project')}")
    assert _shown(mp, "/Archive/Project/plan.txt") == CLOUD_EDIT


def test_several_files_of_a_folder_moved_elsewhere_cost_one_look_through_the_drive(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # Three files of a folder wait; the folder is moved into another one and one of them
    # edited there. The moved folder is looked for once (one read of the drive's delta)
    # for all three; the edited one is kept as a conflict copy beside the local edit.
    rig, cloud, d = cloud_rig
    cloud.make_folder(d.drive_id, "/Archive")
    names = ["plan.txt", "notes.txt", "budget.txt"]
    mgr, mp = _mounted(rig, cloud, d, {f"/Documents/Project/{n}": f"first {n}\n".encode()
                                       for n in names})
    local = {n: f"first {n}\nedited on this computer\n".encode() for n in names}
    start = len(cloud.requests)
    for n in names:
        (mp / "Documents" / "Project" / n).write_bytes(local[n])
    cloud.move_path(d.drive_id, "/Documents/Project", "/Archive/Project")
    cloud.put_file(d.drive_id, "/Archive/Project/plan.txt", CLOUD_EDIT)

    assert mgr.wait_for_uploads("od", timeout=90)
    for n in names:
        assert cloud.get_file(d.drive_id, f"/Archive/Project/{n}") == local[n], n
    assert list(_copies(cloud, d).values()) == [CLOUD_EDIT]
    walks = [r for r in cloud.requests[start:] if r.path.endswith("/root/delta")
             and "token" not in r.query]
    assert len(walks) == 1, walks


def test_rclone_killed_while_it_rewrites_cache_metadata_keeps_the_local_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # rclone rewrites a cached file's metadata in place (vfs/vfscache/item.go _save:
    # os.Create, then the JSON), on every close of a handle among others. Killed between
    # the two (seen: a read through the mount right before a SIGKILL), the metadata is
    # empty; the restarted rclone then removes the file from its cache ("failed to load
    # metadata"), a pending local edit with it. The state such a kill leaves: the metadata
    # of a file whose edit waits emptied, then rclone killed.
    rig, cloud, d = cloud_rig
    mgr, mp = _mounted(rig, cloud, d, {"/Documents/plan.txt": FIRST})
    (mp / "Documents" / "plan.txt").write_bytes(LOCAL)
    meta = rig.tmp / "cache" / "vfsMeta" / "od" / "Documents" / "plan.txt"
    wait_for(lambda: [u.path for u in mgr.activity("od").uploads] == ["Documents/plan.txt"]
             and b'"Dirty": true' in meta.read_bytes(), timeout=30,
             what="the pending file queued, its cache metadata written")
    rcd = mgr.rcd_of("od")
    assert rcd is not None and rcd.pid is not None
    bases = rig.tmp / "cache" / "onedrive-gui-uploads" / "od.json"
    wait_for(lambda: bases.exists() and json.loads(bases.read_text())["files"].get(
        "Documents/plan.txt", {}).get("pinned"), timeout=30,
        what="the app's record of the waiting edit")
    meta.write_bytes(b"")
    os.kill(rcd.pid, 9)
    wait_for(lambda: mgr.rcd_of("od") not in (None, rcd)
             and mgr.status("od").state in LIVE_STATES, timeout=120,
             what=f"the drive mounted again: {mgr.statuses()}")
    mgr.upload_now("od")
    wait_for(lambda: cloud.get_file(d.drive_id, "/Documents/plan.txt") == LOCAL, timeout=60,
             what="the local edit uploaded")
    assert mgr.wait_for_uploads("od", timeout=60)
    assert _shown(mp, "/Documents/plan.txt") == LOCAL


def test_only_damaged_metadata_of_waiting_files_is_written_again(tmp_path: Path) -> None:
    # cache_repair without rclone: the files whose edit waits, data there, metadata empty
    # or missing, are written again as rclone writes a waiting file; nothing else is
    # touched.
    meta, data = tmp_path / "vfsMeta" / "od", tmp_path / "vfs" / "od"
    files = {"Documents/empty.txt": b"", "Documents/missing.txt": None,
             "Documents/good.txt": b'{"Dirty": true}', "Documents/gone.txt": b""}
    for name, content in files.items():
        if name != "Documents/gone.txt":
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            (data / name).write_bytes(b"my edit\n")
        if content is not None:
            (meta / name).parent.mkdir(parents=True, exist_ok=True)
            (meta / name).write_bytes(content)
    (data / "Documents" / "other.txt").write_bytes(b"not waiting\n")
    (meta / "Documents" / "other.txt").write_bytes(b"")
    fp = "14,2026-12-03 10:00:00 +0000 UTC,abcd"
    assert repair_pending(meta, data, {n: fp for n in files}) == [
        "Documents/empty.txt", "Documents/missing.txt"]
    for name in ("Documents/empty.txt", "Documents/missing.txt"):
        info = json.loads((meta / name).read_text())
        assert info["Dirty"] is True and info["Size"] == 8 and info["Fingerprint"] == fp
        assert info["Rs"] == [{"Pos": 0, "Size": 8}]
    assert (meta / "Documents" / "good.txt").read_bytes() == b'{"Dirty": true}'
    assert (meta / "Documents" / "other.txt").read_bytes() == b""
    assert not (meta / "Documents" / "gone.txt").read_bytes()
    assert cache_roots(tmp_path, "od:") == (meta, data)
    assert cache_roots(tmp_path, "od:Sub/x") == (meta / "Sub" / "x", data / "Sub" / "x")
    assert cache_roots(tmp_path, "od,delta=true:") is None
