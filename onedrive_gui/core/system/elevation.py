"""Running as administrator (Windows): drives it mounts are invisible to the user's normal
programs.

Windows keeps the drive letters and mounts of an elevated process apart from those of the
same user's normal (filtered) session, so File Explorer started normally does not see a
drive rclone mounted for an app started with "Run as administrator" (rclone's mount docs,
"Windows caveats"). The app warns at start instead of mounting drives nobody can find.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from onedrive_gui.core.i18n import N_, _

log = logging.getLogger(__name__)

ELEVATED_TITLE = N_("Running as administrator")
ELEVATED_TEXT = (
    N_("Drives mounted now are not visible in File Explorer or in programs you start normally: "
    "Windows keeps an administrator's drives apart. Quit, then start OneDrive GUI normally "
    "(not with “Run as administrator”).")
)


def is_elevated(*, platform: str = sys.platform, shell32: Any = None) -> bool:
    """Whether this process runs with an elevated (administrator) token on Windows.

    ``IsUserAnAdmin`` is true only for an elevated token when UAC is on (an administrator's
    normal, filtered token gives false). Elsewhere: False (root on Linux/macOS sees its own
    FUSE mounts; nothing to warn about).
    """
    if platform != "win32":
        return False
    if shell32 is None:
        import ctypes

        shell32 = ctypes.WinDLL("shell32")  # type: ignore[attr-defined,unused-ignore]
    try:
        return bool(shell32.IsUserAnAdmin())
    except OSError as exc:  # the function missing from a stripped-down Windows
        log.info("cannot tell whether the app runs elevated: %s", exc)
        return False


def elevation_warning(*, platform: str = sys.platform, shell32: Any = None
                      ) -> tuple[str, str] | None:
    """(title, text) to show at start when running elevated, else None."""
    if is_elevated(platform=platform, shell32=shell32):
        return _(ELEVATED_TITLE), _(ELEVATED_TEXT)
    return None
