"""A file changed in the cloud while a local edit waited to upload: both are kept.

Real rclone, real FUSE, the emulated cloud; the cloud edit is made "from another device"
(new content, eTag, cTag, QuickXorHash, lastModifiedDateTime) straight in the emulator.
"""

from __future__ import annotations

import errno
import os
import random
import threading
import time
from pathlib import Path

import pytest

from onedrive_gui.core.drives.conflicts import (
    Conflict,
    Version,
    conflict_name,
    parse_fingerprint,
)
from onedrive_gui.core.drives.indexing import READY
from onedrive_gui.core.drives.mounts import LIVE_STATES, MountManager, MountState
from onedrive_gui.core.drives.uploads import hold_for, hold_uploads
from tests.fakecloud.cloud import Defaults, FakeCloud

from .conftest import MountRig, wait_for

S = MountState
GRAPH = "graph.microsoft.com"
# PollInterval long: the mount does not learn of the cloud edit by itself in these tests,
# exactly the situation of the issue (the edit arrives between two change polls).
VFS = {"CacheMode": "writes", "WriteBack": "2s", "PollInterval": "10m"}


def _conflict_copies(cloud: FakeCloud, d: Defaults, folder: str) -> dict[str, bytes]:
    out = {}
    for p in cloud.list_paths(d.drive_id):
        if p.startswith(folder + "/") and "(conflict from the cloud, " in p:
            data = cloud.get_file(d.drive_id, p)
            assert data is not None
            out[p] = data
    return out


def _graph_requests(cloud: FakeCloud) -> int:
    return len(cloud.requests_to(GRAPH))


def test_cloud_edit_while_local_edit_waits_keeps_both(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/notes.txt", b"first version\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    notes = mp / "Documents" / "notes.txt"
    assert notes.read_bytes() == b"first version\n"

    local = b"first version\nedited on this computer\n"
    notes.write_bytes(local)  # queued: uploads in 2 s
    cloud_edit = b"first version\nedited on the phone, meanwhile\n"
    cloud.put_file(d.drive_id, "/Documents/notes.txt", cloud_edit)  # "another device"

    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/notes.txt") == local
    copies = _conflict_copies(cloud, d, "/Documents")
    assert list(copies.values()) == [cloud_edit]
    (copy_path,) = copies
    copy_name = copy_path.rsplit("/", 1)[1]
    assert copy_name.startswith("notes (conflict from the cloud, ") and copy_name.endswith(
        ").txt")
    # both are in the mounted folder right away, and read back as they are in the cloud
    assert (mp / "Documents" / copy_name).read_bytes() == cloud_edit
    assert notes.read_bytes() == local

    # the user is told, naming both files; clicking opens the folder holding them
    events = wait_for(lambda: [t for k, t in rig.recorder.events if k == "conflict"],
                      what="the conflict notification")
    assert len(events) == 1
    assert "notes.txt" in events[0] and copy_name in events[0] and len(events[0]) <= 255
    (conflict,) = mgr.conflicts.items()
    assert conflict.path == "Documents/notes.txt" and conflict.conflict_name == copy_name
    assert conflict.local_folder == str(mp / "Documents")
    assert conflict.text() == events[0]


def test_unchanged_cloud_costs_one_stat_and_idle_costs_nothing(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "0s"})
    doc = mp / "Documents" / "hello.txt"
    assert doc.read_bytes() == b"hello from the cloud\n"
    time.sleep(1.5)  # let the mount settle (its first listings)

    before = _graph_requests(cloud)
    time.sleep(4)  # mounted, nothing queued: the guard asks the cloud nothing
    assert _graph_requests(cloud) == before

    start = len(cloud.requests)
    doc.write_bytes(b"hello, edited here\n")
    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/hello.txt") == b"hello, edited here\n"
    assert _conflict_copies(cloud, d, "/Documents") == {}
    lookups = [r for r in cloud.requests[start:] if r.host == GRAPH and r.method == "GET"
               and r.path.endswith("hello.txt:")]
    assert len(lookups) == 1  # the guard's one stat; rclone's upload itself adds none
    assert not [k for k, _ in rig.recorder.events if k == "conflict"]

    # a file made here: one stat too (not in the cloud), no listing of its folder
    start = len(cloud.requests)
    (mp / "Documents" / "new.txt").write_bytes(b"made here\n")
    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/new.txt") == b"made here\n"
    gets = [r.path for r in cloud.requests[start:] if r.host == GRAPH and r.method == "GET"]
    assert len([p for p in gets if p.endswith("new.txt:")]) == 1
    assert not [p for p in gets if "/children" in p], gets


def _batch_read_then_edited(
    rig: MountRig, cloud: FakeCloud, d: Defaults, names: list[str],
) -> tuple[MountManager, dict[str, bytes], int]:
    """*names* in the cloud's /Batch, mounted, each read here (the edit's base), then edited
    here: (the manager, the local edits, the cloud's request count before the edits)."""
    for name in names:
        cloud.put_file(d.drive_id, f"/Batch/{name}", f"{name} from the cloud\n".encode())
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    batch = mp / "Batch"
    for name in names:  # opened here: each edit below is based on this version
        assert (batch / name).read_bytes() == f"{name} from the cloud\n".encode()
    time.sleep(1.5)  # the reads' own requests are done
    start = len(cloud.requests)
    local = {name: f"{name} edited here\n".encode() for name in names}
    for name, data in local.items():
        (batch / name).write_bytes(data)
    return mgr, local, start


def test_many_files_of_a_folder_cost_a_few_listings_and_a_cloud_edit_is_kept(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Issue 23 ("cheap"): the files of one folder waiting to upload are checked against
    one listing of the folder, not one request each — and a cloud edit of one of them,
    made while they wait, is still kept as a conflict copy."""
    rig, cloud, d = cloud_rig
    n = 80
    names = [f"f{i:02d}.txt" for i in range(n)]
    mgr, local, start = _batch_read_then_edited(rig, cloud, d, names)
    cloud_edit = b"f07.txt edited on the phone, meanwhile\n"
    cloud.put_file(d.drive_id, "/Batch/f07.txt", cloud_edit)

    assert mgr.wait_for_uploads("od", timeout=120)
    for name, data in local.items():
        assert cloud.get_file(d.drive_id, f"/Batch/{name}") == data
    copies = _conflict_copies(cloud, d, "/Batch")
    assert list(copies.values()) == [cloud_edit]
    assert next(iter(copies)).startswith("/Batch/f07 (conflict from the cloud, ")
    assert [c.name for c in mgr.conflicts.items()] == ["f07.txt"]
    # what the checks asked the cloud: listings of the folder, look-ups of these files
    asked = [r for r in cloud.requests[start:] if r.host == GRAPH and r.method == "GET" and (
        r.path.endswith("/children") or any(r.path.endswith(f"/{x}:") for x in names))]
    assert 0 < len(asked) <= n // 10, [(r.path, r.query) for r in asked]


def test_files_deleted_in_the_cloud_while_they_wait_cost_a_few_listings(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Files edited here whose cloud versions were deleted meanwhile (a clean-up on the
    web): each local edit is uploaded again, and the checks cost a few folder listings —
    the listing, made through rclone's cached folder ID as the upload goes, already says
    the file is not in the folder the upload goes to (it was listed once more per file)."""
    rig, cloud, d = cloud_rig
    n = 40
    names = [f"g{i:02d}.txt" for i in range(n)]
    mgr, local, start = _batch_read_then_edited(rig, cloud, d, names)
    for name in names:
        cloud.delete_path(d.drive_id, f"/Batch/{name}")

    assert mgr.wait_for_uploads("od", timeout=120)
    for name, data in local.items():
        assert cloud.get_file(d.drive_id, f"/Batch/{name}") == data
    assert not _conflict_copies(cloud, d, "/Batch")
    asked = [r for r in cloud.requests[start:] if r.host == GRAPH and r.method == "GET" and (
        r.path.endswith("/children") or any(r.path.endswith(f"/{x}:") for x in names))]
    assert 0 < len(asked) <= n // 5, [(r.path, r.query) for r in asked]


def test_cloud_edit_of_a_clean_file_is_read_next_time(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # the other direction: the cloud edit arrives first, the local copy is not dirty
    rig, cloud, d = cloud_rig
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "PollInterval": "1s"})
    doc = mp / "Documents" / "plan.txt"
    doc.write_bytes(b"plan, written here\n")
    assert mgr.wait_for_uploads("od", timeout=60)
    assert doc.read_bytes() == b"plan, written here\n"  # from the cache

    cloud.put_file(d.drive_id, "/Documents/plan.txt", b"plan, changed in the browser\n")
    # rclone learns of the change at its next change poll; the user opens the folder again
    # and the file: the cache drops its stale copy, the cloud's version is read
    wait_for(lambda: "plan.txt" in os.listdir(doc.parent)
             and doc.read_bytes() == b"plan, changed in the browser\n", timeout=30,
             what="the cloud's version read through the mount")
    time.sleep(1.5)
    assert cloud.get_file(d.drive_id, "/Documents/plan.txt") == (
        b"plan, changed in the browser\n")
    assert _conflict_copies(cloud, d, "/Documents") == {}
    assert not mgr.conflicts.items()


def test_save_via_temporary_file_and_rename_keeps_both(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # How office suites save: the document is opened (read and write), edited for a while,
    # then written to a temporary file in the same folder that is renamed over it.
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/report.odt", b"report v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    report = mp / "Documents" / "report.odt"
    with open(report, "r+b") as f:
        opened = f.read()
    assert opened == b"report v1\n"
    time.sleep(3)  # the user edits
    cloud_edit = b"report v1\nand a colleague's paragraph\n"
    cloud.put_file(d.drive_id, "/Documents/report.odt", cloud_edit)
    time.sleep(1)
    local = opened + b"and my paragraph\n"
    tmp = mp / "Documents" / "lu4711.tmp"
    tmp.write_bytes(local)
    os.replace(tmp, report)

    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/report.odt") == local
    assert list(_conflict_copies(cloud, d, "/Documents").values()) == [cloud_edit]
    assert cloud.get_file(d.drive_id, "/Documents/lu4711.tmp") is None
    assert [c.name for c in mgr.conflicts.items()] == ["report.odt"]


@pytest.mark.parametrize("read", ["outside the cache", "through the cache"])
@pytest.mark.parametrize("cloud_edit", [b"first version\nedited on the phone, meanwhile\n",
                                        b"first version, same size\n", None],
                         ids=["edited there", "same size", "not edited"])
def test_save_in_place_after_the_mount_learned_of_a_cloud_edit_keeps_both(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], read: str, cloud_edit: bytes | None,
) -> None:
    # How Notepad or VS Code save: the file is read, edited for a while, then written by
    # opening it write-only and truncating it. Meanwhile the cloud edit arrived and the
    # mount learned of it (a change poll): the open takes the cloud's new version, which
    # the program never read.
    rig, cloud, d = cloud_rig
    first = b"first version\n" if cloud_edit != b"first version, same size\n" else (
        b"first version, past size\n")
    assert cloud_edit is None or (len(cloud_edit) == len(first)) == (b"same" in cloud_edit)
    cloud.put_file(d.drive_id, "/Documents/notes.txt", first)
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "PollInterval": "1s"})
    notes = mp / "Documents" / "notes.txt"
    if read == "outside the cache":  # cache mode writes: a read-only open is not cached
        opened = notes.read_bytes()
    else:
        with open(notes, "r+b") as f:
            opened = f.read()
    assert opened == first
    if cloud_edit is not None:
        before = os.stat(notes).st_mtime
        time.sleep(1.1)  # the cloud's times are in whole seconds
        cloud.put_file(d.drive_id, "/Documents/notes.txt", cloud_edit)
        wait_for(lambda: os.stat(notes).st_mtime != before, timeout=30,
                 what="the mount learned of the cloud edit")
    else:
        time.sleep(2)  # two change polls
    local = opened + b"edited here\n"
    notes.write_bytes(local)  # O_WRONLY|O_TRUNC

    assert mgr.wait_for_uploads("od", timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/notes.txt") == local
    copies = list(_conflict_copies(cloud, d, "/Documents").values())
    if cloud_edit is None:
        assert copies == [] and not mgr.conflicts.items()
    else:
        assert copies == [cloud_edit]


@pytest.mark.parametrize("cloud_edit", [b"first version\nedited on the phone, meanwhile\n", None],
                         ids=["edited there", "not edited"])
def test_folder_moved_in_the_cloud_while_a_file_waits_keeps_both(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], cloud_edit: bytes | None,
) -> None:
    # Another device renames the folder of a file whose local edit waits to upload, and may
    # edit the file there. rclone uploads into the folder by the folder's ID (cached when it
    # listed it): the local edit lands in the renamed folder, over the file there. The drive
    # is mounted at its root, as the app does; the folder is a second-level one (a look-up
    # by path then does not go through rclone's cached folder IDs).
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/Project/plan.txt", b"first version\n")
    cloud.put_file(d.drive_id, "/Documents/Project/other.txt", b"untouched\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    plan = mp / "Documents" / "Project" / "plan.txt"
    assert plan.read_bytes() == b"first version\n"
    # the read-ahead is done: the mount shows the drive as it was (until a change poll)
    wait_for(lambda: (a := mgr.activity("od").index) is not None and a.state == READY,
             what="the read-ahead")

    local = b"first version\nedited on this computer\n"
    plan.write_bytes(local)  # queued: checked and released in 2 s
    cloud.move_path(d.drive_id, "/Documents/Project", "/Documents/Project (old)")
    if cloud_edit is not None:
        cloud.put_file(d.drive_id, "/Documents/Project (old)/plan.txt", cloud_edit)

    assert mgr.wait_for_uploads("od", timeout=60)
    moved = "/Documents/Project (old)"
    assert cloud.get_file(d.drive_id, f"{moved}/plan.txt") == local
    assert cloud.get_file(d.drive_id, f"{moved}/other.txt") == b"untouched\n"
    assert "/Documents/Project/" not in cloud.list_paths(d.drive_id)
    copies = _conflict_copies(cloud, d, moved)
    events = [t for k, t in rig.recorder.events if k == "conflict"]
    if cloud_edit is None:  # nothing to keep: no copy, no notification
        assert copies == {} and not events and not mgr.conflicts.items()
    else:
        assert list(copies.values()) == [cloud_edit]
        (copy_path,) = copies
        events = wait_for(lambda: [t for k, t in rig.recorder.events if k == "conflict"],
                          what="the conflict notification")
        (conflict,) = mgr.conflicts.items()
        assert conflict.path == "Documents/Project (old)/plan.txt"
        assert conflict.conflict_path == copy_path.lstrip("/")
        assert conflict.local_folder == str(mp / "Documents" / "Project (old)")
        assert events == [conflict.text()]
    # the mount shows the folder under its new name at once (not at the next change poll),
    # the local edit in it
    shown = mp / "Documents" / "Project (old)"
    wait_for(lambda: sorted(os.listdir(mp / "Documents")) == ["Project (old)", "hello.txt"],
             what=f"the renamed folder in the mount: {os.listdir(mp / 'Documents')}")
    assert (shown / "plan.txt").read_bytes() == local
    if cloud_edit is not None:
        assert (shown / copy_path.rsplit("/", 1)[1]).read_bytes() == cloud_edit


def test_folder_moved_in_the_cloud_while_several_of_its_files_wait_keeps_both(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # As above with three files of the folder waiting at once: they are checked against one
    # listing of the folder (cloud_listings.py), which rclone makes through the folder's
    # cached ID — the renamed folder. The one edited there is kept as a conflict copy in
    # the renamed folder (a copy by the old path finds nothing), the others need none.
    rig, cloud, d = cloud_rig
    names = ["plan.txt", "notes.txt", "budget.txt"]
    for n in names:
        cloud.put_file(d.drive_id, f"/Documents/Project/{n}", f"first {n}\n".encode())
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    folder = mp / "Documents" / "Project"
    for n in names:
        assert (folder / n).read_bytes() == f"first {n}\n".encode()
    wait_for(lambda: (a := mgr.activity("od").index) is not None and a.state == READY,
             what="the read-ahead")
    local = {n: f"first {n}\nedited on this computer\n".encode() for n in names}
    for n in names:
        (folder / n).write_bytes(local[n])
    cloud.move_path(d.drive_id, "/Documents/Project", "/Documents/Project (old)")
    cloud_edit = b"first plan.txt\nedited on the phone, meanwhile\n"
    cloud.put_file(d.drive_id, "/Documents/Project (old)/plan.txt", cloud_edit)

    assert mgr.wait_for_uploads("od", timeout=90)
    moved = "/Documents/Project (old)"
    for n in names:
        assert cloud.get_file(d.drive_id, f"{moved}/{n}") == local[n], n
    assert list(_conflict_copies(cloud, d, moved).values()) == [cloud_edit]
    (conflict,) = wait_for(lambda: mgr.conflicts.items(), what="the conflict")
    assert conflict.path == "Documents/Project (old)/plan.txt"


def test_folder_above_renamed_in_the_cloud_while_a_file_waits_keeps_both(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    # The folder two levels above the file is renamed on another device and the file edited
    # there: its own folder keeps its name (in the renamed one). rclone uploads into it by
    # its cached ID; the check finds it under its parent as rclone lists that (by ID).
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/A/Project/plan.txt", b"first version\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    plan = mp / "Documents" / "A" / "Project" / "plan.txt"
    assert plan.read_bytes() == b"first version\n"
    wait_for(lambda: (a := mgr.activity("od").index) is not None and a.state == READY,
             what="the read-ahead")

    local = b"first version\nedited on this computer\n"
    plan.write_bytes(local)
    cloud.move_path(d.drive_id, "/Documents/A", "/Documents/A (2025)")
    cloud_edit = b"first version\nedited on the phone, meanwhile\n"
    cloud.put_file(d.drive_id, "/Documents/A (2025)/Project/plan.txt", cloud_edit)

    assert mgr.wait_for_uploads("od", timeout=60)  # was held until rclone restarted
    moved = "/Documents/A (2025)/Project"
    assert cloud.get_file(d.drive_id, f"{moved}/plan.txt") == local
    assert list(_conflict_copies(cloud, d, moved).values()) == [cloud_edit]
    assert len(mgr.conflicts.items()) == 1


_SAVE_STYLES = ("in place", "temp+rename", "rename held")
_FULL_STYLES = (*_SAVE_STYLES, "read+rename at once")


def test_race_no_edit_lost(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Randomized (RACE_SEED to replay; RACE_RUNS=50 for the issue's 50 runs, 16 by default
    under a shared CPU): save styles (in place; temporary file + rename; rename of a held
    file; read and at once temporary file + rename in cache mode full), cloud edits, deletes
    and folder renames landing before the local write, while the file is open, or while
    its upload waits; write-back delays 0–3 s; then, while uploads wait or run, one
    drive's rclone is killed (crash) and restarted by the monitor. No byte of either edit
    may be lost, and no version kept twice."""
    rig, cloud, d = cloud_rig
    seed = int(os.environ.get("RACE_SEED", "0")) or time.time_ns()
    n_runs = int(os.environ.get("RACE_RUNS", "16"))
    print(f"RACE_SEED={seed} RACE_RUNS={n_runs}")  # shown with the test's output (-rP, -s)
    rng = random.Random(seed)
    drives = {"w0": ("writes", 0.0), "w2": ("writes", 2.0), "f3": ("full", 3.0)}
    runs = [(i, rng.choice(sorted(drives))) for i in range(n_runs)]
    for i, drive in runs:
        cloud.put_file(d.drive_id, f"/{drive}/r{i}/f.txt", f"original {i}\n".encode())
    mgr = rig.manager()
    mps = {}
    for drive, (mode, delay) in drives.items():
        mp = rig.mount_point(f"mnt-{drive}")
        mgr.mount(drive, f"od:{drive}", str(mp), {},
                  {**VFS, "CacheMode": mode, "WriteBack": f"{delay:g}s"})
        mps[drive] = mp
    results: dict[int, dict[str, object]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pick(*options: str) -> str:
        with lock:
            return rng.choice(options)

    def pause(hi: float) -> None:
        with lock:
            t = rng.uniform(0, max(0.0, hi))
        time.sleep(t)

    def read(path: os.PathLike[str]) -> bytes:
        """A program reading a file. A read outside rclone's cache (cache mode writes) of a
        file whose cloud version a listing (the read-ahead) changes while it reads fails at
        its close with EIO (rclone report 7: the read is checked against the new version's
        hash); the user opens the file again."""
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            return Path(path).read_bytes()

    def one(i: int, drive: str) -> None:
        mode, delay = drives[drive]
        folder = mps[drive] / f"r{i}"
        path = folder / "f.txt"
        remote = f"/{drive}/r{i}/f.txt"
        style = pick(*(_FULL_STYLES if mode == "full" else _SAVE_STYLES))
        # "folder": its folder renamed in the cloud; "folder+edit": and the file edited there
        action = pick("edit", "edit", "delete", "folder", "folder+edit", "none")
        if style == "rename held" and action in ("delete", "folder", "folder+edit"):
            action = "edit"  # rclone moves the cloud item itself: it must exist
        when = pick("before", "during", "after") if delay >= 2 else pick("before", "during")
        if action.startswith("folder"):
            when = "after" if delay >= 2 else "none"
            action = action if delay >= 2 else "none"
        if action == "delete" and when == "before":
            when = "during"  # deleted before it is read, it cannot be read (EIO) nor edited
        cloud_edit = f"original {i}\ncloud edit {i}\n".encode()

        def cloud_act() -> None:
            if action == "edit":
                cloud.put_file(d.drive_id, remote, cloud_edit)
            elif action == "delete":
                cloud.delete_path(d.drive_id, remote)
            elif action.startswith("folder"):
                cloud.move_path(d.drive_id, f"/{drive}/r{i}", f"/{drive}/r{i}-moved")
                if action == "folder+edit":
                    cloud.put_file(d.drive_id, f"/{drive}/r{i}-moved/f.txt", cloud_edit)

        assert read(path) or True  # listed here (the file is known to the mount)
        if when == "before":
            cloud_act()
            pause(1)
        final = "f.txt"
        if style in ("in place", "rename held"):
            with open(path, "r+b") as f:
                current = f.read()
                if when == "during":
                    pause(0.5)
                    cloud_act()
                    pause(0.5)
                local = current + f"local edit {i}\n".encode()
                f.seek(0)
                f.write(local)
                f.truncate()
            if style == "rename held":
                pause(0.5)
                os.rename(path, folder / "g.txt")
                final = "g.txt"
                (folder / "g.txt").read_bytes()  # an indexer reads it at once
        else:
            current = read(path)
            if style == "temp+rename":
                pause(0.5)
            if when == "during":
                cloud_act()
            local = current + f"local edit {i}\n".encode()
            tmp = folder / f"~f{i}.tmp"
            tmp.write_bytes(local)
            os.replace(tmp, path)
        if when == "after":
            pause(delay - 0.7)
            cloud_act()
        results[i] = {"style": style, "action": action, "when": when, "local": local,
                      "cloud_edit": cloud_edit, "final": final}

    def worker(batch: list[tuple[int, str]]) -> None:
        for i, drive in batch:
            try:
                one(i, drive)
            except BaseException as exc:  # reported by the main thread
                errors.append(RuntimeError(f"run {i} on {drive}: {exc!r}"))
                return

    threads = [threading.Thread(target=worker, args=(runs[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, (f"RACE_SEED={seed}", errors)
    # then, while uploads are held, checked or in flight, one rclone dies (a crash): the
    # monitor starts a new one that reloads its pending files
    pause(2)
    crashed = pick(*sorted(drives))
    rcd = mgr.rcd_of(crashed)
    assert rcd is not None and rcd.pid is not None
    os.kill(rcd.pid, 9)
    wait_for(lambda: mgr.rcd_of(crashed) not in (None, rcd)
             and all(mgr.status(n).state in LIVE_STATES for n in drives), timeout=120,
             what="every drive mounted (the crashed one again, on a new rclone): "
             f"{mgr.statuses()}")
    for drive in drives:
        mgr.upload_now(drive)
    for drive in drives:
        assert mgr.wait_for_uploads(drive, timeout=180)

    lost, doubled = [], []
    paths = cloud.list_paths(d.drive_id)
    for i, drive in runs:
        r = results[i]
        where = [f"/{drive}/r{i}/{r['final']}", f"/{drive}/r{i}-moved/{r['final']}"]
        finals = [cloud.get_file(d.drive_id, w) for w in where]
        mine = [p for p in paths if p.startswith((f"/{drive}/r{i}/", f"/{drive}/r{i}-moved/"))]
        kept = [cloud.get_file(d.drive_id, p) for p in mine if " (conflict" in p]
        # an edit in the cloud after the file was renamed here lands under the old name
        anywhere = [cloud.get_file(d.drive_id, p) for p in mine]
        local, cloud_edit = r["local"], r["cloud_edit"]
        assert isinstance(local, bytes) and isinstance(cloud_edit, bytes)
        # a file renamed while its upload runs: rclone moves the cloud item, the upload
        # (bound to the old path) lands under the old name; nothing is lost
        local_kept = local in finals or local in anywhere
        cloud_kept = r["action"] not in ("edit", "folder+edit") or cloud_edit in anywhere or any(
            f is not None and f.startswith(cloud_edit) for f in finals)
        if not (local_kept and cloud_kept):
            lost.append((i, drive, r["style"], r["action"], r["when"], finals, kept))
        if len(kept) != len(set(kept)) or len(kept) > 1:
            doubled.append((i, drive, r["style"], r["action"], r["when"], kept))
    assert not lost, (f"RACE_SEED={seed}", f"crashed {crashed}", lost)
    assert not doubled, (f"RACE_SEED={seed}", f"crashed {crashed}", doubled)
    # and the mount shows each local edit that went up as it is in the cloud (the drive that
    # crashed was read ahead again while its files were pending: never empty, never the
    # version before the edit); a file whose folder was renamed in the cloud shows in the
    # renamed folder (its upload went there) or, uploaded by the restarted rclone, in the
    # old folder made again, at once (the mount lists the folders again after the upload)
    def shown(i: int, drive: str) -> tuple[str, bytes] | None:
        r = results[i]
        for folder in (f"r{i}", f"r{i}-moved"):
            if cloud.get_file(d.drive_id, f"/{drive}/{folder}/{r['final']}") != r["local"]:
                continue
            try:
                return folder, (mps[drive] / folder / str(r["final"])).read_bytes()
            except FileNotFoundError:
                return folder, b"(not listed)"
            except OSError as exc:  # e.g. EIO: rclone's listing and the content disagree
                return folder, f"(errno {exc.errno})".encode()
        return None  # replaced in the cloud (renamed here while it uploaded)

    def stale() -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for i, drive in runs:
            r, seen = results[i], shown(i, drive)
            if seen is not None and seen[1] != r["local"]:
                out.append((i, drive, r["style"], r["action"], r["when"], seen[0], seen[1][:40]))
        return out

    left, deadline = stale(), time.monotonic() + 10
    while left and time.monotonic() < deadline:  # the folders are listed again at the upload
        time.sleep(0.2)  # scheduler's next look at the queue after the upload
        left = stale()
    if left and all(str(x[5]).endswith("-moved") for x in left):
        # OPEN (issue 23): after an upload into a folder renamed in the cloud, the mount
        # sometimes shows the file there as the version before the upload (or EIO when the
        # sizes match) until that folder is listed again; rclone's log shows no listing of
        # the renamed folder that would explain the entry. Seen with RACE_RUNS=50 seeds
        # 2003, 2006, 5006, 5011 (~1 run in 6); no edit is lost (asserted above)
        pytest.xfail(f"RACE_SEED={seed}: stale view in a folder renamed in the cloud: {left}")
    assert not left, (f"RACE_SEED={seed}", f"crashed {crashed}", left)


def test_files_pending_at_an_rclone_restart_show_their_upload_after_the_read_ahead(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The drive's rclone dies with uploads held (a new file, an edited one, one renamed
    after the restart); the monitor starts a new rclone, which reloads them, and the
    read-ahead lists the whole drive while they wait. Once uploaded, the mount shows each
    as uploaded: rclone's reloaded entries have no cloud object, and a listing from before
    the upload kept them that way (read as empty, or as the version before the edit)."""
    rig, cloud, d = cloud_rig
    # the read-ahead waits for files pending at rclone's start at most READY_WAIT: here it
    # runs while they are still held (the app's own read and listing must then set them)
    from onedrive_gui.core.drives import indexing

    monkeypatch.setattr(indexing, "READY_WAIT", 2.0)
    cloud.put_file(d.drive_id, "/Documents/edited.txt", b"before the edit\n")
    cloud.put_file(d.drive_id, "/Documents/moved.txt", b"moved, before the edit\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "60s"})
    docs = mp / "Documents"
    new, edited, moved = os.urandom(300_000), b"after the edit\n", b"moved, after the edit\n"
    assert (docs / "edited.txt").read_bytes() == b"before the edit\n"
    assert (docs / "moved.txt").read_bytes() == b"moved, before the edit\n"
    (mp / "new.bin").write_bytes(new)
    (docs / "edited.txt").write_bytes(edited)
    (docs / "moved.txt").write_bytes(moved)
    # killed once the app has recorded what they are based on (rclone writes its cache
    # metadata in place: a kill in the middle of that write loses the edit, report 4)
    bases = rig.tmp / "cache" / "onedrive-gui-uploads"
    wait_for(lambda: all(n in "".join(p.read_text() for p in bases.glob("*.json"))
                         for n in ("new.bin", "Documents/edited.txt", "Documents/moved.txt")),
             what="the bases on disk")
    rcd = mgr.rcd_of("od")
    assert rcd is not None and rcd.pid is not None
    os.kill(rcd.pid, 9)
    wait_for(lambda: mgr.rcd_of("od") not in (None, rcd) and mgr.status("od").state
             is MountState.MOUNTED, timeout=120, what="the drive mounted again")
    wait_for(lambda: (a := mgr.activity("od")).index is not None and a.index.state == "ready",
             timeout=120, what="the drive read ahead while its uploads are held")
    os.rename(docs / "moved.txt", docs / "renamed.txt")
    assert cloud.get_file(d.drive_id, "/new.bin") is None  # still held
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/new.bin") == new
    assert cloud.get_file(d.drive_id, "/Documents/edited.txt") == edited
    assert cloud.get_file(d.drive_id, "/Documents/renamed.txt") == moved
    assert not _conflict_copies(cloud, d, "/Documents")  # the cloud did not change
    assert (mp / "new.bin").read_bytes() == new
    assert (docs / "edited.txt").read_bytes() == edited
    assert (docs / "renamed.txt").read_bytes() == moved


# ---- the pieces, without rclone ----------------------------------------------------------


def test_fingerprint_of_rclone_is_read() -> None:
    v = parse_fingerprint("21,2026-11-30 14:05:07 +0000 UTC,0a1b2c")
    assert v is not None and v.size == 21 and v.hash == "0a1b2c"
    assert v.modified is not None and v.modified.isoformat() == "2026-11-30T14:05:07+00:00"
    nano = parse_fingerprint("5,2026-11-30 14:05:07.123456789 +0100 CET,")
    assert nano is not None and nano.hash is None and nano.modified is not None
    assert nano.modified.isoformat() == "2026-11-30T13:05:07.123456+00:00"
    assert parse_fingerprint("") is None and parse_fingerprint("x,y") is None
    assert Version(1, None, "AB").same_as(Version(1, None, "ab"))
    assert not Version(1, None, "ab").same_as(Version(2, None, "ab"))


def test_conflict_names_and_texts_fit() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    local = when.astimezone().strftime("%Y-%m-%d %H.%M")
    assert conflict_name("notes.txt", when, lambda n: False) == (
        f"notes (conflict from the cloud, {local}).txt")
    taken = {f"notes (conflict from the cloud, {local}).txt"}
    assert conflict_name("notes.txt", when, taken.__contains__) == (
        f"notes (conflict from the cloud, {local} 2).txt")
    assert conflict_name(".bashrc", when, lambda n: False).startswith(".bashrc (conflict")
    long = "x" * 300 + ".txt"
    c = Conflict("a" * 80, "Documents/" + long,
                 "Documents/" + conflict_name(long, when, lambda n: False), None, 0.0)
    text = c.text()  # Windows shows at most 255 characters: the essentials survive
    assert len(text) <= 255 and text.endswith("Click to open the folder.")
    assert ".txt”" in text and f"(conflict from the cloud, {local}).txt”" in text


def test_write_back_is_held_and_the_users_delay_kept() -> None:
    opt, delay = hold_uploads({"CacheMode": "writes", "WriteBack": "0s"})
    assert opt == {"CacheMode": "writes", "WriteBack": f"{int(hold_for(0))}s",
                   "HandleCaching": "0s"} and delay == 0.0
    assert hold_uploads({"WriteBack": 3_000_000_000})[1] == 3.0
    assert hold_uploads({})[1] == 5.0  # rclone's default
    # the hold is far above the longest delay Settings accepts (an hour): a week at least
    assert hold_for(3600) >= 7 * 86400 and hold_for(3600) >= 100 * 3600
    assert hold_uploads({"WriteBack": "5h"})[1] == 3600.0  # beyond the bound: the bound


def test_manager_exposes_conflicts_of_the_run(rig: MountRig) -> None:
    mgr = rig.manager()
    assert isinstance(mgr, MountManager) and mgr.conflicts.items() == []


def test_a_folder_listing_answers_only_while_fresh_and_never_for_what_we_changed() -> None:
    from onedrive_gui.core.drives.cloud_listings import LISTING_REUSE, FolderListings

    f = FolderListings()
    f.set_waiting(["Docs/a.txt"])
    assert not f.worth_listing("Docs")  # a lone file: one stat is cheaper
    f.set_waiting([f"Docs/{c}.txt" for c in "abc"] + ["Other/x.txt"])
    assert f.worth_listing("Docs") and not f.worth_listing("Other")
    item = {"Name": "Notes.TXT", "IsDir": False, "Size": 3}
    f.put("Docs", 100.0, [item, {"Name": "Sub", "IsDir": True}])
    assert f.find("Docs/notes.txt", 101.0) == (True, item)  # OneDrive ignores case
    assert f.find("Docs/new.txt", 101.0) == (True, None)  # not in the cloud
    assert f.find("Docs/Sub", 101.0) == (True, None)  # a folder is no file
    assert f.find("Other/x.txt", 101.0) == (False, None)  # not listed
    assert f.find("Docs/new.txt", 100.0 + LISTING_REUSE) == (False, None)  # too old
    # uploaded, renamed, copied by this app after the listing was asked for: look again
    f.changed(["Docs/NOTES.txt"], 100.5)
    assert f.find("Docs/notes.txt", 101.0) == (False, None)
    f.put("Docs", 102.0, [item])
    assert f.find("Docs/notes.txt", 103.0) == (True, item)
    # a huge folder: listing it costs pages; a few waiting files are looked up one by one
    f.put("Big", 110.0, ({"Name": f"{i}.bin"} for i in range(2500)))
    f.set_waiting([f"Big/{i}.bin" for i in range(5)])
    assert not f.worth_listing("Big")
    f.set_waiting([f"Big/{i}.bin" for i in range(6)])
    assert f.worth_listing("Big")
