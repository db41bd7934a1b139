"""Shared fixtures. The emulated Microsoft cloud lives in tests/fakecloud/."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.fakecloud.fixtures"]

REPO = Path(__file__).resolve().parent.parent

# The tests read the app's English text: a developer's or CI runner's language (say zh_CN)
# must not leak into them or into the processes they start. Tests of other languages set
# their own (tests/core/test_i18n.py, tests/ui/test_languages.py).
os.environ["LANGUAGE"] = "en"


# --- parallel workers (pytest-xdist) ---------------------------------------------------------
# scripts/test.sh runs the suite in worker processes. Each worker gets its own Secret Service
# (a private D-Bus session with its own unlocked gnome-keyring): the app keeps its entries
# under one fixed service name ("onedrive-gui"), so workers sharing one keyring would read and
# delete each other's client secrets and rclone config password. Everything else a test uses
# is already its own: tmp_path (homes, mount points, configs; per worker under xdist), ports
# (0 or the app's fallback), the emulated cloud (a port of its own).
_worker_bus: subprocess.Popen[str] | None = None
_worker_dirs: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    global _worker_bus
    if sys.platform.startswith("linux") and os.environ.get("PYTEST_XDIST_WORKER") \
            and shutil.which("gnome-keyring-daemon"):
        runtime = tempfile.mkdtemp(prefix="odg-worker-run-")  # mode 700, as the daemons want
        data = tempfile.mkdtemp(prefix="odg-worker-keyring-")
        _worker_dirs.extend((runtime, data))
        _worker_bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nosyslog", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert _worker_bus.stdout is not None
        address = _worker_bus.stdout.readline().strip()
        assert address, "dbus-daemon did not start"
        os.environ.update(DBUS_SESSION_BUS_ADDRESS=address, XDG_RUNTIME_DIR=runtime)
        # unlocked with a fixed password, its files in a throwaway data dir (as scripts/test.sh)
        out = subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"],
                             input="test", capture_output=True, text=True, check=True,
                             env={**os.environ, "XDG_DATA_HOME": data}).stdout
        for line in out.splitlines():
            name, _, value = line.partition("=")
            if name == "GNOME_KEYRING_CONTROL":
                os.environ[name] = value


def pytest_unconfigure(config: pytest.Config) -> None:
    # the keyring daemon leaves when its bus goes away
    if _worker_bus is not None:
        _worker_bus.send_signal(signal.SIGTERM)
        _worker_bus.wait(timeout=10)
    for d in _worker_dirs:
        shutil.rmtree(d, ignore_errors=True)


# Session and module fixtures that build something big (a frozen app; an installer and a wine
# prefix the tests install into; a fresh venv with the app pip-installed; the security tests'
# whole user journey) are built once per worker that uses them: their module runs on one
# worker, as one unit of work. (pytest-xdist's xdist_group marker cannot do it: pytest 9.2 no
# longer lets it rename the tests.) A test in another module using one of these fixtures fails
# the collection, below.
SHARED_BUILDS = {"frozen_app": "tests/packaging/test_frozen_app.py",
                 "installer": "tests/packaging/test_installer.py",
                 "wine": "tests/packaging/test_installer.py",
                 "fresh_install": "tests/packaging/test_pip_install.py",
                 "journey": "tests/e2e/test_security.py"}


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: nothing without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    modules = set(SHARED_BUILDS.values())

    class SharedBuildsOnOneWorker(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in modules else str(super()._split_scope(nodeid))

    return SharedBuildsOnOneWorker(config, log)


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
_DEFAULT = ("expects the Linux default mount point ~/OneDrive/NAME (Windows: a free drive "
            "letter, tests/ui/test_wizard_mount_windows.py)")
_BASH = ("runs the Cloud Shell command in Bash, as Azure Cloud Shell does (a Linux shell); the "
         "command is the same text on every platform")
# Tests (a module, or module::test) that use Linux facilities directly, and why.
WINDOWS_SKIP_TESTS = {
    "tests/e2e/test_security.py": "inspects processes through /proc (environment, command "
                                  "lines, memory maps, sockets)",
    "tests/e2e/test_crash_recovery.py": _FUSE_SIGNALS,
    "tests/e2e/test_crash_moved_folder.py": _FUSE_SIGNALS,
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
    "tests/core/test_secrets.py::test_insecure_backends_are_refused":
        "the hint names gnome-keyring (Linux's keyring)",
    "tests/core/test_secrets.py::test_chainer_uses_its_secure_child_and_refuses_when_it_has_none":
        "breaks D-Bus (DBUS_SESSION_BUS_ADDRESS) to take Linux's keyring away",
    "tests/core/test_rclone_process.py::test_rclone_survives_terminal_ctrl_c":
        "POSIX process groups and sessions (Windows: rclone runs without a console window)",
    "tests/e2e/test_quit_cli.py": "mounts a folder with FUSE and finds rclone with pgrep",
    "tests/e2e/test_libraries_cli.py": _FUSE_SIGNALS,
    "tests/e2e/test_national_clouds.py::test_national_cloud_sign_in_mount_write": _FUSE_SIGNALS,
    "tests/ui/test_offline_start_gui.py": "mounts a folder whose parent does not exist yet "
                                         "with FUSE (Windows: tests/e2e/test_windows_mount.py)",
    "tests/e2e/test_bad_input_cli.py::test_add_with_an_unusable_default_mount_point": _DEFAULT,
    "tests/e2e/test_bad_input_cli.py::test_mount_points_given_to_mount":
        "uses Linux mount points (/proc) and the ~/OneDrive default",
    "tests/ui/test_bad_input_gui.py::test_name_with_spaces_around_is_trimmed": _DEFAULT,
    "tests/ui/test_bad_input_gui.py::test_bad_mount_points_block_add":
        "uses Linux mount points (/proc) and the ~/OneDrive default",
    "tests/ui/test_bad_input_gui.py::test_mount_point_that_went_bad_after_typing_is_refused_at_add":
        _DEFAULT,
    "tests/core/test_rclone_process.py::test_rc_port_is_rclones_own_and_named_nowhere_before":
        _PROC,
    "tests/core/test_rclone_process.py::"
    "test_a_launcher_that_runs_rclone_as_another_process_is_refused":
        "the launcher is a #!/bin/sh script; rclone processes are found in /proc",
    "tests/core/test_rclone_process.py::test_a_program_that_only_pretends_to_be_rclone_is_refused":
        "the stand-in is a #! script",
    "tests/ui/test_bad_input_gui.py::test_bad_mount_points_are_refused_by_ok":
        "uses Linux mount points (/proc) and the ~/OneDrive default",
    "tests/ui/test_bad_input_gui.py::test_default_mount_point_that_is_unusable_is_refused":
        _DEFAULT,
    "tests/ui/test_tray.py::test_tray_follows_mount_state":
        "expects the '~/...' short form of a path in the home folder (Windows shows it in "
        "full)",
    "tests/core/test_diagnostics.py::test_report_hides_home_folder_login_name_and_tenant":
        "moves the home folder with HOME, which Path.home() ignores on Windows (USERPROFILE)",
    "tests/e2e/rc_squatter.py": "a program run as another user by tests/e2e/test_security.py",
    "tests/e2e/test_cloud_shell_registration.py": _BASH,
    "tests/e2e/test_crash_held_uploads.py": _FUSE_SIGNALS + "; finds rclone in /proc",
    "tests/core/test_uploads.py::test_a_pinned_base_is_never_replaced_until_uploaded":
        "checks the base file's Unix mode 0600 (Windows has only the read-only flag)",
    "tests/ui/test_wizard_cloud_shell.py": _BASH,
}


def _windows_skip_reason(item: pytest.Item) -> str | None:
    for fixture, why in WINDOWS_SKIPS.items():
        if fixture in getattr(item, "fixturenames", ()):
            return why
    node = item.nodeid.split("[", 1)[0]
    return WINDOWS_SKIP_TESTS.get(node) or WINDOWS_SKIP_TESTS.get(node.split("::", 1)[0])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, module in SHARED_BUILDS.items():
            if fixture in getattr(item, "fixturenames", ()) \
                    and item.nodeid.split("::", 1)[0] != module:
                raise pytest.UsageError(f"{item.nodeid} uses {fixture}: move it to {module} "
                                        "(or add its module to SHARED_BUILDS)")
        why = _windows_skip_reason(item)
        if why is not None:
            item.add_marker(pytest.mark.skipif(sys.platform == "win32",
                                               reason=f"not on Windows: {why}"))
