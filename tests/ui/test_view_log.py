"""Tray → View log shows the app's own log (written from the first line on) in the log view."""

from __future__ import annotations

import logging
import sys
import threading

from onedrive_gui.app import start_logging
from onedrive_gui.core.system.paths import AppPaths
from onedrive_gui.ui.mount_controller import MountController
from onedrive_gui.ui.shell import DesktopShell


def test_view_log_shows_the_log_the_app_writes(qtbot, fake_ctx, app_home, monkeypatch):
    paths = AppPaths.default()
    fake_ctx.paths = paths
    fake_ctx.mounts = MountController(fake_ctx.accounts)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    start_logging()  # what `onedrive-gui` does before anything else
    logging.getLogger("onedrive_gui.test").info("tray shown")
    assert "tray shown" in paths.app_log.read_text(encoding="utf-8")
    shell = DesktopShell(fake_ctx, tray_available=True)
    shell.surface.menu.view_log_requested.emit()
    win = shell.log_window
    qtbot.waitUntil(lambda: "[app] onedrive_gui.test: tray shown" in win.view.toPlainText())
    win.close()
