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

_PROC = "reads the process's command line / environment from /proc"
_FUSE_SIGNALS = ("checks the FUSE mount in /proc/self/mountinfo and stops processes with POSIX "
                 "signals (SIGINT/SIGKILL)")
# Tests (a module, or module::test) that use Linux facilities directly, and why.
WINDOWS_SKIP_TESTS = {
    "tests/e2e/test_security.py": "inspects processes through /proc (environment, command "
                                  "lines, memory maps, sockets)",
    "tests/e2e/test_crash_recovery.py": _FUSE_SIGNALS,
    "tests/e2e/test_throttling_cli.py": _FUSE_SIGNALS,
    "tests/e2e/test_desktop_logout.py": "a Linux logout sends SIGTERM; Windows ends a session "
                                        "through Qt's commitDataRequest instead",
    "tests/ui/test_gui_mount.py": _FUSE_SIGNALS,
    "tests/e2e/test_accounts_cli.py::test_add_mount_write_unmount_rotate_reauth_remove":
        _FUSE_SIGNALS,
    "tests/e2e/test_authorize.py::test_ctrl_c_cancels_and_releases_the_port":
        "sends SIGINT and reads /proc/<pid>/cmdline",
    "tests/e2e/test_bad_input_cli.py::test_add_mount_points": "uses Linux mount points (/proc)",
    "tests/core/test_rclone_process.py::test_no_secret_in_argv_and_environ_private": _PROC,
    "tests/core/test_rclone_remotes.py::test_secrets_never_in_rcd_argv": _PROC,
    "tests/core/test_secrets.py::test_client_secret_round_trip":
        "asserts the Secret Service backend (Windows: Credential Manager, checked by "
        "tests/core/test_selftest.py)",
    "tests/core/test_secrets.py::test_unreachable_secret_service_is_refused":
        "the Secret Service over D-Bus is Linux's keyring",
}


def _windows_skip_reason(item: pytest.Item) -> str | None:
    for fixture, why in WINDOWS_SKIPS.items():
        if fixture in getattr(item, "fixturenames", ()):
            return why
    node = item.nodeid.split("[", 1)[0]
    return WINDOWS_SKIP_TESTS.get(node) or WINDOWS_SKIP_TESTS.get(node.split("::", 1)[0])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        why = _windows_skip_reason(item)
        if why is not None:
            item.add_marker(pytest.mark.skipif(sys.platform == "win32",
                                               reason=f"not on Windows: {why}"))
