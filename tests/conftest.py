"""Shared fixtures. The emulated Microsoft cloud lives in tests/fakecloud/."""

from __future__ import annotations

import os
import sys
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
    # Windows: platformdirs asks the shell for the known folders, unless these (its own
    # overrides) name one (ignored elsewhere).
    for var, sub in (("WIN_PD_OVERRIDE_APPDATA", "AppData/Roaming"),
                     ("WIN_PD_OVERRIDE_LOCAL_APPDATA", "AppData/Local")):
        d = home / sub
        d.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(d))
    return home


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


# What a test needs that only Linux has, and why it cannot run on Windows. The Windows workflow
# (.github/workflows/windows.yml) runs the suite on windows-2022; a test using one of these
# fixtures is skipped there, here in one place, with the reason. Never on Linux.
WINDOWS_SKIPS = {
    "fuse": "the mount fixtures use FUSE (/dev/fuse, fusermount3, /proc/self/mountinfo); "
            "WinFsp mounts take drive letters and have no mountinfo",
    "frozen_app": "builds and runs the Linux frozen app; the Windows workflow builds the "
                  "Windows one and runs its console exe's --self-test and the e2e tests",
    "makensis": "compiles the installer with Debian's makensis; the release builds it on Linux",
    "wine": "runs the installer under wine; the Windows workflow installs, upgrades and "
            "uninstalls the real one",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, why in WINDOWS_SKIPS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skipif(sys.platform == "win32",
                                                   reason=f"not on Windows: {why}"))
                break
