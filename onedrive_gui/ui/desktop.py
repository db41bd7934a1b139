"""The desktop's own handlers: a folder opened in the file manager (Explorer, Finder...).
Qt's URL classes load where a folder is opened, not at start-up (``benchmarks/startup.py``:
importing QUrl builds five enum classes before the tray shows)."""

from __future__ import annotations

from pathlib import Path


def open_folder(folder: str | Path) -> bool:
    """Show *folder* in the desktop's file manager; False when the desktop refused."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
