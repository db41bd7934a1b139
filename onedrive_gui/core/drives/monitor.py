"""The mount monitor: one thread that polls each account's rclone, tails its log for
throttling, offline and sign-in signs, probes the cloud, and restarts a dead rclone
(remounting what was mounted) or one whose limits changed (once its uploads are done)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

from onedrive_gui.core.drives.mount_errors import _Unreachable
from onedrive_gui.core.drives.status import (
    _LIVE,
    _STOP,
    OFFLINE_TEXT,
    MountState,
    MountStatus,
    _float,
    _int,
    _Mount,
    _norm,
    _Poll,
    _Proc,
    _remote_of,
    _sign_in_signal,
    _sign_in_text,
    _uploads_to,
    _zero_stats,
)
from onedrive_gui.core.drives.supervisor import _CALL_TIMEOUT, _SETTLE, MountSupervisor
from onedrive_gui.core.errors import AppError, RcloneError
from onedrive_gui.core.i18n import _, names
from onedrive_gui.core.rclone import log_signals as sig
from onedrive_gui.core.rclone.log_signals import Signal
from onedrive_gui.core.rclone.rc import RcCallError, RcClient

log = logging.getLogger(__name__)

_FAILED_POLLS_BEFORE_RESTART = 3
_IDLE_VFS_POLL = 5.0  # seconds between upload-queue checks of a mount where nothing moves
# Seconds between two rc polls of an account's rclone while its drive is idle (mounted,
# nothing pending or moving, its log quiet); a dead rclone is still noticed every tick.
# One rclone per account: this keeps the idle cost of several accounts near that of one.
_IDLE_RC_POLL = 5.0
_CACHE_FULL_EVERY = 60.0  # seconds between two "cache full" notices for one mount



class MountMonitor(MountSupervisor):
    """The monitor thread of :class:`~.mounts.MountManager`."""

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
        if any(s.kind == sig.CHANGE_NOTIFY_FAILED for s in signals):  # indexing: safety net
            for m in live:
                self.indexer.refresh(m.name, reason="rclone's change polling failed")
        for m in live:  # conflicts (issue 15): check queued uploads, release due ones
            guard = self._guards.get(m.name)
            if guard is not None and m.status.state in _LIVE:
                throttled = [s for s in signals if s.kind == sig.THROTTLED
                             and s.remote in (None, _remote_of(m.fs))]
                for s in throttled:  # the pacer slows the releases (core/drives/pacing.py)
                    guard.throttled(s.seconds)
                if throttled:
                    self._remember_rate(m, guard)
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
        for m in live:  # before a new rclone reloads the cache: what the dead one left
            guard = self._guards.get(m.name)
            if guard is not None:
                guard.rclone_stopped()
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
                failed.append(_("{name} ({message})").format(name=m.name, message=exc.message))
                with self._lock:
                    self._set(m, MountState.ERROR, error=exc.message)
        if ok and failed:
            text = _("rclone stopped unexpectedly; it was restarted and {ok} remounted; could "
                     "not remount {failed}").format(ok=names(ok), failed=names(failed))
        elif ok:
            text = _("rclone stopped unexpectedly; it was restarted and {ok} remounted").format(
                ok=names(ok))
        elif failed:
            text = _("rclone stopped unexpectedly; it was restarted; could not remount "
                     "{failed}").format(failed=names(failed))
        else:
            text = _("rclone stopped unexpectedly; it was restarted")
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
