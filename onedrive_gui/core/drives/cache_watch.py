"""What the upload scheduler learns of each file's base from rclone's VFS cache on local
disk (its metadata, ``vfsMeta``) and from rclone's log (the version each file is opened at,
renames, the sizes its mount tells the kernel, the flags of each open). Part of
:class:`~.uploads.UploadScheduler` (its base class); see :mod:`.uploads` for the whole."""

from __future__ import annotations

import json
import logging
import os
import posixpath
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onedrive_gui.core.drives.cloud_listings import FolderListings
from onedrive_gui.core.drives.rclone_cache import (
    _OPEN_RE,
    _OPENED_RE,
    _QUEUED_RE,
    _RENAME_DONE_RE,
    _RENAME_RE,
    _RENAMED_RE,
    _RESET_RE,
    _SHOWN_RE,
    _decode_path,
    _go_unquote,
    os_path,
)
from onedrive_gui.core.drives.upload_bases import BaseStore
from onedrive_gui.core.rclone.log_signals import LogTail
from onedrive_gui.core.rclone.rc import RcCallError, RcClient

log = logging.getLogger(__name__)

_SHOWN_MAX = 2000  # sizes told to the kernel kept (those older than _SHOWN_FOR are dropped)
_SHOWN_FOR = 60.0
# a version this old was known to the mount when a file was opened: its change poll (the
# app's default: every minute) had told it (a poll interval set above this leaves a rest)
_KNOWN_AFTER = 900.0
_LOOKS_MAX = 200  # files read outside the cache looked at per reading of the log


@dataclass
class _Read:
    """A program's read-only open of a file outside rclone's cache: the version it holds."""

    size: int | None  # the size the kernel was told (Linux), else the size the mount shows
    at: float  # monotonic: when the open was read from the log
    modified: float | None = None  # the modification time the mount showed (epoch seconds)
    unsure: bool = False  # the mount may have shown another version than the one read
    listed: bool = False  # a folder listing was logged between the open and the look
    before: tuple[int | None, float | None] | None = None  # an earlier read's version


@dataclass
class _Scan:
    seen: dict[str, int] = field(default_factory=dict)  # meta file (os relative) -> mtime_ns
    at: float = -1e9


class CacheWatch:
    """The cache-metadata and log side of :class:`~.uploads.UploadScheduler`."""

    # provided by UploadScheduler
    client: RcClient
    fs: str
    account: str
    platform: str
    scan_interval: float
    store: BaseStore | None
    _meta_root: Path | None
    _data_root: Path | None
    _hash_type: str | None
    _scan: _Scan
    _started_ns: int
    _log: LogTail | None
    _shown: dict[str, tuple[int, float]]
    _read_at: dict[str, _Read]
    mount_point: str | None
    _blind: dict[str, float]
    _renaming: dict[str, float]
    _queued_at: dict[str, int]
    _log_lock: threading.RLock
    _listings: FolderListings


    def _learn_cache(self) -> None:
        disk = self.client.call("vfs/stats", {"fs": self.fs}, timeout=10).get("diskCache")
        if not isinstance(disk, dict) or not disk.get("pathMeta"):
            raise RcCallError("vfs/stats", 500, "no vfs cache for this mount")
        meta = Path(str(disk["pathMeta"]))
        self._meta_root = meta
        self._data_root = Path(str(disk["path"])) if disk.get("path") else None
        hash_type = disk.get("hashType")
        # rclone reports the hash type by name ("quickxor") or as its bit number
        self._hash_type = hash_type if isinstance(hash_type, str) and hash_type else None
        self.store = BaseStore(self.store_path(meta))

    @staticmethod
    def store_path(meta_root: Path) -> Path:
        """The durable base of the mount whose cache metadata is *meta_root*
        (``CACHE/vfsMeta/REMOTE[/PATH]`` -> ``CACHE/onedrive-gui-uploads/REMOTE[/PATH].json``):
        beside rclone's cache, so it lives and goes with the files it is about."""
        parts = meta_root.parts
        try:
            at = len(parts) - 1 - parts[::-1].index("vfsMeta")
        except ValueError:
            return meta_root.parent / (meta_root.name + ".uploads.json")
        cache = Path(*parts[:at])
        rest = parts[at + 1:]
        return cache.joinpath("onedrive-gui-uploads", *rest[:-1], rest[-1] + ".json") if rest \
            else cache / "onedrive-gui-uploads" / "root.json"

    def _read_log(self) -> None:
        """rclone's log since the last look (the monitor's tick, the scan, and the worker
        before a release: one reader at a time)."""
        with self._log_lock:
            self._read_log_locked()

    def _read_log_locked(self) -> None:
        store = self.store
        if self._log is None or store is None:
            return
        try:
            lines = self._log.read_lines()
        except OSError as exc:
            log.warning("%s: reading rclone's log: %s", self.account, exc)
            return
        now, shown = time.monotonic(), self._shown
        reads: dict[str, None] = {}  # read-only opens of these lines, to look at below
        for line in lines:
            m = _SHOWN_RE.match(line)
            if m:  # the size the kernel was told: what a program opening it next may read
                shown[m.group(1)] = (int(m.group(2)), now)
                continue
            m = _OPEN_RE.match(line)
            if m:
                name, flags = m.group(1), m.group(2).split("|")
                if flags != ["O_RDONLY"]:  # opened to write after the read: a look at the
                    reads.pop(name, None)  # end of these lines would see what it writes
                if "O_WRONLY" in flags or "O_TRUNC" in flags:
                    self._blind[name] = now
                else:
                    self._blind.pop(name, None)
                    if flags == ["O_RDONLY"]:
                        told, earlier = shown.get(name), self._read_at.get(name)
                        self._read_at[name] = _Read(
                            told[0] if told is not None else None, now,
                            before=None if earlier is None else (earlier.size, earlier.modified))
                        reads[name] = None
                continue
            m = _RESET_RE.match(line)
            if m:  # a listing gave it a version, maybe a new one, before the look below
                r = self._read_at.get(m.group(1))
                if r is not None and r.modified is None:
                    r.listed = True
                continue
            m = _OPENED_RE.match(line)
            if m:
                name = m.group(1)
                blind = self._blind.pop(name, None) is not None
                read = self._read_at.pop(name, None)  # now in the cache: read through it
                if self._meta_before_start(name):
                    continue  # rclone's reload at mount: the cloud's current version
                told = shown.get(name)
                if not (blind and read is not None):
                    read = _Read(told[0] if told is not None else None, now)
                # blind: it writes what it read before (read), else what it reads now
                store.opened(name, _go_unquote(m.group(2)), _go_unquote(m.group(3)),
                             dirty=self._meta_dirty(name), shown=read.size, blind=blind,
                             read_modified=read.modified, read_unsure=read.unsure)
                continue
            m = _QUEUED_RE.match(line)
            if m:  # see UploadScheduler._attach
                if m.group(1) in self._queued_at or len(self._queued_at) < _SHOWN_MAX:
                    self._queued_at[m.group(1)] = self._queued_at.get(m.group(1), 0) + 1
                continue
            m = _RENAME_RE.match(line)
            if m:  # a rename under way: see UploadScheduler._release
                self._renaming[posixpath.join(m.group(1).rstrip("/"),
                                              _go_unquote(m.group(2)))] = now
                continue
            m = _RENAME_DONE_RE.match(line)
            if m:
                folder = m.group(1).rstrip("/")
                for done in [n for n in self._renaming if posixpath.dirname(n) == folder]:
                    del self._renaming[done]
                continue
            m = _RENAMED_RE.match(line)
            if m:  # rclone moves the cloud item too
                store.rename(m.group(1), _go_unquote(m.group(2)))
                self._listings.changed({m.group(1), _go_unquote(m.group(2))},
                                       time.monotonic())
        self._look_at_reads(list(reads))
        if len(shown) > _SHOWN_MAX:  # the kernel asks again after its attribute timeout (1 s)
            self._shown = {n: v for n, v in shown.items() if now - v[1] < _SHOWN_FOR}
        if len(self._read_at) > _SHOWN_MAX:  # files read and never written: the oldest go
            self._read_at = dict(sorted(self._read_at.items(),
                                        key=lambda kv: kv[1].at)[-_SHOWN_MAX // 2:])
        if len(self._renaming) > _SHOWN_MAX:  # renames whose end was not seen
            self._renaming = {n: t for n, t in self._renaming.items() if now - t < _SHOWN_FOR}
        if len(self._blind) > _SHOWN_MAX:
            self._blind = {n: t for n, t in self._blind.items() if now - t < _SHOWN_FOR}

    def _look_at_reads(self, names: list[str]) -> None:
        """The version the mount shows each of *names*, opened read-only outside rclone's
        cache since the last reading of the log (a read through the cache was dropped from
        :attr:`_read_at` by its cache open): its size and modification time, from the
        folder listing rclone answers with, no request to the cloud. A program that saves
        in place what it read this way opens the file write-only, and rclone then takes the
        cloud's *current* version as the file's base: when the mount learnt of a cloud edit
        in between (a change poll), that version was never read (:meth:`BaseStore.opened`,
        *read_modified*). The read is left unsure (its base unknown if it is saved in
        place) when the look differs from the size shown at the open (FUSE's log) or from
        an earlier read, or when a listing was logged between the open and the look, no
        size was shown at the open and the version is younger than :data:`_KNOWN_AFTER`
        (an older one the change poll had told the mount before the open; and not for
        every listing: the read-ahead after mounting lists every folder, which would keep
        a spare copy of each file read meanwhile). Rest: a same-size edit learnt in the
        seconds between the open and the look. Runs on the scheduler's threads, never the
        GUI's; the stat is answered by rclone's folder cache."""
        if not names or not self.mount_point:
            return
        root = Path(self.mount_point)
        for name in names[-_LOOKS_MAX:]:
            r = self._read_at.get(name)
            if r is None or r.modified is not None:
                continue
            try:
                st = os.stat(os_path(root, name, self.platform))
            except OSError:
                continue  # gone (or the mount is): nothing known, as before
            r.modified = st.st_mtime_ns / 1e9
            if r.size is None:
                r.size = st.st_size
                if r.listed and r.modified > time.time() - _KNOWN_AFTER:
                    r.unsure = True
            elif r.size != st.st_size:
                r.unsure = True
            if r.before is not None and r.before != (r.size, r.modified) \
                    and r.before[1] is not None:
                r.unsure = True  # read again at another version: which one is edited?

    def _meta_before_start(self, name: str) -> bool:
        """The cache metadata of *name* was last written before this scheduler started: an
        open logged now is rclone's reload of a pending file at mount (which takes the
        cloud's *current* version), not a user's open (which rewrites the metadata)."""
        path = self._meta_path(name)
        try:
            return path is not None and path.stat().st_mtime_ns < self._started_ns
        except OSError:
            return False

    def _meta_dirty(self, name: str) -> bool:
        """rclone's cache metadata of *name* says it was changed here (not uploaded yet)."""
        path = self._meta_path(name)
        try:
            info = json.loads(path.read_text(encoding="utf-8")) if path is not None else {}
        except (OSError, ValueError):
            return False
        return isinstance(info, dict) and bool(info.get("Dirty"))

    def _observe_now(self, name: str) -> bool:
        """Record the base of a queued file the scan has not seen yet from its metadata;
        False when it has none."""
        path, store = self._meta_path(name), self.store
        if path is None or store is None:
            return False
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            first = path.stat().st_mtime_ns < self._started_ns
        except (OSError, ValueError):
            return False
        if not isinstance(info, dict):
            return False
        store.observe(name, info, first_sight=first)
        return True

    def _meta_path(self, name: str) -> Path | None:
        root = self._meta_root
        return None if root is None else os_path(root, name, self.platform)

    def _rescan(self, queued: set[str]) -> None:
        """Record the base of every cached file whose metadata changed (local disk only)."""
        root, store = self._meta_root, self.store
        now = time.monotonic()
        # a stat per cached file: big caches are looked at less often (2,000 files a second)
        interval = max(self.scan_interval, len(self._scan.seen) / 2000)
        if root is None or store is None or now - self._scan.at < interval:
            return
        self._scan.at = now
        seen: dict[str, int] = {}
        changed: list[tuple[str, Path]] = []
        for dirpath, _dirs, files in os.walk(root):
            for fname in files:
                full = Path(dirpath, fname)
                try:
                    mtime = full.stat().st_mtime_ns
                except OSError:
                    continue
                rel = full.relative_to(root).as_posix()
                seen[rel] = mtime
                if self._scan.seen.get(rel) != mtime:
                    changed.append((rel, full))
        gone = {_decode_path(rel, self.platform) for rel in set(self._scan.seen) - set(seen)}
        if gone and any(rel not in self._scan.seen for rel, _full in changed):
            # maybe renamed since the log was read: its line moves the base first (the
            # new name's metadata has the version rclone moved in the cloud, not the base)
            self._read_log()
        appeared: dict[str, Mapping[str, Any]] = {}
        first: dict[str, bool] = {}
        for rel, full in changed:
            try:
                info = json.loads(full.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                seen.pop(rel, None)  # being written: read it at the next scan
                continue
            if not isinstance(info, dict):
                continue
            name = _decode_path(rel, self.platform)
            first[name] = seen.get(rel, 0) < self._started_ns
            if rel not in self._scan.seen and gone:
                appeared[name] = info  # maybe a renamed file: matched first, below
            else:
                store.observe(name, info, first_sight=first[name])
        if gone:
            store.vanished(gone, appeared, queued)
        for name, info in appeared.items():
            store.observe(name, info, first_sight=first[name])
        self._scan.seen = seen
