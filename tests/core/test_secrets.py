"""SecretStore against the real Secret Service (scripts/test.sh starts one) and refusals.

Refusals run in a child Python, as a user's app would, with the environment that makes
keyring pick an insecure backend or lose the Secret Service.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onedrive_gui.core.errors import KeyringError
from onedrive_gui.core.logging_setup import RedactingFilter
from onedrive_gui.core.system.secrets import SecretStore

REPO = Path(__file__).resolve().parents[2]
SECRET = "Xy7~Q8Q.aZ0-secret-value_1234567890abcdEF"


# Backends a user could end up with, defined in the child that needs them (as __main__.<name>,
# selected by PYTHON_KEYRING_BACKEND): every KeyringBackend subclass joins keyring's registry
# in the process that defines it, so they must not be defined here or in other children.
PLAIN = """
import json, os
from pathlib import Path
from keyring.backend import KeyringBackend

class PlainFileKeyring(KeyringBackend):
    # stores secrets in clear in a file and admits it with a low priority
    priority = 0.5
    def _file(self):
        return Path(os.environ["HOME"]) / "plain-keyring.json"
    def get_password(self, service, username):
        f = self._file()
        return json.loads(f.read_text()).get(service + username) if f.exists() else None
    def set_password(self, service, username, password):
        self._file().write_text(json.dumps({service + username: password}))
    def delete_password(self, service, username):
        self._file().unlink()
"""
LOCKED = """
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked

class LockedKeyring(KeyringBackend):
    # a real keyring whose collection stays locked (the user dismissed the unlock prompt)
    priority = 5
    def get_password(self, *args):
        raise KeyringLocked("Failed to unlock the collection!")
    set_password = delete_password = get_password
"""
CHILD = """
import json, sys
from onedrive_gui.core.errors import KeyringError
from onedrive_gui.core.system.secrets import SecretStore
store = SecretStore(sys.argv[1])
try:
    store.set_client_secret("work", sys.stdin.read())
    print(json.dumps({"ok": store.get_client_secret("work") != ""}))
    store.delete_client_secret("work")
except KeyringError as exc:
    print(json.dumps({"title": exc.title, "message": exc.message, "hint": exc.hint}))
"""


def run_child(tmp_path: Path, prelude: str = "", **env: str | None) -> dict[str, Any]:
    home = tmp_path / "child-home"
    home.mkdir(exist_ok=True)
    child_env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                     XDG_DATA_HOME=str(home / ".local/share"), PYTHONPATH=str(REPO))
    for k, v in env.items():
        if v is None:
            child_env.pop(k, None)
        else:
            child_env[k] = v
    done = subprocess.run(
        [sys.executable, "-c", prelude + CHILD, f"onedrive-gui-test-{uuid.uuid4().hex}"],
        input=SECRET, capture_output=True, text=True, env=child_env, cwd=REPO, timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    for f in home.rglob("*"):  # never a plain-text fallback
        if f.is_file():
            assert SECRET not in f.read_text(errors="replace"), f
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def store() -> Iterator[SecretStore]:
    s = SecretStore(f"onedrive-gui-test-{uuid.uuid4().hex}")
    yield s
    s.delete_client_secret("work")
    s.delete_config_password()


def test_client_secret_round_trip(store: SecretStore) -> None:
    store.check()
    store.set_client_secret("work", SECRET)
    assert store.get_client_secret("work") == SECRET
    store.set_client_secret("work", SECRET + "2")  # rotation replaces it
    assert store.get_client_secret("work") == SECRET + "2"
    assert "SecretService" in store.backend_name()


def test_entries_live_under_the_documented_names(store: SecretStore) -> None:
    import keyring

    store.set_client_secret("work", SECRET)
    assert keyring.get_password(store.service, "client-secret:work") == SECRET
    password = store.ensure_config_password()
    assert keyring.get_password(store.service, "rclone-config-password") == password


def test_secrets_are_separate_per_account_and_service(store: SecretStore) -> None:
    store.set_client_secret("work", SECRET)
    other = SecretStore(f"onedrive-gui-test-{uuid.uuid4().hex}")
    with pytest.raises(KeyringError):
        other.get_client_secret("work")
    with pytest.raises(KeyringError):
        store.get_client_secret("home")


def test_delete_removes_and_tolerates_absence(store: SecretStore) -> None:
    store.set_client_secret("work", SECRET)
    store.delete_client_secret("work")
    with pytest.raises(KeyringError) as err:
        store.get_client_secret("work")
    store.delete_client_secret("work")  # already gone: nothing to do
    e = err.value
    assert e.title == "Client secret missing"
    assert "'work'" in e.message
    assert "set-secret work" in e.hint
    assert SECRET not in e.user_text()


def test_config_password_is_created_once_and_random(store: SecretStore) -> None:
    assert store.get_config_password() is None
    first = store.ensure_config_password()
    assert len(first) >= 40
    assert store.ensure_config_password() == first
    assert store.get_config_password() == first
    store.delete_config_password()
    assert store.get_config_password() is None
    assert store.ensure_config_password() != first


def test_values_read_and_written_are_redacted_from_logs(store: SecretStore) -> None:
    store.set_client_secret("work", SECRET)
    password = store.ensure_config_password()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "got %s and %s",
                               (SECRET, password), None)
    RedactingFilter().filter(record)
    assert SECRET not in record.getMessage()
    assert password not in record.getMessage()


@pytest.mark.parametrize("bad", ["", "x" * 1001])
def test_unusable_secret_is_refused_before_the_keyring(store: SecretStore, bad: str) -> None:
    with pytest.raises(KeyringError) as err:
        store.set_client_secret("work", bad)
    assert err.value.hint
    with pytest.raises(KeyringError):
        store.get_client_secret("work")  # nothing stored


def test_the_child_process_uses_the_real_keyring(tmp_path: Path) -> None:
    assert run_child(tmp_path) == {"ok": True}


@pytest.mark.parametrize(
    "backend", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring",
                "__main__.PlainFileKeyring", "no.such.Keyring"],
)
def test_insecure_backends_are_refused(tmp_path: Path, backend: str) -> None:
    result = run_child(tmp_path, PLAIN, PYTHON_KEYRING_BACKEND=backend)
    assert result["title"] == "No secure keyring"
    assert "gnome-keyring" in result["hint"]
    assert "plain text" in result["hint"]
    assert f"PYTHON_KEYRING_BACKEND is set to '{backend}'" in result["hint"]
    assert not (tmp_path / "child-home" / "plain-keyring.json").exists()


def test_unreachable_secret_service_is_refused(tmp_path: Path) -> None:
    result = run_child(tmp_path, PYTHON_KEYRING_BACKEND=None,
                       DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-such-bus")
    assert result["title"] == "No secure keyring"
    assert "KWallet" in result["hint"]
    assert "desktop session" in result["hint"]


def test_chainer_uses_its_secure_child_and_refuses_when_it_has_none(tmp_path: Path) -> None:
    chainer = "keyring.backends.chainer.ChainerBackend"
    assert run_child(tmp_path, PYTHON_KEYRING_BACKEND=chainer) == {"ok": True}
    result = run_child(tmp_path, PYTHON_KEYRING_BACKEND=chainer,
                       DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-such-bus")
    assert result["title"] == "No secure keyring"
    assert "no secure backend" in result["message"]


def test_locked_keyring_says_unlock_and_retry(tmp_path: Path) -> None:
    result = run_child(tmp_path, LOCKED, PYTHON_KEYRING_BACKEND="__main__.LockedKeyring")
    assert result["title"] == "Keyring locked"
    assert "Failed to unlock" in result["message"]
    assert "Unlock your keyring" in result["hint"] and "retry" in result["hint"]
