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

The parts: :mod:`.status` (states and records), :mod:`.mount_errors`, :mod:`.supervisor`
(each account's rclone, mounting one drive) and :mod:`.monitor` (the monitor thread); this
module is the public API.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from onedrive_gui.core.drives.activity import Activity, read_uploads
from onedrive_gui.core.drives.indexing import DEFAULT_PREFILL_MAX_ITEMS
from onedrive_gui.core.drives.monitor import MountMonitor
from onedrive_gui.core.drives.mount_errors import (
    WINFSP_URL,
    PendingUploadsError,
    _Unreachable,
    check_mount_support,
    mount_error,
)
from onedrive_gui.core.drives.mountpoints import detach_stale_mount
from onedrive_gui.core.drives.status import (
    _LIVE,
    _STOP,
    LIVE_STATES,
    OFFLINE_TEXT,
    WAITING_OFFLINE_TEXT,
    LimitsChange,
    MountState,
    MountStatus,
    _Mount,
    _sign_in_text,
    _zero_stats,
)
from onedrive_gui.core.drives.supervisor import _CALL_TIMEOUT, _SETTLE
from onedrive_gui.core.errors import AppError, MountError, RcloneError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.rclone.process import bwlimit_is_live
from onedrive_gui.core.rclone.rc import RcCallError, RcClient

__all__ = [
    "LIVE_STATES",
    "OFFLINE_TEXT",
    "WAITING_OFFLINE_TEXT",
    "WINFSP_URL",
    "LimitsChange",
    "MountManager",
    "MountState",
    "MountStatus",
    "PendingUploadsError",
    "_sign_in_text",
    "check_mount_support",
    "mount_error",
]

log = logging.getLogger(__name__)


class MountManager(MountMonitor):
    """Mounts, each over its account's lazily started rcd; see the module docstring.

    *rcd_factory(name, limits)* gives account *name*'s rcd (not necessarily started) run
    with *limits* (rclone's option names: TPSLimit, TPSLimitBurst, Transfers, Checkers,
    BwLimit), e.g. ``RcloneEngine.rcd``.
    """

    # ---- public API --------------------------------------------------------------------

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
        *,
        prefill_max_items: int = DEFAULT_PREFILL_MAX_ITEMS,
        pacing_key: str | None = None,
    ) -> MountStatus:
        """Mount *fs* on *mount_point* as *name*; blocks until mounted (call from a worker).

        *config*: the account's limits (rclone's names: TPSLimit, TPSLimitBurst,
        Transfers, Checkers, BwLimit), flags of the account's own rclone; when its running
        rclone has other ones (and nothing mounted), it is restarted with these.
        Once mounted, its listings are filled from the drive's delta unless the drive had
        more than *prefill_max_items* items at its last index (core/drives/indexing.py).
        *pacing_key* (:func:`~.pacing.pacing_key`: app registration and tenant): its uploads
        start at the rate learned for that key before, and what is learned is stored there.
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
                prefill_max_items=prefill_max_items,
                pacing_key=pacing_key,
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
                self._closed_guard(m, old)

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
            m.status.mount_point or m.requested)), index=self.indexer.status(name))

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
        """Release every held upload (checked against the cloud first), wait for the
        uploads, unmount everything, stop the rcd and the monitor. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closing = True
        try:
            for name, st in self.statuses().items():  # each held file: checked, released now
                if st.state in _LIVE:
                    self.upload_now(name)
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
            self.indexer.close()
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
