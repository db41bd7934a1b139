"""What one account's drive is uploading: the files waiting and in flight, their progress,
speed and time left, read fresh from that account's rclone (the activity window, the tray's
"uploading 3 files (12 MB left)").

One rc round per read (``job/batch`` of ``vfs/queue`` for each mount + ``core/stats``); the
upload scheduler of the mount (core.drives.uploads) tells what each held file waits for.
Nothing here polls: the caller reads while someone looks (the activity window while it is
open, the tray menu when it opens). Qt-free.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from onedrive_gui.core.drives.indexing import IndexStatus
from onedrive_gui.core.i18n import N_

# What a file in the upload queue is doing (see UploadScheduler.upload_state).
WAITING = "waiting"  # its upload delay runs (the user's write-back)
CHECKING = "checking"  # compared with the cloud's version, then released
UPLOADING = "uploading"
RETRYING = "retrying"  # its last upload failed; tried again after a back-off

STATE_LABELS = {WAITING: N_("waiting"), CHECKING: N_("checking"),
                UPLOADING: N_("uploading"), RETRYING: N_("retrying after an error")}


class _Guard(Protocol):
    def upload_state(self, item: Mapping[str, Any]) -> tuple[str, float | None]: ...


@dataclass(frozen=True)
class Upload:
    """One file waiting to upload or uploading."""

    account: str
    path: str  # inside the drive ("Documents/notes.txt")
    size: int
    state: str  # WAITING / CHECKING / UPLOADING / RETRYING
    due_in: float | None = None  # seconds until it starts (waiting, retrying)
    tries: int = 0  # failed uploads so far
    done: int = 0  # bytes sent
    speed: float = 0.0  # bytes/s
    eta: float | None = None  # seconds left (uploading)
    local_folder: str | None = None  # its folder on this computer (under the mount point)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def left(self) -> int:
        return max(0, self.size - self.done)

    @property
    def progress(self) -> float:
        """0..1 of the file sent."""
        return min(1.0, self.done / self.size) if self.size > 0 else 0.0

    @property
    def failed(self) -> bool:
        return self.tries > 0 and self.state != UPLOADING


@dataclass(frozen=True)
class Activity:
    """An account's uploads (an empty one when it is not mounted), and how far its folder
    listings are filled (core/drives/indexing.py; None when not mounted)."""

    account: str
    uploads: tuple[Upload, ...] = field(default_factory=tuple)
    index: IndexStatus | None = None

    @property
    def files(self) -> int:
        return len(self.uploads)

    @property
    def bytes_left(self) -> int:
        return sum(u.left for u in self.uploads)

    @property
    def speed(self) -> float:
        return sum(u.speed for u in self.uploads)

    @property
    def failed(self) -> int:
        return sum(1 for u in self.uploads if u.failed)


def totals(activities: list[Activity]) -> tuple[int, int, float]:
    """(files, bytes left, bytes/s) over *activities*."""
    return (sum(a.files for a in activities), sum(a.bytes_left for a in activities),
            sum(a.speed for a in activities))


def _num(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return 0.0


def read_uploads(
    account: str,
    queue: list[Any],
    core_stats: Mapping[str, Any],
    fs: str,
    guard: _Guard | None,
    mount_point: str | None,
) -> list[Upload]:
    """The uploads of one mount from rclone's answers: *queue* (rc ``vfs/queue``'s list) and
    *core_stats* (rc ``core/stats``), whose transfers to *fs* give progress and speed."""
    moving: dict[str, Mapping[str, Any]] = {}
    for t in core_stats.get("transferring") or []:
        if isinstance(t, dict) and t.get("dstFs") in (fs, None) and t.get("name"):
            moving[str(t["name"])] = t
    out: list[Upload] = []
    for item in queue:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        path = str(item["name"])
        tries = int(_num(item.get("tries")))
        if guard is not None:
            state, due = guard.upload_state(item)
        elif item.get("uploading"):
            state, due = UPLOADING, None
        else:
            state, due = (RETRYING if tries else WAITING), max(0.0, _num(item.get("expiry")))
        t = moving.pop(path, None)
        if t is not None:
            state, due = UPLOADING, None
        size = int(_num(item.get("size")))
        done = int(_num(t.get("bytes"))) if t is not None else 0
        speed = _num(t.get("speedAvg") or t.get("speed")) if t is not None else 0.0
        eta = t.get("eta") if t is not None else None
        if not isinstance(eta, (int, float)) or isinstance(eta, bool):
            eta = (size - done) / speed if state == UPLOADING and speed > 0 else None
        out.append(Upload(account, path, size, state, due, tries, done, speed,
                          float(eta) if eta is not None else None,
                          _local_folder(mount_point, path)))
    # With a write-back of 0 rclone may upload outside its queue: core/stats still shows it.
    for path, t in moving.items():
        if t.get("dstFs") != fs:
            continue
        size = int(_num(t.get("size")))
        done = int(_num(t.get("bytes")))
        speed = _num(t.get("speedAvg") or t.get("speed"))
        eta = t.get("eta")
        out.append(Upload(account, path, size, UPLOADING, None, 0, done, speed,
                          float(eta) if isinstance(eta, (int, float)) else None,
                          _local_folder(mount_point, path)))
    order = {UPLOADING: 0, CHECKING: 1, RETRYING: 2, WAITING: 3}
    out.sort(key=lambda u: (order.get(u.state, 4), u.due_in or 0.0, u.path))
    return out


def _local_folder(mount_point: str | None, path: str) -> str | None:
    if not mount_point:
        return None
    import os

    folder = posixpath.dirname(path)
    return os.path.join(mount_point, *[p for p in folder.split("/") if p])
