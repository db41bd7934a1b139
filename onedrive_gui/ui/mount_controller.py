"""MountManager on the GUI side: its callbacks marshalled to the GUI thread, its blocking
calls (mount, unmount, wait for uploads, shutdown) run in workers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from onedrive_gui.core.errors import AppError
from onedrive_gui.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class MountController(QObject):
    """Owns the GUI-thread copy of every account's MountStatus."""

    changed = Signal(object)          # MountStatus, on the GUI thread
    mount_event = Signal(str, str)    # (kind, user text), on the GUI thread
    failed = Signal(str, object)      # (account name, AppError)
    busy_changed = Signal(bool)

    # Emitted from the manager's monitor thread; delivered queued to the slots below.
    _status_from_monitor = Signal(object)
    _event_from_monitor = Signal(str, str)

    def __init__(self, accounts: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.manager: Any = None
        self.closed = False
        self.statuses: dict[str, Any] = {}
        self.runner = TaskRunner(self)
        self.runner.busy_changed.connect(self.busy_changed)
        self._status_from_monitor.connect(self._apply_status)
        self._event_from_monitor.connect(self.mount_event)

    # -- callbacks given to MountManager (called on its monitor thread) -------------------------
    def on_change(self, status: Any) -> None:
        self._status_from_monitor.emit(status)

    def on_event(self, kind: str, text: str) -> None:
        self._event_from_monitor.emit(kind, text)

    def _apply_status(self, status: Any) -> None:
        self.statuses[status.name] = status
        self.changed.emit(status)

    # -- queries (GUI thread, no blocking) --------------------------------------------------------
    def status(self, name: str) -> Any | None:
        return self.statuses.get(name)

    def pending_uploads(self, name: str | None = None) -> int:
        items = [self.statuses.get(name)] if name else list(self.statuses.values())
        return sum(int(getattr(s, "pending_uploads", 0) or 0) for s in items if s is not None)

    def is_mounted(self, name: str) -> bool:
        s = self.statuses.get(name)
        return s is not None and s.state.name in (
            "MOUNTED", "MOUNTING", "THROTTLED", "OFFLINE", "SIGN_IN_NEEDED")

    # -- actions (workers) ---------------------------------------------------------------------
    def mount(self, name: str, on_done: Callable[[Any], None] | None = None) -> None:
        accounts, manager = self.accounts, self.manager

        def work() -> Any:
            return accounts.mount(manager, name)

        def done(status: Any) -> None:
            self._apply_status(status)
            if on_done is not None:
                on_done(status)

        self.runner.run(work, done, lambda err: self._failed(name, err))

    def unmount(self, name: str, *, wait_for_uploads: bool = False, force: bool = False,
                on_done: Callable[[Any], None] | None = None) -> None:
        manager = self.manager

        def work() -> None:
            if wait_for_uploads:  # held files: checked and released now, then waited for
                manager.upload_now(name)
                manager.wait_for_uploads(name)
            manager.unmount(name, force=force)

        self.runner.run(work, on_done, lambda err: self._failed(name, err))

    def set_limits(self, name: str, limits: dict[str, Any],
                   on_done: Callable[[Any], None] | None = None) -> None:
        """Apply *name*'s new limits to its running rclone (MountManager.set_limits, in a
        worker); *on_done* gets the LimitsChange (GUI thread)."""
        manager = self.manager
        if manager is None:
            return

        def work() -> Any:
            return manager.set_limits(name, limits)

        self.runner.run(work, on_done, lambda err: self._failed(name, err))

    def recheck(self, name: str) -> None:
        """Ask the cloud at once whether *name* works again (after a new sign-in)."""
        if self.manager is not None:
            self.manager.recheck(name)

    def auto_mount(self) -> None:
        """At start-up: clean up after a crash of the app (mounting again what it had
        mounted, so that its pending uploads complete), then mount the accounts set to
        mount automatically."""
        accounts, manager = self.accounts, self.manager

        def work() -> Any:
            return accounts.recover_after_crash(manager)

        def done(result: Any) -> None:
            remounted: list[str] = []
            if result is not None:
                text, remounted = result
                self.mount_event.emit("recovered", text)
            for account in accounts.settings.accounts:
                if (account.auto_mount and account.name not in remounted
                        and not self.is_mounted(account.name)):
                    self.mount(account.name)

        def failed(err: AppError) -> None:
            self._failed("", err)
            done(None)

        self.runner.run(work, done, failed)

    def shutdown(self, on_done: Callable[[Any], None],
                 upload_timeout: float | None = None) -> None:
        """Unmount everything after the uploads (waiting at most *upload_timeout* s), stop
        rclone; then *on_done* (GUI thread)."""
        manager, accounts = self.manager, self.accounts

        def work() -> None:
            try:
                if manager is not None:
                    manager.shutdown(upload_timeout)
            finally:
                accounts.shutdown()
                self.closed = True

        def failed(err: AppError) -> None:
            self.failed.emit("", err)
            on_done(None)

        self.runner.run(work, on_done, failed)

    def shutdown_now(self) -> None:
        """Blocking shutdown, for when the event loop has already ended."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.manager is not None:
                self.manager.shutdown()
        finally:
            self.accounts.shutdown()

    def _failed(self, name: str, err: AppError) -> None:
        log.info("mount action for %s failed: %s", name, err.title)
        self.failed.emit(name, err)
