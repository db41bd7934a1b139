"""The upload scheduler (issue 23): no upload loses either edit, through rclone restarts,
quits, renames and failed uploads.

Real rclone, real FUSE, the emulated cloud; the cloud edit is made "from another device"
straight in the emulator. Each test names the defect of issue 23 it covers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from onedrive_gui.core.drives.cloud_moves import by_id_fs
from onedrive_gui.core.drives.mounts import MountManager, MountState
from onedrive_gui.core.drives.rclone_cache import os_name, os_path
from onedrive_gui.core.drives.upload_bases import BaseStore
from onedrive_gui.core.drives.uploads import UploadScheduler, hold_for
from onedrive_gui.core.rclone.process import keep_log_line
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.graph import UPLOAD_HOST

from .conftest import MountRig, wait_for

S = MountState
GRAPH = "graph.microsoft.com"
VFS = {"CacheMode": "writes", "WriteBack": "30s", "PollInterval": "10m"}


def copies(cloud: FakeCloud, d: Defaults, stem: str) -> dict[str, bytes]:
    """The conflict copies of *stem* anywhere in the drive (next to it or in Conflicts)."""
    out = {}
    for p in cloud.list_paths(d.drive_id):
        if p.rsplit("/", 1)[-1].startswith(f"{stem} (conflict"):
            data = cloud.get_file(d.drive_id, p)
            assert data is not None
            out[p] = data
    return out


def _kill_rclone(mgr: MountManager, name: str) -> None:
    """rclone dies (crash, OOM): the monitor starts a new one and mounts the drive again."""
    rcd = mgr.rcd_of(name)
    assert rcd is not None and rcd.pid is not None
    old = rcd.pid
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: (r := mgr.rcd_of(name)) is not None and r.pid != old
             and mgr.status(name).state is S.MOUNTED, timeout=90,
             what="rclone restarted and the drive mounted again")


def _queue(mgr: MountManager, name: str) -> list[dict[str, object]]:
    rcd = mgr.rcd_of(name)
    assert rcd is not None
    items = rcd.client.call("vfs/queue", {"fs": "od:"}).get("queue") or []
    return [i for i in items if isinstance(i, dict)]


def test_rclone_restart_after_temp_rename_saves_keeps_both_edits(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defects 1 and 2: saves through a temporary file renamed over the document within
    rclone's handle caching of its last close; rclone restarts before the upload. The
    reloaded entry has the cloud's new fingerprint; the edit itself must not be dropped."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/report.odt", b"report v1\n")
    cloud.put_file(d.drive_id, "/Documents/plan.odt", b"plan v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    docs = mp / "Documents"
    saved = {}
    for name in ("report.odt", "plan.odt"):
        with open(docs / name, "r+b") as f:  # an office suite opens the document
            opened = f.read()
            time.sleep(1)  # the user edits a moment
        saved[name] = opened + b"my paragraph\n"
        tmp = docs / f"lu{name}.tmp"  # and saves after closing it, within rclone's 5 s
        # handle caching of that close
        tmp.write_bytes(saved[name])
        os.replace(tmp, docs / name)
    cloud_edit = b"report v1\na colleague's paragraph\n"
    cloud.put_file(d.drive_id, "/Documents/report.odt", cloud_edit)
    time.sleep(3)  # the user goes on working; then rclone dies

    _kill_rclone(mgr, "od")
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/report.odt") == saved["report.odt"]
    assert list(copies(cloud, d, "report").values()) == [cloud_edit]
    # the file the cloud did not change: uploaded, no copy (its base was kept too)
    assert cloud.get_file(d.drive_id, "/Documents/plan.odt") == saved["plan.odt"]
    assert copies(cloud, d, "plan") == {}
    assert (docs / "plan.odt").read_bytes() == saved["plan.odt"]


_KILL_DELAYS = (0.0, 0.1, 0.3, 0.6)  # seconds after rclone finished writing the save


def _saved(rig: MountRig, name: str) -> bool:
    """rclone has finished the save of *name* (its close, or the rename of a temporary file
    over it, continues in rclone after the program's call returns): its log says so, after
    the cache metadata is written."""
    text = (rig.tmp / "logs" / "rclone-od.log").read_text()
    return (f"{name}: vfs cache: queuing for upload" in text
            or f'vfs cache: renamed in cache to "{name}"' in text)


@pytest.mark.parametrize("edited", [False, True], ids=["not edited there", "edited there"])
def test_rclone_killed_right_after_a_save_keeps_no_spare_copy(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], edited: bool,
) -> None:
    """Issue 23: rclone dies (a crash) within a second of a save, before the scheduler's
    next look at rclone's log: the version the save was based on (the log's line of the
    open) was never read, the new rclone's reload gives the file the cloud's current
    version, and the check knew no base: the cloud's unchanged version was kept as a
    spare conflict copy. Saves in place and through a temporary file renamed over the
    document at once; rclone killed at several short delays after it finished writing the
    save (a kill in the middle of its cache metadata write loses the edit, rclone report
    4). The cloud unchanged: no copy; edited there: exactly one."""
    rig, cloud, d = cloud_rig
    runs = [(style, delay) for style in ("in place", "temp+rename") for delay in _KILL_DELAYS]
    names = [f"doc{k}.txt" for k in range(len(runs))]
    for n in names:
        cloud.put_file(d.drive_id, f"/Documents/{n}", f"{n} v1\n".encode())
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    docs = mp / "Documents"
    local, cloud_edit = {}, {}
    for n, (style, delay) in zip(names, runs, strict=True):
        with open(docs / n, "r+b") as f:  # opened through the cache: the base is known
            local[n] = f.read() + b"edited here\n"
            if style == "in place":
                f.seek(0)
                f.write(local[n])
        if style == "temp+rename":  # at once, as an office suite saving
            (docs / f"~{n}.tmp").write_bytes(local[n])
            os.replace(docs / f"~{n}.tmp", docs / n)
        wait_for(lambda n=n: _saved(rig, f"Documents/{n}"), what="the save written")
        time.sleep(delay)
        _kill_rclone(mgr, "od")
        if edited:
            cloud_edit[n] = f"{n} v1\nedited in the browser\n".encode()
            cloud.put_file(d.drive_id, f"/Documents/{n}", cloud_edit[n])
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    wrong = []
    for n, run in zip(names, runs, strict=True):
        kept = list(copies(cloud, d, n.removesuffix(".txt")).values())
        if cloud.get_file(d.drive_id, f"/Documents/{n}") != local[n] or kept != (
                [cloud_edit[n]] if edited else []):
            wrong.append((n, run, kept))
    assert not wrong


def test_app_restart_with_held_files_keeps_both_edits(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defects 1, 9: Quit cut short (the cloud unreachable, the upload wait over) leaves
    held files in the cache; the next start mounts again, rclone reloads them with the
    cloud's current fingerprint; the bases on disk still tell. No copy is made twice."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/report.odt", b"report v1\n")
    cloud.put_file(d.drive_id, "/Documents/notes.txt", b"notes v1\n")
    first = rig.manager()
    mp = rig.mount_point()
    first.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "1h"})
    docs = mp / "Documents"
    with open(docs / "report.odt", "r+b") as f:
        report = f.read() + b"my paragraph\n"
    time.sleep(1)
    (docs / "~report.tmp").write_bytes(report)
    os.replace(docs / "~report.tmp", docs / "report.odt")
    with open(docs / "notes.txt", "r+b") as f:
        notes = f.read() + b"my note\n"
        f.seek(0)
        f.write(notes)
    wait_for(lambda: first.status("od").pending_uploads == 2, what="both edits queued")
    time.sleep(1)
    cloud.set_down(True)  # Quit cannot check anything: the files stay held
    first.shutdown(upload_timeout=3)
    assert [k for k, _t in rig.recorder.events if k == "uploads-abandoned"]
    cloud.set_down(False)
    report_cloud, notes_cloud = b"report v1\ncolleague\n", b"notes v1\nphone\n"
    cloud.put_file(d.drive_id, "/Documents/report.odt", report_cloud)
    cloud.put_file(d.drive_id, "/Documents/notes.txt", notes_cloud)
    assert cloud.get_file(d.drive_id, "/Documents/notes.txt") == notes_cloud

    for _start in range(2):  # the next start, and one more: no second copy
        mgr = rig.manager()
        mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "1h"})
        mgr.upload_now("od")
        assert mgr.wait_for_uploads("od", timeout=120)
        mgr.shutdown(upload_timeout=60)
    assert cloud.get_file(d.drive_id, "/Documents/report.odt") == report
    assert cloud.get_file(d.drive_id, "/Documents/notes.txt") == notes
    assert list(copies(cloud, d, "report").values()) == [report_cloud]
    assert list(copies(cloud, d, "notes").values()) == [notes_cloud]


def test_quit_checks_and_releases_held_files_at_once(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defect 7: Quit with the longest upload delay (1 h) uploads at once, checked."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/notes.txt", b"notes v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "1h"})
    notes = mp / "Documents" / "notes.txt"
    with open(notes, "r+b") as f:
        local = f.read() + b"edited here\n"
        f.seek(0)
        f.write(local)
    (mp / "Documents" / "new.txt").write_bytes(b"a new file\n")
    cloud_edit = b"notes v1\nedited on the phone\n"
    cloud.put_file(d.drive_id, "/Documents/notes.txt", cloud_edit)
    wait_for(lambda: mgr.status("od").pending_uploads == 2, what="both files queued")

    mgr.shutdown(upload_timeout=120)
    assert not [k for k, _t in rig.recorder.events if k == "uploads-abandoned"]
    assert cloud.get_file(d.drive_id, "/Documents/notes.txt") == local
    assert cloud.get_file(d.drive_id, "/Documents/new.txt") == b"a new file\n"
    assert list(copies(cloud, d, "notes").values()) == [cloud_edit]


def test_read_then_at_once_temp_rename_in_full_mode_keeps_the_cloud_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defect 4: ``sed -i`` in cache mode full (read, temporary file, rename at once): the
    base may never be seen; the content hash tells the cloud's version from the local."""
    rig, cloud, d = cloud_rig
    for i in range(3):
        cloud.put_file(d.drive_id, f"/Documents/s{i}.conf", f"setting {i}\n".encode())
    cloud.put_file(d.drive_id, "/Documents/same.conf", b"unchanged\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "CacheMode": "full"})
    docs = mp / "Documents"
    local = {}
    for i in range(3):
        path = docs / f"s{i}.conf"
        local[i] = path.read_bytes() + b"# edited by a script\n"
        tmp = docs / f".s{i}.conf.sedXYZ"
        tmp.write_bytes(local[i])
        os.replace(tmp, path)
    same = docs / "same.conf"  # rewritten with the same content: nothing to keep
    data = same.read_bytes()
    (docs / ".same.sedXYZ").write_bytes(data)
    os.replace(docs / ".same.sedXYZ", same)
    for i in range(3):
        cloud.put_file(d.drive_id, f"/Documents/s{i}.conf", f"setting {i}\ncloud\n".encode())
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    for i in range(3):
        assert cloud.get_file(d.drive_id, f"/Documents/s{i}.conf") == local[i]
        assert list(copies(cloud, d, f"s{i}").values()) == [f"setting {i}\ncloud\n".encode()]
    assert cloud.get_file(d.drive_id, "/Documents/same.conf") == b"unchanged\n"
    assert copies(cloud, d, "same") == {}


def test_renaming_a_held_file_keeps_the_cloud_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defect 5: a held file renamed here (rclone moves the cloud item, edited meanwhile,
    server-side), then read by an indexer: the base follows the file."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/draft.txt", b"draft v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    docs = mp / "Documents"
    with open(docs / "draft.txt", "r+b") as f:
        local = f.read() + b"edited here\n"
        f.seek(0)
        f.write(local)
    wait_for(lambda: mgr.status("od").pending_uploads == 1, what="the edit queued")
    time.sleep(1)  # held for a while, then the cloud edit and the rename
    cloud_edit = b"draft v1\nedited in the browser\n"
    cloud.put_file(d.drive_id, "/Documents/draft.txt", cloud_edit)
    os.rename(docs / "draft.txt", docs / "final.txt")
    assert (docs / "final.txt").read_bytes() == local  # an indexer reads it
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/final.txt") == local
    kept = {**copies(cloud, d, "final"), **copies(cloud, d, "draft")}
    assert list(kept.values()) == [cloud_edit]


def _fingerprint(rig: MountRig, name: str) -> str:
    """The fingerprint in rclone's cache metadata of *name* ("" when none)."""
    meta = rig.tmp / "cache" / "vfsMeta" / "od" / name
    try:
        return str(json.loads(meta.read_text()).get("Fingerprint") or "")
    except (OSError, ValueError):
        return ""


def test_a_file_renamed_while_the_scheduler_looks_keeps_the_cloud_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the race test (RACE_RUNS=50 RACE_SEED=2006, run 38: "rename held", cloud
    edit while the file was open): a file opened, edited in the cloud meanwhile, saved in
    place and renamed at once. The scheduler had read rclone's log line of the open (the
    version the save is based on) while the file was still unchanged here; the rename
    landed between its next look at rclone's log and its look at the cache metadata, which
    then showed the old name gone — its base, not marked as waiting for an upload yet,
    was forgotten — and the new name's metadata carrying the version rclone took when it
    moved the cloud item: the cloud edit. That became the base; the check found the cloud
    unchanged and the upload replaced the cloud edit. Here the rename is made exactly
    there."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/draft.txt", b"draft v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "2s"})
    docs = mp / "Documents"
    cloud_edit = b"draft v1\nedited in the browser\n"
    looks: list[float] = []  # the scheduler's looks at the cache metadata
    rename_now: list[bool] = []
    read: list[bytes] = []
    scan = UploadScheduler._rescan

    def rename_then_scan(self: UploadScheduler, queued: set[str]) -> None:
        if rename_now:  # between its look at rclone's log and this one
            rename_now.clear()
            os.rename(docs / "draft.txt", docs / "final.txt")
            read.append((docs / "final.txt").read_bytes())  # an indexer reads it at once
            # the read's close writes the new name's metadata with the version of the cloud
            # item rclone moved (the cloud edit): what the look found (at most 10 s)
            deadline = time.monotonic() + 10
            while not _fingerprint(rig, "Documents/final.txt").startswith(
                    f"{len(cloud_edit)},") and time.monotonic() < deadline:
                time.sleep(0.02)
            self._scan.at = -1e9  # this look is due now
        before = self._scan.at
        scan(self, queued)
        if self._scan.at != before:
            looks.append(self._scan.at)

    monkeypatch.setattr(UploadScheduler, "_rescan", rename_then_scan)
    with open(docs / "draft.txt", "r+b") as f:
        opened = f.read()
        looks.clear()
        # the user edits a while: the scheduler reads the log line of this open; saved
        # right after a look at the metadata (the next one is half a second away)
        wait_for(lambda: len(looks) >= 2, what="two looks after the open")
        cloud.put_file(d.drive_id, "/Documents/draft.txt", cloud_edit)
        local = opened + b"edited here\n"
        f.seek(0)
        f.write(local)
    rename_now.append(True)
    wait_for(lambda: read, what="the rename")
    assert read == [local]
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/final.txt") == local
    kept = {**copies(cloud, d, "final"), **copies(cloud, d, "draft")}
    assert list(kept.values()) == [cloud_edit]


def test_a_file_renamed_while_it_is_checked_keeps_the_cloud_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the race test (RACE_RUNS=50 RACE_SEED=4006, run 40: "rename held", upload
    delay 0, cloud edit while the file was open): the file, saved in place, is renamed at
    once; rclone moves the cloud item first (the cloud edit, now under the new name), then
    renames its cache item and queued upload. The scheduler checked the file in between:
    not in the cloud under its old name, and still queued under it, so it was released.
    In the race test the upload waited for the rename and replaced the cloud edit under
    the new name; here, where the cloud's answer to the move is held until the scheduler
    has looked, the upload ran meanwhile under the old name and rclone then gave the
    renamed file the moved item's size: the mount showed the local edit padded with
    zeros. The scheduler now leaves a file whose rename is under way (rclone's log) held
    and checks it again under its new name."""
    rig, cloud, d = cloud_rig
    caplog.set_level(logging.INFO, logger="onedrive_gui.core.drives.uploads")
    cloud.put_file(d.drive_id, "/Documents/draft.txt", b"draft v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "0s"})
    docs = mp / "Documents"
    handle = cloud.graph.handle
    rclone_log = rig.tmp / "logs" / "rclone-od.log"

    def checked() -> bool:  # released by the scheduler, or held back for the rename
        return 'vfs/queue-set-expiry": with parameters map[expiry:0 ' in (
            rclone_log.read_text()) or any("'Documents/draft.txt' is being renamed"
                                           in r.getMessage() for r in caplog.records)

    def move_answered_late(req):  # type: ignore[no-untyped-def]
        resp = handle(req)  # the cloud item is moved (renamed) now...
        if req.method == "PATCH" and b'"final.txt"' in req.body:
            deadline = time.monotonic() + 10  # ...rclone learns it once the check looked
            while not checked() and time.monotonic() < deadline:
                time.sleep(0.02)
        return resp

    monkeypatch.setattr(cloud.graph, "handle", move_answered_late)
    cloud_edit = b"draft v1\nedited in the browser\n"
    with open(docs / "draft.txt", "r+b") as f:
        local = f.read() + b"edited here\n"
        cloud.put_file(d.drive_id, "/Documents/draft.txt", cloud_edit)
        f.seek(0)
        f.write(local)
    os.rename(docs / "draft.txt", docs / "final.txt")
    assert (docs / "final.txt").read_bytes() == local  # an indexer reads it
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/final.txt") == local
    kept = {**copies(cloud, d, "final"), **copies(cloud, d, "draft")}
    assert list(kept.values()) == [cloud_edit]
    # the app writes rclone's log at INFO: the rename's lines are kept all the same
    renames = [ln for ln in rclone_log.read_text().splitlines() if "Rename: " in ln]
    assert len(renames) == 2 and all(keep_log_line(ln, "INFO", False) for ln in renames)


def test_a_file_read_cut_at_its_old_size_keeps_the_cloud_edit(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """A file read here, then edited in the cloud (longer); a listing (the read-ahead's
    safety net) gives the mount the cloud's version; a program opens the file for writing
    and reads it a moment later: rclone tells the kernel the *old* size (rclone report 6),
    so the program reads the cloud's version cut, edits and saves it — in place, or renamed
    while its upload waits and read at once by an indexer. rclone opened the cloud's
    version, so that looked like the edit's base: the cloud's version was overwritten
    (issue 23, found by the race test). It is kept as a conflict copy."""
    rig, cloud, d = cloud_rig
    names = ("inplace", "renamed")
    for n in names:
        cloud.put_file(d.drive_id, f"/Documents/{n}.txt", b"original\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    wait_for(lambda: (a := mgr.activity("od")).index is not None and a.index.state == "ready",
             timeout=60, what="the drive read ahead")
    docs = mp / "Documents"
    for n in names:
        assert (docs / f"{n}.txt").read_bytes() == b"original\n"
    cloud_edit = {n: f"original\nedited in the browser ({n})\n".encode() for n in names}
    for n in names:
        cloud.put_file(d.drive_id, f"/Documents/{n}.txt", cloud_edit[n])
    mgr.indexer.refresh("od", reason="the computer resumed from sleep")
    wait_for(lambda: all(os.stat(docs / f"{n}.txt").st_size == len(cloud_edit[n])
                         for n in names), what="the mount listing the cloud's versions")
    local = {}
    for n in names:
        with open(docs / f"{n}.txt", "r+b") as f:
            time.sleep(1.5)  # read a moment after opening: the kernel asks for the size again
            local[n] = f.read() + b"edited here\n"
            f.seek(0)
            f.write(local[n])
            f.truncate()
    os.rename(docs / "renamed.txt", docs / "final.txt")
    assert (docs / "final.txt").read_bytes() == local["renamed"]  # an indexer reads it
    mgr.upload_now("od")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/inplace.txt") == local["inplace"]
    assert cloud.get_file(d.drive_id, "/Documents/final.txt") == local["renamed"]
    assert cloud.get_file(d.drive_id, "/Documents/renamed.txt") is None
    for n, final in (("inplace", "inplace"), ("renamed", "final")):
        kept = {**copies(cloud, d, final), **copies(cloud, d, n)}
        if local[n].startswith(cloud_edit[n]):  # read whole (an rclone without report 6)
            assert kept == {}
        else:
            assert list(kept.values()) == [cloud_edit[n]]


def test_a_failed_upload_is_held_again_and_checked_before_the_retry(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defect 3: rclone retries a failed upload by itself within 5 minutes, unchecked; the
    scheduler holds it again (far beyond any delay), and checks it before the retry."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/budget.txt", b"budget v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    budget = mp / "Documents" / "budget.txt"
    with open(budget, "r+b") as f:
        local = f.read() + b"my figures\n"
        f.seek(0)
        f.write(local)
    with cloud.state.lock:
        drive = cloud.state.drives[d.drive_id]
        folder = cloud.state.resolve(drive, drive.items[drive.root_id], "/Documents")
        assert folder is not None
    for prefix in (f"/v1.0/drives/{d.drive_id}/items/{folder.id}:/budget.txt:/content",
                   "/rup/"):  # its upload is refused (small: one PUT; large: a session)
        cloud.throttle(10_000, status=403, host=GRAPH if prefix != "/rup/" else UPLOAD_HOST,
                       path_prefix=prefix)
    wait_for(lambda: mgr.status("od").pending_uploads == 1, what="the edit queued")
    mgr.upload_now("od")
    failed = wait_for(lambda: [i for i in _queue(mgr, "od") if i.get("tries")
                               and not i.get("uploading")], timeout=90,
                      what="the upload failed once")
    # rclone's own retry timer is pushed back beyond a day: it would not upload by itself
    wait_for(lambda: all(float(i.get("expiry") or 0) > 86400 for i in _queue(mgr, "od")),
             what="the failed upload held again")
    assert failed and cloud.get_file(d.drive_id, "/Documents/budget.txt") == b"budget v1\n"

    with cloud.state.lock:  # uploads work again; the cloud file was edited meanwhile
        cloud.state.throttles.clear()
    cloud_edit = b"budget v1\nthe boss's figures\n"
    cloud.put_file(d.drive_id, "/Documents/budget.txt", cloud_edit)
    mgr.retry("od", "Documents/budget.txt")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/budget.txt") == local
    assert list(copies(cloud, d, "budget").values()) == [cloud_edit]


def test_released_only_into_free_transfer_slots(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defect 6: behind a long upload, a file released at once would wait for a transfer
    slot long after its check. Released only into free slots, it is checked when its turn
    comes: a cloud edit made while it waited is kept."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/small.txt", b"small v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    # one transfer at a time, slow: the big file's upload takes several seconds
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "0s"},
              config={"Transfers": 1, "BwLimit": "100k"})
    big = os.urandom(600_000)
    (mp / "Documents" / "big.bin").write_bytes(big)
    wait_for(lambda: any(i.get("uploading") for i in _queue(mgr, "od")),
             what="the big file uploading")
    small = mp / "Documents" / "small.txt"
    with open(small, "r+b") as f:
        local = f.read() + b"edited here\n"
        f.seek(0)
        f.write(local)
    wait_for(lambda: len(_queue(mgr, "od")) == 2, what="the small file queued behind it")
    time.sleep(1)  # the small file waits for the slot; then the cloud edit
    cloud_edit = b"small v1\nedited in the browser\n"
    cloud.put_file(d.drive_id, "/Documents/small.txt", cloud_edit)
    assert mgr.wait_for_uploads("od", timeout=120)
    assert cloud.get_file(d.drive_id, "/Documents/big.bin") == big
    assert cloud.get_file(d.drive_id, "/Documents/small.txt") == local
    assert list(copies(cloud, d, "small").values()) == [cloud_edit]


def test_files_written_right_after_mounting_do_not_hold_back_the_read_ahead(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Files copied in the moment the drive is mounted are new edits, not files rclone
    reloaded at its start (whose upload the read-ahead must wait for, and whose folder is
    listed again after it): the drive is read ahead at once, while they wait for the
    user's delay."""
    rig, cloud, d = cloud_rig
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "60s"})
    for i in range(5):
        (mp / f"copied {i}.txt").write_bytes(b"copied in at once\n")
    wait_for(lambda: (a := mgr.activity("od")).index is not None and a.index.state == "ready",
             timeout=30, what="the drive read ahead")
    assert len(_queue(mgr, "od")) == 5  # still waiting for the user's delay
    assert cloud.get_file(d.drive_id, "/copied 0.txt") is None


def test_the_base_is_durable_owner_only_and_pinned(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """Defects 1, 9: the bases are on disk (owner-only) beside rclone's cache; a conflict
    copy made is recorded, so a restart does not make a second one."""
    rig, cloud, d = cloud_rig
    cloud.put_file(d.drive_id, "/Documents/a.txt", b"a v1\n")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, {**VFS, "WriteBack": "2s"})
    with open(mp / "Documents" / "a.txt", "r+b") as f:
        local = f.read() + b"local\n"
        f.seek(0)
        f.write(local)
    cloud.put_file(d.drive_id, "/Documents/a.txt", b"a v1\ncloud\n")
    assert mgr.wait_for_uploads("od", timeout=120)
    assert len(copies(cloud, d, "a")) == 1
    store = rig.tmp / "cache" / "onedrive-gui-uploads" / "od.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    entry = json.loads(store.read_text())["files"]["Documents/a.txt"]
    assert entry["pinned"] is False  # uploaded: the new version is the next edit's base
    assert entry["fp"].startswith(f"{len(local)},")


# ---- the pieces, without rclone ----------------------------------------------------------


def test_a_pinned_base_is_never_replaced_until_uploaded(tmp_path: Path) -> None:
    path = tmp_path / "uploads" / "od.json"
    store = BaseStore(path)
    v1 = "10,2026-12-01 10:00:00 +0000 UTC,aaaa"
    v2 = "20,2026-12-02 10:00:00 +0000 UTC,bbbb"
    store.observe("doc.txt", {"Fingerprint": v1, "Dirty": False}, first_sight=False)
    store.observe("doc.txt", {"Fingerprint": "", "Dirty": True}, first_sight=False)  # tmp+mv
    store.save()
    again = BaseStore(path)  # the app (or rclone) restarted: rclone gives the cloud's version
    again.observe("doc.txt", {"Fingerprint": v2, "Dirty": True}, first_sight=True)
    base = again.base("doc.txt")
    assert base is not None and base.hash == "aaaa"
    # a dirty file first seen after a restart, never seen before: its base is unknown
    again.observe("new.txt", {"Fingerprint": v2, "Dirty": True}, first_sight=True)
    assert again.base("new.txt") is None
    # uploaded: clean again with the new version, which is the next edit's base
    again.observe("doc.txt", {"Fingerprint": v2, "Dirty": False}, first_sight=False)
    base = again.base("doc.txt")
    assert base is not None and base.hash == "bbbb"
    again.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_pinned_base_follows_a_rename(tmp_path: Path) -> None:
    store = BaseStore(tmp_path / "b.json")
    v1 = "10,2026-12-01 10:00:00 +0000 UTC,aaaa"
    info = {"Fingerprint": v1, "Dirty": True, "Size": 10, "ModTime": "2026-12-01T11:00:00Z"}
    store.observe("a.txt", info, first_sight=False)
    moved = {**info, "Fingerprint": "30,2026-12-03 10:00:00 +0000 UTC,cccc"}
    store.vanished({"a.txt"}, {"b.txt": moved}, set())
    store.observe("b.txt", moved, first_sight=False)
    base = store.base("b.txt")
    assert base is not None and base.hash == "aaaa" and not store.has("a.txt")


@pytest.mark.parametrize(("platform", "name", "on_disk"), [
    ("linux", 'a:b?"c*<d>|.txt', 'a:b?"c*<d>|.txt'),
    ("win32", 'a:b?"c*<d>|.txt', "a\uff1ab\uff1f\uff02c\uff0a\uff1cd\uff1e\uff5c.txt"),
    ("win32", "ends with dot.", "ends with dot\uff0e"),
    ("win32", "ends with space ", "ends with space\u2420"),
    ("win32", "already\uff1a", "already\u201b\uff1a"),
    ("darwin", "plain.txt", "plain.txt"),
])
def test_metadata_is_found_under_rclones_name_encoding(platform: str, name: str,
                                                       on_disk: str) -> None:
    """Defect 10: on Windows rclone names its cache files with full-width look-alikes."""
    assert os_name(name, platform) == on_disk
    assert os_path(Path("/c"), f"Docs/{name}", platform) == Path("/c", "Docs", on_disk)
    from onedrive_gui.core.drives.rclone_cache import _decode_path

    assert _decode_path(f"Docs/{on_disk}", platform) == f"Docs/{name}"


def test_the_hold_is_derived_from_the_delay_and_far_above_it() -> None:
    for delay in (0.0, 5.0, 600.0, 3600.0):
        assert hold_for(delay) >= max(7 * 86400, 100 * delay)
    assert UploadScheduler.store_path(Path("/c/vfsMeta/od")) == Path(
        "/c/onedrive-gui-uploads/od.json")
    assert UploadScheduler.store_path(Path("/c/vfsMeta/od/sub")) == Path(
        "/c/onedrive-gui-uploads/od/sub.json")


def test_rclones_log_lines_give_the_version_at_open_and_renames() -> None:
    from onedrive_gui.core.drives.rclone_cache import _OPENED_RE, _RENAMED_RE, _go_unquote

    line = ('2026/12/03 08:22:13 DEBUG : Documents/a "b".txt: vfs cache: checking remote '
            'fingerprint "14,2026-12-03 08:22:13 +0000 UTC,66488" against cached fingerprint ""')
    m = _OPENED_RE.match(line)
    assert m is not None and m.group(1) == 'Documents/a "b".txt'
    assert _go_unquote(m.group(2)) == "14,2026-12-03 08:22:13 +0000 UTC,66488"
    assert _go_unquote(m.group(3)) == ""
    line = ('2026/12/03 08:37:45 INFO  : r19/f.txt: vfs cache: renamed in cache to '
            '"r19/\\"g\\".txt"')
    m = _RENAMED_RE.match(line)
    assert m is not None and m.group(1) == "r19/f.txt"
    assert _go_unquote(m.group(2)) == 'r19/"g".txt'
    from onedrive_gui.core.drives.rclone_cache import _SHOWN_RE

    line = ("2026/12/03 13:03:38 DEBUG : r4/a b.txt: >Attr: a=valid=1s ino=0 size=11 "
            "mode=-rw-r--r--, err=<nil>")
    m = _SHOWN_RE.match(line)
    assert m is not None and m.group(1) == "r4/a b.txt" and m.group(2) == "11"
    assert not _SHOWN_RE.match("2026/12/03 13:03:38 DEBUG : r4/: >Attr: attr=valid=1s ino=0 "
                               "size=0 mode=drwxr-xr-x, err=<nil>")  # a folder


def test_a_temporary_file_renamed_over_a_document_takes_its_base(tmp_path: Path) -> None:
    store = BaseStore(tmp_path / "b.json")
    store.opened("doc.odt", "10,2026-12-01 10:00:00 +0000 UTC,aaaa", "", dirty=False)
    store.observe("~doc.tmp", {"Fingerprint": "", "Dirty": True}, first_sight=False)
    store.rename("~doc.tmp", "doc.odt")
    base = store.base("doc.odt")
    assert base is not None and base.hash == "aaaa" and not store.has("~doc.tmp")
    # a held file with a cloud version renamed over another keeps its own base
    store.opened("a.txt", "5,2026-12-01 10:00:00 +0000 UTC,cccc", "", dirty=False)
    store.observe("a.txt", {"Fingerprint": "5,2026-12-01 10:00:00 +0000 UTC,cccc",
                            "Dirty": True}, first_sight=False)
    store.rename("a.txt", "doc.odt")
    base = store.base("doc.odt")
    assert base is not None and base.hash == "cccc"


def test_only_a_file_made_here_and_never_renamed_is_new(tmp_path: Path) -> None:
    # a new file has nothing in the cloud to keep: its check skips the look for a moved
    # folder; any other file that is not at its path in the cloud is looked for there
    path = tmp_path / "b.json"
    store = BaseStore(path)
    store.observe("made.txt", {"Fingerprint": "", "Dirty": True}, first_sight=False)
    store.observe("pending.txt", {"Fingerprint": "", "Dirty": True}, first_sight=True)
    store.opened("doc.txt", "5,2026-12-01 10:00:00 +0000 UTC,cccc", "", dirty=False)
    assert store.is_new("made.txt")
    assert not store.is_new("pending.txt")  # pending before this start: unknown
    assert not store.is_new("doc.txt") and not store.is_new("unknown.txt")
    store.save()
    assert BaseStore(path).is_new("made.txt")  # durable
    # renamed over a name the cloud may have a file under: not new
    store.observe("~a.tmp", {"Fingerprint": "", "Dirty": True}, first_sight=False)
    store.rename("~a.tmp", "a.txt")
    assert not store.is_new("a.txt")
    # renamed before the scan saw the temporary file (the rename is read from the log
    # first, or last)
    store.rename("~b.tmp", "b.txt")
    store.observe("b.txt", {"Fingerprint": "", "Dirty": True}, first_sight=False)
    assert not store.is_new("b.txt")
    store.observe("c.txt", {"Fingerprint": "", "Dirty": True}, first_sight=False)
    store.rename("~c.tmp", "c.txt")
    assert not store.is_new("c.txt")
    # uploaded: it has a cloud version now
    store.observe("made.txt", {"Fingerprint": "9,2026-12-01 10:00:00 +0000 UTC,dddd",
                               "Dirty": False}, first_sight=False)
    assert not store.is_new("made.txt")


@pytest.mark.parametrize(("fs", "expected"), [
    ("od:", 'od,root_folder_id="d#I!1":'),
    ("od:w0/sub", 'od,root_folder_id="d#I!1":'),
    ("od,drive_type=personal:w0", 'od,drive_type=personal,root_folder_id="d#I!1":'),
    ("od,x='a:b':w0", 'od,x=\'a:b\',root_folder_id="d#I!1":'),
    (":onedrive,x=y:w0", ':onedrive,x=y,root_folder_id="d#I!1":'),
    ("no-colon", None),
])
def test_a_folder_is_addressed_by_its_id_on_the_mounts_remote(fs: str,
                                                              expected: str | None) -> None:
    assert by_id_fs(fs, "d#I!1") == expected
    assert by_id_fs("od:", 'a"b') is None


def test_a_conflict_name_that_does_not_fit_is_shortened() -> None:
    from datetime import UTC, datetime

    from onedrive_gui.core.drives.conflicts import short_conflict_name

    when = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    local = when.astimezone().strftime("%Y-%m-%d %H.%M")
    long = "quarterly report " * 15 + ".docx"  # 255 characters: the usual suffix won't fit
    short = short_conflict_name(long, when, lambda n: False)
    assert len(short) <= 80 and short.endswith(f" (conflict {local}).docx")
    taken = {short}
    assert short_conflict_name(long, when, taken.__contains__).endswith(
        f" (conflict {local} 2).docx")


def test_a_stale_copy_opened_again_is_based_on_the_clouds_version(tmp_path: Path) -> None:
    """rclone drops a clean cached copy the cloud changed and reads the cloud's; a changed
    one it keeps (local changes win): the base follows what rclone does."""
    store = BaseStore(tmp_path / "b.json")
    v1 = "10,2026-12-01 10:00:00 +0000 UTC,aaaa"
    v2 = "12,2026-12-02 10:00:00 +0000 UTC,bbbb"
    store.observe("clean.txt", {"Fingerprint": v1, "Dirty": False}, first_sight=False)
    store.opened("clean.txt", v2, v1, dirty=False)
    base = store.base("clean.txt")
    assert base is not None and base.hash == "bbbb"
    store.observe("edited.txt", {"Fingerprint": v1, "Dirty": False}, first_sight=False)
    store.opened("edited.txt", v2, v1, dirty=True)
    base = store.base("edited.txt")
    assert base is not None and base.hash == "aaaa"
    store.observe("edited.txt", {"Fingerprint": v1, "Dirty": True}, first_sight=False)
    assert (base := store.base("edited.txt")) is not None and base.hash == "aaaa"
    # a first open (nothing cached), written at once: based on the cloud's version
    store.opened("new.txt", v2, "", dirty=True)
    assert (base := store.base("new.txt")) is not None and base.hash == "bbbb"


def test_an_open_that_cannot_read_is_based_on_what_was_read_before(tmp_path: Path) -> None:
    """A write-only or truncating open (a save in place) writes what the program read
    before: a stale cached copy dropped then, or a first open of a file last read (outside
    the cache) at another size, leaves the base unknown; the cloud's version read before
    keeps its base."""
    store = BaseStore(tmp_path / "b.json")
    v1 = "10,2026-12-01 10:00:00 +0000 UTC,aaaa"
    v2 = "10,2026-12-02 10:00:00 +0000 UTC,bbbb"  # the same size
    store.observe("stale.txt", {"Fingerprint": v1, "Dirty": False}, first_sight=False)
    store.opened("stale.txt", v2, v1, dirty=False, shown=10, blind=True)
    assert store.base("stale.txt") is None
    store.opened("first.txt", v2, "", dirty=False, shown=7, blind=True)
    assert store.base("first.txt") is None
    # read at the cloud's version (its size), or cached at it: based on it
    store.opened("same.txt", v2, "", dirty=False, shown=10, blind=True)
    store.opened("cached.txt", v2, v2, dirty=False, shown=10, blind=True)
    store.observe("cached.txt", {"Fingerprint": v2, "Dirty": True}, first_sight=False)
    assert all((b := store.base(n)) is not None and b.hash == "bbbb"
               for n in ("same.txt", "cached.txt"))
    # an open that reads the stale copy's replacement: based on the cloud's version
    store.observe("read.txt", {"Fingerprint": v1, "Dirty": False}, first_sight=False)
    store.opened("read.txt", v2, v1, dirty=False, shown=10)
    assert (b := store.base("read.txt")) is not None and b.hash == "bbbb"


def test_a_version_read_at_another_size_leaves_the_base_unknown(tmp_path: Path) -> None:
    """rclone read the cloud's version (nothing cached, or a stale copy dropped) while the
    kernel was told another size: the program read it cut (rclone report 6): no base."""
    store = BaseStore(tmp_path / "b.json")
    v2 = "33,2026-12-02 10:00:00 +0000 UTC,bbbb"
    store.opened("cut.txt", v2, "", dirty=False, shown=9)
    store.observe("cut.txt", {"Fingerprint": v2, "Dirty": False}, first_sight=False)
    store.observe("cut.txt", {"Fingerprint": v2, "Dirty": True}, first_sight=False)
    assert store.base("cut.txt") is None
    store.rename("cut.txt", "final.txt")  # renamed while held: the doubt goes with it
    store.save()
    again = BaseStore(tmp_path / "b.json")  # and survives a restart
    assert again.has("final.txt") and again.base("final.txt") is None
    # uploaded: the next edit is based on the uploaded version
    again.observe("final.txt", {"Fingerprint": "40,2026-12-03 10:00:00 +0000 UTC,dddd",
                                "Dirty": False}, first_sight=False)
    assert (base := again.base("final.txt")) is not None and base.hash == "dddd"
    # written before the log was read (already pinned from its metadata): still no base
    store.observe("w.txt", {"Fingerprint": v2, "Dirty": True}, first_sight=False)
    store.opened("w.txt", v2, "", dirty=True, shown=9)
    assert store.base("w.txt") is None
    # shown at its own size, or no size known (cmount logs none): based on the cloud's
    store.opened("whole.txt", v2, "", dirty=True, shown=33)
    store.opened("unknown.txt", v2, "", dirty=True)
    assert all((b := store.base(n)) is not None and b.hash == "bbbb"
               for n in ("whole.txt", "unknown.txt"))
    # a clean copy read cut, then opened again at its size before any change: no doubt
    store.opened("again.txt", v2, "", dirty=False, shown=9)
    store.opened("again.txt", v2, v2, dirty=False, shown=33)
    store.observe("again.txt", {"Fingerprint": v2, "Dirty": True}, first_sight=False)
    assert (base := store.base("again.txt")) is not None and base.hash == "bbbb"
    # local changes kept by rclone (changed before this open): the doubt of the read stays
    store.opened("kept.txt", v2, "", dirty=False, shown=9)
    store.opened("kept.txt", "50,2026-12-04 10:00:00 +0000 UTC,eeee", v2, dirty=True, shown=9)
    assert store.base("kept.txt") is None


def test_a_file_read_outside_the_cache_is_based_on_the_version_the_mount_showed(
        tmp_path: Path) -> None:
    """A program read a file outside rclone's cache (a read-only open, cache mode writes),
    then saves it in place (write-only, truncating). rclone bases that open on the cloud's
    version it knows *now*; the scheduler looked at the version the mount showed when the
    program read it (its modification time, through the mount: a folder here) and leaves
    the base unknown when they differ — also at the same size, which the size alone missed.
    A listing logged between the read and that look leaves the read unsure."""
    from onedrive_gui.core.rclone.rc import RcClient

    mnt, log_file = tmp_path / "mnt", tmp_path / "rclone.log"
    (mnt / "Documents").mkdir(parents=True)
    log_file.write_text("")
    sched = UploadScheduler(RcClient("http://127.0.0.1:9", "u", "p"), "od:", account="od",
                            write_back=5.0, mount_point=str(mnt), log_file=log_file,
                            platform="linux")
    sched.store = BaseStore(tmp_path / "b.json")
    read_at = 1_764_756_000  # 2025-12-03 10:00:00 UTC: the version the program read
    v_read = "25,2025-12-03 10:00:00 +0000 UTC,aaaa"
    v_cloud = "25,2025-12-03 10:05:00 +0000 UTC,bbbb"  # a cloud edit of the same size
    for name in ("edited.txt", "same.txt", "unsure.txt", "told.txt", "old.txt"):
        f = mnt / "Documents" / name
        f.write_bytes(b"x" * 25)
        os.utime(f, (read_at, read_at))
    # the version of these the mount shows is a recent one (unsure.txt, told.txt)
    now = int(time.time())
    v_now = time.strftime("25,%Y-%m-%d %H:%M:%S +0000 UTC,cccc", time.gmtime(now))
    for name in ("unsure.txt", "told.txt"):
        os.utime(mnt / "Documents" / name, (now, now))

    def log(*lines: str) -> None:
        with open(log_file, "a") as f:
            f.writelines(f"2026/12/03 10:00:00 DEBUG : {line}\n" for line in lines)
        sched._read_log()

    log("Documents/edited.txt: Open: flags=O_RDONLY", "Documents/same.txt: Open: flags=O_RDONLY")
    # the read and a listing before the scheduler looked: which version was read is unsure
    # (unless the size was shown at the open, FUSE's log, and is the same; or the version
    # is so old that the mount knew it at the open)
    log("Documents/unsure.txt: Open: flags=O_RDONLY", "Documents/unsure.txt: Reset virtual modtime",
        "Documents/told.txt: >Attr: a=valid=1s ino=0 size=25 mode=-rw-r--r--, err=<nil>",
        "Documents/told.txt: Open: flags=O_RDONLY", "Documents/told.txt: Reset virtual modtime",
        "Documents/old.txt: Open: flags=O_RDONLY", "Documents/old.txt: Reset virtual modtime")
    # later: the change poll gave the files new versions; then they are saved in place
    log("Documents/edited.txt: Reset virtual modtime", "Documents/same.txt: Reset virtual modtime")
    for name, cloud in (("edited.txt", v_cloud), ("same.txt", v_read), ("unsure.txt", v_now),
                        ("told.txt", v_now), ("old.txt", v_read)):
        log(f"Documents/{name}: Open: flags=O_WRONLY|O_CREATE|O_TRUNC",
            f'Documents/{name}: vfs cache: checking remote fingerprint "{cloud}" against '
            'cached fingerprint ""')
        sched.store.observe(f"Documents/{name}", {"Fingerprint": cloud, "Dirty": True},
                            first_sight=False)
    assert sched.store.base("Documents/edited.txt") is None  # compare contents: keep a copy
    assert sched.store.base("Documents/unsure.txt") is None
    # read, then at once opened to write (truncated) before the scheduler looked: a look
    # now would see the emptied file, not what was read — no look, the size as shown
    (mnt / "Documents" / "written.txt").write_bytes(b"")
    log("Documents/written.txt: Open: flags=O_RDONLY",
        "Documents/written.txt: Open: flags=O_WRONLY|O_TRUNC")
    log('Documents/written.txt: vfs cache: checking remote fingerprint "' + v_read
        + '" against cached fingerprint ""')
    sched.store.observe("Documents/written.txt", {"Fingerprint": v_read, "Dirty": True},
                        first_sight=False)
    for name in ("same.txt", "old.txt", "told.txt", "written.txt"):  # the version it read
        base = sched.store.base(f"Documents/{name}")
        assert base is not None and base.hash == ("cccc" if name == "told.txt" else "aaaa")


@pytest.mark.parametrize("line", [
    '2026/12/03 08:22:13 DEBUG : a.txt: vfs cache: checking remote fingerprint "1,x,y" '
    'against cached fingerprint ""',
    "2026/12/03 08:22:13 DEBUG : a.txt: Open: flags=O_WRONLY|O_CREATE|O_TRUNC",
    "2026/12/03 08:22:13 DEBUG : a.txt: >Attr: a=valid=1s ino=0 size=11 mode=-rw-r--r--, "
    "err=<nil>",
    "2026/12/03 08:22:13 DEBUG : a.txt: Reset virtual modtime",
    '2026/12/03 08:22:13 DEBUG : d/: Rename: oldName="a.txt", newName="b.txt", '
    'newDir=d/',
    "2026/12/03 08:22:13 DEBUG : d/: >Rename: err=<nil>",
])
def test_the_lines_the_scheduler_reads_reach_the_log_at_the_apps_level(line: str) -> None:
    """The app runs rclone at DEBUG but keeps INFO and a few marked lines in the log file
    the scheduler reads: the lines it learns each file's base from must be among them (the
    tests ran rclone at DEBUG and the app at INFO: the app read none of these)."""
    from onedrive_gui.core.drives import rclone_cache
    from onedrive_gui.core.rclone.process import keep_log_line
    from onedrive_gui.core.settings import AppSettings

    assert keep_log_line(line, AppSettings().log_level, False)
    assert any(rx.match(line) for rx in (
        rclone_cache._OPENED_RE, rclone_cache._OPEN_RE, rclone_cache._SHOWN_RE,
        rclone_cache._RESET_RE, rclone_cache._RENAME_RE, rclone_cache._RENAME_DONE_RE))
