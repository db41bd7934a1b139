"""``onedrive-gui authorize`` as a user runs it: the real CLI process, the emulated Microsoft
cloud behind HTTPS_PROXY, the fake browser (BROWSER) playing the user, and the real rclone
using the token it prints."""

from __future__ import annotations

import configparser
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onedrive_gui.core.microsoft.loopback import LoopbackReceiver
from tests.e2e.cli_helpers import files_under, wait_for
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.stand_ins import console_script

pytestmark = pytest.mark.e2e

CLI = str(console_script("onedrive-gui"))
RCLONE = str(console_script("rclone"))
OTHER_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.fixture
def cloud(fakecloud: FakeCloud, app_home: Path) -> Defaults:
    return fakecloud.setup_default()


def _env(fakecloud: FakeCloud, **kw: str | None) -> dict[str, str]:
    env = {**os.environ, **fakecloud.env(**kw)}  # type: ignore[arg-type]
    env["PYTHONUNBUFFERED"] = "1"
    return env


def authorize(fakecloud: FakeCloud, args: list[str], secret: str, *, timeout: float = 90,
              **env_kw: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "authorize", *args], input=secret + "\n", text=True,
                          capture_output=True, env=_env(fakecloud, **env_kw), timeout=timeout,
                          check=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_failed(r: subprocess.CompletedProcess[str], app_home: Path, *needles: str,
                   exit_code: int = 1) -> None:
    assert r.returncode == exit_code, r.stderr
    assert r.stdout == ""  # nothing half-written where the token would go
    for n in needles:
        assert n in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert files_under(app_home) == []


def _rclone_lists(fakecloud: FakeCloud, d: Defaults, token_json: str, tmp_path: Path) -> list[str]:
    conf = tmp_path / "rclone.conf"
    cp = configparser.ConfigParser()
    cp["remote"] = {"type": "onedrive", "client_id": d.client_id, "client_secret": d.secret,
                    "token": token_json, "drive_id": d.drive_id, "drive_type": "personal"}
    with conf.open("w") as f:
        cp.write(f)
    env = fakecloud.subprocess_env()
    env.pop("RCLONE_CONFIG", None)
    done = subprocess.run([RCLONE, "--config", str(conf), "--retries", "1", "lsjson", "remote:"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return sorted(e["Name"] for e in json.loads(done.stdout))


# ---------------------------------------------------------------------- success
def test_authorize_prints_only_a_token_rclone_accepts(fakecloud: FakeCloud, cloud: Defaults,
                                                       app_home: Path, tmp_path: Path) -> None:
    started = datetime.now(UTC)
    r = authorize(fakecloud, ["--client-id", cloud.client_id, "--port", str(_free_port())],
                  cloud.secret)
    assert r.returncode == 0, r.stderr
    token = json.loads(r.stdout)  # stdout is exactly the token JSON
    assert r.stdout.strip().count("\n") == 0
    assert set(token) == {"access_token", "token_type", "refresh_token", "expiry"}
    assert token["token_type"] == "Bearer"
    assert token["expiry"].endswith("Z")
    expiry = datetime.fromisoformat(token["expiry"].replace("Z", "+00:00"))
    assert expiry.tzinfo is not None
    assert started + timedelta(minutes=50) < expiry < started + timedelta(minutes=70)
    assert "Waiting for the browser... (Ctrl-C to cancel)" in r.stderr
    assert f"Signed in as {cloud.display_name} <{cloud.user_upn}>" in r.stderr
    for secret in (cloud.secret, token["access_token"], token["refresh_token"]):
        assert secret not in r.stderr
    assert files_under(app_home) == []  # stores nothing on disk
    assert "Documents" in _rclone_lists(fakecloud, cloud, r.stdout.strip(), tmp_path)


def test_secret_with_surrounding_spaces_is_trimmed(fakecloud: FakeCloud, cloud: Defaults,
                                                   app_home: Path) -> None:
    r = authorize(fakecloud, ["--client-id", cloud.client_id, "--port", str(_free_port())],
                  f"  {cloud.secret}\t ")
    assert r.returncode == 0, r.stderr
    assert "removed spaces" in r.stderr
    assert json.loads(r.stdout)["refresh_token"]


def test_busy_port_falls_back_with_a_note(fakecloud: FakeCloud, cloud: Defaults,
                                          app_home: Path) -> None:
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT is not "in use"
    try:
        held.bind(("127.0.0.1", 53682))
        held.listen(1)
    except OSError as exc:  # another program already has it: the same situation
        assert exc.errno == errno.EADDRINUSE
    try:
        r = authorize(fakecloud, ["--client-id", cloud.client_id], cloud.secret)
    finally:
        held.close()
    assert r.returncode == 0, r.stderr
    assert "Port 53682 is in use; using http://localhost:" in r.stderr
    assert "your app registration's http://localhost redirect accepts any port" in r.stderr
    assert json.loads(r.stdout)["access_token"]


class Proc:
    """A running CLI process; stderr collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], stdin: str) -> None:
        self.p = subprocess.Popen([CLI, *args], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.p.stdin is not None
        self.p.stdin.write(stdin)
        self.p.stdin.close()
        self.err: list[str] = []
        self.out: list[str] = []
        for stream, sink in ((self.p.stderr, self.err), (self.p.stdout, self.out)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _pump(stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink.append(line)

    def stderr(self) -> str:
        return "".join(self.err)

    def finish(self, timeout: float = 60) -> int:
        code = self.p.wait(timeout)
        time.sleep(0.1)  # let the pumps drain
        return code


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for pr in started:
        if pr.p.poll() is None:
            pr.p.kill()
            pr.p.wait()


def test_no_browser_prints_the_link_for_the_user(fakecloud: FakeCloud, cloud: Defaults,
                                                 app_home: Path, procs: list[Proc]) -> None:
    env = _env(fakecloud)
    pr = Proc(["authorize", "--client-id", cloud.client_id, "--no-browser",
               "--port", str(_free_port())], env, cloud.secret + "\n")
    procs.append(pr)
    wait_for(lambda: "Waiting for the browser" in pr.stderr())
    assert fakecloud.browser_log_text() == ""  # no browser was opened
    url = next(line.strip() for line in pr.err if line.strip().startswith("https://"))
    subprocess.run([str(fakecloud.browser), url], env=env, check=True, timeout=30)
    assert pr.finish() == 0, pr.stderr()
    assert json.loads("".join(pr.out))["access_token"]


# ---------------------------------------------------------------------- failures
def test_client_id_not_a_guid(fakecloud: FakeCloud, cloud: Defaults, app_home: Path) -> None:
    r = authorize(fakecloud, ["--client-id", "my-app"], cloud.secret)
    _assert_failed(r, app_home, "Not a client ID", "Application (client) ID", exit_code=2)
    assert fakecloud.requests_to("login.microsoftonline.com") == []


def test_wrong_secret(fakecloud: FakeCloud, cloud: Defaults, app_home: Path) -> None:
    r = authorize(fakecloud, ["--client-id", cloud.client_id, "--port", str(_free_port())],
                  "Wr0ng~secret.value.that.is.not.it")
    _assert_failed(r, app_home, "Wrong client secret", "AADSTS7000215",
                   "Paste the secret's Value, not its Secret ID")
    assert "Wr0ng~secret" not in r.stderr


def test_secret_id_pasted_gets_a_warning(fakecloud: FakeCloud, cloud: Defaults,
                                         app_home: Path) -> None:
    r = authorize(fakecloud, ["--client-id", cloud.client_id, "--port", str(_free_port())],
                  "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b")
    assert "looks like the secret's Secret ID" in r.stderr
    _assert_failed(r, app_home, "AADSTS7000215")


def test_expired_secret(fakecloud: FakeCloud, app_home: Path) -> None:
    fakecloud.add_app(OTHER_ID, "Old~secret.value.123456", secret_expired=True)
    fakecloud.add_user("dave@outlook.com", "Dave")
    r = authorize(fakecloud, ["--client-id", OTHER_ID, "--port", str(_free_port())],
                  "Old~secret.value.123456")
    _assert_failed(r, app_home, "Client secret expired", "AADSTS7000222",
                   "Create a new client secret")


def test_unknown_app_is_reported_without_waiting_for_the_browser(
        fakecloud: FakeCloud, cloud: Defaults, app_home: Path) -> None:
    r = authorize(fakecloud, ["--client-id", OTHER_ID, "--port", str(_free_port())],
                  cloud.secret)
    _assert_failed(r, app_home, "App registration not found", "AADSTS700016",
                   "Application (client) ID")
    assert "Waiting for the browser" not in r.stderr
    assert fakecloud.browser_log_text() == ""


def test_redirect_uri_not_registered(fakecloud: FakeCloud, app_home: Path) -> None:
    fakecloud.add_app(OTHER_ID, "Sec~ret.value.123456", redirect_uris=("https://example.com/",))
    fakecloud.add_user("erin@outlook.com", "Erin")
    r = authorize(fakecloud, ["--client-id", OTHER_ID, "--port", str(_free_port())],
                  "Sec~ret.value.123456")
    _assert_failed(r, app_home, "Redirect URI not registered", "AADSTS50011",
                   "platform of type Web", "http://localhost")
    assert fakecloud.browser_log_text() == ""


def test_org_only_app_with_a_personal_account(fakecloud: FakeCloud, app_home: Path) -> None:
    fakecloud.add_app(OTHER_ID, "Sec~ret.value.123456", audience="AzureADMultipleOrgs")
    fakecloud.add_user("frank@outlook.com", "Frank")
    r = authorize(fakecloud, ["--client-id", OTHER_ID, "--port", str(_free_port())],
                  "Sec~ret.value.123456")
    _assert_failed(r, app_home, "App does not accept personal accounts",
                   "Supported account types")


def test_single_tenant_app_on_common(fakecloud: FakeCloud, app_home: Path) -> None:
    fakecloud.add_app(OTHER_ID, "Sec~ret.value.123456", audience="AzureADMyOrg",
                      home_tenant="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
    r = authorize(fakecloud, ["--client-id", OTHER_ID, "--port", str(_free_port())],
                  "Sec~ret.value.123456")
    _assert_failed(r, app_home, "App is for one organization only", "AADSTS50194", "tenant ID")


def test_consent_denied(fakecloud: FakeCloud, cloud: Defaults, app_home: Path) -> None:
    r = authorize(fakecloud, ["--client-id", cloud.client_id, "--port", str(_free_port())],
                  cloud.secret, browser_action="deny")
    _assert_failed(r, app_home, "Permission declined", "AADSTS65004", "Accept")


def test_browser_never_comes_back(fakecloud: FakeCloud, cloud: Defaults,
                                  app_home: Path) -> None:
    port = _free_port()
    r = authorize(fakecloud, ["--client-id", cloud.client_id, "--timeout", "3",
                              "--port", str(port)], cloud.secret, browser_action="ignore")
    _assert_failed(r, app_home, "No answer from the browser", "within 3 seconds")
    with LoopbackReceiver("s", port=port, allow_fallback=False) as again:
        assert again.port == port  # released


def test_ctrl_c_cancels_and_releases_the_port(fakecloud: FakeCloud, cloud: Defaults,
                                              app_home: Path, procs: list[Proc]) -> None:
    port = _free_port()
    pr = Proc(["authorize", "--client-id", cloud.client_id, "--port", str(port)],
              _env(fakecloud, browser_action="ignore"), cloud.secret + "\n")
    procs.append(pr)
    wait_for(lambda: "Waiting for the browser" in pr.stderr())
    cmdline = Path(f"/proc/{pr.p.pid}/cmdline").read_bytes()
    assert cloud.secret.encode() not in cmdline  # the secret never is in argv
    pr.p.send_signal(signal.SIGINT)
    assert pr.finish() == 130
    assert "Cancelled" in pr.stderr()
    assert "Traceback" not in pr.stderr()
    assert pr.out == []
    with LoopbackReceiver("s", port=port, allow_fallback=False) as again:
        assert again.port == port  # the loopback port is free again
    assert files_under(app_home) == []


def test_network_down(fakecloud: FakeCloud, cloud: Defaults, app_home: Path) -> None:
    fakecloud.set_down(True)
    r = authorize(fakecloud, ["--client-id", cloud.client_id, "--port", str(_free_port())],
                  cloud.secret)
    _assert_failed(r, app_home, "Cannot reach Microsoft", "connection/proxy")
    assert fakecloud.browser_log_text() == ""


def test_cli_parser_does_not_load_msal_or_requests() -> None:
    code = ("import sys, onedrive_gui.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('msal', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
