"""FakeCloud: the emulated Microsoft cloud (identity platform + Graph + OneDrive) behind a
CONNECT proxy, with the helpers tests use to arrange and inspect it."""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import ssl
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import trustme

from tests.stand_ins import python_file_program

from . import graph, login
from .graph import GraphService
from .login import LoginService
from .messages import Request, Response, json_response
from .proxy import ProxyServer
from .state import CLOUDS, App, CloudState, Group, RequestRecord, Site, ThrottleRule, User
from .throttling import ThrottlingModel, request_cost

HOSTS = {login.HOST, graph.HOST, graph.DOWNLOAD_HOST, graph.UPLOAD_HOST,
         *(h for hosts in CLOUDS.values() for h in hosts)}
BROWSER_SCRIPT = Path(__file__).with_name("browser.py")
AZ_SCRIPT = Path(__file__).with_name("az.py")


@functools.lru_cache(maxsize=1)
def _certs() -> tuple[bytes, bytes, bytes]:
    """(CA PEM, leaf cert chain PEM, leaf key PEM), made once per process."""
    ca = trustme.CA(organization_name="fakecloud test CA")
    leaf = ca.issue_cert(*sorted(HOSTS), "*.files.1drv.com", "*.sharepoint.us",
                         "*.sharepoint.cn")
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    return ca.cert_pem.bytes(), chain, leaf.private_key_pem.bytes()


def ca_trust_commands(ca_pem: Path) -> tuple[list[str], list[str]]:
    """Windows: (add, remove) commands for the test CA in the machine's Root store, which
    Go before 1.27 (rclone) and truststore (the app) read there — SSL_CERT_FILE is ignored
    by both on Windows. The CA is removed by its SHA-1 thumbprint."""
    thumbprint = hashlib.sha1(ssl.PEM_cert_to_DER_cert(ca_pem.read_text())).hexdigest()
    return (["certutil", "-f", "-addstore", "Root", str(ca_pem)],
            ["certutil", "-delstore", "Root", thumbprint])


_trusted: set[bytes] = set()


def trust_test_ca(ca_pem: Path, *, windows: bool | None = None,
                  at_exit: Callable[..., object] = atexit.register) -> bool:
    """Make Windows trust the test CA (once per process; removed again when the process
    exits). The machine store needs administrator rights — the CI runner has them; a
    developer runs the suite from an elevated prompt. Elsewhere the CA-bundle variables of
    :meth:`FakeCloud.env` do it: nothing to do, False."""
    if windows is None:
        windows = sys.platform == "win32"
    pem = ca_pem.read_bytes()
    if not windows or pem in _trusted:
        return False
    add, remove = ca_trust_commands(ca_pem)
    done = subprocess.run(add, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(
            f"cannot add the test CA to the machine's Root store ({' '.join(add)}: exit "
            f"{done.returncode}): run the tests as administrator. {done.stdout}{done.stderr}")
    _trusted.add(pem)
    at_exit(subprocess.run, remove, capture_output=True, check=False, timeout=60)
    return True


@dataclass(frozen=True)
class Defaults:
    client_id: str
    secret: str
    user_upn: str
    display_name: str
    drive_id: str


class FakeCloud:
    def __init__(self, workdir: Path, *, port: int = 0) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        ca_pem, chain, key = _certs()
        self.ca_pem = self.workdir / "fakecloud-ca.pem"
        self.ca_pem.write_bytes(ca_pem)
        cert_file = self.workdir / "leaf.pem"
        cert_file.write_bytes(chain + key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file)
        cert_file.unlink()
        ctx.set_alpn_protocols(["http/1.1"])
        self.browser_log = self.workdir / "browser.log"
        self.browser_log.touch()
        # the fake browser as a program (browser.exe on Windows): BROWSER names it
        self.browser = python_file_program(self.workdir / "browser", BROWSER_SCRIPT)
        trust_test_ca(self.ca_pem)
        self.state = CloudState()
        self.throttling: ThrottlingModel | None = None  # off by default
        self._last_app: dict[str, tuple[str, str, str]] = {}
        self.login = LoginService(self.state)
        self.graph = GraphService(self.state)
        # national clouds: their own sign-in, Graph and file hosts over the same state
        self.logins = {"global": self.login, **{
            c: LoginService(self.state, c) for c in CLOUDS if c != "global"}}
        self.graphs = {"global": self.graph, **{
            c: GraphService(self.state, c) for c in CLOUDS if c != "global"}}
        self.proxy = ProxyServer(self.state, self._dispatch, ctx, set(HOSTS), port)
        self.proxy_url = self.proxy.url

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeCloud:
        self.proxy.start()
        return self

    def stop(self) -> None:
        self.proxy.stop()

    def __enter__(self) -> FakeCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ dispatch
    def _throttled(self, req: Request) -> Response | None:
        with self.state.lock:
            for rule in self.state.throttles:
                if rule.count > 0 and req.host == rule.host \
                        and req.raw_path.startswith(rule.path_prefix):
                    rule.count -= 1
                    if rule.status == 429:
                        code, msg = "TooManyRequests", "Too many requests"
                    else:
                        code, msg = "serviceNotAvailable", "Service unavailable"
                    return graph.gerr(rule.status, code, msg,
                                      [("Retry-After", str(rule.retry_after))])
            self.state.throttles = [r for r in self.state.throttles if r.count > 0]
        return None

    def _modelled(self, req: Request) -> Response | None:
        """Microsoft's documented throttling (tests/fakecloud/throttling.py), when set."""
        model = self.throttling
        if model is None or req.host == login.HOST:
            return None
        kind = {graph.HOST: "graph", graph.UPLOAD_HOST: "upload",
                graph.DOWNLOAD_HOST: "download"}.get(req.host)
        if kind is None:
            return None
        with self.state.lock:
            who: tuple[str, str, str] | None = None
            if kind == "graph":
                auth = req.headers.get("authorization", "")
                tok = self.state.access_tokens.get(auth[7:].strip()) if auth else None
                user = self.state.user(tok.upn) if tok is not None else None
                if tok is not None and user is not None:
                    who = (user.tenant_id, tok.client_id, user.upn)
                    self._last_app[user.upn.casefold()] = who
            else:  # pre-authenticated URLs: the drive owner's last app
                drive_id = None
                if kind == "download":
                    found = self.graph.downloads.get(req.raw_path.strip("/").split("/")[0])
                    drive_id = found[0] if found else None
                else:
                    sid = req.raw_path.rstrip("/").rsplit("/", 1)[-1]
                    session = self.state.uploads.get(sid)
                    drive_id = session.drive_id if session is not None else None
                drive = self.state.drives.get(drive_id or "")
                if drive is not None:
                    who = self._last_app.get(drive.owner_upn.casefold())
        if who is None:
            return None  # refused anyway (401/404): not SharePoint work
        cost = request_cost(req.method, unquote(req.raw_path), req.query, host_kind=kind)
        if kind == "upload":
            cost = model.fragment_cost
        decision = model.decide(*who, cost, time.time())
        if decision.allowed:
            return None
        if model.status == 503:
            code, msg = "serviceNotAvailable", "Service unavailable"
        else:
            code, msg = "TooManyRequests", "Too many requests"
        return graph.gerr(model.status, code, msg,
                          [("Retry-After", str(decision.retry_after))])

    def set_throttling(self, model: ThrottlingModel | None) -> None:
        """Throttle as Microsoft documents it (None: no throttling, the default)."""
        with self.state.lock:
            self.throttling = model
            self._last_app.clear()

    def _dispatch(self, req: Request) -> Response:
        throttled = self._throttled(req) or self._modelled(req)
        if throttled is not None:
            return throttled
        try:
            if req.host == login.HOST:
                return self.login.handle(req)
            if req.host == graph.HOST:
                return self.graph.handle(req)
            if req.host == graph.DOWNLOAD_HOST:
                return self.graph.handle_download(req)
            if req.host == graph.UPLOAD_HOST:
                return self.graph.handle_upload_host(req)
            for key, (login_host, graph_host, file_host) in CLOUDS.items():
                if req.host == login_host:
                    return self.logins[key].handle(req)
                if req.host == graph_host:
                    return self.graphs[key].handle(req)
                if req.host == file_host and key != "global":
                    if req.raw_path.startswith(("/rup/", "/monitor/")):
                        return self.graphs[key].handle_upload_host(req)
                    return self.graphs[key].handle_download(req)
        except Exception as exc:  # a bug in the emulator: make it loud, not a hang
            traceback.print_exc()
            return json_response(500, {"error": {"code": "fakecloudBug",
                                                 "message": f"{type(exc).__name__}: {exc}"}})
        return Response(404)

    # ------------------------------------------------------------------ environment
    def env(self, *, browser_action: str = "approve", browser_user: str | None = None,
            ) -> dict[str, str]:
        if browser_action not in ("approve", "deny", "ignore"):
            raise ValueError("browser_action must be approve, deny or ignore")
        no_proxy = "localhost,127.0.0.1,::1"
        return {
            "HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
            "REQUESTS_CA_BUNDLE": str(self.ca_pem), "SSL_CERT_FILE": str(self.ca_pem),
            "NO_PROXY": no_proxy, "no_proxy": no_proxy,
            "BROWSER": str(self.browser),
            "FAKE_BROWSER_ACTION": browser_action,
            "FAKE_BROWSER_USER": browser_user or "",
            "FAKE_BROWSER_LOG": str(self.browser_log),
        }

    def apply_env(self, monkeypatch: object, **kw: str | None) -> None:
        for k, v in self.env(**kw).items():  # type: ignore[arg-type]
            monkeypatch.setenv(k, v)  # type: ignore[attr-defined]

    def subprocess_env(self, **kw: str | None) -> dict[str, str]:
        """os.environ plus env(**kw): for subprocesses (rclone...)."""
        return {**os.environ, **self.env(**kw)}  # type: ignore[arg-type]

    def browser_log_text(self) -> str:
        return self.browser_log.read_text()

    def wait_browser_log(self, needle: str, timeout: float = 10.0) -> str:
        """Wait until a whole line of the browser program's log contains needle (the program
        may be writing that line right now); return the log."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.browser_log_text()
            done = any(needle in line for line in text.splitlines(keepends=True)
                       if line.endswith("\n"))
            if done or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    # ------------------------------------------------------------------ arrange
    @property
    def access_token_lifetime(self) -> int:
        return self.state.access_token_lifetime

    @access_token_lifetime.setter
    def access_token_lifetime(self, value: int) -> None:
        self.state.access_token_lifetime = int(value)

    @property
    def requests(self) -> list[RequestRecord]:
        return self.state.requests

    def add_app(self, client_id: str, secret: str, *, secret_expired: bool = False,
                redirect_platform: str = "web",
                redirect_uris: tuple[str, ...] = ("http://localhost",),
                audience: str = "AzureADandPersonalMicrosoftAccount",
                home_tenant: str | None = None, display_name: str = "onedrive-gui test",
                cloud: str = "global", admin_consent_only: bool = False) -> App:
        app = App(client_id, secret, secret_expired, redirect_platform, tuple(redirect_uris),
                  audience, home_tenant, display_name, cloud, admin_consent_only)
        self.state.add_app(app)
        return app

    def add_user(self, upn: str, display_name: str, *, personal: bool = True,
                 tenant_id: str | None = None, mail: str | None = None,
                 cloud: str = "global") -> User:
        return self.state.add_user(upn, display_name, personal=personal, tenant_id=tenant_id,
                                   mail=mail, cloud=cloud)

    def add_site(self, name: str, members: list[str], *,
                 libraries: tuple[str, ...] = ("Documents",), cloud: str = "global",
                 followers: tuple[str, ...] = ()) -> Site:
        """A SharePoint site with document libraries that *members* can find and use."""
        tenant = ""
        if members:
            user = self.state.user(members[0])
            tenant = user.tenant_id if user else ""
        return self.state.add_site(name, members, libraries=libraries, tenant_id=tenant,
                                   cloud=cloud, followers=followers)

    def add_team(self, name: str, members: list[str], *, cloud: str = "global") -> Group:
        """A Team (Microsoft 365 group) whose library is the group's drive."""
        return self.state.add_team(name, members, cloud=cloud)

    def setup_work(self, cloud: str = "global", *, tenant_id: str | None = None) -> Defaults:
        """A work account (and an app registered in *cloud*) with a OneDrive for Business."""
        domain = {"global": "contoso.com", "us": "agency.us", "cn": "contoso.cn"}[cloud]
        d = Defaults(client_id="7b0e9f2c-4a1d-4e58-9c3b-2d6f8a1e5b07",
                     secret="Wk4~fakeWorkSecret.0123456789abcdefGHIJKL",
                     user_upn=f"bob@{domain}", display_name="Bob Worker", drive_id="")
        self.add_app(d.client_id, d.secret, cloud=cloud,
                     audience="AzureADandPersonalMicrosoftAccount" if cloud == "global"
                     else "AzureADMultipleOrgs")
        self.add_user(d.user_upn, d.display_name, personal=False, mail=d.user_upn,
                      cloud=cloud, tenant_id=tenant_id)
        drive_id = self.add_drive(d.user_upn, drive_type="business")
        self.put_file(drive_id, "/Documents/work.txt", b"work file\n")
        return Defaults(d.client_id, d.secret, d.user_upn, d.display_name, drive_id)

    def cloud_shell_env(self, admin_upn: str) -> dict[str, str]:
        """Environment of a Cloud Shell session signed in as *admin_upn*: ``az`` (the stand-in
        in az.py) on PATH, reaching this cloud through the proxy with that user's token."""
        import secrets as _secrets

        from .state import AccessToken

        user = self.state.user(admin_upn)
        if user is None:
            raise KeyError(admin_upn)
        token = "EwAz" + _secrets.token_urlsafe(60)
        with self.state.lock:
            self.state.access_tokens[token] = AccessToken(
                token, user.upn, "04b07795-8ddb-461a-bbee-02f9e1bf7b46",  # Azure CLI's app
                ["Application.ReadWrite.All", "Directory.AccessAsUser.All"],
                time.time() + 3600, user.cloud)
        bindir = self.workdir / "cloudshell-bin"
        bindir.mkdir(exist_ok=True)
        python_file_program(bindir / "az", AZ_SCRIPT)
        env = self.subprocess_env()
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
        env["FAKE_AZ_TOKEN"] = token
        return env

    def hosts_reached(self) -> set[str]:
        """Every host a request reached (through the proxy) so far."""
        with self.state.lock:
            return {r.host for r in self.state.requests}

    def add_drive(self, upn: str, *, drive_type: str = "personal", name: str = "OneDrive",
                  quota_total: int = 5 * 2**30, default: bool = True) -> str:
        return self.state.add_drive(upn, drive_type=drive_type, name=name,
                                    quota_total=quota_total, default=default).id

    def put_file(self, drive_id: str, path: str, data: bytes) -> None:
        """Create or replace a file as another device would (browser, phone): a replaced
        file gets new content, eTag, cTag, QuickXorHash and modification times."""
        self.state.put_file(drive_id, path, data)

    def make_folder(self, drive_id: str, path: str) -> None:
        self.state.make_folder(drive_id, path)

    def delete_path(self, drive_id: str, path: str) -> None:
        """Delete a file or folder as another device would."""
        with self.state.lock:
            drive = self.state.drives[drive_id]
            item = self.state.resolve(drive, drive.items[drive.root_id], path)
            if item is None:
                raise ValueError(f"{path} does not exist")
            self.state.delete_item(drive, item)

    def move_path(self, drive_id: str, path: str, new_path: str) -> None:
        """Move or rename a file or folder as another device would (same item id)."""
        with self.state.lock:
            drive = self.state.drives[drive_id]
            root = drive.items[drive.root_id]
            item = self.state.resolve(drive, root, path)
            parent_path, _sep, leaf = new_path.rstrip("/").rpartition("/")
            parent = self.state.resolve(drive, root, parent_path)
            if item is None or parent is None or not parent.is_folder:
                raise ValueError(f"cannot move {path} to {new_path}")
            self.state.move_item(drive, item, parent, leaf)

    def get_file(self, drive_id: str, path: str) -> bytes | None:
        return self.state.get_file(drive_id, path)

    def list_paths(self, drive_id: str) -> list[str]:
        return self.state.list_paths(drive_id)

    def setup_default(self) -> Defaults:
        d = Defaults(client_id="3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44",
                     secret="Xq8~fakeSecretValue.0123456789abcdefGHIJ",
                     user_upn="alice@outlook.com", display_name="Alice Example", drive_id="")
        self.add_app(d.client_id, d.secret)
        self.add_user(d.user_upn, d.display_name)
        drive_id = self.add_drive(d.user_upn)
        self.put_file(drive_id, "/Documents/hello.txt", b"hello from the cloud\n")
        self.make_folder(drive_id, "/Photos")
        return Defaults(d.client_id, d.secret, d.user_upn, d.display_name, drive_id)

    # ------------------------------------------------------------------ faults
    def revoke_refresh_tokens(self, upn: str | None = None) -> None:
        """Later refresh_token grants of that user (all users if None) fail with AADSTS50173."""
        with self.state.lock:
            now = time.time() + 0.001
            for key, user in self.state.users.items():
                if upn is None or key == upn.casefold():
                    user.tokens_valid_from = now

    def expire_access_tokens(self, upn: str | None = None) -> None:
        """Graph answers 401 InvalidAuthenticationToken to the current access tokens."""
        with self.state.lock:
            for tok in self.state.access_tokens.values():
                if upn is None or tok.upn.casefold() == upn.casefold():
                    tok.expires = 0

    def throttle(self, count: int, *, status: int = 429, retry_after: int = 1,
                 host: str = "graph.microsoft.com", path_prefix: str = "/v1.0/") -> None:
        with self.state.lock:
            self.state.throttles.append(ThrottleRule(count, status, retry_after, host,
                                                     path_prefix))

    def hold_copies(self, hold: bool = True) -> None:
        """Server-side copies are accepted (202, their monitor "inProgress") but made only
        at :meth:`finish_copies`, as a slow copy in OneDrive goes on whatever the client."""
        with self.state.lock:
            self.state.hold_copies = hold

    def held_copies(self) -> int:
        with self.state.lock:
            return len(self.state.held_copies)

    def finish_copies(self, *, made: bool = True) -> None:
        """Make the copies held so far; their monitors say "completed" (*made* False: drop
        them, as if they never reached the cloud)."""
        with self.state.lock:
            for mid, make in self.state.held_copies.items() if made else ():
                self.state.monitors[mid] = {"operation": "itemCopy",
                                            "percentageComplete": 100,
                                            "resourceId": make(), "status": "completed"}
            self.state.held_copies.clear()

    def set_down(self, down: bool) -> None:
        self.state.down = down
        if down:
            self.proxy.drop_connections()

    def requests_to(self, host: str, path_contains: str = "") -> list[RequestRecord]:
        with self.state.lock:
            return [r for r in self.state.requests
                    if r.host == host and path_contains in r.path]
