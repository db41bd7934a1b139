"""The mount manager's base: per-account rclone processes, the drives' states and the crash
record, mounting one drive on its account's rclone (see :mod:`.mounts` for the whole)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from onedrive_gui.core.drives.cache_repair import cache_roots, repair_pending
from onedrive_gui.core.drives.conflicts import ConflictLog
from onedrive_gui.core.drives.indexing import Indexer, IndexSizes
from onedrive_gui.core.drives.mount_errors import _Unreachable, mount_error
from onedrive_gui.core.drives.mountpoints import detach_stale_mount
from onedrive_gui.core.drives.pacing import Pacer, RateMemory
from onedrive_gui.core.drives.recovery import SessionRecord
from onedrive_gui.core.drives.status import (
    _LIVE,
    _TRANSITIONS,
    MountState,
    MountStatus,
    _Mount,
    _norm,
    _Proc,
    _uploads_to,
)
from onedrive_gui.core.drives.upload_bases import BaseStore
from onedrive_gui.core.drives.uploads import UploadScheduler, hold_uploads
from onedrive_gui.core.errors import AppError, MountError, RcloneError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.rclone import log_signals as sig
from onedrive_gui.core.rclone.log_signals import LogTail
from onedrive_gui.core.rclone.process import Rcd
from onedrive_gui.core.rclone.rc import RcCallError, RcClient

log = logging.getLogger(__name__)

_CALL_TIMEOUT = 10.0  # one poll round; the rcd answers in milliseconds when healthy
# The kernel sends FUSE "release" (close) to rclone asynchronously: a file closed a moment
# ago may not be in rclone's upload queue yet. "No pending upload" counts once it held this
# long.
_SETTLE = 0.5


class MountSupervisor:
    """State, rclone processes and single mounts of :class:`~.mounts.MountManager`."""

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
        index_sizes: IndexSizes | None = None,
        rates: RateMemory | None = None,
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
        # one upload scheduler per mount (core.drives.uploads); the conflicts of this run
        self.conflicts = ConflictLog()
        self._guards: dict[str, UploadScheduler] = {}
        # listings prefilled from the drive's delta after each mount (issue 20)
        self.indexer = Indexer(index_sizes)
        # the upload rate learned per app registration and tenant (core/drives/pacing.py)
        self._rates = rates

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
            if new.state in (MountState.UNMOUNTING, MountState.UNMOUNTED, MountState.ERROR):
                self.indexer.stop(m.name)
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
        self._repair_cache(m)
        vfs_opt, write_back = hold_uploads(m.vfs_opt)  # the scheduler releases each upload
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
        self._new_guard(client, m, write_back, used)
        guard = self._guards.get(m.name)
        self.indexer.start(m.name, client, m.rc_fs, m.prefill_max_items,  # issue 20
                           ready=guard.settled if guard is not None else None)
        with self._lock:
            m.throttle_until = 0.0
            self._set(m, MountState.MOUNTED, mount_point=used, error=None, retry_after=None)

    def _repair_cache(self, m: _Mount) -> None:
        """Before rclone reloads *m*'s cache: the damaged cache metadata of files that wait
        to upload is written again (cache_repair.py), or rclone drops them."""
        rcd = self.rcd_of(m.name)
        roots = cache_roots(rcd.cache_dir, m.fs) if rcd is not None else None
        if roots is None or not roots[0].is_dir():
            return
        pending = BaseStore(UploadScheduler.store_path(roots[0])).pending()
        if pending:
            repair_pending(*roots, pending)

    def _new_guard(self, client: RcClient, m: _Mount, write_back: float, used: str) -> None:
        """The upload scheduler of a (re)mounted *m* (its durable base is on disk)."""
        old = self._guards.pop(m.name, None)
        if old is not None:
            self._closed_guard(m, old)
        transfers = m.config.get("Transfers")
        slots = transfers if isinstance(transfers, int) and transfers > 0 else 4
        tps = m.config.get("TPSLimit")
        # a small upload takes two requests at least (upload session, content): the user's
        # request limit bounds the releases a second; rclone enforces the limit itself
        ceiling = float(tps) / 2 if isinstance(tps, int | float) and tps > 0 else None
        if self._rates is not None and m.pacing_key:
            pacer = self._rates.pacer(m.pacing_key, ceiling=ceiling, burst=slots)
        else:
            pacer = Pacer(ceiling=ceiling, burst=slots)
        with self._lock:
            proc = self._procs.get(m.name)
            rcd = proc.rcd if proc is not None else None
        self._guards[m.name] = UploadScheduler(
            client, m.rc_fs or m.fs, account=m.name, write_back=write_back,
            mount_point=used, conflicts=self.conflicts,
            transfers=slots, pacer=pacer,
            log_file=rcd.log_file if rcd is not None else None,
            on_conflict=lambda c: self._event("conflict", c.text()))
        self._guards[m.name].start()

    def _closed_guard(self, m: _Mount, guard: UploadScheduler) -> None:
        """Close *m*'s upload scheduler *guard*, remembering the upload rate it learned."""
        guard.close()
        self._remember_rate(m, guard)

    def _remember_rate(self, m: _Mount, guard: UploadScheduler) -> None:
        if self._rates is None or not m.pacing_key or guard.pacer is None:
            return
        try:
            self._rates.store(m.pacing_key, guard.pacer)
        except OSError as exc:
            log.error("%s: writing the learned upload rate: %s", m.name, exc)

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
