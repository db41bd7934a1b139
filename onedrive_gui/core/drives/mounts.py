"""MountManager: the accounts' mounts, each over its account's own ``rclone rcd``; their
state, live stats, limits and recovery.

One rcd per account (see core.engine): the account's limits (request rate and burst,
bandwidth, transfers, checkers) are flags of that rclone, because rclone's limiters are
process-wide. Changing them while mounted (:meth:`MountManager.set_limits`) applies the
bandwidth at once (rc ``core/bwlimit``); anything else restarts the account's rclone as soon
as its uploads are done, and mounts the drive again (the VFS cache stays).

One state machine per account name::

    UNMOUNTED -> MOUNTING -> MOUNTED <-> THROTTLED -> UNMOUNTING -> UNMOUNTED
                     \\-> ERROR (with a reason) -> MOUNTING (retry) | UNMOUNTED

A monitor thread polls each account's rcd once per ``poll_interval`` with a single rc round
(``job/batch`` of ``core/stats`` + ``mount/listmounts`` + ``vfs/stats`` per mount), tails
its log for rclone's pacer message (``Too many requests. Trying again in N seconds.``,
logged by rclone only at DEBUG) and restarts a dead rcd, remounting what was mounted.
Every callback runs on the monitor thread, in the order the changes happened.
"""

from __future__ import annotations

import logging
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from onedrive_gui.core.drives.activity import Activity, read_uploads
from onedrive_gui.core.drives.conflicts import ConflictGuard, ConflictLog, hold_uploads
from onedrive_gui.core.drives.mountpoints import detach_stale_mount, unmount_hint
from onedrive_gui.core.drives.recovery import SessionRecord
from onedrive_gui.core.errors import AppError, MountError, RcloneError
from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.rclone import log_signals as sig
from onedrive_gui.core.rclone.log_signals import LogTail, Signal
from onedrive_gui.core.rclone.process import Rcd, bwlimit_is_live
from onedrive_gui.core.rclone.rc import RcCallError, RcClient

log = logging.getLogger(__name__)

WINFSP_URL = "https://winfsp.dev/rel/"
_DEV_FUSE = Path("/dev/fuse")
_CALL_TIMEOUT = 10.0  # one poll round; the rcd answers in milliseconds when healthy
_FAILED_POLLS_BEFORE_RESTART = 3
# The kernel sends FUSE "release" (close) to rclone asynchronously: a file closed a moment
# ago may not be in rclone's upload queue yet. "No pending upload" counts once it held this
# long.
_SETTLE = 0.5


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


class _Unreachable(MountError):
    """Mounting failed because the cloud cannot be reached (network down)."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(_("OneDrive unreachable"),
                         _("'{name}' cannot be mounted now: OneDrive cannot be reached "
                           "({detail}).").format(name=name, detail=detail),
                         _("It is mounted as soon as the connection is back."))


class PendingUploadsError(MountError):
    """Unmounting now would leave uploads behind (they would resume on the next mount)."""

    def __init__(self, name: str, count: int) -> None:
        self.name = name
        self.count = count
        super().__init__(
            _("Uploads still pending"),
            _(
                "{count} file(s) written to '{name}' are not uploaded yet."
            ).format(count=count, name=name),
            _("Wait until the uploads finish, or unmount anyway: unfinished uploads stay in "
            "the cache and are uploaded the next time you mount this account."),
        )


# ---- FUSE / WinFsp ----------------------------------------------------------------------


def _winfsp_install_dir() -> str | None:
    """WinFsp's InstallDir from the registry (Windows only), None when not installed."""
    if sys.platform != "win32":
        return None
    import winreg

    for key in (r"SOFTWARE\WOW6432Node\WinFsp", r"SOFTWARE\WinFsp"):
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as k:
                value, _kind = winreg.QueryValueEx(k, "InstallDir")
        except OSError:
            continue
        if value:
            return str(value)
    return None


def _winfsp_error() -> MountError:
    return MountError(
        _("WinFsp is not installed"),
        _("Mounting a drive on Windows needs WinFsp, which is not installed on this computer."),
        _("Install WinFsp from {WINFSP_URL}, then mount again.").format(WINFSP_URL=WINFSP_URL),
    )


def check_mount_support(platform: str | None = None) -> None:
    """Raise MountError when the system cannot mount at all (no FUSE / no WinFsp)."""
    platform = platform or sys.platform
    if platform == "win32":
        if _winfsp_install_dir() is None:
            raise _winfsp_error()
        return
    if platform.startswith("linux"):
        missing = []
        if not _DEV_FUSE.exists():
            missing.append(_("{DEV_FUSE} does not exist").format(DEV_FUSE=_DEV_FUSE))
        if shutil.which("fusermount3") is None:
            missing.append(_("the program fusermount3 is not installed"))
        if missing:
            raise MountError(
                _("FUSE is not available"),
                _("Drives cannot be mounted: {join}.").format(join=' and '.join(missing)),
                _("Install FUSE 3 (e.g. 'sudo apt install fuse3' or 'sudo dnf install fuse3') "
                "and load the fuse kernel module ('sudo modprobe fuse'); in a container, "
                "pass /dev/fuse to it."),
            )


def _strip_prefix(text: str) -> str:
    for prefix in ("failed to mount FUSE fs: ", "mount failed: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


def mount_error(name: str, mount_point: str, exc: RcCallError) -> MountError:
    """rclone's mount/mount error as a MountError saying what to do."""
    text = exc.error_text
    low = text.lower()
    if "winfsp" in low:
        return _winfsp_error()
    if "is not empty" in low:
        return MountError(
            _("Mount folder not empty"),
            _(
                "'{name}' cannot be mounted on {mount_point}: the folder is not empty."
            ).format(name=name, mount_point=mount_point),
            _("Choose an empty folder as mount point, or move the files out of it."),
        )
    if "already mounted" in low:
        return MountError(
            _("Mount folder in use"),
            _(
                "'{name}' cannot be mounted on {mount_point}: something is already mounted "
                "there."
            ).format(name=name, mount_point=mount_point),
            unmount_hint(mount_point),  # no fusermount3 hint on Windows
        )
    if "overlap" in low:
        return MountError(
            _("Mount folder inside the drive"),
            _(
                "'{name}' cannot be mounted on {mount_point}: the folder is inside the drive "
                "being mounted."
            ).format(name=name, mount_point=mount_point),
            _("Choose a mount point outside the drive."),
        )
    if "no such file or directory" in low or "cannot find the path" in low:
        return MountError(
            _("Mount folder missing"),
            _(
                "'{name}' cannot be mounted on {mount_point}: the folder (or its parent) does "
                "not exist."
            ).format(name=name, mount_point=mount_point),
            _("Create the folder, or choose another mount point."),
        )
    if "didn't find section in config file" in low:
        return MountError(
            _("Account not set up in rclone"),
            _(
                "'{name}' cannot be mounted: rclone's configuration has no remote for it."
            ).format(name=name),
            _("Remove the account and add it again."),
        )
    return MountError(
        _("Mount failed"),
        _(
            "rclone could not mount '{name}' on {mount_point}: {strip_prefix}"
        ).format(name=name, mount_point=mount_point, strip_prefix=_strip_prefix(text)),
        _("See the rclone log for details, then try again."),
    )




# ---- the manager ---------------------------------------------------------------------------


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


class MountManager:
    """Mounts, each over its account's lazily started rcd; see the module docstring.

    *rcd_factory(name, limits)* gives account *name*'s rcd (not necessarily started) run
    with *limits* (rclone's option names: TPSLimit, TPSLimitBurst, Transfers, Checkers,
    BwLimit), e.g. ``RcloneEngine.rcd``.
    """

    def __init__(
        self,
        rcd_factory: Callable[[str, dict[str, Any]], Rcd],
        *,
        on_change: Callable[[MountStatus], None] | None = None,
        on_event: Callable[[str, str], None] | None = None,
        poll_interval: float = 1.0,
        probe_interval: float = 10.0,
        sign_in_probe_interval: float = 300.0,
        session: SessionRecord | None = None,
    ) -> None:
        self._factory = rcd_factory
        self._on_change = on_change
        self._on_event = on_event
        self.poll_interval = poll_interval
        # While a mount is offline or needs a new sign-in: how often to ask the cloud
        # (through rclone) whether it works again.
        self.probe_interval = probe_interval
        # While Microsoft refuses the sign-in, each probe is a refused token request: ask
        # rarely (a re-authorization in this app rechecks at once, see recheck()); this
        # still notices one made elsewhere, e.g. `onedrive-gui reauth` in a terminal.
        self.sign_in_probe_interval = sign_in_probe_interval
        # What is mounted, on disk, so that the next start can clean up after a crash.
        self._session = session
        self._lock = threading.RLock()  # state
        self._op_lock = threading.RLock()  # rc operations: mount, unmount, poll, recovery
        self._mounts: dict[str, _Mount] = {}
        self._procs: dict[str, _Proc] = {}
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._closed = False
        self._use_batch = True
        # conflicts (issue 15): one upload guard per mount; the conflicts of this run
        self.conflicts = ConflictLog()
        self._guards: dict[str, ConflictGuard] = {}

    # ---- public API --------------------------------------------------------------------

    @property
    def rcd(self) -> Rcd | None:
        """The rcd of the first account that has one (None before the first mount or
        after shutdown); see :meth:`rcd_of`."""
        with self._lock:
            return next((p.rcd for p in self._procs.values() if p.rcd is not None), None)

    def rcd_of(self, name: str) -> Rcd | None:
        """Account *name*'s rcd (None when it has none)."""
        with self._lock:
            proc = self._procs.get(name)
            return proc.rcd if proc is not None else None

    def status(self, name: str) -> MountStatus:
        with self._lock:
            m = self._mounts.get(name)
            return m.status if m is not None else MountStatus(name, MountState.UNMOUNTED)

    def statuses(self) -> dict[str, MountStatus]:
        with self._lock:
            return {name: m.status for name, m in self._mounts.items()}

    def mount(
        self,
        name: str,
        fs: str,
        mount_point: str,
        mount_opt: dict[str, Any],
        vfs_opt: dict[str, Any],
        config: dict[str, Any] | None = None,
    ) -> MountStatus:
        """Mount *fs* on *mount_point* as *name*; blocks until mounted (call from a worker).

        *config*: the account's limits (rclone's names: TPSLimit, TPSLimitBurst,
        Transfers, Checkers, BwLimit), flags of the account's own rclone; when its running
        rclone has other ones (and nothing mounted), it is restarted with these.
        """
        with self._lock:
            if self._closing:
                raise MountError(
                    _("Shutting down"),
                    _(
                        "'{name}' cannot be mounted: the app is stopping its mounts."
                    ).format(name=name),
                    _("Start the app again to mount it."),
                )
            m = self._mounts.get(name)
            if m is not None and m.status.state not in (MountState.UNMOUNTED, MountState.ERROR):
                raise self._busy_error(m.status, wanted="mount")
            m = _Mount(
                name,
                fs,
                mount_point,
                dict(mount_opt),
                dict(vfs_opt),
                MountStatus(name, MountState.UNMOUNTED, mount_point),
                dict(config or {}),
            )
            self._mounts[name] = m
            self._set(m, MountState.MOUNTING, mount_point=mount_point, error=None)
        self._ensure_monitor()
        with self._op_lock:
            try:
                check_mount_support()
                client = self._ensure_rcd(m.name, m.config)
                self._mount_one(client, m)
            except _Unreachable:
                with self._lock:  # no error: it is mounted once the cloud answers
                    m.next_probe = time.monotonic() + self.probe_interval
                    self._set(m, MountState.WAITING_OFFLINE, error=_(WAITING_OFFLINE_TEXT))
            except AppError as exc:
                with self._lock:
                    self._set(m, MountState.ERROR, error=exc.message)
                raise
            except Exception as exc:
                log.exception("mounting %s failed unexpectedly", name)
                with self._lock:
                    self._set(m, MountState.ERROR, error=_(
                        "Mounting failed unexpectedly: {exc}"
                    ).format(exc=exc))
                raise
            return self.status(name)

    def unmount(self, name: str, *, force: bool = False) -> None:
        """Unmount *name*; PendingUploadsError while uploads are pending unless *force*."""
        with self._op_lock:
            with self._lock:
                m = self._mounts.get(name)
                st = m.status if m is not None else MountStatus(name, MountState.UNMOUNTED)
                if m is None or st.state not in (*_LIVE, MountState.ERROR,
                                                 MountState.WAITING_OFFLINE):
                    raise self._busy_error(st, wanted="unmount")
                if st.state is MountState.WAITING_OFFLINE:  # stop waiting to mount it
                    self._set(m, MountState.UNMOUNTED, error=None, **_zero_stats())
                    return
            client = self._client_or_none(name)
            mounted = client is not None and self._listed(client, m)
            if st.state is MountState.ERROR and not mounted:
                if m.status.mount_point:
                    detach_stale_mount(m.status.mount_point)
                with self._lock:
                    self._set(m, MountState.UNMOUNTED, error=None, **_zero_stats())
                return
            if not force and client is not None:
                count = self._pending(client, m)
                if count == 0:
                    time.sleep(_SETTLE)  # a file closed just now may not be queued yet
                    count = self._pending(client, m)
                if count:
                    raise PendingUploadsError(name, count)
            previous = st.state
            with self._lock:
                self._set(m, MountState.UNMOUNTING)
            mp = m.status.mount_point or m.requested
            try:
                if client is None:
                    raise RcloneError(
                        _("rclone is not running"),
                        _("The app's rclone is not running."),
                        _("Try again in a moment."),
                    )
                client.unmount(mp, timeout=60)
            except RcCallError as exc:
                if "mount not found" not in exc.error_text.lower():
                    with self._lock:
                        self._set(m, previous)
                    raise MountError(
                        _("Unmount failed"),
                        _(
                            "'{name}' could not be unmounted from {mp}: {error_text}"
                        ).format(name=name, mp=mp, error_text=exc.error_text),
                        _("Close the files and folders opened from the drive (terminals, "
                        "file managers), then try again."),
                    ) from None
                detach_stale_mount(mp)
            except AppError:
                with self._lock:
                    self._set(m, previous)
                raise
            with self._lock:
                self._set(m, MountState.UNMOUNTED, error=None, **_zero_stats())
            old = self._guards.pop(name, None)  # conflicts (issue 15)
            if old is not None:
                old.close()

    def recheck(self, name: str | None = None) -> None:
        """Ask the cloud now (not at the next probe) whether *name* (or every mount) that is
        offline or waiting for a new sign-in works again — e.g. right after re-authorizing."""
        with self._lock:
            for m in self._mounts.values():
                if name is None or m.name == name:
                    m.next_probe = 0.0

    def upload_now(self, name: str, path: str | None = None) -> None:
        """Start the uploads waiting in *name*'s cache now (*path*: that file only, its path
        inside the drive), e.g. those left by a crash or held by a long upload delay. Each
        is checked against the cloud first (conflicts), at the monitor's next look."""
        with self._lock:
            m = self._mounts.get(name)
            guard = self._guards.get(name)
        client = self._client_or_none(name)
        if m is None or client is None or m.status.state not in _LIVE:
            return
        if path is None:
            self._kick_uploads(client, m, only_retried=False)
        elif guard is not None:
            guard.release_now(path)
        else:  # no guard (no VFS cache): rclone's own queue
            self._release_unguarded(client, m, path)
        with self._lock:  # the monitor looks at this account at its next tick
            proc = self._procs.get(name)
            if proc is not None:
                proc.polled = -1e9
            m.vfs_polled = -1e9

    def retry(self, name: str, path: str) -> None:
        """Upload *path* of *name* again now, after a failed upload (not after rclone's
        back-off); checked against the cloud first, as every upload."""
        self.upload_now(name, path)

    def activity(self, name: str) -> Activity:
        """What *name*'s drive is uploading, read fresh from its rclone (one rc round).
        Blocking: call from a worker. Empty when it is not mounted."""
        with self._lock:
            m = self._mounts.get(name)
            guard = self._guards.get(name)
            live = m is not None and m.status.state in _LIVE
        client = self._client_or_none(name) if live else None
        if m is None or client is None:
            return Activity(name)
        fs = m.rc_fs or m.fs
        try:
            data = client.call("job/batch", {"inputs": [
                {"_path": "vfs/queue", "fs": fs}, {"_path": "core/stats"}]},
                timeout=_CALL_TIMEOUT)
            results = data.get("results") or [{}, {}]
            queue_, core = results[0], results[1]
        except RcCallError as exc:
            if exc.status != 404:
                raise
            queue_ = client.call("vfs/queue", {"fs": fs}, timeout=_CALL_TIMEOUT)
            core = client.call("core/stats", timeout=_CALL_TIMEOUT)
        items = queue_.get("queue") if isinstance(queue_, dict) else None
        return Activity(name, tuple(read_uploads(
            name, items if isinstance(items, list) else [],
            core if isinstance(core, dict) else {}, fs, guard,
            m.status.mount_point or m.requested)))

    def _release_unguarded(self, client: RcClient, m: _Mount, path: str) -> None:
        fs = m.rc_fs or m.fs
        try:
            for item in client.call("vfs/queue", {"fs": fs}, timeout=10).get("queue") or []:
                if isinstance(item, dict) and item.get("name") == path and not item.get(
                        "uploading"):
                    client.call("vfs/queue-set-expiry",
                                {"fs": fs, "id": item.get("id"), "expiry": 0}, timeout=10)
        except RcloneError as exc:
            log.info("uploading %s of %s now: %s", path, m.name, exc.message)

    def set_limits(self, name: str, limits: dict[str, Any]) -> LimitsChange:
        """Account *name*'s new limits (as *config* of :meth:`mount`), applied now.

        The bandwidth alone changes live (rc ``core/bwlimit``). Any other limit is read by
        rclone at start only: the account's rclone is restarted, and its drive mounted
        again, as soon as no upload is pending (the monitor does it; event
        ``limits-applied``). Not mounted: they apply at the next mount. Blocking (one rc
        call at most): call from a worker.
        """
        new = dict(limits)
        with self._lock:
            m = self._mounts.get(name)
            proc = self._procs.get(name)
            if m is not None:
                m.config = dict(new)
            active = m is not None and m.status.state in (*_LIVE, MountState.MOUNTING)
            rcd = proc.rcd if proc is not None else None
            if proc is None or rcd is None or not rcd.alive() or not active:
                if proc is not None:
                    proc.limits = dict(new)
                    proc.restart_for = None
                return LimitsChange.NEXT_START
            changed = {k for k in {*new, *rcd.limits} if new.get(k) != rcd.limits.get(k)}
            if not changed:
                proc.restart_for = None
                return LimitsChange.UNCHANGED
            bandwidth = str(new.get("BwLimit") or "off")
            if changed != {"BwLimit"} or not bwlimit_is_live(bandwidth):
                proc.restart_for = dict(new)
                log.info("%s: new limits (%s) apply once its uploads are done",
                         name, ", ".join(sorted(changed)))
                return LimitsChange.RESTART_PENDING
        rcd.set_bwlimit(bandwidth)
        with self._lock:
            proc.limits = dict(new)
            proc.restart_for = None
        log.info("%s: bandwidth limit %s applied", name, bandwidth)
        return LimitsChange.APPLIED

    def wait_for_uploads(
        self,
        name: str,
        timeout: float | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> bool:
        """Poll until *name* has no pending upload (True) or *timeout* passed (False).

        *on_progress* gets the pending count whenever it changes (first call included),
        on the calling thread.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last: int | None = None
        zero_since: float | None = None
        step = max(0.05, min(0.25, self.poll_interval))
        while True:
            with self._lock:
                m = self._mounts.get(name)
                state = m.status.state if m is not None else MountState.UNMOUNTED
            count = 0
            if m is not None and state in (*_LIVE, MountState.UNMOUNTING):
                client = self._client_or_none(name)
                try:
                    count = self._pending(client, m) if client is not None else last or 0
                except RcCallError:
                    raise
                except RcloneError as exc:
                    # The rcd is being restarted by the monitor; its cache keeps the uploads.
                    log.info("waiting for uploads of %s: %s", name, exc.message)
                    count = last or 0
            if count != last:
                last = count
                if on_progress is not None:
                    on_progress(count)
            now = time.monotonic()
            if count == 0 and state is not MountState.MOUNTING:
                if zero_since is None:
                    zero_since = now
                settled = now - zero_since >= _SETTLE
                if settled or (deadline is not None and now >= deadline):
                    return True
            else:
                zero_since = None
            if deadline is not None and now >= deadline:
                return False
            time.sleep(step if deadline is None else max(0.0, min(step, deadline - now)))

    def shutdown(self, upload_timeout: float | None = None) -> None:
        """Wait for uploads, unmount everything, stop the rcd and the monitor. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closing = True
        try:
            for name, st in self.statuses().items():
                if st.state not in (*_LIVE, MountState.ERROR):
                    continue
                try:
                    if st.state in _LIVE and not self.wait_for_uploads(name, upload_timeout):
                        left = self.status(name).pending_uploads
                        self._event(
                            "uploads-abandoned",
                            _(
                                "{left} upload(s) of '{name}' did not finish; they stay in the "
                                "cache and are uploaded the next time you mount it."
                            ).format(left=left, name=name),
                        )
                    self.unmount(name, force=True)
                except AppError as exc:
                    log.error("unmounting %s at shutdown: %s", name, exc)
                    self._event("unmount-failed", exc.user_text())
            with self._op_lock:
                for proc in list(self._procs.values()):
                    rcd, proc.rcd = proc.rcd, None
                    if rcd is None:
                        continue
                    try:
                        rcd.stop()
                    except AppError as exc:
                        log.error("stopping rclone: %s", exc)
                        self._event("rcd-stop-failed", exc.user_text())
        finally:
            with self._lock:
                self._closed = True
                if self._session is not None and not any(
                        m.status.state in _LIVE for m in self._mounts.values()):
                    self._session.remove()
            thread = self._thread
            if thread is not None:
                self._queue.put(_STOP)
                if thread is not threading.current_thread():
                    thread.join(timeout=30)

    # ---- state -------------------------------------------------------------------------

    def _busy_error(self, st: MountStatus, *, wanted: str) -> MountError:
        name, state = st.name, st.state
        if wanted == "mount":
            if state is MountState.MOUNTING:
                return MountError(
                    _("Already mounting"),
                    _("'{name}' is being mounted right now.").format(name=name),
                    _("Wait until it is mounted."),
                )
            if state is MountState.UNMOUNTING:
                return MountError(
                    _("Unmount in progress"), _(
                        "'{name}' is being unmounted right now."
                    ).format(name=name),
                    _("Wait until it is unmounted, then mount it again."),
                )
            return MountError(
                _("Already mounted"),
                _(
                    "'{name}' is already mounted on {mount_point}."
                ).format(name=name, mount_point=st.mount_point),
                _("Unmount it first if you want to mount it elsewhere."),
            )
        if state is MountState.MOUNTING:
            return MountError(
                _("Still mounting"), _("'{name}' is being mounted right now.").format(name=name),
                _("Wait until it is mounted, then unmount it."),
            )
        if state is MountState.UNMOUNTING:
            return MountError(
                _("Already unmounting"),
                _("'{name}' is being unmounted right now.").format(name=name),
                _("Wait a moment."),
            )
        return MountError(_("Not mounted"), _(
            "'{name}' is not mounted."
        ).format(name=name), _("Nothing to unmount."))

    def _set(self, m: _Mount, state: MountState | None = None, **changes: Any) -> None:
        """Change *m*'s status (call with self._lock held); queue on_change when it changed."""
        old = m.status
        if state is not None and state is not old.state:
            if state not in _TRANSITIONS[old.state]:
                raise MountError(
                    _("Internal error"),
                    _(
                        "'{name}' cannot go from {value} to {value2}."
                    ).format(name=m.name, value=old.state.value, value2=state.value),
                    _("This is a bug in the app; please report it with the app log."),
                )
            changes["state"] = state
        new = replace(old, **changes)
        if new != old:
            m.status = new
            if new.state is not old.state:
                log.info("%s: %s -> %s%s", m.name, old.state.value, new.state.value,
                         f" ({new.error})" if new.error else "")
                self._record()
            self._queue.put(new)

    def _record(self) -> None:
        """Update the crash record (call with self._lock held)."""
        if self._session is None:
            return
        rcds = [p.rcd for p in self._procs.values()
                if p.rcd is not None and p.rcd.pid is not None and p.rcd.alive()]
        # each rclone with its rc address, so a later start can ask a left-over one to quit
        entries = [(r.pid, r.url, r.client.user if r.url is not None else None)
                   for r in rcds if r.pid is not None]
        self._session.write(
            entries[0][0] if entries else None,
            str(rcds[0].binary.path) if rcds else None,
            {m.name: m.status.mount_point or m.requested for m in self._mounts.values()
             if m.status.state in (MountState.MOUNTING, MountState.UNMOUNTING, *_LIVE)},
            rc_url=entries[0][1] if entries else None,
            rc_user=entries[0][2] if entries else None,
            rcds=entries,
        )

    def _event(self, kind: str, text: str) -> None:
        log.info("event %s: %s", kind, text)
        self._queue.put((kind, text))

    # ---- rcd ---------------------------------------------------------------------------

    def _client_or_none(self, name: str) -> RcClient | None:
        rcd = self.rcd_of(name)
        return rcd.client if rcd is not None and rcd.alive() else None

    def _ensure_rcd(self, name: str, limits: dict[str, Any]) -> RcClient:
        """Account *name*'s running rcd, started with *limits* (call with _op_lock held;
        nothing of the account is mounted)."""
        with self._lock:
            proc = self._procs.get(name)
            if proc is None:
                proc = self._procs[name] = _Proc(name, dict(limits))
            proc.restart_for = None
        rcd = proc.rcd
        if rcd is not None and rcd.alive():
            if rcd.limits == dict(limits):
                proc.limits = dict(limits)
                return rcd.client
            log.info("%s: restarting its rclone with the new limits", name)
            self._stop_dead(rcd)
        elif rcd is not None:
            self._stop_dead(rcd)
        proc.rcd = None
        proc.limits = dict(limits)
        return self._start_rcd(proc)

    def _start_rcd(self, proc: _Proc) -> RcClient:
        rcd = self._factory(proc.name, dict(proc.limits))
        proc.rcd = rcd
        proc.failed_polls = 0
        proc.tail = LogTail(rcd.log_file)
        client = rcd.start()
        with self._lock:
            self._record()
        return client

    @staticmethod
    def _stop_dead(rcd: Rcd) -> None:
        try:
            rcd.stop(timeout=5)
        except AppError as exc:
            log.warning("cleaning up the stopped rclone: %s", exc)

    def _mount_one(self, client: RcClient, m: _Mount) -> None:
        detach_stale_mount(m.requested)
        vfs_opt, write_back = hold_uploads(m.vfs_opt)  # conflicts: the guard releases uploads
        try:
            # m.config (the limits) is not passed as the mount's _config: they are flags of
            # the account's rclone, where rclone's process-wide limiters read them.
            used = client.mount(
                m.fs, m.requested, mount_opt=m.mount_opt, vfs_opt=vfs_opt, timeout=120,
            )
        except RcCallError as exc:
            found = sig.classify_error(exc.error_text)
            if found is not None and found.kind == sig.OFFLINE:
                raise _Unreachable(m.name, exc.error_text) from None
            raise mount_error(m.name, m.requested, exc) from None
        m.rc_fs = m.fs
        for info in client.list_mounts():
            if _norm(info.mount_point) == _norm(used):
                m.rc_fs = info.fs
        self._new_guard(client, m, write_back, used)  # conflicts (issue 15)
        with self._lock:
            m.throttle_until = 0.0
            self._set(m, MountState.MOUNTED, mount_point=used, error=None, retry_after=None)

    def _new_guard(self, client: RcClient, m: _Mount, write_back: float, used: str) -> None:
        """conflicts (issue 15): the upload guard of a (re)mounted *m*."""
        old = self._guards.pop(m.name, None)
        if old is not None:
            old.close()
        self._guards[m.name] = ConflictGuard(
            client, m.rc_fs or m.fs, account=m.name, write_back=write_back,
            mount_point=used, conflicts=self.conflicts,
            on_conflict=lambda c: self._event("conflict", c.text()))

    def _listed(self, client: RcClient, m: _Mount) -> bool:
        mp = m.status.mount_point or m.requested
        try:
            return any(_norm(i.mount_point) == _norm(mp) for i in client.list_mounts())
        except RcloneError as exc:
            log.info("listing mounts: %s", exc.message)
            return False

    def _pending(self, client: RcClient, m: _Mount) -> int:
        """Pending uploads of *m*, fresh from rclone (also updates its status)."""
        fs = m.rc_fs or m.fs
        try:
            st = client.vfs_stats(fs)
        except RcCallError as exc:
            if "no vfs found" in exc.error_text.lower():
                return 0
            raise
        # With vfsOpt WriteBack=0 rclone uploads outside its write-back queue: vfs/stats
        # then shows nothing while core/stats lists the transfer to this fs.
        uploading = len(_uploads_to(client.core_stats().raw, fs))
        in_progress = max(st.uploads_in_progress, uploading)
        with self._lock:
            self._set(m, uploads_in_progress=in_progress, uploads_queued=st.uploads_queued)
        return in_progress + st.uploads_queued

    # ---- monitor -----------------------------------------------------------------------

    def _ensure_monitor(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mount-monitor", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        next_tick = time.monotonic() + self.poll_interval
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                self._drain()
                return
            if item is not None:
                self._dispatch(item)
                continue
            try:
                self._tick()
            except Exception as exc:
                log.exception("mount monitor: unexpected error")
                self._event("monitor-error", _(
                    "Checking the mounts failed unexpectedly: {exc}"
                ).format(exc=exc))
            next_tick = time.monotonic() + self.poll_interval

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                self._dispatch(item)

    def _dispatch(self, item: object) -> None:
        try:
            if isinstance(item, MountStatus):
                if self._on_change is not None:
                    self._on_change(item)
            elif isinstance(item, tuple):
                if self._on_event is not None:
                    self._on_event(str(item[0]), str(item[1]))
        except Exception:
            log.exception("a mount status callback failed (the monitor goes on)")

    def _tick(self) -> None:
        if self._closed:
            return
        self._retry_waiting()
        with self._op_lock:
            with self._lock:
                by_account: dict[str, list[_Mount]] = {}
                for m in self._mounts.values():
                    if m.status.state in _LIVE:
                        by_account.setdefault(m.name, []).append(m)
                procs = [(self._procs.get(name), live) for name, live in by_account.items()]
            for proc, live in procs:
                if proc is not None and proc.rcd is not None:
                    self._tick_account(proc, live)

    def _retry_waiting(self) -> None:
        """Mount again, in a thread each, the drives waiting for the cloud (offline start)."""
        now = time.monotonic()
        with self._lock:
            due = [m for m in self._mounts.values()
                   if m.status.state is MountState.WAITING_OFFLINE and not m.probing
                   and now >= m.next_probe and not self._closing]
            for m in due:
                m.probing = True
        for m in due:
            threading.Thread(target=self._retry_mount, args=(m,), name=f"remount-{m.name}",
                             daemon=True).start()

    def _retry_mount(self, m: _Mount) -> None:
        try:
            try:
                client = self._client_or_none(m.name)
                if client is None:
                    with self._op_lock:
                        client = self._ensure_rcd(m.name, m.config)
                # ask the cloud first, outside the rc lock (unreachable, this takes a while)
                client.call("operations/about", {"fs": m.fs}, timeout=60)
            except RcCallError as exc:
                found = sig.classify_error(exc.error_text)
                if found is not None and found.kind == sig.OFFLINE:
                    log.info("%s: the cloud is still unreachable", m.name)
                    return
                # anything else: the mount below tells what it is
            except AppError as exc:
                log.info("%s: checking the cloud before mounting: %s", m.name, exc.message)
                return
            with self._op_lock:
                with self._lock:
                    if m.status.state is not MountState.WAITING_OFFLINE or self._closing:
                        return
                try:
                    client = self._ensure_rcd(m.name, m.config)
                    self._mount_one(client, m)
                except _Unreachable as exc:
                    log.info("%s: the cloud is still unreachable (%s)", m.name, exc.message)
                    return
                except AppError as exc:
                    with self._lock:
                        self._set(m, MountState.ERROR, error=exc.message)
                    self._event("mount-failed", _("'{name}' could not be mounted: {message} "
                                                  "{hint}").format(name=m.name, message=exc.message,
                                                                   hint=exc.hint).strip())
                    return
                except Exception as exc:  # the waiting must end visibly, not silently
                    log.exception("mounting %s failed unexpectedly", m.name)
                    with self._lock:
                        self._set(m, MountState.ERROR,
                                  error=_("Mounting failed unexpectedly: {exc}").format(
                                      exc=exc))
                    return
            log.info("%s: mounted now that the cloud is reachable", m.name)
        finally:
            with self._lock:
                m.probing = False
                m.next_probe = time.monotonic() + self.probe_interval

    def _tick_account(self, proc: _Proc, live: list[_Mount]) -> None:
        """One poll of one account's rclone (call with _op_lock held)."""
        rcd = proc.rcd
        assert rcd is not None
        if not rcd.alive():
            self._recover(proc, live)
            return
        now = time.monotonic()
        try:
            log_size = rcd.log_file.stat().st_size
        except OSError:
            log_size = -1
        if (proc.restart_for is None and log_size == proc.log_size
                and now - proc.polled < _IDLE_RC_POLL
                and not any(self._busy(m) for m in live)):
            return  # idle: ask again in a moment (a quiet log means no news)
        proc.polled, proc.log_size = now, log_size
        try:
            poll = self._poll(rcd.client, [m.rc_fs or m.fs for m in live
                                           if self._wants_vfs_stats(m)])
        except RcCallError as exc:
            log.warning("polling rclone: %s", exc.message)
            return
        except RcloneError as exc:
            proc.failed_polls += 1
            log.warning("polling rclone (%d): %s", proc.failed_polls, exc.message)
            if not rcd.alive() or proc.failed_polls >= _FAILED_POLLS_BEFORE_RESTART:
                self._recover(proc, live)
            return
        proc.failed_polls = 0
        signals = self._read_signals(proc)
        self._apply(live, poll, signals)
        for m in live:  # conflicts (issue 15): check queued uploads, release due ones
            guard = self._guards.get(m.name)
            if guard is not None and m.status.state in _LIVE:
                guard.tick()
        self._start_probes(rcd.client, live)
        if proc.restart_for is not None:
            self._restart_when_idle(proc, live)

    def _poll(self, client: RcClient, fss: Iterable[str]) -> _Poll:
        fs_list = list(dict.fromkeys(fss))
        core: dict[str, Any]
        listing: dict[str, Any]
        vfs: dict[str, dict[str, Any]] = {}
        if self._use_batch:
            inputs: list[dict[str, Any]] = [
                {"_path": "core/stats"},
                {"_path": "mount/listmounts"},
                *({"_path": "vfs/stats", "fs": fs} for fs in fs_list),
            ]
            try:
                data = client.call("job/batch", {"inputs": inputs}, timeout=_CALL_TIMEOUT)
            except RcCallError as exc:
                if exc.status != 404:
                    raise
                log.info("this rclone has no job/batch; polling with separate calls")
                self._use_batch = False
                return self._poll(client, fs_list)
            results = data.get("results") or []
            if len(results) != len(inputs):
                raise RcloneError(
                    _("Unexpected answer from rclone"),
                    _("rclone answered job/batch with a different number of results."),
                    _("See the rclone log for details."),
                )
            core, listing = results[0], results[1]
            for res, path in ((core, "core/stats"), (listing, "mount/listmounts")):
                if not isinstance(res, dict) or res.get("error"):
                    err = res.get("error") if isinstance(res, dict) else _("no answer")
                    raise RcCallError(path, _int(res.get("status", 500)) if isinstance(
                        res, dict) else 500, str(err))
            for fs, res in zip(fs_list, results[2:], strict=True):
                vfs[fs] = res if isinstance(res, dict) else {}
        else:
            core = client.call("core/stats", timeout=_CALL_TIMEOUT)
            listing = client.call("mount/listmounts", timeout=_CALL_TIMEOUT)
            for fs in fs_list:
                try:
                    vfs[fs] = client.call("vfs/stats", {"fs": fs}, timeout=_CALL_TIMEOUT)
                except RcCallError as exc:
                    vfs[fs] = {"error": exc.error_text}
        mounts = {
            _norm(str(mi.get("MountPoint", ""))): str(mi.get("Fs", ""))
            for mi in listing.get("mountPoints") or []
            if isinstance(mi, dict)
        }
        return _Poll(mounts, core, vfs)

    @staticmethod
    def _busy(m: _Mount) -> bool:
        st = m.status
        return bool(st.pending_uploads or st.transfers or st.errors
                    or st.state is not MountState.MOUNTED)

    def _wants_vfs_stats(self, m: _Mount) -> bool:
        """Ask rclone for *m*'s upload queue this tick? Every tick while anything moves,
        else every _IDLE_VFS_POLL seconds (it is the most expensive part of a tick)."""
        return self._busy(m) or time.monotonic() - m.vfs_polled >= _IDLE_VFS_POLL

    def _read_signals(self, proc: _Proc) -> list[Signal]:
        tail = proc.tail
        if tail is None:
            return []
        try:
            lines = tail.read_lines()
        except OSError as exc:
            log.warning("reading the rclone log: %s", exc)
            return []
        # A failed cache write counts as "cache full" by the disk's free space, not by
        # rclone's (translated) error text.
        return sig.classify_lines(lines)

    def _apply(self, live: list[_Mount], poll: _Poll, signals: list[Signal]) -> None:
        now = time.monotonic()
        core_bytes = _int(poll.core.get("bytes"))
        transferring = [t for t in poll.core.get("transferring") or [] if isinstance(t, dict)]
        throttles = [s.seconds for s in signals if s.kind == sig.THROTTLED and s.seconds]
        offline = any(s.kind == sig.OFFLINE for s in signals)
        with self._lock:
            for m in live:
                if m.status.state not in _LIVE:  # changed meanwhile (unmount)
                    continue
                mp = _norm(m.status.mount_point or m.requested)
                if mp not in poll.mounts:
                    self._set(
                        m, MountState.ERROR,
                        error=_("The drive was unmounted outside the app. Mount it again."),
                        **_zero_stats(),
                    )
                    continue
                m.rc_fs = poll.mounts[mp] or m.rc_fs
                mine = [t for t in transferring if m.rc_fs in (t.get("dstFs"), t.get("srcFs"))]
                uploading = len(_uploads_to(poll.core, m.rc_fs))
                stats: dict[str, Any] = {"transfers": len(mine),
                                         "speed": sum(_float(t.get("speed")) for t in mine)}
                if m.rc_fs in poll.vfs:
                    m.vfs_polled = now
                    disk = poll.vfs[m.rc_fs].get("diskCache") or {}
                    stats["uploads_in_progress"] = max(_int(disk.get("uploadsInProgress")),
                                                       uploading)
                    stats["uploads_queued"] = _int(disk.get("uploadsQueued"))
                    stats["errors"] = _int(disk.get("erroredFiles"))
                else:  # idle, not asked this tick: the queue was empty at the last look
                    stats["uploads_in_progress"] = uploading
                remote = _remote_of(m.fs)
                mine_signals = [s for s in signals if s.remote in (None, remote)]
                self._note_cache_full(m, [s for s in mine_signals if s.kind == sig.CACHE_FULL],
                                      now)
                sign_in = [s for s in mine_signals if s.kind == sig.SIGN_IN]
                probe, m.probe_result = m.probe_result, None
                refused = _sign_in_signal(probe[1]) if probe is not None and probe[1] else None
                if refused is not None:
                    sign_in.append(refused)
                if sign_in:
                    m.trouble_at = now
                    if m.status.state is not MountState.SIGN_IN_NEEDED:
                        m.next_probe = now + self.sign_in_probe_interval
                    self._set(m, MountState.SIGN_IN_NEEDED, error=_sign_in_text(sign_in),
                              retry_after=None, **stats)
                    continue
                recovered = probe is not None and probe[1] is None and probe[0] >= m.trouble_at
                if m.status.state is MountState.SIGN_IN_NEEDED and not recovered:
                    self._set(m, **stats)
                    continue
                if offline:  # new failures since the last look outweigh an older probe
                    m.trouble_at = now
                    if m.status.state is not MountState.OFFLINE:
                        m.next_probe = now + self.probe_interval
                    self._set(m, MountState.OFFLINE, error=_(OFFLINE_TEXT), retry_after=None,
                              **stats)
                    continue
                if m.status.state is MountState.OFFLINE and not recovered:
                    self._set(m, **stats)
                    continue
                if recovered:
                    self._set(m, MountState.MOUNTED, error=None, retry_after=None, **stats)
                    continue
                if throttles:
                    wait = throttles[-1]
                    m.throttle_until = now + wait
                    m.throttle_bytes = core_bytes
                    self._set(m, MountState.THROTTLED, retry_after=wait, **stats)
                    continue
                if m.status.state is MountState.THROTTLED:
                    progressed = core_bytes > m.throttle_bytes or not mine
                    if now >= m.throttle_until and progressed:
                        self._set(m, MountState.MOUNTED, retry_after=None, **stats)
                        continue
                self._set(m, **stats)

    def _note_cache_full(self, m: _Mount, full: list[Signal], now: float) -> None:
        if not full or now - m.cache_full_at < _CACHE_FULL_EVERY:
            return
        m.cache_full_at = now
        files = sorted({s.detail for s in full if s.detail})
        what = (f"'{files[0]}'" if len(files) == 1 else _(
            "{n_files} files"
        ).format(n_files=len(files))) if files else (
            _("A file"))
        self._event(
            "cache-full",
            _(
                "{what} could not be written to '{name}' completely: the disk holding the "
                "app's cache is full. Files already uploaded are not affected. Free up space "
                "on that disk, then copy the file again."
            ).format(what=what, name=m.name),
        )

    def _kick_uploads(self, client: RcClient, m: _Mount, *, only_retried: bool = True) -> None:
        """The cloud works again: upload what failed now, not after rclone's back-off (which
        grows to minutes)."""
        guard = self._guards.get(m.name)  # conflicts (issue 15): check first, then release
        if guard is not None:
            guard.kick(only_retried=only_retried)
            return
        fs = m.rc_fs or m.fs
        try:
            queue_ = client.call("vfs/queue", {"fs": fs}, timeout=10).get("queue") or []
            for item in queue_:
                if not isinstance(item, dict) or item.get("uploading"):
                    continue
                if not only_retried or item.get("tries"):
                    client.call("vfs/queue-set-expiry",
                                {"fs": fs, "id": item.get("id"), "expiry": -1e9}, timeout=10)
        except RcloneError as exc:  # an old rclone, or the item started meanwhile
            log.info("restarting the uploads of %s now: %s", m.name, exc.message)

    def _start_probes(self, client: RcClient, mounts: list[_Mount]) -> None:
        """While a mount is offline or needs a new sign-in, ask the cloud now and then."""
        now = time.monotonic()
        with self._lock:
            due = [
                m for m in mounts
                if m.status.state in (MountState.OFFLINE, MountState.SIGN_IN_NEEDED)
                and not m.probing and now >= m.next_probe
            ]
            for m in due:
                m.probing = True
        for m in due:
            threading.Thread(
                target=self._probe, args=(client, m), name=f"probe-{m.name}", daemon=True
            ).start()

    def _probe(self, client: RcClient, m: _Mount) -> None:
        started = time.monotonic()
        error: str | None = None
        try:
            client.call("operations/about", {"fs": m.rc_fs or m.fs}, timeout=60)
        except RcCallError as exc:
            error = exc.error_text or exc.message
        except RcloneError as exc:
            error = exc.message
        except Exception as exc:  # the monitor must learn that the probe ended
            log.exception("probing %s failed unexpectedly", m.name)
            error = str(exc)
        log.info("probe of %s: %s", m.name, "the cloud answers" if error is None else error)
        if error is None:
            self._kick_uploads(client, m)
        with self._lock:
            m.probing = False
            m.probe_result = (started, error)
            signed_out = m.status.state is MountState.SIGN_IN_NEEDED or (
                error is not None and _sign_in_signal(error) is not None)
            m.next_probe = time.monotonic() + (
                self.sign_in_probe_interval if signed_out else self.probe_interval)

    def _recover(self, proc: _Proc, live: list[_Mount]) -> None:
        """The rcd died: start a new one and remount what was mounted, same options."""
        dead = proc.rcd
        assert dead is not None
        log.warning("rclone (pid %s) stopped unexpectedly; restarting it", dead.pid)
        self._stop_dead(dead)
        proc.rcd = None
        with self._lock:
            for m in live:
                self._set(m, MountState.MOUNTING, error=None, **_zero_stats())
        try:
            client = self._start_rcd(proc)
        except AppError as exc:
            proc.rcd = None
            with self._lock:
                for m in live:
                    self._set(
                        m, MountState.ERROR,
                        error=_(
                            "rclone stopped and could not be restarted: {message}"
                        ).format(message=exc.message),
                    )
            self._event(
                "rcd-failed",
                _(
                    "rclone stopped unexpectedly and could not be restarted: {message} {hint}"
                ).format(message=exc.message, hint=exc.hint).strip(),
            )
            return
        ok: list[str] = []
        failed: list[str] = []
        for m in live:
            try:
                self._mount_one(client, m)
                ok.append(m.name)
            except AppError as exc:
                failed.append(f"{m.name} ({exc.message})")
                with self._lock:
                    self._set(m, MountState.ERROR, error=exc.message)
        text = _("rclone stopped unexpectedly; it was restarted")
        if ok:
            text += _(" and {join} remounted").format(join=', '.join(ok))
        if failed:
            text += _("; could not remount {join}").format(join=', '.join(failed))
        self._event("rcd-restarted", text)


    def _restart_when_idle(self, proc: _Proc, live: list[_Mount]) -> None:
        """New limits wait for this account: once no upload is pending, restart its rclone
        with them (core/quit unmounts cleanly) and mount its drive again."""
        rcd, new = proc.rcd, proc.restart_for
        if rcd is None or new is None or any(
                m.status.state is MountState.MOUNTING for m in live):
            return
        try:
            if any(self._pending(rcd.client, m) for m in live):
                return
            time.sleep(_SETTLE)  # a file closed just now may not be queued yet
            if any(self._pending(rcd.client, m) for m in live):
                return
        except RcloneError as exc:
            log.info("checking the uploads of %s: %s", proc.name, exc.message)
            return
        log.info("%s: restarting its rclone with the new limits", proc.name)
        with self._lock:
            proc.restart_for = None
            for m in live:
                self._set(m, MountState.MOUNTING, error=None, **_zero_stats())
        try:
            rcd.stop()
        except AppError as exc:
            log.warning("stopping the rclone of %s: %s", proc.name, exc)
        proc.rcd = None
        proc.limits = dict(new)
        try:
            client = self._start_rcd(proc)
            for m in live:
                m.config = dict(new)
                self._mount_one(client, m)
        except AppError as exc:
            with self._lock:
                for m in live:
                    if m.status.state is MountState.MOUNTING:
                        self._set(m, MountState.ERROR, error=exc.message)
            self._event("limits-failed",
                        _(
                            "'{name}' could not be mounted again with its new limits: "
                            "{message} {hint}"
                        ).format(name=proc.name, message=exc.message, hint=exc.hint).strip())
            return
        self._event("limits-applied",
                    _(
                        "The new limits of '{name}' apply now: its rclone was restarted once "
                        "its uploads were done."
                    ).format(name=proc.name))


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
