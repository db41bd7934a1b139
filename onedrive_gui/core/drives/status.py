"""Mount states and the records the mount manager keeps per drive and per account's rclone.

One state machine per account name::

    UNMOUNTED -> MOUNTING -> MOUNTED <-> THROTTLED -> UNMOUNTING -> UNMOUNTED
                     \\-> ERROR (with a reason) -> MOUNTING (retry) | UNMOUNTED

The live states (MOUNTED, THROTTLED, OFFLINE, SIGN_IN_NEEDED) are those in which the drive
is mounted and its files readable from the cache.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.rclone import log_signals as sig
from onedrive_gui.core.rclone.log_signals import LogTail, Signal
from onedrive_gui.core.rclone.process import Rcd


class MountState(Enum):
    UNMOUNTED = "unmounted"
    MOUNTING = "mounting"
    MOUNTED = "mounted"
    UNMOUNTING = "unmounting"
    ERROR = "error"
    THROTTLED = "throttled"  # mounted; the cloud asked to slow down
    OFFLINE = "offline"  # mounted; the cloud cannot be reached, rclone keeps retrying
    SIGN_IN_NEEDED = "sign-in needed"  # mounted; Microsoft refuses to renew the sign-in
    # not mounted yet: the cloud could not be reached to mount it; tried again now and then
    WAITING_OFFLINE = "offline, mounts when the cloud is back"


# States in which the drive is mounted (files stay readable from the cache).
_LIVE = (MountState.MOUNTED, MountState.THROTTLED, MountState.OFFLINE,
         MountState.SIGN_IN_NEEDED)
LIVE_STATES = _LIVE

_TRANSITIONS: dict[MountState, frozenset[MountState]] = {
    MountState.UNMOUNTED: frozenset({MountState.MOUNTING}),
    MountState.MOUNTING: frozenset({MountState.MOUNTED, MountState.ERROR,
                                    MountState.WAITING_OFFLINE}),
    MountState.WAITING_OFFLINE: frozenset({MountState.MOUNTED, MountState.ERROR,
                                           MountState.UNMOUNTED}),
    **{
        live: frozenset(
            {*_LIVE, MountState.UNMOUNTING, MountState.ERROR, MountState.MOUNTING} - {live}
        )
        for live in _LIVE
    },
    MountState.UNMOUNTING: frozenset({MountState.UNMOUNTED, MountState.ERROR, *_LIVE}),
    MountState.ERROR: frozenset(
        {MountState.MOUNTING, MountState.UNMOUNTING, MountState.UNMOUNTED}
    ),
}

WAITING_OFFLINE_TEXT = (
    N_("OneDrive cannot be reached (no network, or Microsoft's service is down). The drive is "
       "mounted by itself as soon as the connection is back.")
)
OFFLINE_TEXT = (
    N_("OneDrive cannot be reached (no network, or Microsoft's service is down). Files already "
    "on this computer stay readable; changes are uploaded when the connection is back.")
)
_IDLE_VFS_POLL = 5.0  # seconds between upload-queue checks of a mount where nothing moves
# Seconds between two rc polls of an account's rclone while its drive is idle (mounted,
# nothing pending or moving, its log quiet); a dead rclone is still noticed every tick.
# One rclone per account: this keeps the idle cost of several accounts near that of one.
_IDLE_RC_POLL = 5.0
_CACHE_FULL_EVERY = 60.0  # seconds between two "cache full" notices for one mount


@dataclass(frozen=True)
class MountStatus:
    name: str
    state: MountState
    mount_point: str | None = None
    error: str | None = None
    uploads_in_progress: int = 0
    uploads_queued: int = 0
    transfers: int = 0  # transfers in flight for this mount
    speed: float = 0.0  # bytes/s of those transfers
    errors: int = 0  # files whose upload failed (vfs/stats diskCache erroredFiles)
    retry_after: float | None = None  # seconds the cloud asked to wait (THROTTLED)

    @property
    def pending_uploads(self) -> int:
        return self.uploads_in_progress + self.uploads_queued


class LimitsChange(Enum):
    """What :meth:`MountManager.set_limits` did with an account's new limits."""

    UNCHANGED = "unchanged"
    NEXT_START = "next start"  # not mounted: they apply when it is mounted
    APPLIED = "applied"  # live, on the running rclone (bandwidth)
    RESTART_PENDING = "restart pending"  # its rclone restarts once its uploads are done


@dataclass
class _Mount:
    name: str
    fs: str
    requested: str
    mount_opt: dict[str, Any]
    vfs_opt: dict[str, Any]
    status: MountStatus
    config: dict[str, Any] = field(default_factory=dict)  # the account's limits (rcd flags)
    rc_fs: str = ""  # the Fs name rclone lists for this mount
    throttle_until: float = 0.0
    throttle_bytes: int = 0
    trouble_at: float = 0.0  # when the log last said offline / sign-in needed
    next_probe: float = 0.0
    probing: bool = False
    probe_result: tuple[float, str | None] | None = None  # (started, error text or None)
    cache_full_at: float = -1e9
    vfs_polled: float = -1e9  # when rclone's vfs/stats for this mount was last read
    prefill_max_items: int = 0  # indexing (core/drives/indexing.py): prefill up to this many
    pacing_key: str | None = None  # app registration + tenant: the learned upload rate's key


@dataclass
class _Proc:
    """One account's rclone."""

    name: str
    limits: dict[str, Any]  # what it runs (or is to run) with: rclone's option names
    rcd: Rcd | None = None
    tail: LogTail | None = None
    failed_polls: int = 0
    restart_for: dict[str, Any] | None = None  # new limits, applied once uploads are done
    polled: float = -1e9  # when its rclone was last asked (monotonic)
    log_size: int = -1  # its log file's size then


@dataclass(frozen=True)
class _Poll:
    mounts: dict[str, str]  # normalised mount point -> Fs
    core: dict[str, Any]
    vfs: dict[str, dict[str, Any]]  # Fs -> vfs/stats answer (or {"error": ...})


_STOP = object()


def _norm(mount_point: str) -> str:
    mp = mount_point.rstrip("/\\") or mount_point
    return mp.casefold() if sys.platform == "win32" else mp


def _int(value: Any) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return 0


def _float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return 0.0


def _remote_of(fs: str) -> str:
    """The rclone remote name of an Fs string ("work:" or "work:folder" -> "work")."""
    return fs.split(":", 1)[0]


def _sign_in_signal(error_text: str) -> Signal | None:
    """The SIGN_IN signal in an rc error (a probe's), if Microsoft refused the sign-in."""
    found = sig.classify_error(error_text)
    return found if found is not None and found.kind == sig.SIGN_IN else None


def _sign_in_text(signals: list[Signal]) -> str:
    """What to tell the user when Microsoft refuses to renew the sign-in."""
    from onedrive_gui.core.microsoft.aad_errors import auth_error

    best = next((s for s in signals if s.detail), signals[0])
    err = auth_error(best.error or "invalid_grant", best.detail)
    return _("Sign-in needed: {message} {hint}").format(message=err.message, hint=err.hint)


def _uploads_to(core_stats: dict[str, Any], fs: str) -> list[dict[str, Any]]:
    """core/stats transfers whose destination is *fs* (uploads of that mount)."""
    return [
        t for t in core_stats.get("transferring") or []
        if isinstance(t, dict) and t.get("dstFs") == fs
    ]


def _zero_stats() -> dict[str, Any]:
    return {
        "uploads_in_progress": 0,
        "uploads_queued": 0,
        "transfers": 0,
        "speed": 0.0,
        "errors": 0,
        "retry_after": None,
    }
