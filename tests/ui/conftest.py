"""UI tests run offscreen (pytest-qt); the tray tests that need a real tray host use Xvfb."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.ui.fakes import FakeAccountService, FakeAutostart


@pytest.fixture
def fake_ctx(tmp_path: Path):
    from onedrive_gui.core.system.paths import AppPaths
    from onedrive_gui.ui.context import AppContext

    paths = AppPaths(tmp_path / "cfg", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    opened: list[str] = []

    def open_browser(url: str) -> bool:
        opened.append(url)
        return True

    ctx = AppContext(paths=paths, accounts=FakeAccountService(), autostart=FakeAutostart(),
                     open_browser=open_browser)
    ctx.opened = opened  # type: ignore[attr-defined]
    return ctx


@pytest.fixture
def real_ctx(app_home, fakecloud, monkeypatch):
    """The real composition root (core + UI adapters) against the emulated cloud."""
    from onedrive_gui.app import build_context
    from onedrive_gui.core.system.paths import AppPaths

    defaults = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch, browser_action="approve")
    ctx = build_context(AppPaths.default())
    ctx.autostart = FakeAutostart()
    ctx.defaults = defaults
    try:
        yield ctx
    finally:
        ctx.mounts.shutdown_now()
