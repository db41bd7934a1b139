"""The app's ``rclone rcd``: loopback, authenticated, secrets out of argv, clean stop."""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.rclone.binary import RcloneBinary, locate_rclone
from onedrive_gui.core.rclone.process import Rcd, RcEndpointError
from onedrive_gui.core.rclone.rc import RcCallError, parse_duration
from tests.e2e.cli_helpers import listening_ports
from tests.stand_ins import kill_hard


@pytest.fixture(scope="module")
def rclone() -> RcloneBinary:
    return locate_rclone()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def make_rcd(rclone: RcloneBinary, tmp_path: Path) -> Iterator[object]:
    made: list[Rcd] = []

    def make(password: str | None = None, binary: RcloneBinary | None = None,
             **kw: object) -> Rcd:
        rcd = Rcd(
            binary or rclone,
            config_path=tmp_path / "rclone.conf",
            config_password=password,
            cache_dir=tmp_path / "cache",
            log_file=tmp_path / "logs" / "rclone.log",
            **kw,  # type: ignore[arg-type]
        )
        made.append(rcd)
        return rcd

    yield make
    for rcd in made:
        if rcd.alive():
            rcd.stop(timeout=5)


def test_rc_answers_only_with_its_credentials(make_rcd) -> None:  # type: ignore[no-untyped-def]
    rcd = make_rcd()
    client = rcd.start()
    assert client.noop(hello="world") == {"hello": "world"}
    assert client.url.startswith("http://127.0.0.1:")
    no_auth = requests.post(f"{client.url}/rc/noop", json={}, timeout=5)
    assert no_auth.status_code in (401, 403)
    bad_auth = requests.post(
        f"{client.url}/core/quit", json={}, auth=("onedrive-gui", "guess"), timeout=5
    )
    assert bad_auth.status_code in (401, 403)
    assert rcd.alive()


def test_user_rclone_environment_cannot_disable_auth(
    make_rcd, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("RCLONE_RC_NO_AUTH", "true")
    monkeypatch.setenv("RCLONE_RC_USER", "")
    monkeypatch.setenv("RCLONE_RC_PASS", "")
    client = make_rcd().start()
    resp = requests.post(f"{client.url}/core/quit", json={}, timeout=5)
    assert resp.status_code in (401, 403)


def test_no_secret_in_argv_and_environ_private(make_rcd) -> None:  # type: ignore[no-untyped-def]
    rcd = make_rcd(password=None)
    client = rcd.start()
    user, password = client._session.auth  # type: ignore[misc]
    cmdline = Path(f"/proc/{rcd.pid}/cmdline").read_bytes()
    assert password.encode() not in cmdline
    assert b"rc-pass" not in cmdline and b"rc-no-auth" not in cmdline
    environ = Path(f"/proc/{rcd.pid}/environ")
    assert password.encode() in environ.read_bytes()  # rclone got it from the environment
    mode = stat.S_IMODE(environ.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)  # other users cannot read it
    assert user


def test_rclone_survives_terminal_ctrl_c(make_rcd) -> None:  # type: ignore[no-untyped-def]
    rcd = make_rcd()
    rcd.start()
    assert rcd.pid is not None
    # Ctrl-C signals the terminal's foreground process group: rclone is not in ours.
    assert os.getpgid(rcd.pid) != os.getpgid(0)
    assert os.getsid(rcd.pid) != os.getsid(0)


def test_stop_leaves_no_process(make_rcd) -> None:  # type: ignore[no-untyped-def]
    rcd = make_rcd()
    client = rcd.start()
    pid = rcd.pid
    assert pid is not None
    rcd.stop()
    assert not rcd.alive()
    assert _gone(pid)
    with pytest.raises(RcloneError, match="stopped responding"):
        client.noop()


def test_killed_rcd_is_detected(make_rcd) -> None:  # type: ignore[no-untyped-def]
    rcd = make_rcd()
    client = rcd.start()
    assert rcd.pid is not None
    kill_hard(rcd.pid)
    deadline = time.monotonic() + 10
    while rcd.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not rcd.alive()
    with pytest.raises(RcloneError) as exc:
        client.version()
    assert exc.value.title == "rclone stopped responding"
    rcd.stop()  # stopping a dead rcd is fine


def test_rc_port_is_rclones_own_and_named_nowhere_before(  # type: ignore[no-untyped-def]
    make_rcd,
) -> None:
    """Issue 22: no port number exists before rclone holds it (another user reading argv
    has nothing to take); the app talks to the port rclone announced, which rclone holds."""
    rcd = make_rcd()
    client = rcd.start()
    argv = Path(f"/proc/{rcd.pid}/cmdline").read_bytes().split(b"\0")
    assert argv[argv.index(b"--rc-addr") + 1] == b"127.0.0.1:0"
    port = int(client.url.rsplit(":", 1)[1])
    assert listening_ports(rcd.pid) == {port}
    assert client.call("core/pid") == {"pid": rcd.pid}


def _rclone_processes(config: Path) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                cmd = Path(f"/proc/{name}/cmdline").read_bytes()
            except OSError:
                continue
            if b"rcd" in cmd.split(b"\0") and str(config).encode() in cmd:
                out.append(int(name))
    return out


def test_a_launcher_that_runs_rclone_as_another_process_is_refused(  # type: ignore[no-untyped-def]
    make_rcd, rclone: RcloneBinary, tmp_path: Path
) -> None:
    """The process answering rc must be the one the app started: an rclone path in Settings
    that is a launcher (rclone runs as its child, like a package manager's shim) is refused
    with what to do, and the launcher's rclone does not outlive the refusal."""
    launcher = tmp_path / "rclone-launcher"
    launcher.write_text(f'#!/bin/sh\n"{rclone.path}" "$@"\n')  # no exec: a child process
    launcher.chmod(0o755)
    rcd = make_rcd(binary=RcloneBinary(launcher, rclone.version, rclone.version_text))
    with pytest.raises(RcEndpointError) as exc:
        rcd.start()
    assert "reports process" in exc.value.message
    assert "none of your account's data" in exc.value.message
    assert "rclone itself" in exc.value.hint
    assert not rcd.alive()
    deadline = time.monotonic() + 30
    while _rclone_processes(tmp_path / "rclone.conf") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _rclone_processes(tmp_path / "rclone.conf") == []


STAND_IN = """#!{python}
import http.server, json, os, sys, time
class Answer(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open({calls!r}, "a") as f:
            f.write(self.path + "\\n")
        body = json.dumps({{"pid": os.getpid()}} if self.path == "/core/pid" else {{}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
sys.stderr.write(time.strftime("%Y/%m/%d %H:%M:%S") + " NOTICE: Serving remote control on "
                 "http://127.0.0.1:%d/\\n" % server.server_port)
sys.stderr.flush()
server.serve_forever()
"""


def test_a_program_that_only_pretends_to_be_rclone_is_refused(  # type: ignore[no-untyped-def]
    make_rcd, rclone: RcloneBinary, tmp_path: Path
) -> None:
    """A program that announces an rc address and answers every call with ``{}`` (what a
    squatter does) is refused at the config check, before any account data is sent."""
    calls = tmp_path / "calls.txt"
    stand_in = tmp_path / "not-rclone"
    stand_in.write_text(STAND_IN.format(python=sys.executable, calls=str(calls)))
    stand_in.chmod(0o755)
    rcd = make_rcd(binary=RcloneBinary(stand_in, rclone.version, rclone.version_text))
    with pytest.raises(RcEndpointError) as exc:
        rcd.start()
    assert "does not answer the way rclone does" in exc.value.message
    assert calls.read_text().split() == ["/core/pid", "/config/listremotes"]
    assert not rcd.alive()


def test_rc_error_names_method_and_hides_params(make_rcd) -> None:  # type: ignore[no-untyped-def]
    client = make_rcd().start()
    with pytest.raises(RcCallError) as exc:
        client.call("no/such/method", {"client_secret": "Sup3rS3cretValue"})
    assert exc.value.status == 404
    assert exc.value.method == "no/such/method"
    assert "no/such/method" in exc.value.error_text
    assert "Sup3rS3cretValue" not in str(exc.value) + exc.value.user_text()


def test_rc_ignores_proxy_settings(
    make_rcd, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = make_rcd().start()
    assert client.version()["version"].startswith("v1.")


def test_log_file_is_private_and_unrelated_to_secrets(  # type: ignore[no-untyped-def]
    make_rcd, tmp_path: Path
) -> None:
    rcd = make_rcd()
    client = rcd.start()
    client.core_stats()
    rcd.stop()
    log = tmp_path / "logs" / "rclone.log"
    if sys.platform != "win32":  # (Windows: the user's profile folder's ACL)
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    _, password = client._session.auth  # type: ignore[misc]
    assert password not in log.read_text()


def test_stats_of_an_idle_rcd(make_rcd) -> None:  # type: ignore[no-untyped-def]
    client = make_rcd().start()
    stats = client.core_stats()
    assert stats.transfers == 0 and stats.errors == 0 and stats.transferring == []
    assert stats.last_error is None
    assert client.list_mounts() == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(60_000_000_000, 60.0), ("1m30s", 90.0), ("1h0m0s", 3600.0), ("500ms", 0.5), ("0s", 0.0)],
)
def test_durations_in_ns_or_text(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


def test_local_mount_end_to_end(make_rcd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "src"
    src.mkdir()
    (src / "hello.txt").write_text("hi")
    mp = tmp_path / "mnt"
    mp.mkdir()  # Linux/macOS: must exist (Windows: must not)
    client = make_rcd().start()
    used = client.mount(str(src), str(mp), vfs_opt={"CacheMode": "writes", "WriteBack": "10s"},
                        mount_opt={})
    assert used == str(mp)
    try:
        assert (mp / "hello.txt").read_text() == "hi"
        (mp / "new.txt").write_text("written through rclone")
        mounts = client.list_mounts()
        assert [m.mount_point for m in mounts] == [str(mp)]
        stats = client.vfs_stats(mounts[0].fs)
        assert stats.cache_mode == "writes"
        # held back by the write-back delay (the kernel's close reaches rclone a moment
        # after write_text returns: it may take a few polls to show)
        seen = time.monotonic() + 8
        while client.vfs_stats(mounts[0].fs).pending_uploads != 1 and time.monotonic() < seen:
            time.sleep(0.1)
        assert client.vfs_stats(mounts[0].fs).pending_uploads == 1
        deadline = time.monotonic() + 60
        while client.vfs_stats(mounts[0].fs).pending_uploads and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.vfs_stats(mounts[0].fs).pending_uploads == 0
    finally:
        client.unmount(str(mp))
    assert client.list_mounts() == []
    assert (src / "new.txt").read_text() == "written through rclone"
