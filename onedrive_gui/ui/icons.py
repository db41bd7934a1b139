"""The app icon and the tray's state icons (SVG in resources/, PNG sizes for packaging)."""

from __future__ import annotations

import logging
import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

log = logging.getLogger(__name__)

TRAY_STATES = ("idle", "mounted", "uploading", "throttled", "error")


def resources_dir() -> Path:
    """resources/ of a source checkout, or bundled next to a frozen app."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "resources"] if frozen else []
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-1]


def _load(path: Path) -> QIcon:
    if not path.exists():
        log.warning("icon missing: %s", path)
        return QIcon()
    return QIcon(str(path))


@cache
def app_icon() -> QIcon:
    """The SVG scales to every size Qt asks for (the PNGs are for packaging and .desktop)."""
    return _load(resources_dir() / "onedrive-gui.svg")


@cache
def tray_icon(state: str) -> QIcon:
    if state not in TRAY_STATES:
        raise ValueError(f"unknown tray state {state!r}")
    return _load(resources_dir() / "icons" / f"tray-{state}.svg")
