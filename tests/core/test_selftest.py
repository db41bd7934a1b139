"""``--self-test``'s checks (core/selftest.py) against the real keyring and the real rclone.

The keyring check writes, reads back and deletes a throwaway entry: it passes on the Secret
Service that scripts/test.sh runs, and fails (naming the keyring) on keyring's fail backend,
which is what a frozen Windows app that lost its Credential Manager backend would get.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.rclone.binary import RcloneBinary, locate_rclone
from onedrive_gui.core.selftest import check_keyring, check_rclone, core_checks, missing
from onedrive_gui.core.system.secrets import SELF_TEST_USER, SecretStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store() -> Iterator[SecretStore]:
    s = SecretStore(f"onedrive-gui-test-{uuid.uuid4().hex}")
    yield s
    import keyring

    assert keyring.get_password(s.service, SELF_TEST_USER) is None, "entry left behind"


def test_keyring_round_trip_on_the_secret_service(store: SecretStore) -> None:
    check = check_keyring(store)
    assert check.ok, check.detail
    assert check.name == "keyring"
    backend = "WinVaultKeyring" if sys.platform == "win32" else "SecretService"
    assert backend in check.detail and store.service in check.detail
    assert check.line().startswith("self-test: keyring ok: ")


def test_rclone_check_names_the_version_and_path() -> None:
    found = locate_rclone()
    check = check_rclone()
    assert check.ok
    assert check.detail == f"rclone {found.version_text} ({found.path})"


def test_rclone_check_fails_with_the_reason(tmp_path: Path) -> None:
    check = check_rclone(str(tmp_path / "no-rclone"))
    assert not check.ok
    assert "rclone not found" in check.detail and "no-rclone" in check.detail
    assert "What to do:" in check.detail

    def too_old(_path: str | None) -> RcloneBinary:
        raise RcloneError("rclone too old", "v1.50.0 is too old.", "Update it.")

    assert check_rclone(None, too_old).line() == (
        "self-test: rclone FAILED: rclone too old. v1.50.0 is too old. What to do: Update it.")


def test_missing_names_the_failed_checks(tmp_path: Path, store: SecretStore) -> None:
    checks = core_checks(store, str(tmp_path / "no-rclone"))
    assert [c.name for c in checks] == ["keyring", "rclone"]
    assert missing(checks) == ["rclone"]


def _self_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m onedrive_gui --self-test`` as a user would run it, in a fresh home."""
    home = tmp_path / "home"
    child = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                 XDG_DATA_HOME=str(home / ".local/share"), XDG_CACHE_HOME=str(home / ".cache"),
                 XDG_STATE_HOME=str(home / ".local/state"), PYTHONPATH=str(REPO),
                 WIN_PD_OVERRIDE_APPDATA=str(home / "AppData" / "Roaming"),
                 WIN_PD_OVERRIDE_LOCAL_APPDATA=str(home / "AppData" / "Local"),
                 QT_QPA_PLATFORM="offscreen", **env)
    return subprocess.run([sys.executable, "-m", "onedrive_gui", "--self-test"], env=child,
                          capture_output=True, text=True, timeout=120, check=False, cwd=REPO)


def test_self_test_passes_on_the_secret_service(tmp_path: Path) -> None:
    proc = _self_test(tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("self-test: keyring ok: ") for line in lines), proc.stdout
    assert any(line.startswith("self-test: rclone ok: rclone v") for line in lines)
    assert "self-test: Qt platform ok: offscreen" in lines
    assert lines[-1].startswith("self-test ok: 0 account(s)")


def test_self_test_fails_without_a_secure_keyring(tmp_path: Path) -> None:
    proc = _self_test(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert proc.returncode == 1
    assert "self-test: keyring FAILED: No secure keyring." in proc.stderr
    assert "self-test failed: keyring not usable" in proc.stderr
    assert "self-test ok" not in proc.stdout
    # the other checks still ran and passed
    assert "self-test: rclone ok: " in proc.stdout
