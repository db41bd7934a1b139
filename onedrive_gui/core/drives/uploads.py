"""The upload scheduler of one mount: the only owner of "when does this file go up, and what
did it replace".

rclone's VFS uploads a file changed on this computer after its write-back delay, over
whatever the cloud holds by then. This module makes rclone upload nothing the scheduler has
not released, and releases a file only after checking it against the cloud version the local
edit was based on, keeping the cloud's version under a conflict name when it changed.

* **Hold, fail closed.** The mount's write-back delay is :func:`hold_for` the user's delay
  (a week at least, far above the longest delay Settings accepts, :data:`MAX_WRITE_BACK`):
  rclone's own timer never fires while the app runs. Every queued upload the scheduler has
  not released is held again (rc ``vfs/queue-set-expiry``) whenever rclone brought its time
  forward: after each failed upload (rclone retries within 5 minutes) and whatever else.
  A failed check or conflict copy leaves the file held and is tried again after a back-off.
  A released file that did not start within :data:`RECHECK_AFTER` seconds (all transfer
  slots busy) is held again and checked again; files are released only into free slots —
  and, while uploads end quickly (the last few within :data:`RECHECK_AFTER` of their
  release, none in flight longer), into as many again as the slots, or twice the uploads
  that ended in a second lately when more, so that rclone starts the
  next one the moment a transfer ends instead of at the next tick (small files end many a
  second: with the slots only, the tick capped them at twice the slots a second).
  When the app is not running (killed, crashed) its rclone keeps the drive mounted and keeps
  holding: nothing uploads for the hold's week; the next start of the app stops that rclone
  (crash recovery) and the new one reloads the pending files, held again.
* **A durable base** (:class:`BaseStore`, one JSON file per mount next to rclone's cache,
  written atomically, owner-only): for every file seen in rclone's cache metadata
  (``vfsMeta``), the cloud version (rclone's fingerprint "size,modtime,hash") the local copy
  is based on. It is *pinned* the first time the file is seen dirty and never replaced until
  the file is uploaded; it follows renames (queue ids, and metadata identity). Conflict
  copies made are recorded too (and one whose copy timed out is finished, not made twice).
  So a restart of rclone, which gives a reloaded file the *current cloud* fingerprint, or a
  save through a temporary file and a rename, which leaves none, cannot hide a cloud edit.
* **Unknown base** (the file was never seen before it became dirty, e.g. read and saved at
  once in cache mode ``full``, or pending since before this app version; or rclone read the
  cloud's version while it told the program another size — its FUSE log — so the program
  read it cut, rclone report 6): the content hash
  of the local cache file (rc ``operations/hashsum``, local) against the cloud's: equal →
  upload, different → keep the cloud's version as a conflict copy.
* **Conflict copies** go next to the file (``name (conflict from the cloud, DATE).ext``), a
  short name when that is too long for OneDrive, or into ``Conflicts`` at the drive's root
  when the folder refuses it. A file is never released over a cloud version not kept.

The look at the cloud (checks, conflict copies) is :mod:`.cloud_checks`, the base class; the
files of a folder that wait together are checked against one listing of it, not one request
each (:mod:`.cloud_listings`).

Qt-free. :meth:`UploadScheduler.tick` is called from one thread (the mount monitor); checks
run on the scheduler's worker thread; the other methods are thread-safe.
"""

from __future__ import annotations

import logging
import math
import posixpath
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onedrive_gui.core.drives.cache_watch import CacheWatch, _Read, _Scan
from onedrive_gui.core.drives.cloud_checks import CloudChecks
from onedrive_gui.core.drives.cloud_listings import FolderListings
from onedrive_gui.core.drives.cloud_moves import Again as _Again
from onedrive_gui.core.drives.conflicts import (
    Conflict,
    ConflictLog,
)
from onedrive_gui.core.drives.limits import MAX_WRITE_BACK
from onedrive_gui.core.drives.pacing import Pacer
from onedrive_gui.core.drives.rclone_cache import (
    os_path,
)
from onedrive_gui.core.drives.upload_bases import BaseStore
from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.rclone.log_signals import LogTail
from onedrive_gui.core.rclone.rc import RcCallError, RcClient, parse_duration

__all__ = ["MAX_WRITE_BACK", "UploadScheduler", "hold_for", "hold_uploads"]

log = logging.getLogger(__name__)

DEFAULT_WRITE_BACK = 5.0  # rclone's own default when the mount options name none
_MIN_HOLD = 7 * 86400.0  # rclone's write-back delay: a week at least
_LOG_READ = 32 << 20  # bytes of rclone's log read per look at most (the default skips past 1 MiB)
_ENDS_OVER = 3.0  # seconds of upload ends that measure how many end a second
RECHECK_AFTER = 5.0  # seconds a released file may wait for a transfer slot before re-check
_HELD_ABOVE = 0.5  # queue items expiring later than this (seconds from now) are held
_MAX_BACKOFF = 120.0
_RENAME_WAIT = 60.0  # seconds a rename under way (its start logged, not its end) holds a file
_ATTACH_WAIT = 10.0  # seconds for rclone to finish the close of the read before a release
# rclone's log lines (DEBUG and INFO; its own format, never translated) about cache items


def hold_for(write_back: float) -> float:
    """rclone's write-back delay while the scheduler releases uploads: far above the user's
    *write_back* (a week at least), so that rclone's timer never decides."""
    return max(_MIN_HOLD, 168.0 * write_back)


def hold_uploads(vfs_opt: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
    """(*vfs_opt* for rclone, the user's delay in seconds): rclone's WriteBack set to
    :func:`hold_for` the user's delay (at most :data:`MAX_WRITE_BACK`), and its handle
    caching off — a closed clean file's delayed close can otherwise rewrite a file renamed
    over it within those seconds as clean, with the old fingerprint (the local edit is then
    never uploaded, rclone's ``item.go`` close path).

    WriteBack may be a Go duration string ("5s") or nanoseconds, as rc accepts both.
    """
    wanted = parse_duration(vfs_opt.get("WriteBack")) if "WriteBack" in vfs_opt else None
    delay = DEFAULT_WRITE_BACK if wanted is None else max(0.0, wanted)
    if delay > MAX_WRITE_BACK:
        log.warning("upload delay %.0f s is longer than the %.0f s the app checks; using %.0f s",
                    delay, MAX_WRITE_BACK, MAX_WRITE_BACK)
        delay = MAX_WRITE_BACK
    opt = dict(vfs_opt)
    opt["WriteBack"] = f"{int(hold_for(delay))}s"
    opt["HandleCaching"] = "0s"
    return opt, delay


# ---- the scheduler -------------------------------------------------------------------------


@dataclass
class _Held:
    """What the scheduler knows of one upload-queue item."""

    name: str
    tries: int = 0
    due_at: float = 0.0  # monotonic; for retries and failed checks
    checking: bool = False
    force: bool = False  # release at once (kick)
    released_at: float | None = None  # monotonic; when the scheduler released it
    paced: bool = False  # released at the pacer's rate (not Upload now, Quit)


class UploadScheduler(CacheWatch, CloudChecks):
    """The upload scheduler of one mount. Call :meth:`tick` from the mount monitor (one local
    rc call, ``vfs/queue``, and a look at the cache metadata on local disk); checks run on
    the scheduler's own worker thread."""

    scan_interval = 0.5

    def __init__(
        self,
        client: RcClient,
        fs: str,
        *,
        account: str,
        write_back: float,
        mount_point: str | None = None,
        transfers: int = 4,
        on_conflict: Callable[[Conflict], None] | None = None,
        conflicts: ConflictLog | None = None,
        platform: str | None = None,
        log_file: Path | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.client = client
        self.fs = fs
        self.account = account
        self.write_back = min(max(0.0, write_back), MAX_WRITE_BACK)
        self.hold = hold_for(self.write_back)
        self.mount_point = mount_point
        self.transfers = max(1, transfers)
        self.platform = platform or sys.platform
        self._on_conflict = on_conflict
        self.conflicts = conflicts if conflicts is not None else ConflictLog()
        self._lock = threading.Lock()
        self._held: dict[int, _Held] = {}
        self._work: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._meta_root: Path | None = None
        self._data_root: Path | None = None
        self._hash_type: str | None = None
        self.store: BaseStore | None = None
        self._scan = _Scan()
        # cache metadata written before this (rclone's reload of pending files at mount)
        # is "first sight": a reloaded dirty file carries the cloud's current fingerprint
        self._started_ns = time.time_ns()
        # rclone's log from now on: the version each file is opened at, and renames, in
        # order and complete (the metadata scan only samples)
        # every line since the last look (the burst of a whole folder walked at once too)
        self._log = LogTail(log_file, max_read=_LOG_READ) if log_file is not None else None
        # the size rclone last told the kernel each file has (its FUSE log: Linux), and when
        # that line was read (monotonic): see BaseStore.opened
        self._shown: dict[str, tuple[int, float]] = {}
        # the size shown when each file not in the cache was last opened read-only (the
        # version a program holds, read outside the cache), and files whose last open
        # cannot read (write-only, truncating): see BaseStore.opened's blind
        self._read_at: dict[str, _Read] = {}
        self._blind: dict[str, float] = {}
        # files whose rename through the mount started and did not end yet (rclone's log):
        # not released under the old name (see _release); _log_lock: one log reader at a time
        self._renaming: dict[str, float] = {}
        # how many times rclone's log said each file's upload was queued (see _attach)
        self._queued_at: dict[str, int] = {}
        self._log_lock = threading.RLock()
        self._disabled = False
        self._closed = False
        self._kick: str | None = None  # "all" / "retried": release those at the next tick
        self._force_names: set[str] = set()  # release these at the next tick (Upload now)
        # how many releases a second the cloud's budget allows (core/drives/pacing.py)
        self.pacer = pacer
        # files already pending when this rclone started (its reload of the cache): see
        # _show_uploaded. None until the first look at the queue.
        self._reloaded: set[str] | None = None
        # folders moved in the cloud whose files were released into the moved folder: their
        # parent is listed again once none of their files waits (core/drives/cloud_moves.py)
        # old folder -> the paths it is at now, when found
        self._moved_folders: dict[str, set[str]] = {}
        # moved folders found (cloud_moves.py: _moved_folder)
        self._located: dict[str, tuple[str, str, float]] = {}
        self._located_lock = threading.Lock()
        # folder listings shared by the checks of a release round (cloud_listings.py)
        self._listings = FolderListings()
        # seconds from release to the end of the last uploads (are uploads quick?)
        self._took: deque[float] = deque(maxlen=self.transfers)
        self._ends: list[float] = []  # when the uploads of the last _ENDS_OVER seconds ended

    def settled(self) -> bool:
        """Whether the files pending at this rclone's start are uploaded. The read-ahead
        waits for it (:class:`~.indexing.Indexer`): a listing made before such a file's
        upload ended can leave the mounted file without its uploaded version (see
        :meth:`_show_uploaded`). False until the first look at the queue."""
        with self._lock:
            return self._reloaded is not None and not self._reloaded

    # ---- monitor side ----------------------------------------------------------------

    def tick(self) -> None:
        """Look at the upload queue: hold again what rclone brought forward, hand due items
        to the worker (as many as transfer slots are free). Never blocks for long."""
        if self._disabled or self._closed:
            return
        try:
            if self._meta_root is None:
                self._learn_cache()
            fetched = time.monotonic()  # what the worker did after this, the queue cannot show
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
        raw_items = [r for r in items or [] if isinstance(r, dict)
                     and isinstance(r.get("id"), int)]
        queued = {str(r.get("name", "")) for r in raw_items}
        if self._reloaded is None:  # rclone's reload wrote their metadata before we started;
            # files written since (the user copying a folder in right after mounting) are not
            # reloaded ones: they need neither the read nor the listing after their upload
            self._reloaded = {n for n in queued if self._meta_before_start(n)}
        reloaded = self._reloaded
        self._read_log()
        self._rescan(queued)
        store = self.store
        assert store is not None
        now = time.monotonic()
        due: list[int] = []
        rehold: list[int] = []
        # names this app changes in the cloud (uploading, released, renamed, failed, gone):
        # no folder listing asked for before now answers their checks
        ours: set[str] = set()
        with self._lock:
            kick, self._kick = self._kick, None
            present: set[int] = set()
            busy = 0  # transfer slots taken: uploading, released, being checked
            quick = len(self._took) == self._took.maxlen and max(self._took) < RECHECK_AFTER
            for raw in raw_items:
                held = self._held.get(int(raw["id"]))
                if raw.get("uploading") or (held is not None and (
                        held.checking or held.released_at is not None)):
                    busy += 1
                if raw.get("uploading") and (held is None or held.released_at is None
                                             or now - held.released_at >= RECHECK_AFTER):
                    quick = False  # a long upload runs: a file released now would wait
            # quick uploads: as many again wait released (or two seconds' worth of the
            # uploads that ended lately), started the moment a slot frees
            self._ends = [t for t in self._ends if now - t <= _ENDS_OVER]
            ended = len(self._ends) / max(1.0, now - self._ends[0]) if self._ends else 0.0
            extra = max(self.transfers, math.ceil(2 * ended)) if quick else 0
            free = self.transfers + extra - busy
            paced = self.pacer.allowance() if self.pacer is not None else self.transfers
            # the cloud asks to wait: paced files not started yet are held again (they
            # would meet the spent budget the moment a transfer ends)
            wait = self.pacer is not None and self.pacer.waiting()
            released, held_back = 0, False
            for raw in raw_items:
                ident, name = int(raw["id"]), str(raw.get("name", ""))
                present.add(ident)
                held = self._held.get(ident)
                if held is None:
                    held = self._held[ident] = _Held(name)
                    if not store.has(name) and not self._observe_now(name):
                        store.pin_unknown(name)
                elif held.name != name:  # renamed locally while queued: the base follows
                    ours.update((held.name, name))
                    store.rename(held.name, name)
                    if held.name in reloaded:
                        reloaded.discard(held.name)
                        reloaded.add(name)
                    held.name = name
                    held.released_at = None  # released under the old name: checked again
                expiry = float(raw.get("expiry") or 0.0)
                forced = name in self._force_names
                if raw.get("uploading") or held.released_at is not None:
                    ours.add(name)
                if raw.get("uploading") or held.checking:
                    continue
                tries = int(raw.get("tries") or 0)
                if tries != held.tries:  # an upload failed: held again, checked again later
                    ours.add(name)
                    held.tries = tries
                    held.released_at = None
                    held.due_at = now + min(max(self.write_back, 2.0) * 2 ** (tries - 1),
                                            _MAX_BACKOFF)
                if held.released_at is not None:
                    if held.released_at >= fetched:
                        continue  # released after this look at the queue
                    if expiry <= _HELD_ABOVE and now - held.released_at < RECHECK_AFTER \
                            and not (wait and held.paced):
                        continue  # released: rclone starts it as a slot frees
                    # waited too long, the cloud asks to wait (or edited again): re-check
                    if wait and held.paced and self.pacer is not None:
                        self.pacer.returned(1)  # it sent nothing
                    held.released_at = None
                if expiry < self.hold / 2:  # rclone would upload it by itself
                    rehold.append(ident)
                    expiry = self.hold - self.write_back - 1
                if kick == "all" or (kick == "retried" and tries) or forced:
                    held.force = True
                if held.force:
                    ready = True
                elif tries == 0:
                    ready = self.hold - expiry >= self.write_back and now >= held.due_at
                else:
                    ready = now >= held.due_at
                urgent = forced or kick == "all"  # Upload now, Quit: not paced
                if ready and free > 0 and not urgent and paced <= released:
                    held_back = True  # the pacer's rate, not a slot, holds it
                elif ready and free > 0:
                    free -= 1
                    released += 0 if urgent else 1
                    held.checking = True
                    held.paced = not urgent
                    held.force = False
                    self._force_names.discard(name)
                    due.append(ident)
            uploaded: set[str] = set()
            for gone in set(self._held) - present:
                gone_held = self._held.pop(gone)
                name = gone_held.name
                ours.add(name)
                if gone_held.released_at is not None:
                    self._took.append(now - gone_held.released_at)
                    self._ends.append(now)
                if name in reloaded and name not in queued:
                    reloaded.discard(name)
                    uploaded.add(name)
            self._force_names &= queued  # what is not queued has nothing to release
            moved_shown: set[str] = set()  # parents, old and new, to list again
            moved_old = {f for f in self._moved_folders
                         if not any(q.startswith(f + "/") for q in queued)}
            for f in moved_old:
                moved_shown |= {posixpath.dirname(p) for p in {f, *self._moved_folders.pop(f)}}
            if self.pacer is not None:
                self.pacer.released(released, more_waiting=held_back)
            self._listings.set_waiting(
                str(r.get("name", "")) for r in raw_items if not r.get("uploading") and (
                    self._held[int(r["id"])].released_at is None))
        self._listings.changed(ours, time.monotonic())
        for ident in rehold:
            self._set_expiry(ident, self.hold - self.write_back - 1)
        if uploaded:
            self._show_uploaded(uploaded)
        if moved_shown:  # the mount shows the moved folder at its new place at once, and
            # a folder made at the old path since with its own files, not the old ones
            why = "after an upload into a folder moved in the cloud"
            self._show_folders(moved_shown, why=why)
            self._refresh_folders(moved_old, why=why, missing_ok=True)
        try:
            store.save()
        except OSError as exc:
            log.error("%s: writing the upload bases: %s", self.account, exc)
        for ident in due:
            self._start_worker()
            self._work.put(ident)

    def start(self) -> None:
        """Learn where rclone keeps this mount's cache and load the bases now (one local rc
        call), not at the first :meth:`tick`: rclone may die before it (see
        :meth:`rclone_stopped`). A failure is left to the tick."""
        if self._meta_root is not None:
            return
        try:
            self._learn_cache()
        except RcloneError as exc:
            log.info("%s: learning the upload cache: %s", self.account, exc.message)

    def rclone_stopped(self) -> None:
        """This mount's rclone stopped (a crash; call before a new one starts on the cache):
        take in what it logged and wrote to its cache metadata since the last
        :meth:`tick` — the version a file just saved was opened at. The new rclone's reload
        gives each pending file the cloud's *current* version and logs nothing of the one
        before; a save less than a tick before the crash otherwise left the base unknown,
        and the cloud's unchanged version was kept as a spare conflict copy."""
        if self._disabled or self._closed or self.store is None:
            return
        with self._lock:
            queued = {h.name for h in self._held.values()}
        self._read_log()
        self._scan.at = -1e9  # look now, whatever the interval
        self._rescan(queued)
        try:
            self.store.save()
        except OSError as exc:
            log.error("%s: writing the upload bases: %s", self.account, exc)

    def _show_uploaded(self, names: set[str]) -> None:
        """List again the folders of *names*, files pending at this rclone's start that left
        the queue (uploaded). rclone's reload gives such a file a directory entry without
        a cloud object, and its upload never sets one (``vfs/vfscache/cache.go`` reload:
        no store callback); a listing of the folder made before the upload ended (the
        read-ahead after mounting, any ``ls``), kept by the long dir cache, then leaves
        that entry as it was, and the first open reads "remote deleted" and truncates the
        file — the user sees it empty — or, when the listing held the previous version,
        the previous version. A listing after the upload gives the entry the uploaded
        object. One rc call for all folders (and, first, one for the parents of those the
        mount does not list: a folder renamed in the cloud while the file waited, made
        again at its old path by the upload of this rclone, which did not know the new
        name)."""
        self._show_folders({posixpath.dirname(n) for n in names}, why="after their upload")

    def _moved_uploaded(self, name: str, moved_to: str | None = None) -> None:
        with self._lock:
            self._moved_folders.setdefault(posixpath.dirname(name), set()).update(
                [moved_to] if moved_to is not None else [])

    def kick(self, *, only_retried: bool = False) -> None:
        """Check and release held uploads now instead of at their due time: those that failed
        before (*only_retried*: the cloud works again), or all (Upload now, Quit, Unmount).
        Takes effect at the next :meth:`tick`."""
        with self._lock:
            self._kick = "all" if not only_retried or self._kick == "all" else "retried"

    def throttled(self, retry_after: float | None) -> None:
        """The cloud throttled this account's rclone (429/503, *retry_after* seconds): the
        pacer slows releases down."""
        if self.pacer is not None:
            with self._lock:
                self.pacer.throttled(retry_after)

    def release_all(self) -> None:
        """Quit / Unmount / session end: check and release every held file at once."""
        self.kick()

    def release_now(self, name: str) -> None:
        """Check the queued upload of *name* (its path in the drive) against the cloud and
        release it at the next :meth:`tick`, without waiting for its delay or back-off
        ("Upload now", "Retry"). The check still keeps a cloud edit made meanwhile."""
        with self._lock:
            self._force_names.add(name)

    def upload_state(self, item: Mapping[str, Any]) -> tuple[str, float | None]:
        """What the scheduler does with one rc ``vfs/queue`` *item*: ("waiting", seconds until
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
            if held is not None and (held.checking or held.force):
                return "checking", None
            if name in self._force_names:
                return "checking", None
            if expiry <= _HELD_ABOVE:  # released: rclone starts it in a moment
                return ("retrying" if tries else "waiting"), 0.0
            if tries:
                due = held.due_at - now if held is not None and held.tries == tries else (
                    min(max(self.write_back, 2.0) * 2 ** (tries - 1), _MAX_BACKOFF))
                return "retrying", max(0.0, due)
            left = self.write_back - (self.hold - expiry)
            if held is not None:
                left = max(left, held.due_at - now)
            return "waiting", max(0.0, left)

    def close(self) -> None:
        self._closed = True
        self._work.put(None)
        if self.store is not None:
            try:
                self.store.save()
            except OSError as exc:
                log.error("%s: writing the upload bases: %s", self.account, exc)

    @property
    def known_versions(self) -> int:
        """How many files the scheduler keeps a base for."""
        return len(self.store) if self.store is not None else 0

    # ---- worker side -----------------------------------------------------------------

    def _start_worker(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, name=f"uploads-{self.account}",
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
            ok, again = False, False
            try:
                ok = self._check(ident, name)
            except _Again:
                again = True
            except RcloneError as exc:
                log.warning("%s: checking '%s' against the cloud: %s (it stays held)",
                            self.account, name, exc.message)
            except Exception:  # the worker must go on; the upload stays held
                log.exception("%s: checking '%s' failed unexpectedly (it stays held)",
                              self.account, name)
            if self.store is not None:
                try:
                    self.store.save()
                except OSError as exc:
                    log.error("%s: writing the upload bases: %s", self.account, exc)
            # released (rclone uploads it now), or failed (the next check looks afresh)
            if not again:
                self._listings.changed({name}, time.monotonic())
            with self._lock:
                held.checking = False
                if ok:
                    held.released_at = time.monotonic()
                elif again:
                    held.due_at = 0.0
                else:
                    held.due_at = time.monotonic() + min(
                        max(self.write_back, 2.0) * 2 ** max(held.tries, 1), _MAX_BACKOFF)

    def _set_expiry(self, ident: int, expiry: float) -> None:
        try:
            self.client.call("vfs/queue-set-expiry",
                             {"fs": self.fs, "id": ident, "expiry": expiry}, timeout=10)
        except RcCallError as exc:  # uploaded, renamed or removed meanwhile: nothing to do
            log.info("%s: holding upload %d: %s", self.account, ident, exc.error_text)

    def _release(self, ident: int, name: str) -> bool:
        """Let rclone upload queue item *ident* now, if it is still *name* (a file renamed
        while it was checked is checked again under its new name). A rename of *name*
        under way counts too: rclone moves the cloud item first and renames the queued
        upload only after, so the check may have looked at the cloud in between (the file
        not there, or the version moved elsewhere) while the queue still has the old name;
        released then, it went up under the new name over what rclone had moved there."""
        self._read_log()
        with self._log_lock:
            since = self._renaming.get(name)
        if since is not None and time.monotonic() - since < _RENAME_WAIT:
            log.info("%s: '%s' is being renamed: it is checked again", self.account, name)
            raise _Again()
        try:
            items = self.client.call("vfs/queue", {"fs": self.fs}, timeout=10).get("queue")
        except RcloneError as exc:
            log.info("%s: reading the upload queue: %s", self.account, exc.message)
            raise _Again() from None
        for item in items or []:
            if isinstance(item, dict) and item.get("id") == ident:
                if item.get("name") != name:
                    raise _Again()
                break
        else:
            return True  # uploaded, renamed or removed meanwhile: nothing to release
        with self._lock:
            reloaded = self._reloaded is not None and name in self._reloaded
        if reloaded:
            self._attach(name)
        try:
            self.client.call("vfs/queue-set-expiry", {"fs": self.fs, "id": ident, "expiry": 0},
                             timeout=10)
        except RcCallError as exc:  # uploaded or removed meanwhile: nothing to do
            log.info("%s: releasing upload %d: %s", self.account, ident, exc.error_text)
        return True


    def _attach(self, name: str) -> None:
        """Before releasing *name*, pending since this rclone started: read one byte of it
        through the mount. rclone's reload queued its upload with no callback that gives
        the mounted file the uploaded cloud object (``item.go`` reload: ``Close(nil)``); a
        folder listing made before the upload ended then left it without one, and its
        first open after the upload read it as deleted in the cloud — empty — or as the
        version before the edit. Closing a handle that read queues the upload again with
        that callback (``read_write.go`` close → ``Item.Close(file.setObject)``), so the
        file shows the uploaded version the moment the upload ends. The file is local
        (dirty): nothing is downloaded. When that fails, :meth:`_show_uploaded` lists the
        folder again after the upload.

        rclone handles that close after the program's ``close()`` returned (FUSE's release
        is asynchronous), and queues the upload again *with its write-back delay* (the
        hold): released before that, the release was undone — the file waited its upload
        delay again — or the upload ran without the callback (read as empty after it).
        So this waits until rclone's log says the upload was queued again
        (at most :data:`_ATTACH_WAIT` seconds)."""
        if not self.mount_point:
            return
        path = os_path(Path(self.mount_point), name, self.platform)
        self._read_log()
        with self._log_lock:
            before = self._queued_at.get(name, 0)
        try:
            with open(path, "rb") as f:
                f.read(1)
        except OSError as exc:
            log.warning("%s: reading '%s' through the mount before its upload: %s",
                     self.account, name, exc)
            return
        deadline = time.monotonic() + _ATTACH_WAIT
        while True:
            self._read_log()
            with self._log_lock:
                if self._queued_at.get(name, 0) > before:
                    return
            if time.monotonic() > deadline:
                log.warning("%s: rclone did not queue '%s' again after it was read through "
                            "the mount", self.account, name)
                return
            time.sleep(0.05)
