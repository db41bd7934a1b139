"""A mounted drive's folder listings, filled from the drive's delta in one go.

Why (DESIGN §10 "Listing through delta", issue 20): without it rclone lists a cold drive one
request per folder — 2 resource units each, under an app budget of 1,250 a minute — so
opening a big folder tree is slow and throttled. Every remote of the app has ``delta = true``
(core.rclone.remotes), so a recursive ``vfs/refresh`` reads the whole tree through
``/root/delta``, about 200 items a request, into the mount's directory cache.

After each mount the :class:`Indexer` starts that refresh in the account's rclone as a job
(``_async``; ``recursive`` is the *string* "true"), follows it with ``job/status`` and tells
how far it got ("Indexing N items…": the ``listed`` count of ``core/stats``). The mount is
usable meanwhile: a folder opened before the refresh reached it is listed as usual.

rclone stamps every folder with the refresh's *start*, so the mount's dir cache time must
outlast a refresh; rclone's change polling (one delta request a poll interval) keeps it
fresh. That polling has a bug (docs/rclone-delta-polling-report.md): when one poll's
changes span more than one delta page rclone stores an empty token and sees no later
change. The safety net: a new recursive refresh every :data:`SAFETY_INTERVAL`, after the
computer resumed from sleep, and when rclone's log says "Change notify listener failure".

Huge drives: rclone keeps about 2 KB of memory per listed item
(with the mount's own record of it; 229 MiB per 100,000 items measured). A drive whose last index
counted more items than the account's limit (``MountOptions.prefill_max_items``) is not
prefilled: its folders are listed when opened, as before, and the safety net only makes
rclone forget its listings (``vfs/forget``) so that they are read again. The counts are kept
in a small JSON file (:class:`IndexSizes`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from onedrive_gui.core.atomic import write_atomic
from onedrive_gui.core.drives.limits import DEFAULT_PREFILL_MAX_ITEMS
from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.i18n import _, ngettext
from onedrive_gui.core.rclone.rc import RcClient

__all__ = ["DEFAULT_PREFILL_MAX_ITEMS", "IndexSizes", "IndexStatus", "Indexer"]

log = logging.getLogger(__name__)

# A new recursive refresh this often (rclone's change polling can stop seeing changes).
SAFETY_INTERVAL = 4 * 3600.0
# How often the indexer looks at a running refresh (at first often: a small drive is read in
# a second; then less and less often, up to STEP), and at the clocks otherwise.
FIRST_STEP = 0.05
STEP = 1.0
IDLE_STEP = 30.0
# The wall clock ran this much further than the monotonic one (or than the wait asked
# for): the computer slept (Linux and macOS stop the monotonic clock while asleep; Windows
# does not, which shows as a wait far longer than asked).
RESUME_GAP = 90.0
# The first read-ahead after a mount waits (at most this long) until the files pending at
# rclone's start are uploaded: a listing made before such an upload ended hides it (rclone
# bug, docs/rclone-upstream-reports.md report 3; UploadScheduler.settled).
READY_WAIT = 300.0
_CALL_TIMEOUT = 15.0

# IndexStatus.state
INDEXING = "indexing"
READY = "ready"
SKIPPED = "skipped"  # more items than the limit: listed as folders are opened
FAILED = "failed"


@dataclass(frozen=True)
class IndexStatus:
    """How far a mounted drive's listings are filled (an empty state: not mounted)."""

    account: str
    state: str = ""
    items: int = 0  # INDEXING: listed so far; else: counted by the last index
    limit: int = 0  # the account's prefill limit (items)
    error: str | None = None  # FAILED: rclone's answer

    @property
    def indexing(self) -> bool:
        return self.state == INDEXING

    def text(self) -> str:
        """One line for the tray's account line and the activity window ("" when there is
        nothing to say)."""
        if self.state == INDEXING:
            return ngettext("Indexing {n} item…", "Indexing {n} items…", self.items).format(
                n=f"{self.items:,}")
        if self.state == SKIPPED and self.limit <= 0:
            return _("Not read ahead (Settings → Performance). Folders are listed as you open "
                     "them.")
        if self.state == SKIPPED:
            return _("Not read ahead: the drive has {n} items, more than the limit of {limit} "
                     "(Settings → Performance). Folders are listed as you open them.").format(
                n=f"{self.items:,}", limit=f"{self.limit:,}")
        if self.state == FAILED:
            return _("Indexing failed ({error}); folders are listed as you open them.").format(
                error=self.error or _("no reason given"))
        return ""


class IndexSizes:
    """The number of items each account's drive had at its last index (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("index sizes %s unreadable (%s); counting again", self.path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): int(v) for k, v in data.items()
                if isinstance(v, int) and not isinstance(v, bool)}

    def get(self, name: str) -> int | None:
        with self._lock:
            return self._read().get(name)

    def set(self, name: str, items: int) -> None:
        with self._lock:
            data = self._read()
            if data.get(name) == items:
                return
            data[name] = items
            write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())


@dataclass
class _Entry:
    name: str
    client: RcClient
    fs: str
    limit: int
    status: IndexStatus
    job: int | None = None
    listed_last: int = 0  # core/stats "listed" at the last look
    wanted: bool = True  # a (new) refresh is due
    next_safety: float = 0.0  # monotonic
    ready: Callable[[], bool] | None = None  # the first refresh waits for it (READY_WAIT)
    ready_by: float = 0.0  # monotonic


class Indexer:
    """Prefills mounted drives' listings and keeps them right (see the module docstring).

    One thread for every drive; :meth:`status` tells how far each is (read by
    ``MountManager.activity``). *sizes*: where the drives' item counts are kept (None: for
    this run only).
    """

    def __init__(
        self,
        sizes: IndexSizes | None = None,
        *,
        safety_interval: float = SAFETY_INTERVAL,
    ) -> None:
        self.sizes = sizes
        self.safety_interval = safety_interval
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    # ---- the mount manager's hooks ------------------------------------------------------

    def start(self, name: str, client: RcClient, fs: str, limit: int,
              ready: Callable[[], bool] | None = None) -> None:
        """*name* was (re)mounted as *fs* on *client*'s rclone: fill its listings, unless its
        drive had more than *limit* items at its last index; once *ready()* (the mount's
        upload scheduler: the files pending at rclone's start are uploaded), or after
        READY_WAIT seconds."""
        known = self.sizes.get(name) if self.sizes is not None else None
        with self._lock:
            if self._closed:
                return
            entry = _Entry(name, client, fs, limit, IndexStatus(name, limit=limit))
            entry.ready, entry.ready_by = ready, time.monotonic() + READY_WAIT
            self._entries[name] = entry
            if limit <= 0 or (known is not None and known > limit):
                entry.wanted = False
                entry.next_safety = time.monotonic() + self.safety_interval
                self._set(entry, state=SKIPPED, items=known or 0)
                log.info("%s: %d items at the last index, more than %d: not prefilled",
                         name, known, limit)
            self._ensure_thread()
        self._wake.set()

    def stop(self, name: str) -> None:
        """*name* is unmounted (a running refresh ends with its mount)."""
        with self._lock:
            self._entries.pop(name, None)

    def status(self, name: str) -> IndexStatus:
        with self._lock:
            entry = self._entries.get(name)
            return entry.status if entry is not None else IndexStatus(name)

    def refresh(self, name: str | None = None, *, reason: str) -> None:
        """Safety net: read *name*'s (every drive's) listings again now."""
        with self._lock:
            for entry in self._entries.values():
                if name is None or entry.name == name:
                    log.info("%s: listings read again (%s)", entry.name, reason)
                    entry.wanted = True
        self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._entries.clear()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # ---- the thread ---------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="indexer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        wall, mono = time.time(), time.monotonic()
        wait = 0.0
        busy_step = FIRST_STEP
        while True:
            self._wake.wait(wait)
            self._wake.clear()
            with self._lock:
                if self._closed:
                    return
            now_wall, now_mono = time.time(), time.monotonic()
            slept = (now_wall - wall) - (now_mono - mono) > RESUME_GAP or (
                now_mono - mono > wait + RESUME_GAP)
            wall, mono = now_wall, now_mono
            if slept:
                self.refresh(reason="the computer resumed from sleep")
            try:
                busy = self._step(now_mono)
            except Exception:  # the thread must go on for the other drives
                log.exception("indexer: unexpected error")
                busy = False
            if busy:
                wait, busy_step = busy_step, min(STEP, busy_step * 1.5)
            else:
                wait, busy_step = self._idle_wait(), FIRST_STEP

    def _idle_wait(self) -> float:
        """Until the next safety-net refresh is due (looking at the clocks at least every
        IDLE_STEP)."""
        with self._lock:
            due = [e.next_safety for e in self._entries.values()]
        until = min(due, default=math.inf) - time.monotonic()
        return max(FIRST_STEP, min(IDLE_STEP, until))

    def _step(self, now: float) -> bool:
        """One look at every drive; whether a refresh runs."""
        with self._lock:
            entries = list(self._entries.values())
        busy = False
        for entry in entries:
            waiting = False
            if entry.job is None and not entry.wanted and now >= entry.next_safety:
                entry.wanted = True
                log.info("%s: listings read again (every %.0f h)", entry.name,
                         self.safety_interval / 3600)
            try:
                if entry.job is not None:
                    self._follow(entry)
                elif entry.wanted and entry.ready is not None and now < entry.ready_by \
                        and not entry.ready():
                    waiting = True  # files pending at rclone's start upload first
                elif entry.wanted:
                    entry.ready = None
                    self._begin(entry)
            except RcloneError as exc:
                entry.job = None
                entry.wanted = False
                entry.next_safety = time.monotonic() + self.safety_interval
                log.warning("%s: indexing failed: %s", entry.name, exc.message)
                self._set(entry, state=FAILED, error=exc.message)
            busy = busy or entry.job is not None or waiting
        return busy

    def _listed(self, entry: _Entry) -> int:
        """Items rclone listed since the last look (core/stats sums every stats group; a
        group rclone dropped in between starts again from 0)."""
        listed = int(entry.client.call("core/stats", timeout=_CALL_TIMEOUT).get("listed") or 0)
        grown = listed - entry.listed_last if listed >= entry.listed_last else listed
        entry.listed_last = listed
        return grown

    def _begin(self, entry: _Entry) -> None:
        entry.wanted = False
        if entry.status.state == SKIPPED:  # a huge drive: forget, read again when opened
            entry.client.call("vfs/forget", {"fs": entry.fs}, timeout=_CALL_TIMEOUT)
            entry.next_safety = time.monotonic() + self.safety_interval
            return
        self._listed(entry)
        reply = entry.client.call("vfs/refresh", {
            "fs": entry.fs, "recursive": "true", "_async": True}, timeout=_CALL_TIMEOUT)
        entry.job = int(reply["jobid"])
        self._set(entry, state=INDEXING, items=0, error=None)
        log.info("%s: indexing the drive (rclone job %d)", entry.name, entry.job)

    def _follow(self, entry: _Entry) -> None:
        assert entry.job is not None
        job = entry.client.call("job/status", {"jobid": entry.job}, timeout=_CALL_TIMEOUT)
        items = entry.status.items + self._listed(entry)
        if items > entry.limit and self.sizes is not None:  # next mount: not prefilled
            self.sizes.set(entry.name, items)
        if not job.get("finished"):
            self._set(entry, items=items)
            return
        entry.job = None
        entry.next_safety = time.monotonic() + self.safety_interval
        error = _refresh_error(job)
        if error is not None:
            log.warning("%s: indexing failed: %s", entry.name, error)
            self._set(entry, state=FAILED, items=items, error=error)
            return
        log.info("%s: indexed %d items in %.1f s", entry.name, items,
                 float(job.get("duration") or 0.0))
        if self.sizes is not None:
            self.sizes.set(entry.name, items)
        self._set(entry, state=READY, items=items, error=None)

    def _set(self, entry: _Entry, **changes: Any) -> None:
        with self._lock:
            entry.status = replace(entry.status, **changes)


def _refresh_error(job: dict[str, Any]) -> str | None:
    """rclone's reason when a finished vfs/refresh job failed, else None (vfs/refresh puts
    a folder's error into its output, not into the job's)."""
    if not job.get("success"):
        return str(job.get("error") or _("no reason given"))
    output = job.get("output")
    result = output.get("result") if isinstance(output, dict) else None
    if isinstance(result, dict):
        bad = [str(v) for v in result.values() if v != "OK"]
        if bad:
            return "; ".join(bad)
    return None
