"""Windows console: closing the console window must not leave rclone holding the drive.

A console program (``onedrive-gui-cli.exe mount``) gets Ctrl-C and Ctrl-Break as signals
(SIGINT, SIGBREAK: Python's ``signal`` module). Closing its console window (the X, or the
terminal tab) instead sends ``CTRL_CLOSE_EVENT`` to a handler registered with
``SetConsoleCtrlHandler``, on a thread of its own; Python has no signal for it and the default
handler ends the process at once — the mount's rclone (a process of its own) would keep the
drive letter, with files not yet uploaded. Windows ends the process as soon as the handler
returns, or after about 5 seconds in any case (Microsoft's docs: "HandlerRoutine callback
function", "SetConsoleCtrlHandler"). So the handler asks the program to stop and holds the
process until the program says it is done (rclone asked over rc to quit, which unmounts), at
most :data:`GRACE` seconds. ``CTRL_LOGOFF_EVENT``/``CTRL_SHUTDOWN_EVENT`` are handled alike.

Ctrl-C and Ctrl-Break are passed on (FALSE): the C runtime's handler turns them into SIGINT
and SIGBREAK. Elsewhere this does nothing: POSIX terminals send SIGHUP, a signal.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CTRL_C_EVENT = 0
CTRL_BREAK_EVENT = 1
CTRL_CLOSE_EVENT = 2
CTRL_LOGOFF_EVENT = 5
CTRL_SHUTDOWN_EVENT = 6
_ENDING = {CTRL_CLOSE_EVENT: "close", CTRL_LOGOFF_EVENT: "logoff",
           CTRL_SHUTDOWN_EVENT: "shutdown"}

GRACE = 4.5  # seconds: Windows allows 5 for CTRL_CLOSE_EVENT, then ends the process anyway


def _load_kernel32() -> Any:
    import ctypes
    from ctypes import wintypes

    k: Any = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    k.SetConsoleCtrlHandler.argtypes = [_handler_type(), wintypes.BOOL]
    k.SetConsoleCtrlHandler.restype = wintypes.BOOL
    return k


@functools.cache
def _handler_type() -> Any:
    """``BOOL WINAPI HandlerRoutine(DWORD)``: stdcall on Windows (WINFUNCTYPE); the C calling
    convention elsewhere, where only a recorded kernel32 calls it."""
    import ctypes

    factory = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)
    return factory(ctypes.c_int, ctypes.c_uint32)


class ConsoleClose:
    """While installed: closing the console (logging off, shutting down) calls
    ``on_close(kind)`` — kind is "close", "logoff" or "shutdown" — from the handler's
    thread, then holds the process until :meth:`done` (at most *grace* seconds)."""

    def __init__(self, on_close: Callable[[str], None], *, platform: str | None = None,
                 kernel32: Any = None, grace: float = GRACE) -> None:
        self.platform = platform or sys.platform
        self._on_close = on_close
        self._kernel32 = kernel32
        self._grace = grace
        self._done = threading.Event()
        self._callback: Any = None  # kept referenced while registered (ctypes frees it)

    def install(self) -> bool:
        """Register the handler (Windows); False elsewhere or when Windows refused it."""
        if self.platform != "win32" or self._callback is not None:
            return False
        if self._kernel32 is None:
            self._kernel32 = _load_kernel32()
        callback = _handler_type()(self._handle)
        if not self._kernel32.SetConsoleCtrlHandler(callback, True):
            log.warning("SetConsoleCtrlHandler failed: closing the console ends this process "
                        "without unmounting")
            return False
        self._callback = callback
        return True

    def uninstall(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            self._kernel32.SetConsoleCtrlHandler(callback, False)

    def done(self) -> None:
        """The program has cleaned up: a held close may end the process now."""
        self._done.set()

    def _handle(self, event: int) -> int:
        kind = _ENDING.get(event)
        if kind is None:
            return 0  # Ctrl-C, Ctrl-Break: the next handler (SIGINT, SIGBREAK)
        log.warning("the console is ending (%s): unmounting before Windows ends this process",
                    kind)
        try:
            self._on_close(kind)
        except Exception:  # a failure here must still hold the process for the clean-up
            log.exception("asking to stop on console %s", kind)
        if not self._done.wait(self._grace):
            log.error("the clean-up did not finish within %.1f s of the console %s", self._grace,
                      kind)
        return 1
