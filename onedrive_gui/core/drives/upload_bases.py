"""The durable base of each file of a mount: the cloud version its local edit was based on,
pinned until it is uploaded, following renames, with the conflict copies made (one JSON
file per mount, written atomically, owner-only). See :mod:`.uploads`."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onedrive_gui.core.atomic import write_atomic
from onedrive_gui.core.drives.conflicts import Version, parse_fingerprint

log = logging.getLogger(__name__)

_STORE_VERSION = 1


# ---- the durable base ---------------------------------------------------------------------


@dataclass
class _Entry:
    fp: str  # the cloud version the local copy is based on (rclone fingerprint; "" unknown)
    pinned: bool  # a local edit based on fp waits to upload: fp is not replaced
    size: int = -1  # the cache metadata's Size / ModTime when last seen (follows renames)
    mtime: str = ""
    kept: list[dict[str, Any]] = field(default_factory=list)  # conflict copies made
    new: bool = False  # created here with no cloud version, not renamed since
    # the program that opened it may have read fp's content cut (or padded) at another size
    # than fp's (rclone told the kernel a stale size): the base is not known (see opened)
    doubt: bool = False

    def to_json(self) -> dict[str, Any]:
        out = {"fp": self.fp, "pinned": self.pinned, "size": self.size, "mtime": self.mtime,
               "kept": self.kept}
        if self.new:
            out["new"] = True
        if self.doubt:
            out["doubt"] = True
        return out

    @staticmethod
    def from_json(data: Any) -> _Entry | None:
        if not isinstance(data, dict) or not isinstance(data.get("fp"), str):
            return None
        kept = data.get("kept")
        return _Entry(data["fp"], bool(data.get("pinned")), int(data.get("size") or -1),
                      str(data.get("mtime") or ""),
                      [k for k in kept if isinstance(k, dict)] if isinstance(kept, list) else [],
                      data.get("new") is True, data.get("doubt") is True)


def _version_json(v: Version) -> dict[str, Any]:
    return {"size": v.size, "modified": v.modified.isoformat() if v.modified else None,
            "hash": v.hash}


def _version_from(data: Any) -> Version | None:
    from datetime import datetime

    if not isinstance(data, dict):
        return None
    try:
        modified = datetime.fromisoformat(data["modified"]) if data.get("modified") else None
        return Version(int(data["size"]), modified, data.get("hash") or None)
    except (KeyError, TypeError, ValueError):
        return None


class BaseStore:
    """The durable base of one mount's files (see the module docstring). Thread-safe;
    :meth:`save` writes it when it changed (atomically, owner-only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._files: dict[str, _Entry] = {}
        self._changed = False
        # names renamed to before their metadata was seen (a temporary file renamed over a
        # file at once): not new when it is (see is_new)
        self._renamed_to: set[str] = set()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:
            # unreadable: start afresh; unknown bases are then compared by content hash
            log.warning("upload bases %s unreadable (%s); starting afresh", path, exc)
            data = {}
        files = data.get("files") if isinstance(data, dict) else None
        for name, raw in (files.items() if isinstance(files, dict) else ()):
            entry = _Entry.from_json(raw)
            if entry is not None:
                self._files[str(name)] = entry

    def save(self) -> None:
        with self._lock:
            if not self._changed:
                return
            data = json.dumps({"version": _STORE_VERSION, "files": {
                n: e.to_json() for n, e in self._files.items()}}, ensure_ascii=False)
            self._changed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, data.encode("utf-8"))
        except OSError:
            with self._lock:
                self._changed = True
            raise

    # -- what the cache metadata shows --

    def observe(self, name: str, info: Mapping[str, Any], *, first_sight: bool) -> None:
        """rclone's cache metadata of *name* (its ``Info``): record its base the first time,
        pin it when dirty, take the new version once it was uploaded (clean again).
        *first_sight*: the metadata existed before this scheduler started (a reloaded dirty
        file then carries the cloud's current fingerprint, not its base)."""
        fp = info.get("Fingerprint") if isinstance(info.get("Fingerprint"), str) else ""
        assert isinstance(fp, str)
        dirty = bool(info.get("Dirty"))
        size = int(info["Size"]) if isinstance(info.get("Size"), int) else -1
        mtime = str(info.get("ModTime") or "")
        with self._lock:
            e = self._files.get(name)
            before = None if e is None else e.to_json()
            if e is None:
                e = self._files[name] = _Entry("" if dirty and first_sight else fp, dirty,
                                               new=not fp and not first_sight
                                               and name not in self._renamed_to)
                self._renamed_to.discard(name)
            elif e.pinned:
                if not dirty and fp:  # uploaded (rclone marks it clean after the upload)
                    e.fp, e.pinned, e.kept, e.new, e.doubt = fp, False, [], False, False
            elif dirty:
                e.pinned = True
                if not e.fp and not first_sight:
                    e.fp = fp
            elif fp:
                e.fp = fp
            e.size, e.mtime = size, mtime
            if e.to_json() != before:
                self._changed = True

    def vanished(self, names: set[str], appeared: dict[str, Mapping[str, Any]],
                 queued: set[str]) -> None:
        """Metadata of *names* is gone since the last scan, that of *appeared* is new: a
        pinned base follows the file renamed (same size and modification time); what is
        neither renamed nor queued is forgotten. The base of a queued file is kept, pinned
        or not: it was renamed, and the rename (rclone's log, the queue) moves it to the new
        name — whose metadata carries the version rclone took when it moved the cloud item,
        not the one the local edit is based on."""
        with self._lock:
            for gone in names:
                e = self._files.get(gone)
                if e is None:
                    continue
                if e.pinned:
                    for new, info in appeared.items():
                        if (new not in self._files or not self._files[new].pinned) and (
                                info.get("Size") == e.size and str(info.get("ModTime")) == e.mtime):
                            self._files[new] = self._files.pop(gone)
                            self._files[new].new = False  # something may have been there
                            log.info("upload base of '%s' follows it to '%s'", gone, new)
                            break
                    else:
                        if gone not in queued:
                            del self._files[gone]
                elif gone not in queued:
                    del self._files[gone]
                self._changed = True

    def rename(self, old: str, new: str) -> None:
        """*old* was renamed to *new* here. A file that has a cloud version keeps its base
        (rclone moves the cloud item with it); a new local file renamed over another
        (a save through a temporary file) takes the base of the file it replaces."""
        with self._lock:
            e = self._files.pop(old, None)
            replaced = self._files.get(new)
            if e is None:  # never seen (a short-lived temporary file)
                if replaced is not None:
                    self._changed = self._changed or replaced.new
                    replaced.new = False
                elif len(self._renamed_to) < 10_000:
                    self._renamed_to.add(new)
                return
            if replaced is not None and not e.fp and not e.doubt:
                replaced.pinned = replaced.pinned or e.pinned
                replaced.size, replaced.mtime = e.size, e.mtime
            else:
                self._files[new] = e
                e.new = False  # renamed over a name the cloud may have a file under
            self._changed = True

    def opened(self, name: str, remote_fp: str, cached_fp: str, *, dirty: bool,
               shown: int | None = None, blind: bool = False,
               read_modified: float | None = None, read_unsure: bool = False) -> None:
        """rclone opened *name* in its cache, knowing the cloud's version *remote_fp* and
        its cached one *cached_fp* (from its log); *dirty*: its metadata says changed here.
        A first open, or a stale clean copy (rclone drops it), is based on the cloud's
        version; a changed one keeps its base (rclone keeps the local changes).

        *shown*: the size rclone last told the kernel the file has (its FUSE log), None when
        not known. When rclone reads the cloud's version and that size differs from it, the
        program read that version cut (or padded) at the size shown: a folder listing gave
        the file a new cloud version, and rclone's VFS kept the size of the one before for
        a file open for writing until its first read or write (``vfs/file.go``
        ``setObjectNoUpdate``; docs/rclone-upstream-reports.md, report 6), or the kernel
        still held it (``--attr-timeout``). Its base is then not known (compare contents).

        *blind*: the open cannot read the file (write-only, or truncating it: a program
        saving in place what it read before, e.g. Notepad, VS Code). What it writes is based
        on what it read before, not on the cloud's version rclone takes now: a stale cached
        copy (the cloud changed since it was read here) leaves the base unknown, as does a
        first open when *shown* (then the size the program last read it at) differs, or
        *read_modified* (the modification time, epoch seconds, the mount showed when the
        program read it) differs from the cloud version's, or *read_unsure* (the mount may
        have shown another version than the one read)."""
        cloud = parse_fingerprint(remote_fp) if remote_fp else None
        reads_cloud = not (dirty and cached_fp)  # else rclone keeps the local changes
        doubt = (reads_cloud and cloud is not None and (
            (shown is not None and shown != cloud.size)
            or (blind and bool(cached_fp) and cached_fp != remote_fp)
            or (blind and not cached_fp and (read_unsure or (
                read_modified is not None and cloud.modified is not None
                and abs(cloud.modified.timestamp() - read_modified) >= 0.001)))))
        with self._lock:
            e = self._files.get(name)
            if not remote_fp or cached_fp == remote_fp:  # its cached copy is the cloud's
                if cloud is not None and reads_cloud and e is None and doubt:
                    e = self._files[name] = _Entry(remote_fp, False)
                elif e is None or e.pinned or e.doubt == doubt:
                    return
            elif not reads_cloud:  # changed here before this open: rclone keeps it
                if e is None:
                    e = self._files[name] = _Entry(cached_fp, True)
                elif not e.pinned:
                    e.pinned, e.fp = True, e.fp or cached_fp
                else:
                    return
            elif dirty:  # a first open, written since: based on the cloud's version
                if e is None:
                    e = self._files[name] = _Entry(remote_fp, True)
                elif not e.pinned:
                    e.pinned, e.fp = True, remote_fp
                elif not doubt:
                    return
            elif e is None:
                e = self._files[name] = _Entry(remote_fp, False)
            elif not e.pinned:
                e.fp = remote_fp
            else:
                return
            if doubt and not e.doubt:
                log.warning("'%s' was opened at the cloud's version %s, read as %s: its "
                            "base is not known (the contents are compared before its upload)",
                            name, remote_fp, f"{shown} bytes" if shown is not None
                            else f"the version cached before ({cached_fp})")
            if reads_cloud:  # what this open read is what a change now is based on
                e.doubt = doubt
            self._changed = True

    def pin_unknown(self, name: str) -> None:
        """*name* is queued and was never seen: its base is unknown (compare content)."""
        with self._lock:
            if name not in self._files:
                self._files[name] = _Entry("", True)
                self._changed = True

    # -- what the check reads and writes --

    def base(self, name: str) -> Version | None:
        """The version the local edit of *name* is based on; None when unknown."""
        with self._lock:
            e = self._files.get(name)
            fp = e.fp if e is not None and not e.doubt else ""
        return parse_fingerprint(fp) if fp else None

    def is_new(self, name: str) -> bool:
        """*name* was created here with no cloud version (and not renamed since): the
        cloud has nothing of it to compare or keep."""
        with self._lock:
            e = self._files.get(name)
            return e is not None and e.new and not e.fp

    def has(self, name: str) -> bool:
        with self._lock:
            return name in self._files

    def kept(self, name: str) -> list[tuple[Version, str, bool]]:
        """(cloud version, copy's path, copy finished) of the conflict copies of *name*."""
        with self._lock:
            e = self._files.get(name)
            records = list(e.kept) if e is not None else []
        out = []
        for rec in records:
            v = _version_from(rec.get("version"))
            if v is not None and isinstance(rec.get("target"), str):
                out.append((v, str(rec["target"]), bool(rec.get("done"))))
        return out

    def keeping(self, name: str, cloud: Version, target: str, *, done: bool) -> None:
        """Record a conflict copy of *cloud* at *target* (before it starts: not done)."""
        with self._lock:
            e = self._files.get(name)
            if e is None:
                e = self._files[name] = _Entry("", True)
            e.kept = [k for k in e.kept if k.get("target") != target]
            e.kept.append({"version": _version_json(cloud), "target": target, "done": done})
            self._changed = True

    def unkeep(self, name: str, target: str) -> None:
        """The copy to *target* was refused: no such copy exists."""
        with self._lock:
            e = self._files.get(name)
            if e is not None:
                e.kept = [k for k in e.kept if k.get("target") != target]
                self._changed = True

    def pending(self) -> dict[str, str]:
        """The files whose local edit waits to upload (pinned): name -> the rclone
        fingerprint of their base ("" unknown)."""
        with self._lock:
            return {n: e.fp for n, e in self._files.items() if e.pinned}

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)
