"""Worker threads for everything that touches the network, the keyring or rclone.

``TaskRunner.run(fn, on_done, on_error)`` runs *fn* on a QThreadPool thread and calls the
callbacks on the GUI thread (the runner is a QObject living there, so its private signal is
delivered queued). Errors reach *on_error* as :class:`AppError`; anything else is logged with
its traceback and reported as an "Unexpected error" AppError — never dropped.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any], None]
ErrorCallback = Callable[[AppError], None]


def as_app_error(exc: BaseException) -> AppError:
    """*exc* as an AppError to show (unexpected ones are logged with their traceback first)."""
    if isinstance(exc, AppError):
        return exc
    log.error("unexpected error in a background task", exc_info=exc)
    return AppError(
        _("Unexpected error"),
        _("Something went wrong inside the app ({type}).").format(type=type(exc).__name__),
        _("Details are in the log (tray menu → View log). Please report it if it happens again."),
    )


class _Job(QRunnable):
    def __init__(self, runner: TaskRunner, job_id: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._runner = runner
        self._id = job_id
        self._fn = fn

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - reported on the GUI thread, not swallowed
            self._emit(None, exc)
        else:
            self._emit(result, None)

    def _emit(self, result: Any, error: BaseException | None) -> None:
        try:
            self._runner._finished.emit(self._id, result, error)
        except RuntimeError:
            # The runner's owner (a closed dialog) is gone: nobody is left to show this.
            if error is not None:
                log.warning("background task finished after its window closed: %r", error)


class TaskRunner(QObject):
    """Runs callables off the GUI thread; reports back on the GUI thread."""

    _finished = Signal(int, object, object)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[DoneCallback | None, ErrorCallback | None]] = {}
        self._finished.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def run(
        self,
        fn: Callable[[], Any],
        on_done: DoneCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> int:
        job_id = next(self._ids)
        was_busy = self.busy
        self._callbacks[job_id] = (on_done, on_error)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(_Job(self, job_id, fn))
        return job_id

    def forget(self, job_id: int) -> None:
        """Drop the callbacks of a job whose result nobody wants any more."""
        if self._callbacks.pop(job_id, None) is not None and not self._callbacks:
            self.busy_changed.emit(False)

    def _deliver(self, job_id: int, result: Any, error: BaseException | None) -> None:
        callbacks = self._callbacks.pop(job_id, None)
        if not self._callbacks and callbacks is not None:
            self.busy_changed.emit(False)
        if callbacks is None:
            if error is not None:
                log.info("a cancelled task ended with: %s", as_app_error(error).title)
            return
        on_done, on_error = callbacks
        if error is None:
            if on_done is not None:
                on_done(result)
            return
        app_error = as_app_error(error)
        if on_error is not None:
            on_error(app_error)
        else:
            from onedrive_gui.ui.messages import show_error

            show_error(None, app_error)
