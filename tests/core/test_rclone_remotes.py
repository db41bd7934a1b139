"""OneDrive remotes written by rclone itself into the app's encrypted config, offline."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from onedrive_gui.core.errors import RcloneError, ValidationError
from onedrive_gui.core.rclone import remotes
from onedrive_gui.core.rclone.binary import RcloneBinary, locate_rclone
from onedrive_gui.core.rclone.process import Rcd
from onedrive_gui.core.rclone.rc import RcClient
from tests.stand_ins import python_program

PASSWORD = "config-Pa55word-for-tests"
SECRET = "cl1ent~SecretValue.ForTests_0123456789"
ACCESS = "EwBAccessTokenForTests0123456789abcdef"
REFRESH = "M.C5RefreshTokenForTests0123456789abcdef"
DRIVE_ID = "b!Zx0123456789abcdef"


def token_json(access: str = ACCESS, refresh: str = REFRESH) -> str:
    return json.dumps(
        {
            "access_token": access,
            "token_type": "Bearer",
            "refresh_token": refresh,
            "expiry": "2031-01-01T00:00:00Z",
        }
    )


class ConnectionCounter:
    """A listening socket standing in for any proxy/server rclone might try to reach."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def rclone() -> RcloneBinary:
    return locate_rclone()


@pytest.fixture
def net_trap(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionCounter]:
    """Route rclone's internet traffic (Graph, login) to a local counter."""
    trap = ConnectionCounter()
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{trap.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield trap
    trap.close()


class Env:
    def __init__(self, rclone: RcloneBinary, root: Path) -> None:
        self.rclone = rclone
        self.config = root / "data" / "rclone.conf"
        self.log = root / "logs" / "rclone.log"
        self.cache = root / "cache"
        self.started: list[Rcd] = []

    def rcd(self, password: str | None = PASSWORD) -> Rcd:
        rcd = Rcd(
            self.rclone,
            config_path=self.config,
            config_password=password,
            cache_dir=self.cache,
            log_file=self.log,
            log_level="DEBUG",
        )
        self.started.append(rcd)
        return rcd

    def create(self, rc: RcClient, name: str = "work", **kw: str) -> None:
        args = {
            "client_id": "00000000-1111-2222-3333-444444444444",
            "client_secret": SECRET,
            "token_json": token_json(),
            "drive_id": DRIVE_ID,
            "drive_type": "personal",
            "tenant": "common",
        }
        args.update(kw)
        remotes.create_onedrive_remote(rc, name, **args)


@pytest.fixture
def env(rclone: RcloneBinary, tmp_path: Path) -> Iterator[Env]:
    e = Env(rclone, tmp_path)
    remotes.encrypt_config(rclone, e.config, PASSWORD)
    yield e
    for rcd in e.started:
        if rcd.alive():
            rcd.stop(timeout=5)


def test_new_config_is_encrypted_and_private(rclone: RcloneBinary, tmp_path: Path) -> None:
    path = tmp_path / "new" / "rclone.conf"
    remotes.encrypt_config(rclone, path, PASSWORD)
    data = path.read_bytes()
    assert b"RCLONE_ENCRYPT_V0:" in data
    assert PASSWORD.encode() not in data
    if sys.platform != "win32":  # (Windows: the user's profile folder's ACL)
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    # Idempotent with the right password; the file is not rewritten.
    remotes.encrypt_config(rclone, path, PASSWORD)
    assert path.read_bytes() == data


def test_encrypt_with_another_password_keeps_the_file(env: Env) -> None:
    before = env.config.read_bytes()
    with pytest.raises(RcloneError) as exc:
        remotes.encrypt_config(env.rclone, env.config, "not-the-password")
    assert exc.value.title == "rclone config password is wrong"
    assert env.config.read_bytes() == before


def test_remote_created_offline_and_stored_encrypted(env: Env, net_trap: ConnectionCounter) -> None:
    rcd = env.rcd()
    rc = rcd.start()
    env.create(rc)
    assert remotes.remote_names(rc) == ["work"]
    stored = remotes.get_remote(rc, "work")
    assert stored["type"] == "onedrive"
    assert stored["client_secret"] == SECRET
    assert json.loads(stored["token"])["refresh_token"] == REFRESH
    assert stored["drive_id"] == DRIVE_ID and stored["drive_type"] == "personal"
    assert stored["disable_site_permission"] == "true"
    assert stored["delta"] == "true"  # recursive listings through the drive's delta
    assert "tenant" not in stored  # "common" is rclone's default
    assert not any(k.startswith("config_") for k in stored)

    on_disk = env.config.read_bytes()
    assert b"RCLONE_ENCRYPT_V0:" in on_disk
    for plain in (SECRET, ACCESS, REFRESH, DRIVE_ID, "onedrive"):
        assert plain.encode() not in on_disk
    # rclone neither called Microsoft nor started its own OAuth listener.
    assert net_trap.connections == 0
    log = env.log.read_text()
    assert "53682" not in log
    assert "Please go to the following link" not in log
    rcd.stop()


def test_remote_of_an_earlier_version_gets_delta_at_its_next_mount(
    env: Env, net_trap: ConnectionCounter
) -> None:
    rc = env.rcd().start()
    # as earlier versions made it: no delta
    rc.config_create("old", "onedrive", {
        "client_id": "00000000-1111-2222-3333-444444444444", "client_secret": SECRET,
        "token": token_json(), "drive_id": DRIVE_ID, "drive_type": "personal",
        "config_refresh_token": "false"}, {"nonInteractive": True})
    assert "delta" not in remotes.get_remote(rc, "old")
    # what AccountService.mount does before every mount
    remotes.update_backend_options(rc, "old", {"chunk_size": "10M"})
    stored = remotes.get_remote(rc, "old")
    assert stored["delta"] == "true" and stored["chunk_size"] == "10M"
    assert stored["client_secret"] == SECRET and stored["drive_id"] == DRIVE_ID
    assert net_trap.connections == 0


def test_remote_survives_restart(env: Env) -> None:
    rcd = env.rcd()
    env.create(rcd.start(), "home", tenant="contoso.onmicrosoft.com", drive_type="business")
    rcd.stop()
    again = env.rcd()
    stored = remotes.get_remote(again.start(), "home")
    assert stored["tenant"] == "contoso.onmicrosoft.com"
    assert stored["drive_type"] == "business"


def test_wrong_password_is_named_and_file_untouched(env: Env) -> None:
    rcd = env.rcd()
    env.create(rcd.start())
    rcd.stop()
    before = env.config.read_bytes()
    wrong = env.rcd(password="wrong-password")
    with pytest.raises(RcloneError) as exc:
        wrong.start()
    assert exc.value.title == "rclone config password is wrong"
    assert "untouched" in exc.value.message
    assert "wrong-password" not in exc.value.user_text()
    assert not wrong.alive()
    assert env.config.read_bytes() == before


def test_missing_password_is_refused_too(env: Env) -> None:
    rcd = env.rcd()
    env.create(rcd.start())
    rcd.stop()
    before = env.config.read_bytes()
    with pytest.raises(RcloneError) as exc:
        env.rcd(password=None).start()
    assert exc.value.title == "rclone config password missing"
    assert env.config.read_bytes() == before


def test_token_and_secret_updates_stay_encrypted(
    env: Env, net_trap: ConnectionCounter
) -> None:
    rc = env.rcd().start()
    env.create(rc)
    new_access, new_refresh = "EwBNewAccess_9876543210", "M.C5NewRefresh_987654"
    new_secret = "N3w~Secret_Value_42"
    remotes.update_token(rc, "work", token_json(new_access, new_refresh))
    remotes.update_client_secret(rc, "work", new_secret)
    stored = remotes.get_remote(rc, "work")
    assert json.loads(stored["token"])["access_token"] == new_access
    assert stored["client_secret"] == new_secret
    assert stored["drive_id"] == DRIVE_ID  # other keys kept
    on_disk = env.config.read_bytes()
    assert b"RCLONE_ENCRYPT_V0:" in on_disk
    for plain in (new_access, new_refresh, new_secret, SECRET):
        assert plain.encode() not in on_disk
    assert net_trap.connections == 0
    assert "53682" not in env.log.read_text()


def test_update_of_unknown_remote_is_an_error(env: Env) -> None:
    rc = env.rcd().start()
    with pytest.raises(RcloneError, match="no remote named 'ghost'"):
        remotes.update_token(rc, "ghost", token_json())
    assert remotes.remote_names(rc) == []


def test_delete_remote(env: Env) -> None:
    rc = env.rcd().start()
    env.create(rc, "one")
    env.create(rc, "two")
    remotes.delete_remote(rc, "one")
    assert remotes.remote_names(rc) == ["two"]
    with pytest.raises(RcloneError, match="no remote named 'one'"):
        remotes.get_remote(rc, "one")


def test_existing_remote_is_not_overwritten(env: Env) -> None:
    rc = env.rcd().start()
    env.create(rc)
    with pytest.raises(RcloneError, match="already"):
        env.create(rc, client_secret="other-secret-value")
    assert remotes.get_remote(rc, "work")["client_secret"] == SECRET


@pytest.mark.parametrize("name", ["my-drive", "a b", "", "work:", "x/y"])
def test_bad_remote_names_are_refused(env: Env, name: str) -> None:
    rc = env.rcd().start()
    with pytest.raises(ValidationError):
        env.create(rc, name)
    assert remotes.remote_names(rc) == []


def test_bad_inputs_are_refused_before_rclone(env: Env) -> None:
    rc = env.rcd().start()
    with pytest.raises(ValidationError, match="drive type"):
        env.create(rc, drive_type="sharepoint")
    with pytest.raises(ValidationError, match="token"):
        env.create(rc, token_json="not json")
    assert remotes.remote_names(rc) == []


def test_secrets_never_in_rcd_argv(env: Env) -> None:
    rcd = env.rcd()
    rc = rcd.start()
    env.create(rc)
    cmdline = Path(f"/proc/{rcd.pid}/cmdline").read_bytes()
    for secret in (PASSWORD, SECRET, ACCESS, REFRESH):
        assert secret.encode() not in cmdline
    assert os.path.exists(f"/proc/{rcd.pid}")


def test_config_password_never_in_rclone_argv(rclone: RcloneBinary, tmp_path: Path) -> None:
    """Every rclone run records its argv; the password must reach rclone another way."""
    record = tmp_path / "argv.log"
    wrapper = python_program(tmp_path / "rclone", (
        "import os, subprocess, sys\n"
        f"with open({str(record)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"rclone = {str(rclone.path)!r}\n"
        "if os.name == 'nt':  # no exec there: run it and pass its exit code on\n"
        "    sys.exit(subprocess.call([rclone, *sys.argv[1:]]))\n"
        "os.execv(rclone, [rclone, *sys.argv[1:]])\n"))
    wrapped = locate_rclone(str(wrapper))
    config = tmp_path / "rclone.conf"
    remotes.encrypt_config(wrapped, config, PASSWORD)
    remotes.encrypt_config(wrapped, config, PASSWORD)  # the check of an existing config
    rcd = Rcd(wrapped, config_path=config, config_password=PASSWORD,
              cache_dir=tmp_path / "cache", log_file=tmp_path / "rclone.log")
    try:
        rc = rcd.start()
        Env(rclone, tmp_path).create(rc)
    finally:
        rcd.stop()
    runs = record.read_text().splitlines()
    assert any(r.startswith("config encryption set") for r in runs)
    assert any(r.startswith("config encryption check") for r in runs)
    assert any(r.startswith("rcd ") for r in runs)
    for run in runs:
        for secret in (PASSWORD, SECRET, ACCESS, REFRESH):
            assert secret not in run
    assert b"RCLONE_ENCRYPT_V0:" in config.read_bytes()


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_rclone_log_never_holds_secrets(env: Env, level: str) -> None:
    """rclone itself runs at DEBUG (throttling shows only there) and logs rc parameters —
    client secret and tokens — at that level; the app's log file gets none of them."""
    rcd = Rcd(env.rclone, config_path=env.config, config_password=PASSWORD,
              cache_dir=env.cache, log_file=env.log, log_level=level)
    env.started.append(rcd)
    rc = rcd.start()
    env.create(rc)
    remotes.get_remote(rc, "work")
    remotes.update_token(rc, "work", token_json("AccessTokenNumberTwo123", "RefreshTwo456"))
    rcd.stop()
    log = env.log.read_text()
    assert "config/create" in log or level == "INFO"
    for secret in (SECRET, ACCESS, REFRESH, PASSWORD, "AccessTokenNumberTwo123", "RefreshTwo456"):
        assert secret not in log
    if level == "INFO":
        assert " DEBUG " not in log


def test_throttling_lines_are_kept_at_info() -> None:
    from onedrive_gui.core.rclone.process import keep_log_line

    throttled = "2026/11/26 21:08:52 DEBUG : Too many requests. Trying again in 2 seconds."
    assert keep_log_line(throttled, "INFO", False)
    assert not keep_log_line("2026/11/26 21:08:52 DEBUG : rc: \"config/get\": reply", "INFO", True)
    assert keep_log_line("2026/11/26 21:08:52 NOTICE: work: vfs cache: cleaned", "INFO", False)
    assert keep_log_line("\tcontinuation of a kept line", "INFO", True)
    assert not keep_log_line("\tcontinuation of a dropped line", "INFO", False)
    # a failed poll for changes (INFO): the app then reads the drive again, at any log level
    failed = ("2026/12/03 08:30:50 INFO  : OneDrive root '': Change notify listener failure: "
              "TooManyRequests: Too many requests")
    assert keep_log_line(failed, "ERROR", False)


# ---- one config per account: migration of an earlier version's shared config ------------


@pytest.fixture
def engine(rclone: RcloneBinary, tmp_path: Path) -> Iterator[object]:
    import uuid

    from onedrive_gui.core.rclone.engine import RcloneEngine
    from onedrive_gui.core.system.paths import AppPaths
    from onedrive_gui.core.system.secrets import SecretStore

    root = tmp_path / "app"
    paths = AppPaths(root / "config", root / "data", root / "cache", root / "logs")
    paths.ensure()
    store = SecretStore(f"onedrive-gui-test-{uuid.uuid4().hex}")
    eng = RcloneEngine(paths, store, rclone_path=str(rclone.path))
    yield eng
    eng.stop()
    store.delete_config_password()


def _legacy_config(engine: object, names: list[str]) -> None:
    """An earlier version's shared, encrypted rclone.conf holding *names*."""
    from onedrive_gui.core.rclone.engine import RcloneEngine

    assert isinstance(engine, RcloneEngine)
    password = engine.secrets.ensure_config_password()
    old = engine.paths.rclone_config
    remotes.encrypt_config(engine.binary, old, password)
    rcd = Rcd(engine.binary, config_path=old, config_password=password,
              cache_dir=engine.paths.rclone_cache_dir, log_file=engine.paths.rclone_log)
    rc = rcd.start()
    try:
        for i, name in enumerate(names):
            if "-" in name:  # a name the app never made, written by rclone all the same
                rc.config_create(name, "alias", {"remote": "/tmp"}, {"nonInteractive": True})
                continue
            remotes.create_onedrive_remote(
                rc, name, client_id="00000000-1111-2222-3333-444444444444",
                client_secret=SECRET, token_json=token_json(f"{ACCESS}{i}", f"{REFRESH}{i}"),
                drive_id=f"{DRIVE_ID}{i}", drive_type="personal", tenant="common")
    finally:
        rcd.stop()


def test_shared_config_is_moved_into_one_config_per_account(
    engine: object, net_trap: ConnectionCounter
) -> None:
    from onedrive_gui.core.rclone.engine import RcloneEngine

    assert isinstance(engine, RcloneEngine)
    _legacy_config(engine, ["work", "home"])
    old = engine.paths.rclone_config
    assert sorted(engine.migrate()) == ["home", "work"]
    assert not old.exists()  # removed only after both copies read back right
    if sys.platform != "win32":
        assert stat.S_IMODE(engine.paths.rclone_configs_dir.stat().st_mode) == 0o700
    for i, name in enumerate(["work", "home"]):
        path = engine.config_path(name)
        assert remotes.is_encrypted(path) and ACCESS.encode() not in path.read_bytes()
        rc = engine.client(name)
        assert remotes.remote_names(rc) == [name]  # its own remote only
        got = remotes.get_remote(rc, name)
        assert got["drive_id"] == f"{DRIVE_ID}{i}" and got["client_secret"] == SECRET
        assert json.loads(got["token"])["refresh_token"] == f"{REFRESH}{i}"
    assert net_trap.connections == 0  # rclone moved them offline


def test_failed_migration_keeps_the_shared_config(engine: object) -> None:
    from onedrive_gui.core.rclone.engine import RcloneEngine

    assert isinstance(engine, RcloneEngine)
    _legacy_config(engine, ["work", "odd-name"])
    before = engine.paths.rclone_config.read_bytes()
    with pytest.raises(ValidationError):
        engine.migrate()
    assert engine.paths.rclone_config.read_bytes() == before
# A locale whose text encoding is not UTF-8 stands in for Windows' ANSI code page (cp1252):
# Python's text mode would decode rclone's UTF-8 output with it, strictly.
_NON_UTF8_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


def test_rclone_output_with_a_non_ascii_profile_path_is_read_as_utf8(
    rclone: RcloneBinary, tmp_path: Path
) -> None:
    """rclone names the config file (under C:\\Users\\Álvaro) in its error; a wrong password
    must still be reported as such, whatever the system's code page."""
    import subprocess
    import sys

    config = tmp_path / "Álvaro" / "rclone.conf"
    remotes.encrypt_config(rclone, config, PASSWORD)
    script = (
        "import locale, sys\n"
        "from pathlib import Path\n"
        "from onedrive_gui.core.errors import RcloneError\n"
        "from onedrive_gui.core.rclone import remotes\n"
        "from onedrive_gui.core.rclone.binary import locate_rclone\n"
        "assert 'utf' not in locale.getpreferredencoding(False).lower()\n"
        "try:\n"
        "    remotes.encrypt_config(locate_rclone(sys.argv[1]), Path(sys.argv[2]), 'wrong')\n"
        "except RcloneError as exc:\n"
        "    print(exc.title)\n"
    )
    env = {**os.environ, **_NON_UTF8_LOCALE}
    done = subprocess.run([sys.executable, "-c", script, str(rclone.path), str(config)],
                          capture_output=True, env=env, timeout=60, check=False)
    assert done.stdout.decode().strip() == "rclone config password is wrong", done.stderr
    assert b"UnicodeDecodeError" not in done.stderr
