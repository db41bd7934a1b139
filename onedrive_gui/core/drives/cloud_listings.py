"""Folder listings shared by the upload checks of one release round (issue 23, "cheap").

The upload scheduler (:mod:`.uploads`) looks at the cloud before it releases a held file
(:mod:`.cloud_checks`). One rc ``operations/stat`` per file cost as much as half of a small
upload's own requests; instead, when several files of a folder wait, one rc
``operations/list`` of that folder (rclone asks OneDrive for pages of 1,000 children, with
sizes, dates and hashes) answers the checks of all of them for :data:`LISTING_REUSE`
seconds. :class:`FolderListings` keeps those listings and says when one may answer:

* only while it is younger than :data:`LISTING_REUSE` (the few seconds the scheduler
  already tolerates between its look at the cloud and the upload's start);
* never for a file this app itself changed in the cloud since the listing was asked for
  (released, uploading, uploaded, renamed, a conflict copy made — :meth:`changed`): the
  listing may show it before or after that change, so it is looked up again;
* a folder is listed only when at least twice as many of its files wait as the listing
  has pages (:meth:`worth_listing`; the page count of its last listing, one at first):
  a lone file, or a few files in a huge folder, are looked up one stat each as before.

Names match as OneDrive matches them: without regard to case. Thread-safe (the monitor's
tick writes what waits and what changed, the scheduler's worker lists and looks up).
"""

from __future__ import annotations

import math
import posixpath
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LISTING_REUSE = 5.0  # seconds one folder listing answers the checks of the files in it
PAGE = 1000  # children a listing page holds (rclone's onedrive list_chunk default)


@dataclass
class _Listing:
    at: float  # monotonic: when the listing was asked for
    files: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # casefolded leaf


class FolderListings:
    """See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listings: dict[str, _Listing] = {}  # folder ("" the root) -> its listing
        self._pages: dict[str, int] = {}  # folder -> pages of its last listing
        self._changed: dict[str, float] = {}  # name -> monotonic time we last changed it
        self._waiting: Counter[str] = Counter()  # folder -> files waiting to be checked

    def set_waiting(self, names: Iterable[str]) -> None:
        """The files now waiting for their check (held, not released): the tick's view."""
        counts = Counter(posixpath.dirname(n) for n in names)
        with self._lock:
            self._waiting = counts

    def changed(self, names: Iterable[str], now: float) -> None:
        """This app changed (or may be changing) *names* in the cloud at *now*: no listing
        asked for before answers for them."""
        with self._lock:
            for name in names:
                self._changed[name.casefold()] = now
            if len(self._changed) > 256:  # marks older than any usable listing are moot
                old = now - LISTING_REUSE
                self._changed = {n: t for n, t in self._changed.items() if t >= old}

    def find(self, name: str, now: float) -> tuple[bool, Mapping[str, Any] | None]:
        """(answered, the cloud's item of *name* or None when not in the cloud) from a
        listing of its folder that may answer (see the module docstring); (False, None)
        when none may."""
        folder, leaf = posixpath.split(name)
        with self._lock:
            listing = self._listings.get(folder)
            if listing is None or now - listing.at >= LISTING_REUSE:
                return False, None
            if self._changed.get(name.casefold(), -math.inf) >= listing.at:
                return False, None
            return True, listing.files.get(leaf.casefold())

    def worth_listing(self, folder: str) -> bool:
        """More of *folder*'s files wait than listing it would cost (see the module
        docstring)."""
        with self._lock:
            return self._waiting[folder] >= 2 * self._pages.get(folder, 1)

    def put(self, folder: str, at: float, entries: Iterable[Mapping[str, Any]]) -> None:
        """rclone's listing of *folder* (its rc ``operations/list`` items, folders
        included: they count for the pages), asked for at *at*; an empty one for a folder
        that does not exist."""
        listing = _Listing(at)
        count = 0
        for item in entries:
            count += 1
            if not item.get("IsDir") and isinstance(item.get("Name"), str):
                listing.files[str(item["Name"]).casefold()] = item
        with self._lock:
            for other in [f for f, lst in self._listings.items()
                          if at - lst.at >= LISTING_REUSE]:
                del self._listings[other]
            self._listings[folder] = listing
            self._pages[folder] = max(1, math.ceil(count / PAGE))
