"""Shared fixtures. The emulated Microsoft cloud lives in tests/fakecloud/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fakecloud.fixtures"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated user: XDG config/data/cache/state dirs under tmp_path.

    The app finds its directories through platformdirs, which honours these variables,
    exactly as on a user's machine.
    """
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        d = home / sub
        d.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(d))
    monkeypatch.setenv("HOME", str(home))
    return home


def in_ci() -> bool:
    return os.environ.get("CI") == "true"
