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
def cloud_ctx(app_home, fakecloud, monkeypatch):
    """Build the real composition root (core + UI adapters) against the emulated cloud:
    ``cloud_ctx(defaults, browser_user=None)``, *defaults* being what fakecloud.setup_*()
    returned (kept as ``ctx.defaults``); the emulated browser approves the sign-in (as
    *browser_user* when given). Every context built is shut down after the test."""
    from onedrive_gui.app import build_context
    from onedrive_gui.core.system.paths import AppPaths

    made = []

    def make(defaults, *, browser_user=None):  # type: ignore[no-untyped-def]
        fakecloud.apply_env(monkeypatch, browser_action="approve", browser_user=browser_user)
        ctx = build_context(AppPaths.default())
        ctx.autostart = FakeAutostart()
        ctx.defaults = defaults
        made.append(ctx)
        return ctx

    try:
        yield make
    finally:
        for ctx in made:
            ctx.mounts.shutdown_now()


@pytest.fixture
def real_ctx(cloud_ctx, fakecloud):
    """The real composition root against the emulated cloud's default (personal) user."""
    return cloud_ctx(fakecloud.setup_default())
