"""Security properties a user (or another local user) could check on a running system.

One journey of real processes, run once for the module: ``onedrive-gui -vv add`` (signing in
through the emulated browser), ``onedrive-gui -vv authorize`` left waiting for a browser that
never comes back, ``onedrive-gui -vv mount`` with a write through the FUSE mount, then Ctrl-C.
While it runs, a sampler reads /proc: the command line of every process the CLI started (and
of any rclone working on the app's config), and the rc password from the rcd's environment.
With the mount up, the rcd's rc port is probed as a stranger would. The tests then check what
was observed: no secret in any argv, none in any log (DEBUG included) or file, rc refuses
requests without the right credentials and listens on loopback only, the app's files are the
user's alone.

The loopback receiver's own hostile-input tests live in tests/core/test_loopback.py; the two
here add what those do not cover: a flood of stalled clients and a trickling one, and the
port being closed within 1 s of a successful sign-in in the real CLI.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from onedrive_gui.core.microsoft.loopback import (
    CONNECTION_BUDGET,
    MAX_CONNECTIONS,
    LoopbackReceiver,
)
from tests.e2e.cli_helpers import (
    CLI,
    files_under,
    force_unmount,
    is_mounted,
    listening_addrs,
    listening_ports,
    wait_for,
)
from tests.fakecloud.cloud import FakeCloud

pytestmark = pytest.mark.e2e

KEYRING_SERVICE = "onedrive-gui"
CONFIG_PASSWORD_USER = "rclone-config-password"


# ---------------------------------------------------------------------- /proc helpers
def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:  # the process is gone, or not ours to read
        return None


def _ppid(pid: int) -> int | None:
    raw = _read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    return int(raw.rsplit(b")", 1)[1].split()[1])


def _pids() -> list[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def _environ(pid: int) -> dict[str, str]:
    raw = _read(f"/proc/{pid}/environ") or b""
    out = {}
    for item in raw.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep:
            out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


@dataclass
class RcdSeen:
    pid: int
    argv: list[str]
    env: dict[str, str]

    def arg(self, flag: str) -> str:
        return self.argv[self.argv.index(flag) + 1]


class ProcSampler:
    """Records the argv of every descendant of the CLI processes it is told about, and of any
    process whose argv names the isolated home (the rcd runs in its own session)."""

    def __init__(self, home: Path) -> None:
        self.home = str(home).encode()
        self.roots: set[int] = set()
        self.cmdlines: dict[int, set[bytes]] = {}
        self.rcds: dict[int, RcdSeen] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ProcSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            self.sample(me)
            time.sleep(0.01)

    def sample(self, me: int = -1) -> None:
        parents: dict[int, int] = {}
        for pid in _pids():
            pp = _ppid(pid)
            if pp is not None:
                parents[pid] = pp
        for pid in parents:
            if pid == me:
                continue
            cmd = _read(f"/proc/{pid}/cmdline")
            if not cmd:
                continue
            ours = self.home in cmd
            p: int | None = pid
            for _ in range(64):  # walk up the ppid chain
                if p is None or p <= 1 or ours:
                    break
                ours = p in self.roots
                p = parents.get(p)
            if not ours:
                continue
            self.cmdlines.setdefault(pid, set()).add(cmd)
            argv = [a.decode(errors="replace") for a in cmd.split(b"\0") if a]
            if (pid not in self.rcds and len(argv) > 1 and argv[1] == "rcd"
                    and Path(argv[0]).name.startswith("rclone")):
                env = _environ(pid)
                if "RCLONE_RC_PASS" in env:
                    self.rcds[pid] = RcdSeen(pid, argv, env)

    def all_cmdlines(self) -> list[bytes]:
        return [c for cs in self.cmdlines.values() for c in cs]


class Proc:
    """A running CLI process; stdout and stderr collected."""

    def __init__(self, args: list[str], env: dict[str, str], stdin: str = "") -> None:
        self.p = subprocess.Popen([*CLI, *args], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.p.stdin is not None
        self.p.stdin.write(stdin)
        self.p.stdin.close()
        self.out: list[str] = []
        self.err: list[str] = []
        self._pumps = [threading.Thread(target=self._pump, args=(s, sink), daemon=True)
                       for s, sink in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self._pumps:
            t.start()

    @staticmethod
    def _pump(stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink.append(line)

    def text(self) -> str:
        return "".join(self.out) + "".join(self.err)

    def finish(self, timeout: float) -> int:
        code = self.p.wait(timeout)
        for t in self._pumps:
            t.join(5)
        return code


# ---------------------------------------------------------------------- rc probes
def _rc_post(port: int, method: str, auth: tuple[str, str] | None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        conn.request("POST", f"/{method}", body=b"{}", headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _listening_port(pid: int) -> int:
    """The one TCP port *pid* listens on (rclone's rc)."""
    ports = listening_ports(pid)
    assert len(ports) == 1, ports
    return ports.pop()


# ---------------------------------------------------------------------- the journey
@dataclass
class Journey:
    home: Path
    paths: dict[str, str]
    cloud: FakeCloud
    client_secret: str
    config_password: str
    rc_passwords: list[str]
    cmdlines: list[bytes]
    cli_pids_seen: set[int]
    outputs: dict[str, str] = field(default_factory=dict)
    rc_status: dict[str, int] = field(default_factory=dict)
    rc_listen: list[str] = field(default_factory=list)
    modes: dict[str, int] = field(default_factory=dict)

    def needles(self) -> dict[str, str]:
        """Every secret of the journey, by a name that says what leaked (never the value)."""
        st = self.cloud.state
        out = {"client secret": self.client_secret, "config password": self.config_password}
        out.update({f"rc password #{i}": p for i, p in enumerate(self.rc_passwords)})
        out.update({f"access token #{i}": t for i, t in enumerate(st.access_tokens)})
        out.update({f"refresh token #{i}": t for i, t in enumerate(st.refresh_tokens)})
        out.update({f"auth code #{i}": c for i, c in enumerate(st.codes)})
        return out


def _isolated_env(home: Path, cloud: FakeCloud, **kw: str) -> dict[str, str]:
    env = dict(os.environ)
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env["HOME"] = str(home)
    env.update(cloud.env(**kw))  # type: ignore[arg-type]
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    import keyring

    base = tmp_path_factory.mktemp("security")
    home = base / "home"
    cloud = FakeCloud(base / "fakecloud").start()
    mnt = home / "OneDrive" / "work"
    procs: list[Proc] = []
    try:
        d = cloud.setup_default()
        env = _isolated_env(home, cloud)
        paths = json.loads(subprocess.run(
            [sys.executable, "-c", "import json; "
             "from onedrive_gui.core.system.paths import AppPaths; "
             "p = AppPaths.default(); print(json.dumps({**{k: str(getattr(p, k)) for k in "
             "('config_dir', 'data_dir', 'cache_dir', 'log_dir', 'settings_file', "
             "'app_log')}, 'rclone_config': str(p.account_rclone_config('work')), "
             "'rclone_log': str(p.account_rclone_log('work'))}))"],
            env=env, capture_output=True, text=True, check=True, timeout=60).stdout)
        outputs: dict[str, str] = {}
        with ProcSampler(home) as sampler:
            # add: consent in the emulated browser, discovery, keyring, encrypted remote
            add = Proc(["-vv", "add", "work", "--client-id", d.client_id,
                        "--port", str(_free_port()), "--mount-point", str(mnt)],
                       env, d.secret + "\n")
            procs.append(add)
            sampler.roots.add(add.p.pid)
            assert add.finish(120) == 0, add.text()
            outputs["add"] = add.text()

            # authorize, waiting for a browser that never comes back
            auth = Proc(["-vv", "authorize", "--client-id", d.client_id, "--timeout", "3",
                         "--port", str(_free_port())],
                        _isolated_env(home, cloud, browser_action="ignore"), d.secret + "\n")
            procs.append(auth)
            sampler.roots.add(auth.p.pid)
            wait_for(lambda: "Waiting for the browser" in auth.text(), 30)
            assert auth.finish(60) != 0, auth.text()
            outputs["authorize"] = auth.text()

            # mount, write through it, probe rc, Ctrl-C
            mount = Proc(["-vv", "mount", "work"], env)
            procs.append(mount)
            sampler.roots.add(mount.p.pid)
            wait_for(lambda: "Mounted 'work'" in mount.text() or mount.p.poll() is not None,
                     60)
            assert mount.p.poll() is None, mount.text()
            assert is_mounted(mnt)
            (mnt / "secure-note.txt").write_bytes(b"written through the mount\n")
            config = paths["rclone_config"]
            rcd = wait_for(lambda: next((r for r in sampler.rcds.values()
                                         if r.arg("--config") == config
                                         and Path(f"/proc/{r.pid}").exists()), None), 30)
            assert isinstance(rcd, RcdSeen)
            assert rcd.arg("--rc-addr") == "127.0.0.1:0"  # the port is rclone's own choice
            port = _listening_port(rcd.pid)
            user, password = rcd.env["RCLONE_RC_USER"], rcd.env["RCLONE_RC_PASS"]
            rc_status = {
                "noop, right credentials": _rc_post(port, "rc/noop", (user, password)),
                "noop, no credentials": _rc_post(port, "rc/noop", None),
                "noop, wrong password": _rc_post(port, "rc/noop", (user, password[::-1])),
                "noop, stranger": _rc_post(port, "rc/noop", ("admin", "admin")),
                "config/dump, no credentials": _rc_post(port, "config/dump", None),
                "config/dump, wrong password": _rc_post(port, "config/dump", (user, "x" * 43)),
            }
            rc_listen = listening_addrs(rcd.pid)
            mount.p.send_signal(signal.SIGINT)
            assert mount.finish(120) == 0, mount.text()
            outputs["mount"] = mount.text()
            sampler.sample()
        assert cloud.get_file(d.drive_id, "/secure-note.txt") == b"written through the mount\n"
        config_password = keyring.get_password(KEYRING_SERVICE, CONFIG_PASSWORD_USER)
        assert config_password, "the app keeps the rclone config password in the keyring"
        modes = {}
        for key in ("config_dir", "data_dir", "cache_dir", "log_dir", "settings_file",
                    "rclone_config", "rclone_log", "app_log"):
            if key != "app_log" or Path(paths[key]).exists():  # the CLI logs to stderr only
                modes[key] = stat.S_IMODE(os.stat(paths[key]).st_mode)
        yield Journey(
            home=home, paths=paths, cloud=cloud, client_secret=d.secret,
            config_password=config_password,
            rc_passwords=sorted({r.env["RCLONE_RC_PASS"] for r in sampler.rcds.values()}),
            cmdlines=sampler.all_cmdlines(),
            cli_pids_seen={p.p.pid for p in procs} & set(sampler.cmdlines),
            outputs=outputs, rc_status=rc_status,
            rc_listen=rc_listen, modes=modes,
        )
    finally:
        for pr in procs:
            if pr.p.poll() is None:
                pr.p.kill()
                pr.p.wait()
        force_unmount(mnt)
        subprocess.run([*CLI, "remove", "work"], env=_isolated_env(home, cloud),
                       capture_output=True, timeout=60, check=False)  # its keyring entry
        cloud.stop()
        shutil.rmtree(base, ignore_errors=True)


def _leaks(haystack: bytes, needles: dict[str, str]) -> list[str]:
    return [name for name, value in needles.items() if value.encode() in haystack]


def test_no_secret_in_any_command_line(journey: Journey) -> None:
    # the sampler saw the three CLI processes, the rcd(s) and rclone's own children
    assert len(journey.cli_pids_seen) == 3
    assert journey.rc_passwords, "no rcd was seen"
    assert any(b"\0rcd\0" in c for c in journey.cmdlines)
    needles = journey.needles()
    assert any(k.startswith("refresh token") for k in needles)
    hits = {}
    for cmd in journey.cmdlines:
        leaked = _leaks(cmd, needles)
        if leaked:
            hits[cmd.split(b"\0")[0].decode() + " " + cmd.split(b"\0")[1].decode()] = leaked
    assert hits == {}


def test_debug_logs_and_files_hold_no_secret(journey: Journey) -> None:
    # -vv really logged at DEBUG, on stderr of every command
    for name, text in journey.outputs.items():
        assert " DEBUG " in text, f"{name} printed no DEBUG line"
    needles = journey.needles()
    hits = [f"stderr of {name}: {leaked}" for name, text in journey.outputs.items()
            if (leaked := _leaks(text.encode(), needles))]
    files = files_under(journey.home)
    assert any(f.name == "rclone-work.log" and f.stat().st_size > 0 for f in files)
    assert any(f.name == "settings.json" for f in files)
    hits += [f"{f}: {leaked}" for f in files if (leaked := _leaks(f.read_bytes(), needles))]
    assert hits == []


def test_rc_refuses_requests_without_credentials(journey: Journey) -> None:
    st = journey.rc_status
    assert st["noop, right credentials"] == 200  # the probe reached the real rc
    for probe, status in st.items():
        if probe != "noop, right credentials":
            assert status in (401, 403), (probe, status)
    assert journey.rc_listen, "the rcd listens on no TCP port"
    assert set(journey.rc_listen) == {a for a in journey.rc_listen
                                      if a.startswith("0100007F:")}  # 127.0.0.1 only


def test_app_files_and_folders_are_private(journey: Journey) -> None:
    modes = journey.modes
    for key in ("config_dir", "data_dir", "cache_dir", "log_dir"):
        assert modes[key] == 0o700, (key, oct(modes[key]))
    for key in ("settings_file", "rclone_config", "rclone_log", "app_log"):
        if key in modes:
            assert modes[key] == 0o600, (key, oct(modes[key]))
    assert {"settings_file", "rclone_config", "rclone_log"} <= set(modes)


# ---------------------------------------------------------------------- loopback receiver
STATE = "st-security"


def _get_ok(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", f"/?code=good&state={STATE}", headers={"Host": f"localhost:{port}"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_loopback_survives_a_flood_of_stalled_and_trickling_clients() -> None:
    """More stalled connections than the receiver serves at once, plus one that sends a byte
    every 0.2 s: each is cut off after the connection budget, and a real browser answer gets
    through within that budget."""
    rx = LoopbackReceiver(STATE, port=0)
    rx.start()
    stalled: list[socket.socket] = []
    stop = threading.Event()
    trickle_cut = threading.Event()

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", rx.port), timeout=30) as s:
            try:
                s.sendall(b"GET /?state=" + STATE.encode() + b" HTTP/1.1\r\n")
                while not stop.is_set():
                    s.sendall(b"X-A: b\r\n")
                    time.sleep(0.2)
            except OSError:
                trickle_cut.set()

    try:
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        time.sleep(0.5)  # the trickling client is among those being served
        for _ in range(MAX_CONNECTIONS + 8):
            s = socket.create_connection(("127.0.0.1", rx.port), timeout=30)
            s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n")
            stalled.append(s)

        def good_answer() -> bool:
            try:
                return _get_ok(rx.port) == 200
            except OSError:
                return False

        wait_for(good_answer, CONNECTION_BUDGET + 5, step=0.2)
        assert rx.wait(1).params["code"] == "good"
        wait_for(trickle_cut.is_set, CONNECTION_BUDGET + 5)
        for s in stalled:  # every stalled client was cut off too, none is left hanging
            s.settimeout(CONNECTION_BUDGET + 5)
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
    finally:
        stop.set()
        for s in stalled:
            s.close()
        rx.close()


def test_sign_in_port_is_closed_within_a_second_of_success(tmp_path: Path) -> None:
    """The real ``authorize``: the user's browser (we deliver the redirect, as the fake
    browser would, after a stalled client opened a connection) gets the success page, and the
    loopback port stops accepting connections within 1 s."""
    with FakeCloud(tmp_path / "fakecloud") as cloud:
        d = cloud.setup_default()
        home = tmp_path / "home"
        env = _isolated_env(home, cloud)
        port = _free_port()
        pr = Proc(["authorize", "--client-id", d.client_id, "--no-browser",
                   "--port", str(port)], env, d.secret + "\n")
        try:
            wait_for(lambda: "Waiting for the browser" in pr.text(), 30)
            url = next(line.strip() for line in pr.err if line.strip().startswith("https://"))
            stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
            stalled.sendall(b"GET / HTTP/1.1\r\n")
            subprocess.run([str(cloud.browser), url], env=env, check=True, timeout=30)
            log = cloud.wait_browser_log("delivered", 30)
            assert " 200 " in log.split("delivered", 1)[1].splitlines()[0], log

            def port_closed() -> bool:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        return False
                except OSError:
                    return True

            wait_for(port_closed, 1.0, step=0.02)  # deadline counted from the success page
            stalled.settimeout(1)
            try:
                assert stalled.recv(100) == b""  # the stalled client was dropped, not kept
            except ConnectionResetError:
                pass
            stalled.close()
            assert pr.finish(60) == 0, pr.text()
            assert json.loads("".join(pr.out))["access_token"]
        finally:
            if pr.p.poll() is None:
                pr.p.kill()
                pr.p.wait()


# ---------------------------------------------------------------------- another local user
SQUATTER = Path(__file__).with_name("rc_squatter.py")


def _as_user(uid: int, gid: int) -> dict[str, Any]:
    return {"user": uid, "group": gid, "extra_groups": [], "cwd": "/",
            "env": {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}}


def _python_for(uid: int, gid: int) -> str | None:
    """A Python that *uid* may run (this venv's may live in a folder only root can enter)."""
    for python in (sys.executable, shutil.which("python3", path="/usr/bin:/bin")):
        if python is None:
            continue
        try:
            ok = subprocess.run([python, "-I", "-c", "pass"], **_as_user(uid, gid),
                                capture_output=True, timeout=60).returncode == 0
        except PermissionError:
            ok = False
        if ok:
            return python
    return None


class Squatter:
    """tests/e2e/rc_squatter.py run as ``nobody``: another user of the machine who takes
    every rc port named in an rclone command line (of the rclone processes whose command
    line contains *mark*) and answers rc calls with ``{}``."""

    def __init__(self, python: str, uid: int, gid: int, mark: Path) -> None:
        self.p = subprocess.Popen(
            [python, "-I", str(SQUATTER), str(mark)], **_as_user(uid, gid),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        self.events: list[dict[str, object]] = []
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.events.append(json.loads(line))

    def of(self, kind: str) -> list[dict[str, object]]:
        return [e for e in list(self.events) if e["event"] == kind]

    def stop(self) -> None:
        self.p.kill()
        self.p.wait(10)
        self._pump.join(10)


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="starting a process as a second user (nobody) needs root")
def test_another_local_user_taking_rc_ports_gets_nothing_secret(tmp_path: Path) -> None:
    """Issue 22: another user watches /proc for rclone's rc address and takes that port
    first. ``onedrive-gui add`` must still add the account, with rclone itself, and that
    user must receive nothing: no request at all, so no client secret, token or rc
    credentials."""
    import keyring

    nobody = pwd.getpwnam("nobody")
    python = _python_for(nobody.pw_uid, nobody.pw_gid)
    if python is None:
        pytest.skip("no Python that the user 'nobody' may run")
    home = tmp_path / "home"
    # only this test's rclone is attacked (its config is under *home*), never another run's
    squatter = Squatter(python, nobody.pw_uid, nobody.pw_gid, home)
    cloud = FakeCloud(tmp_path / "fakecloud").start()
    env = _isolated_env(home, cloud)
    name = "squatted"
    try:
        ready = wait_for(lambda: squatter.of("ready"), 30)
        assert isinstance(ready, list)
        assert ready[0]["uid"] == ready[0]["euid"] == nobody.pw_uid != os.getuid()
        d = cloud.setup_default()
        with ProcSampler(home) as sampler:
            add = Proc(["-vv", "add", name, "--client-id", d.client_id,
                        "--port", str(_free_port()),
                        "--mount-point", str(home / "OneDrive" / name)],
                       env, d.secret + "\n")
            sampler.roots.add(add.p.pid)
            code = add.finish(180)
            sampler.sample()
        rcds = [r for r in sampler.rcds.values() if r.arg("--config").endswith(f"{name}.conf")]
        assert rcds, "the app started no rclone for the account"
        # the other user saw the app's rclone in /proc (the rig is live) ...
        wait_for(lambda: {e["pid"] for e in squatter.of("rcd")} >= {r.pid for r in rcds}, 10)
        # ... but received nothing, so nothing secret
        received = squatter.of("request")
        st = cloud.state
        needles = {"client secret": d.secret}
        needles.update({f"rc password #{i}": r.env["RCLONE_RC_PASS"]
                        for i, r in enumerate(rcds)})
        needles.update({f"access token #{i}": t for i, t in enumerate(st.access_tokens)})
        needles.update({f"refresh token #{i}": t for i, t in enumerate(st.refresh_tokens)})
        raw = json.dumps(received).encode()
        assert _leaks(raw, needles) == [], [(e["path"], e["port"]) for e in received]
        assert not any("Authorization" in e["headers"] for e in received)  # type: ignore
        assert received == []
        # and the account was added, by the real rclone
        assert code == 0, add.text()
        config = Path(rcds[0].arg("--config"))
        listed = subprocess.run(
            [rcds[0].argv[0], "listremotes", "--config", str(config), "--ask-password=false"],
            env={"PATH": os.environ["PATH"],
                 "RCLONE_CONFIG_PASS": keyring.get_password(KEYRING_SERVICE,
                                                            CONFIG_PASSWORD_USER) or ""},
            capture_output=True, text=True, timeout=60, check=True).stdout
        assert f"{name}:" in listed.split()
    finally:
        squatter.stop()
        subprocess.run([*CLI, "remove", name], env=env, capture_output=True, timeout=60,
                       check=False)
        cloud.stop()
