"""Conflicts: a file changed both here and in the cloud, and both versions were kept.

The pieces the upload scheduler (core.drives.uploads, which decides when each file goes up
and what it replaced) uses to tell versions apart and to name and report the copy it keeps:
:class:`Version` (size, modification time, hash), rclone's fingerprint and rc stat items as
versions, conflict names (``name (conflict from the cloud, YYYY-MM-DD HH.MM).ext``, or a
short one where that does not fit), :class:`Conflict` (the notification) and
:class:`ConflictLog` (this run's conflicts, for the activity window). Qt-free.
"""

from __future__ import annotations

import logging
import posixpath
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.i18n import _

log = logging.getLogger(__name__)

_BODY_MAX = 255  # Windows' notification limit (NOTIFYICONDATA szInfo)
_GO_TIME_RE = re.compile(
    r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? ([+-]\d{4})(?: \S+)?$")


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


def short_conflict_name(name: str, modified: datetime | None,
                        taken: Callable[[str], bool]) -> str:
    """A conflict name that fits where the usual one does not (OneDrive allows 255
    characters a name, 400 a path): 'notes… (conflict 2026-11-30 14.05).txt', the stem cut
    to 40 characters and the extension to 16."""
    stem, ext = posixpath.splitext(name)
    stem = stem if len(stem) <= 40 else stem[:39] + "…"
    ext = ext if len(ext) <= 16 else ""
    when = (modified or datetime.now(UTC)).astimezone().strftime("%Y-%m-%d %H.%M")
    for n in range(1, 1000):
        candidate = f"{stem} (conflict {when}{'' if n == 1 else f' {n}'}){ext}"
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
