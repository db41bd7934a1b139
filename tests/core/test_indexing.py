"""A mounted drive's listings read through its delta (issue 20): real rclone, real FUSE, the
emulated cloud paging delta as Graph does (at most 200 items a page).

After each mount the MountManager's indexer starts one recursive ``vfs/refresh`` (the
remotes have ``delta = true``, as the app's); browsing works meanwhile; changes made in the
cloud show through rclone's polling, and through the safety net when that polling has lost
its token (rclone's bug with changes spanning more than one delta page).
"""

from __future__ import annotations

import configparser
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onedrive_gui.core.drives.indexing import INDEXING, READY, SKIPPED, IndexSizes
from onedrive_gui.core.drives.mounts import MountManager
from onedrive_gui.core.rclone.log_signals import CHANGE_NOTIFY_MARK
from onedrive_gui.core.rclone.remotes import APP_REMOTE_OPTIONS
from tests.fakecloud import graph
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.test_fakecloud import rclone_token, write_rclone_conf

from .conftest import MountRig, wait_for

VFS = {"CacheMode": "writes", "DirCacheTime": "1h", "PollInterval": "2s", "WriteBack": "5s"}
FOLDERS, PER_FOLDER = 25, 20  # 500 files, ~530 items: three delta pages


def _conf(rig: MountRig, cloud: FakeCloud, d: Defaults, drive_type: str = "personal") -> None:
    """The remote 'od' as the app writes it (delta on)."""
    path = rig.tmp / "rclone.conf"
    write_rclone_conf(path, d, rclone_token(cloud, d))
    cp = configparser.ConfigParser()
    cp.read(path)
    cp["od"].update({**APP_REMOTE_OPTIONS, "drive_type": drive_type})
    with path.open("w") as f:
        cp.write(f)


def _seed(cloud: FakeCloud, drive_id: str) -> None:
    for k in range(FOLDERS):  # one folder after the other: the last ones are "young"
        for j in range(PER_FOLDER):
            cloud.put_file(drive_id, f"/Tree/d{k:02d}/f{j:02d}.txt", b"x")


@pytest.fixture
def cloud_rig(rig: MountRig, fakecloud: FakeCloud,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MountRig, FakeCloud, Defaults]]:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    _conf(rig, fakecloud, d)
    _seed(fakecloud, d.drive_id)
    yield rig, fakecloud, d


def _index(mgr: MountManager, state: str) -> Any:
    act = mgr.activity("od")
    return act.index if act.index is not None and act.index.state == state else None


def _files(mp: Path) -> set[str]:
    return {os.path.relpath(os.path.join(top, f), mp)
            for top, _dirs, files in os.walk(mp) for f in files}


def _all_files(drive_id: str, cloud: FakeCloud) -> set[str]:
    return {p.lstrip("/") for p in cloud.list_paths(drive_id) if not p.endswith("/")}


def _listings(cloud: FakeCloud) -> int:
    return len(cloud.requests_to(graph.HOST, "/children"))


def _delta_polls(cloud: FakeCloud) -> list[Any]:
    """rclone's change polls (a delta request with a token, or an empty one)."""
    return [r for r in cloud.requests_to(graph.HOST, "/delta") if "token" in r.query]


def test_mount_reads_the_drive_through_delta_and_browses_meanwhile(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig, cloud, d = cloud_rig
    gate = threading.Event()  # holds the delta listing at its second page
    handle = cloud.graph.handle

    def held(req: Any) -> Any:
        if "/delta" in req.raw_path and req.query.get("$skiptoken"):
            gate.wait(60)
        return handle(req)

    monkeypatch.setattr(cloud.graph, "handle", held)
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    try:
        status = wait_for(lambda: (s := _index(mgr, INDEXING)) and s.items >= 100 and s,
                          what="indexing under way")
        assert status.text().startswith("Indexing ") and "items…" in status.text()
        # browsing meanwhile: a folder is listed as before
        assert sorted(os.listdir(mp / "Tree" / "d24")) == [f"f{j:02d}.txt"
                                                            for j in range(PER_FOLDER)]
    finally:
        gate.set()
    done = wait_for(lambda: _index(mgr, READY), what="the index")
    assert done.items >= FOLDERS * PER_FOLDER and done.text() == ""
    before = _listings(cloud)
    assert _files(mp) == _all_files(d.drive_id, cloud)  # the whole tree, from the cache
    assert _listings(cloud) == before  # not one folder listed one by one
    pages = [r for r in cloud.requests_to(graph.HOST, "/delta") if "token" not in r.query]
    assert len(pages) >= 3 and all(r.status == 200 for r in pages)


def test_a_cloud_change_shows_within_the_poll_interval(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    wait_for(lambda: _index(mgr, READY), what="the index")
    assert "new.txt" not in os.listdir(mp / "Tree" / "d03")
    cloud.put_file(d.drive_id, "/Tree/d03/new.txt", b"made on the phone\n")
    wait_for(lambda: "new.txt" in os.listdir(mp / "Tree" / "d03"), what="the change")
    assert (mp / "Tree" / "d03" / "new.txt").read_bytes() == b"made on the phone\n"


def test_changes_over_more_than_one_delta_page_show_by_the_safety_net(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """rclone keeps only @odata.deltaLink: after a poll whose changes span two pages its
    token is empty and later polls miss what changes deep in the tree; the indexer reads
    the whole drive again every safety_interval (hours; seconds here)."""
    rig, cloud, d = cloud_rig
    mgr = rig.manager()
    mgr.indexer.safety_interval = 6.0
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    wait_for(lambda: _index(mgr, READY), what="the index")
    for j in range(250):  # one poll's changes: two delta pages
        cloud.put_file(d.drive_id, f"/Tree/burst/b{j:03d}.txt", b"y")
    wait_for(lambda: len(os.listdir(mp / "Tree" / "burst")) == 250
             if (mp / "Tree" / "burst").exists() else False, what="the burst")
    polls = len(_delta_polls(cloud))
    wait_for(lambda: len(_delta_polls(cloud)) > polls, what="the next poll")
    assert _delta_polls(cloud)[-1].query["token"] == ""  # rclone's bug: the token is lost
    cloud.put_file(d.drive_id, "/Tree/d24/late.txt", b"later\n")
    wait_for(lambda: "late.txt" in os.listdir(mp / "Tree" / "d24"), timeout=60,
             what="the change, by the safety net")
    assert _files(mp) == _all_files(d.drive_id, cloud)


def test_rclones_failed_poll_line_is_recognised_in_any_language() -> None:
    from onedrive_gui.core.rclone.log_signals import CHANGE_NOTIFY_FAILED, classify

    # rclone's own fixed text, whatever the OS error after it says (here: German Windows)
    line = ("2026/12/03 08:30:50 INFO  : OneDrive root '': Change notify listener failure: "
            "Get \"https://graph.microsoft.com/v1.0/drives/x/root/delta?token=12\": read tcp "
            "1.2.3.4:5->6.7.8.9:443: wsarecv: Eine vorhandene Verbindung wurde vom Remotehost "
            "geschlossen.")
    found = classify(line)
    assert found is not None and found.kind == CHANGE_NOTIFY_FAILED
    assert classify("2026/12/03 08:30:50 INFO  : OneDrive root '': vfs cache: cleaned") is None


def test_a_failed_poll_in_the_log_reads_the_drive_again(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """A failed poll also leaves rclone without a token; its log line ("Change notify
    listener failure") makes the indexer read the drive again."""
    rig, cloud, d = cloud_rig
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    wait_for(lambda: _index(mgr, READY), what="the index")
    assert "late.txt" not in os.listdir(mp / "Tree" / "d24")
    cloud.throttle(1, status=503, retry_after=1,
                   path_prefix=f"/v1.0/drives/{d.drive_id}/root/delta")  # the next poll
    cloud.put_file(d.drive_id, "/Tree/d24/late.txt", b"later\n")
    wait_for(lambda: CHANGE_NOTIFY_MARK in (rig.log_file.with_name("rclone-od.log")
                                            .read_text()), what="the failed poll")
    wait_for(lambda: "late.txt" in os.listdir(mp / "Tree" / "d24"), timeout=60,
             what="the change, read again")


def test_a_drive_over_the_limit_is_browsed_without_prefill(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    rig, cloud, d = cloud_rig
    sizes = IndexSizes(rig.tmp / "index-sizes.json")
    mgr = rig.manager(index_sizes=sizes)
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS), prefill_max_items=100)
    # the first mount counts the drive (its size is not known before)
    counted = wait_for(lambda: _index(mgr, READY), what="the first index").items
    assert counted > 100 and sizes.get("od") == counted
    mgr.unmount("od")

    full_listings = len(cloud.requests_to(graph.HOST, "/delta"))
    mgr.mount("od", "od:", str(mp), {}, dict(VFS), prefill_max_items=100)
    skipped = wait_for(lambda: _index(mgr, SKIPPED), what="no prefill")
    assert skipped.items == counted and "more than the limit of 100" in skipped.text()
    before = _listings(cloud)
    assert _files(mp) == _all_files(d.drive_id, cloud)  # browsing is right all the same
    assert _listings(cloud) > before + FOLDERS  # folder by folder, as they are opened
    assert all("token" in r.query
               for r in cloud.requests_to(graph.HOST, "/delta")[full_listings:])
    mgr.unmount("od")

    # the setting's effect: with a limit above the drive's size it is read ahead again
    mgr.mount("od", "od:", str(mp), {}, dict(VFS), prefill_max_items=10_000)
    wait_for(lambda: _index(mgr, READY), what="the index under a higher limit")


def test_a_sharepoint_library_is_prefilled(
    rig: MountRig, fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch,
) -> None:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    upn = "bob@contoso.com"
    fakecloud.add_user(upn, "Bob Example", personal=False)
    site = fakecloud.add_site("Marketing", [upn])
    library = site.drives[0]
    _seed(fakecloud, library)
    bob = Defaults(d.client_id, d.secret, upn, "Bob Example", library)
    _conf(rig, fakecloud, bob, drive_type="documentLibrary")
    mgr = rig.manager()
    mp = rig.mount_point()
    mgr.mount("od", "od:", str(mp), {}, dict(VFS))
    done = wait_for(lambda: _index(mgr, READY), what="the library's index")
    assert done.items >= FOLDERS * PER_FOLDER
    before = _listings(fakecloud)
    assert _files(mp) == _all_files(library, fakecloud)
    assert _listings(fakecloud) == before
    assert fakecloud.requests_to(graph.HOST, f"/drives/{library}/root/delta")


@pytest.mark.parametrize("bounded", [False, True])
def test_the_read_ahead_waits_for_the_files_pending_at_rclones_start(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults], monkeypatch: pytest.MonkeyPatch,
    bounded: bool,
) -> None:
    """A listing made before the upload of a file pending at rclone's start ended hides that
    upload from the mount (rclone report 3): the read-ahead starts once the mount's upload
    scheduler says those files are up — or after READY_WAIT, whatever the scheduler says."""
    from onedrive_gui.core.drives import indexing
    from onedrive_gui.core.drives.uploads import UploadScheduler

    rig, cloud, _d = cloud_rig
    uploaded = threading.Event()
    monkeypatch.setattr(UploadScheduler, "settled", lambda self: uploaded.is_set())
    if bounded:
        monkeypatch.setattr(indexing, "READY_WAIT", 3.0)
    mgr = rig.manager()
    mgr.mount("od", "od:", str(rig.mount_point()), {}, dict(VFS))
    if not bounded:
        # the scheduler is asked again and again meanwhile; nothing is read ahead
        with pytest.raises(AssertionError):
            wait_for(lambda: [r for r in cloud.requests_to(graph.HOST, "/delta")
                              if "token" not in r.query],  # a listing, not a change poll
                     timeout=4, what="a delta listing")
        assert _index(mgr, INDEXING) is None and _index(mgr, READY) is None
        uploaded.set()
    done = wait_for(lambda: _index(mgr, READY), what="the index")
    assert done.items >= FOLDERS * PER_FOLDER  # bounded: read ahead though never settled
