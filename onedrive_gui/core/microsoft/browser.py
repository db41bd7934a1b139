"""Opening the user's web browser (Python's webbrowser, which honours the BROWSER variable)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def open_browser(url: str) -> bool:
    """Open *url* in the system browser; False when no browser could be started.

    The caller then shows the URL so the user can open it by hand.
    """
    import webbrowser

    try:
        opened = webbrowser.open(url, new=2)
    except webbrowser.Error as exc:
        log.warning("could not open a browser: %s", exc)
        return False
    if not opened:
        log.warning("no browser could be started")
    return bool(opened)
