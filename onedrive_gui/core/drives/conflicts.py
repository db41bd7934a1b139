"""Never lose a cloud-side edit: check each queued upload against the cloud before it starts.

rclone's VFS uploads a file changed on this computer after its write-back delay, over
whatever the cloud holds by then: an edit made meanwhile elsewhere (browser, phone, a
colleague) is silently replaced (rclone keeps only a DEBUG line about it). This module
closes that gap for the uploads of one mount:

* **Hold**: the mount is made with rclone's write-back delay set to :data:`HOLD` (an hour;
  :func:`hold_uploads`), so no upload starts by rclone's timer. The user's own delay (even
  0) is kept by the guard, which releases each upload (rc ``vfs/queue-set-expiry``) once it
  is due *and* checked. The check therefore cannot lose a race against the timer.
* **Check** (one rc ``operations/stat`` per queued file, no Graph request when nothing is
  queued): the cloud's current version (size, modification time, hash) against the version
  the local edit was based on — the fingerprint rclone keeps in its VFS cache metadata
  (``vfsMeta/<remote>/<path>``, JSON ``Fingerprint`` = ``size,modtime,hash``). Files saved via
  a temporary file and a rename (office suites) carry no fingerprint of their own; the
  guard then uses the fingerprint it last saw for that path (it snapshots the metadata
  folder every :attr:`ConflictGuard.scan_interval` seconds, local disk only).
* **Keep both**: when the cloud version changed, it is first copied server-side to
  ``name (conflict from the cloud, YYYY-MM-DD HH.MM).ext`` in the same folder (rc
  ``operations/copyfile``; OneDrive copies without a download), then the local edit is
  released and uploads under the original name. A :class:`Conflict` is reported.

A new file (no cloud version) has nothing to protect. The guard cannot help when the cloud
changes while the upload itself is in flight (between its check and the end of the upload),
or when an app replaces a file by renaming an already uploaded one over it (a server-side
move, not an upload).

Qt-free. :meth:`ConflictGuard.tick` is called from one thread (the mount monitor); the
other methods are thread-safe.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.rclone.rc import RcCallError, RcClient, parse_duration

log = logging.getLogger(__name__)

HOLD = 3600.0  # seconds: rclone's write-back delay while the guard releases uploads itself
DEFAULT_WRITE_BACK = 5.0  # rclone's own default when the mount options name none
_HELD_ABOVE = 0.5  # queue items expiring later than this (seconds from now) are held
_CALL_TIMEOUT = 120.0  # a stat or copy through rclone's pacer (retries included)
_MAX_BACKOFF = 120.0
_BODY_MAX = 255  # Windows' notification limit (NOTIFYICONDATA szInfo)
_GO_TIME_RE = re.compile(
    r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? ([+-]\d{4})(?: \S+)?$")


def hold_uploads(vfs_opt: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
    """(*vfs_opt* with rclone's WriteBack set to :data:`HOLD`, the user's delay in seconds).

    WriteBack may be a Go duration string ("5s") or nanoseconds, as rc accepts both.
    """
    wanted = parse_duration(vfs_opt.get("WriteBack")) if "WriteBack" in vfs_opt else None
    opt = dict(vfs_opt)
    opt["WriteBack"] = f"{int(HOLD)}s"
    return opt, DEFAULT_WRITE_BACK if wanted is None else max(0.0, wanted)


@dataclass(frozen=True)
class Version:
    """What identifies one version of a file: size, modification time (UTC), hash."""

    size: int
    modified: datetime | None
    hash: str | None

    def same_as(self, other: Version) -> bool:
        if self.size != other.size:
            return False
        if self.hash and other.hash:
            return self.hash.lower() == other.hash.lower()
        if self.modified is not None and other.modified is not None:
            return self.modified == other.modified
        return True  # nothing else to tell them apart


def parse_fingerprint(text: str) -> Version | None:
    """rclone's ``fs.Fingerprint`` ("size,modtime,hash"; modtime in Go's time format), or
    None when it is empty or unreadable."""
    parts = text.split(",")
    try:
        size = int(parts[0])
    except ValueError:
        return None
    modified: datetime | None = None
    rest = parts[1:]
    if rest:
        m = _GO_TIME_RE.match(rest[0])
        if m:
            frac = (m.group(3) or "")[:7].ljust(7, "0") if m.group(3) else ""
            stamp = f"{m.group(1)}T{m.group(2)}{frac}{m.group(4)}"
            try:
                modified = datetime.fromisoformat(stamp).astimezone(UTC)
            except ValueError:
                return None
            rest = rest[1:]
    return Version(size, modified, rest[0] if rest and rest[0] else None)


def _parse_rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", text)
    if m and m.group(2):  # Python takes at most 6 fractional digits
        text = m.group(1) + m.group(2)[:7] + m.group(3)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


def version_of(item: Mapping[str, Any], hash_type: str | None) -> Version:
    """The :class:`Version` of an rc ``operations/stat`` item."""
    hashes = item.get("Hashes") if isinstance(item.get("Hashes"), dict) else {}
    assert isinstance(hashes, dict)
    digest = hashes.get(hash_type) if hash_type else None
    if digest is None and len(hashes) == 1:
        digest = next(iter(hashes.values()))
    size = item.get("Size")
    return Version(int(size) if isinstance(size, (int, float)) else -1,
                   _parse_rfc3339(item.get("ModTime")),
                   str(digest) if digest else None)


def conflict_name(name: str, modified: datetime | None, taken: Callable[[str], bool]) -> str:
    """'notes (conflict from the cloud, 2026-11-30 14.05).txt' (local time of *modified*),
    with ' 2', ' 3'... added while *taken* says the name exists."""
    stem, ext = posixpath.splitext(name)
    when = (modified or datetime.now(UTC)).astimezone().strftime("%Y-%m-%d %H.%M")
    base = f"{stem} (conflict from the cloud, {when}"
    for n in range(1, 1000):
        candidate = f"{base}{'' if n == 1 else f' {n}'}){ext}"
        if not taken(candidate):
            return candidate
    raise RcloneError(_("Too many conflict copies"),
                      _(
                          "'{name}' already has 999 conflict copies from the cloud."
                      ).format(name=name),
                      _("Tidy up the folder, then save the file again."))


@dataclass(frozen=True)
class Conflict:
    """A file changed both here and in the cloud; both versions were kept."""

    account: str
    path: str  # the file inside the drive ("Documents/notes.txt"): the local edit
    conflict_path: str  # the cloud version, kept next to it
    local_folder: str | None  # the folder on this computer (under the mount point)
    when: float  # time.time() of the detection

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def conflict_name(self) -> str:
        return posixpath.basename(self.conflict_path)

    def text(self) -> str:
        """The notification body (≤ 255 characters, Windows' limit), naming both files."""
        name = _fit_middle(self.name, 34)
        other = _fit_middle(self.conflict_name, 64)
        return _fit(_(
            "{fit}: “{name}” changed in the cloud while your edit waited to upload. Both are "
            "kept: yours under its name, the cloud's as “{other}”. Click to open the folder."
        ).format(fit=_fit(self.account, 16), name=name, other=other), _BODY_MAX)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fit_middle(name: str, limit: int) -> str:
    """*name* shortened in the middle (its end tells a conflict copy and the type)."""
    if len(name) <= limit:
        return name
    tail = min(len(name) // 2, limit * 3 // 4)
    return name[:limit - 1 - tail] + "…" + name[-tail:]


class ConflictLog:
    """The conflicts of this run (thread-safe): what an activity view lists."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Conflict] = []

    def add(self, conflict: Conflict) -> None:
        with self._lock:
            self._items.append(conflict)

    def items(self) -> list[Conflict]:
        with self._lock:
            return list(self._items)

    def latest(self) -> Conflict | None:
        with self._lock:
            return self._items[-1] if self._items else None


@dataclass
class _Held:
    """What the guard knows of one upload-queue item."""

    name: str
    tries: int = 0
    due_at: float = 0.0  # monotonic; for retries and failed checks
    checking: bool = False
    kept: Version | None = None  # the cloud version already kept under a conflict name
    force: bool = False  # release at once (kick)


@dataclass
class _Scan:
    seen: dict[str, int] = field(default_factory=dict)  # meta file -> mtime_ns
    known: dict[str, str] = field(default_factory=dict)  # path -> last non-empty fingerprint
    at: float = -1e9


class ConflictGuard:
    """The upload check of one mount. Call :meth:`tick` from the mount monitor (it makes one
    local rc call, ``vfs/queue``); checks run on the guard's own worker thread."""

    scan_interval = 2.0

    def __init__(
        self,
        client: RcClient,
        fs: str,
        *,
        account: str,
        write_back: float,
        mount_point: str | None = None,
        on_conflict: Callable[[Conflict], None] | None = None,
        conflicts: ConflictLog | None = None,
    ) -> None:
        self.client = client
        self.fs = fs
        self.account = account
        self.write_back = write_back
        self.mount_point = mount_point
        self._on_conflict = on_conflict
        self.conflicts = conflicts if conflicts is not None else ConflictLog()
        self._lock = threading.Lock()
        self._held: dict[int, _Held] = {}
        self._work: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._meta_root: Path | None = None
        self._hash_type: str | None = None
        self._scan = _Scan()
        self._disabled = False
        self._closed = False
        self._kick: str | None = None  # "all" / "retried": release those at the next tick
        self._force_names: set[str] = set()  # release these at the next tick (Upload now)

    # ---- monitor side ----------------------------------------------------------------

    def tick(self) -> None:
        """Look at the upload queue; hand due items to the worker. Never blocks for long."""
        if self._disabled or self._closed:
            return
        try:
            if self._meta_root is None:
                self._learn_cache()
            items = self.client.call("vfs/queue", {"fs": self.fs}, timeout=10).get("queue")
        except RcCallError as exc:
            if "vfs cache" in exc.error_text.lower():  # CacheMode off: no queue to guard
                log.info("%s: no VFS cache, uploads are not checked", self.account)
                self._disabled = True
                return
            log.warning("%s: reading the upload queue: %s", self.account, exc.message)
            return
        except RcloneError as exc:
            log.warning("%s: reading the upload queue: %s", self.account, exc.message)
            return
        self._rescan()
        now = time.monotonic()
        due: list[int] = []
        with self._lock:
            kick, self._kick = self._kick, None
            present: set[int] = set()
            for raw in items or []:
                if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
                    continue
                ident, name = int(raw["id"]), str(raw.get("name", ""))
                present.add(ident)
                held = self._held.get(ident)
                if held is None or held.name != name:
                    kept = held.kept if held is not None and held.name == name else None
                    held = self._held[ident] = _Held(name, kept=kept)
                expiry = float(raw.get("expiry") or 0.0)
                forced = name in self._force_names
                self._force_names.discard(name)
                if raw.get("uploading") or expiry <= _HELD_ABOVE or held.checking:
                    continue
                tries = int(raw.get("tries") or 0)
                if kick == "all" or (kick == "retried" and tries) or forced:
                    held.force = True
                if tries != held.tries:  # an upload failed: retry after a back-off
                    held.tries = tries
                    held.due_at = now + min(max(self.write_back, 2.0) * 2 ** (tries - 1),
                                            _MAX_BACKOFF)
                if held.force:
                    ready = True
                elif tries == 0:
                    ready = HOLD - expiry >= self.write_back and now >= held.due_at
                else:
                    ready = now >= held.due_at
                if ready:
                    held.checking = True
                    held.force = False
                    due.append(ident)
            finished = [self._held.pop(gone).name for gone in set(self._held) - present]
            self._force_names.clear()  # what is not queued (any more) has nothing to release
        for name in finished:  # uploaded (or dropped): the version the next edit is based on
            fp = self._fingerprint(name)
            if fp:
                with self._lock:
                    self._scan.known[name] = fp
        for ident in due:
            self._start_worker()
            self._work.put(ident)

    def kick(self, *, only_retried: bool = False) -> None:
        """Check and release held uploads now instead of at their due time: those that failed
        before (*only_retried*: the cloud works again), or all (the user asked to upload what
        a crash left behind). Takes effect at the next :meth:`tick`."""
        with self._lock:
            # "all" wins over "only retried" until the next tick applies it
            self._kick = "all" if not only_retried or self._kick == "all" else "retried"

    def release_now(self, name: str) -> None:
        """Check the queued upload of *name* (its path in the drive) against the cloud and
        release it at the next :meth:`tick`, without waiting for its delay or back-off
        ("Upload now", "Retry"). The check still keeps a cloud edit made meanwhile."""
        with self._lock:
            self._force_names.add(name)

    def upload_state(self, item: Mapping[str, Any]) -> tuple[str, float | None]:
        """What the guard does with one rc ``vfs/queue`` *item*: ("waiting", seconds until
        it is checked and released), ("checking", None), ("retrying", seconds) after a
        failed upload, or ("uploading", None)."""
        if item.get("uploading"):
            return "uploading", None
        ident, name = item.get("id"), str(item.get("name", ""))
        tries = int(item.get("tries") or 0)
        expiry = float(item.get("expiry") or 0.0)
        now = time.monotonic()
        with self._lock:
            held = self._held.get(ident) if isinstance(ident, int) else None
            if held is not None and held.name != name:
                held = None
            if held is not None and held.checking:
                return "checking", None
            if name in self._force_names or (held is not None and held.force):
                return "checking", None
            if expiry <= _HELD_ABOVE:  # released: rclone starts it in a moment
                return ("retrying" if tries else "waiting"), 0.0
            if tries:
                due = held.due_at - now if held is not None and held.tries == tries else (
                    min(max(self.write_back, 2.0) * 2 ** (tries - 1), _MAX_BACKOFF))
                return "retrying", max(0.0, due)
            left = self.write_back - (HOLD - expiry)
            if held is not None:
                left = max(left, held.due_at - now)
            return "waiting", max(0.0, left)

    def close(self) -> None:
        self._closed = True
        self._work.put(None)

    @property
    def known_versions(self) -> int:
        """How many paths the guard has a base fingerprint for (from the metadata scan)."""
        with self._lock:
            return len(self._scan.known)

    # ---- cache metadata --------------------------------------------------------------

    def _learn_cache(self) -> None:
        disk = self.client.call("vfs/stats", {"fs": self.fs}, timeout=10).get("diskCache")
        if not isinstance(disk, dict) or not disk.get("pathMeta"):
            raise RcCallError("vfs/stats", 500, "no vfs cache for this mount")
        self._meta_root = Path(str(disk["pathMeta"]))
        hash_type = disk.get("hashType")
        # rclone reports the hash type by name ("quickxor") or as its bit number
        self._hash_type = hash_type if isinstance(hash_type, str) and hash_type else None

    def _meta_path(self, name: str) -> Path | None:
        root = self._meta_root
        return None if root is None else root.joinpath(*name.split("/"))

    def _fingerprint(self, name: str) -> str:
        path = self._meta_path(name)
        if path is None:
            return ""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return ""
        fp = data.get("Fingerprint") if isinstance(data, dict) else None
        return fp if isinstance(fp, str) else ""

    def _rescan(self) -> None:
        """Remember the last non-empty fingerprint of every cached file (local disk only)."""
        root = self._meta_root
        now = time.monotonic()
        # a stat per cached file: big caches are looked at less often (2,000 files a second)
        interval = max(self.scan_interval, len(self._scan.seen) / 2000)
        if root is None or now - self._scan.at < interval:
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
        self._scan.seen = seen
        for rel, _full in changed:
            fp = self._fingerprint(rel)
            if fp:
                with self._lock:
                    self._scan.known[rel] = fp

    # ---- worker side -----------------------------------------------------------------

    def _start_worker(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, name=f"conflicts-{self.account}",
                                            daemon=True)
            self._thread.start()

    def _worker(self) -> None:
        while True:
            ident = self._work.get()
            if ident is None or self._closed:
                return
            with self._lock:
                held = self._held.get(ident)
                name = held.name if held is not None else None
            if held is None or name is None:
                continue
            ok = False
            try:
                ok = self._check(ident, name, held)
            except RcloneError as exc:
                log.warning("%s: checking '%s' against the cloud: %s", self.account, name,
                            exc.message)
            except Exception:  # the worker must go on; the upload stays held
                log.exception("%s: checking '%s' failed unexpectedly", self.account, name)
            with self._lock:
                held.checking = False
                if not ok:
                    held.due_at = time.monotonic() + min(
                        max(self.write_back, 2.0) * 2 ** max(held.tries, 1), _MAX_BACKOFF)

    def _check(self, ident: int, name: str, held: _Held) -> bool:
        """Check one held upload; keep the cloud version if it changed; release. True when
        released (False: it stays held and is checked again later)."""
        base_text = self._fingerprint(name)
        if not base_text:
            with self._lock:
                base_text = self._scan.known.get(name, "")
        stat = self._stat(name)
        if stat is None:
            log.info("%s: '%s' is new in the cloud: uploading", self.account, name)
            return self._release(ident)
        cloud = version_of(stat, self._hash_type)
        base = parse_fingerprint(base_text) if base_text else None
        if base is None:
            log.info("%s: '%s': no earlier version known here; uploading", self.account, name)
            return self._release(ident)
        if base.same_as(cloud) or (held.kept is not None and held.kept.same_as(cloud)):
            return self._release(ident)
        log.warning("%s: '%s' changed in the cloud while a local edit waited to upload "
                    "(based on %s, cloud has %s)", self.account, name, base, cloud)
        folder = posixpath.dirname(name)
        leaf = conflict_name(posixpath.basename(name), cloud.modified,
                             lambda c: self._stat(posixpath.join(folder, c)) is not None)
        target = posixpath.join(folder, leaf)
        self.client.call("operations/copyfile", {
            "srcFs": self.fs, "srcRemote": name, "dstFs": self.fs, "dstRemote": target,
        }, timeout=_CALL_TIMEOUT)
        held.kept = cloud
        try:  # show the copy in the mounted folder now, not at the next change poll
            self.client.call("vfs/refresh", {"fs": self.fs, "dir": folder or ""},
                             timeout=_CALL_TIMEOUT)
        except RcloneError as exc:
            log.info("%s: refreshing '%s': %s", self.account, folder or "/", exc.message)
        local = None
        if self.mount_point:
            local = os.path.join(self.mount_point, *([p for p in folder.split("/") if p]))
        conflict = Conflict(self.account, name, target, local, time.time())
        self.conflicts.add(conflict)
        if self._on_conflict is not None:
            self._on_conflict(conflict)
        return self._release(ident)

    def _stat(self, remote: str) -> dict[str, Any] | None:
        opt: dict[str, Any] = {"showHash": True, "filesOnly": True, "noMimeType": True}
        if self._hash_type:
            opt["hashTypes"] = [self._hash_type]
        item = self.client.call("operations/stat", {"fs": self.fs, "remote": remote, "opt": opt},
                                timeout=_CALL_TIMEOUT).get("item")
        if not isinstance(item, dict) or item.get("IsDir"):
            return None
        return item

    def _release(self, ident: int) -> bool:
        try:
            self.client.call("vfs/queue-set-expiry", {"fs": self.fs, "id": ident, "expiry": 0},
                             timeout=10)
        except RcCallError as exc:  # uploaded, renamed or removed meanwhile: nothing to do
            log.info("%s: releasing upload %d: %s", self.account, ident, exc.error_text)
        return True
