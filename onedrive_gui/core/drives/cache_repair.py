"""Cache metadata of pending files, repaired before rclone reloads its cache (issue 23,
"uploads that lose nothing").

rclone keeps, for every file in its VFS cache, a small JSON file of metadata beside the
data (``CACHE/vfsMeta/REMOTE/PATH``: modification time, size, the parts present, the cloud
version, whether it waits to upload). It rewrites that file in place (rclone 1.75
``vfs/vfscache/item.go`` ``_save``: ``os.Create``, then the JSON) whenever an item changes,
every close of a handle among others. rclone killed between the two (SIGKILL, a crash, a
power cut), the file is empty; the next rclone, reloading its cache at mount, finds it
"corrupt" and removes the file from its cache, data included ("failed to load metadata") —
a local edit that waited to upload is lost. (Seen: a file read through the mount right
before rclone was killed, tests/core/test_folder_moves.py.)

Before each mount, :func:`repair_pending` looks at the metadata of the files whose local
edit waits (pinned in the app's durable base, :class:`~.upload_bases.BaseStore`): one that
is missing or cannot be read, while the data is there, is written again — atomically — as
rclone writes it for a file that waits to upload (``Dirty``), with the base the app kept.
rclone then keeps the file and queues its upload; the scheduler checks it as any other.
Only those files are looked at (one ``stat`` each, on local disk); nothing is sent.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from onedrive_gui.core.atomic import write_atomic
from onedrive_gui.core.drives.rclone_cache import os_path

log = logging.getLogger(__name__)


def cache_roots(cache_dir: Path, fs: str) -> tuple[Path, Path] | None:
    """(metadata root, data root) rclone uses for the VFS cache of the mount of *fs*
    (``remote:path``) under *cache_dir*; None for an fs string with options (rclone then
    names the folder after a hash of them)."""
    remote, sep, root = fs.partition(":")
    if not sep or not remote or "," in remote or remote.startswith(":"):
        return None
    parts = [p for p in root.split("/") if p]
    return (cache_dir.joinpath("vfsMeta", remote, *parts),
            cache_dir.joinpath("vfs", remote, *parts))


def _ranges(path: Path, size: int) -> list[dict[str, int]]:
    """The parts of the data file present (its data segments, where the system tells
    sparse files apart; else the whole file)."""
    if size <= 0:
        return []
    seek_data, seek_hole = getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        return [{"Pos": 0, "Size": size}]
    out: list[dict[str, int]] = []
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return [{"Pos": 0, "Size": size}]
    try:
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, seek_data)
            except OSError:  # ENXIO: no data after pos
                break
            end = min(os.lseek(fd, start, seek_hole), size)
            out.append({"Pos": start, "Size": end - start})
            pos = end
    except OSError:
        return [{"Pos": 0, "Size": size}]
    finally:
        os.close(fd)
    return out


def _readable(meta: Path) -> bool:
    try:
        return isinstance(json.loads(meta.read_bytes()), dict)
    except (OSError, ValueError):
        return False


def repair_pending(meta_root: Path, data_root: Path, pending: Mapping[str, str],
                   platform: str | None = None) -> list[str]:
    """Write again the missing or unreadable cache metadata of the *pending* files (their
    path in the drive -> the rclone fingerprint of their base, "" unknown) whose data is
    in the cache. Returns their names."""
    repaired = []
    for name, base in sorted(pending.items()):
        data = os_path(data_root, name, platform)
        meta = os_path(meta_root, name, platform)
        try:
            st = data.stat()
        except OSError:
            continue
        if not data.is_file() or _readable(meta):
            continue
        now = datetime.now(UTC).isoformat()
        info = {
            "ModTime": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
            "ATime": now,
            "Size": st.st_size,
            "Rs": _ranges(data, st.st_size),
            "Fingerprint": base,
            "Dirty": True,
        }
        try:
            meta.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(meta, json.dumps(info, indent="\t").encode("utf-8"))
        except OSError as exc:
            log.error("'%s' waits to upload and its cache metadata is damaged; writing it "
                      "again: %s", name, exc)
            continue
        log.warning("'%s' waits to upload and its cache metadata was damaged (rclone "
                    "stopped while writing it): written again, so that rclone keeps the "
                    "file and uploads it", name)
        repaired.append(name)
    return repaired
