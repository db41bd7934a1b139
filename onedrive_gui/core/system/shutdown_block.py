"""Windows: tell the system why it should wait before ending the session (uploads pending).

Windows (since Vista) ends an app without a visible window at once when the session ends,
unless the app has *proactively* registered a reason with ``ShutdownBlockReasonCreate``; then
it is treated like an app with a window: it may refuse ``WM_QUERYENDSESSION`` and its reason
is shown in the "apps are preventing shutdown" screen, where the user can still shut down
anyway. The reason must be set from the thread that created the (top-level) window whose
handle is passed — the GUI thread (Microsoft's docs for ShutdownBlockReasonCreate and
"Shutdown Changes for Windows Vista").

So while uploads are pending the app keeps "Uploading N files to OneDrive" registered, and
removes it once nothing is pending. Elsewhere this does nothing.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from onedrive_gui.core.i18n import ngettext

log = logging.getLogger(__name__)


def block_reason(pending: int) -> str:
    """The text Windows shows in its shutdown screen (kept short, as Microsoft asks)."""
    return ngettext("Uploading {pending} file to OneDrive", "Uploading {pending} files to OneDrive",
                    pending).format(pending=pending)


def _load_user32() -> Any:
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    user32.ShutdownBlockReasonCreate.argtypes = [wintypes.HWND, wintypes.LPCWSTR]
    user32.ShutdownBlockReasonCreate.restype = wintypes.BOOL
    user32.ShutdownBlockReasonDestroy.argtypes = [wintypes.HWND]
    user32.ShutdownBlockReasonDestroy.restype = wintypes.BOOL
    return user32


def _last_error() -> int:
    """GetLastError of the last call through a ``use_last_error`` library (Windows only)."""
    import ctypes

    get = getattr(ctypes, "get_last_error", None)
    return int(get()) if get is not None else 0


class ShutdownBlock:
    """The registered reason of one top-level window. Call from the window's thread."""

    def __init__(self, *, platform: str | None = None, user32: Any = None) -> None:
        self.platform = platform or sys.platform
        self._user32 = user32
        self.reason: str | None = None  # the reason currently registered
        self._hwnd: int | None = None

    @property
    def supported(self) -> bool:
        return self.platform == "win32"

    def _api(self) -> Any:
        if self._user32 is None:
            self._user32 = _load_user32()
        return self._user32

    def update(self, hwnd: int, pending: int) -> bool:
        """Register "Uploading *pending* files…" for *hwnd* (0 pending: remove it). True when
        a reason is registered afterwards."""
        if not self.supported:
            return False
        if pending <= 0:
            self.clear()
            return False
        reason = block_reason(pending)
        if reason == self.reason and hwnd == self._hwnd:
            return True
        if self._hwnd is not None:
            # Microsoft's docs do not say that a second Create replaces the text: remove the
            # old reason first (no window message can come in between on this thread).
            self.clear()
        if not self._api().ShutdownBlockReasonCreate(hwnd, reason):
            log.warning("ShutdownBlockReasonCreate failed (error %d)", _last_error())
            return False
        self.reason, self._hwnd = reason, hwnd
        return True

    def clear(self) -> None:
        """Let the session end without waiting for this app."""
        if self._hwnd is None:
            return
        hwnd, self._hwnd, self.reason = self._hwnd, None, None
        if not self._api().ShutdownBlockReasonDestroy(hwnd):
            log.warning("ShutdownBlockReasonDestroy failed (error %d)", _last_error())

