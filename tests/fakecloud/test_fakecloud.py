"""The emulated cloud, proven with real clients: msal, the browser program, real rclone."""

from __future__ import annotations

import configparser
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msal
import pytest
import requests

from .cloud import Defaults, FakeCloud
from .quickxor import quickxor_b64

RCLONE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "rclone"
SCOPES = ["Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All", "User.Read"]


# ---------------------------------------------------------------------- helpers
class _Receiver:
    """A tiny one-shot loopback redirect receiver, like the app's."""

    def __init__(self) -> None:
        self.params: dict[str, str] | None = None
        self.got = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _done(self, params: dict[str, str]) -> None:
                outer.params = params
                body = b"<html><body>Signed in. You can close this tab.</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                outer.got.set()

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                self._done(dict(urllib.parse.parse_qsl(self.rfile.read(n).decode())))

            def do_GET(self) -> None:
                self._done(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self.port}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def run_browser(cloud: FakeCloud, url: str, **kw: Any) -> None:
    env = cloud.subprocess_env(**kw)
    done = subprocess.run([env["BROWSER"], url], env=env, timeout=10)
    assert done.returncode == 0


def msal_app(cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch, client_id: str, secret: str,
             tenant: str = "common") -> msal.ConfidentialClientApplication:
    cloud.apply_env(monkeypatch)
    return msal.ConfidentialClientApplication(
        client_id, client_credential=secret,
        authority=f"https://login.microsoftonline.com/{tenant}")


def sign_in(cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch, receiver: _Receiver,
            d: Defaults, **browser: Any) -> dict[str, Any]:
    app = msal_app(cloud, monkeypatch, d.client_id, d.secret)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=receiver.redirect_uri,
                                       response_mode="form_post")
    run_browser(cloud, flow["auth_uri"], **browser)
    assert receiver.got.wait(15), cloud.browser_log_text()
    assert receiver.params is not None
    result: dict[str, Any] = app.acquire_token_by_auth_code_flow(flow, receiver.params)
    return result


def rclone_token(cloud: FakeCloud, d: Defaults) -> dict[str, str]:
    """Tokens for the default user, obtained with a real refresh-less auth-code exchange."""
    with cloud.state.lock:
        login = cloud.login
        app = cloud.state.app(d.client_id)
        user = cloud.state.user(d.user_upn)
        assert app is not None and user is not None
        resp = login.issue(app, user, [*SCOPES, "offline_access"], nonce=None, tenant="common")
    tok = json.loads(resp.body)
    expiry = datetime.now(UTC) + timedelta(seconds=tok["expires_in"])
    return {"access_token": tok["access_token"], "token_type": "Bearer",
            "refresh_token": tok["refresh_token"],
            "expiry": expiry.isoformat().replace("+00:00", "Z")}


def write_rclone_conf(path: Path, d: Defaults, token: dict[str, str]) -> Path:
    cp = configparser.ConfigParser()
    cp["od"] = {"type": "onedrive", "client_id": d.client_id, "client_secret": d.secret,
                "token": json.dumps(token), "drive_id": d.drive_id, "drive_type": "personal"}
    with path.open("w") as f:
        cp.write(f)
    return path


class Rclone:
    def __init__(self, cloud: FakeCloud, conf: Path) -> None:
        self.cloud, self.conf = cloud, conf

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
        env = self.cloud.subprocess_env()
        env.pop("RCLONE_CONFIG", None)
        return subprocess.run([str(RCLONE), "--config", str(self.conf), "--retries", "1",
                               "--low-level-retries", "3", *args],
                              env=env, capture_output=True, timeout=timeout)

    def ok(self, *args: str, timeout: float = 60) -> bytes:
        done = self(*args, timeout=timeout)
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        return done.stdout


@pytest.fixture
def rc(fakecloud: FakeCloud, tmp_path: Path) -> tuple[Rclone, Defaults]:
    d = fakecloud.setup_default()
    conf = write_rclone_conf(tmp_path / "rclone.conf", d, rclone_token(fakecloud, d))
    return Rclone(fakecloud, conf), d


# ---------------------------------------------------------------------- quickxor
def test_quickxor_matches_rclone(tmp_path: Path) -> None:
    blobs = {"empty": b"", "hello": b"hello from the cloud\n", "odd": os.urandom(161),
             "block": os.urandom(160 * 7), "big": os.urandom(3 * 2**20 + 17)}
    for name, data in blobs.items():
        (tmp_path / name).write_bytes(data)
    out = subprocess.run([str(RCLONE), "hashsum", "quickxor", "--base64", str(tmp_path),
                          "--config", os.devnull],
                         capture_output=True, text=True, check=True).stdout
    theirs = {line.split()[1]: line.split()[0] for line in out.splitlines()}
    for name, data in blobs.items():
        ours = quickxor_b64(data).replace("+", "-").replace("/", "_")
        assert ours == theirs[name], name


# ---------------------------------------------------------------------- msal + browser
def test_msal_auth_code_flow_with_pkce(fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch,
                                       receiver: _Receiver) -> None:
    d = fakecloud.setup_default()
    result = sign_in(fakecloud, monkeypatch, receiver, d)
    assert "access_token" in result, result
    assert result["refresh_token"]
    assert result["token_type"] == "Bearer"
    assert result["id_token_claims"]["preferred_username"] == d.user_upn
    assert result["id_token_claims"]["name"] == d.display_name
    assert result["id_token_claims"]["aud"] == d.client_id
    log = fakecloud.wait_browser_log("delivered")
    assert "delivered POST" in log and "Signed in" in log
    token_reqs = fakecloud.requests_to("login.microsoftonline.com", "/oauth2/v2.0/token")
    assert token_reqs and token_reqs[-1].status == 200
    # the access token works on Graph
    me = requests.get("https://graph.microsoft.com/v1.0/me",
                      headers={"Authorization": f"Bearer {result['access_token']}"}, timeout=10)
    assert me.status_code == 200
    assert me.json()["userPrincipalName"] == d.user_upn and me.json()["mail"] is None
    drives = requests.get("https://graph.microsoft.com/v1.0/me/drives",
                          headers={"Authorization": f"Bearer {result['access_token']}"},
                          timeout=10).json()
    assert [dr["id"] for dr in drives["value"]] == [d.drive_id]
    assert drives["value"][0]["driveType"] == "personal"
    # the refresh token works too, and a revoked one fails like Entra's
    app = msal_app(fakecloud, monkeypatch, d.client_id, d.secret)
    again = app.acquire_token_by_refresh_token(result["refresh_token"], SCOPES)
    assert "access_token" in again, again
    fakecloud.revoke_refresh_tokens(d.user_upn)
    revoked = app.acquire_token_by_refresh_token(result["refresh_token"], SCOPES)
    assert revoked["error"] == "invalid_grant" and "AADSTS50173" in revoked["error_description"]


def test_code_is_single_use_and_pkce_checked(fakecloud: FakeCloud,
                                             monkeypatch: pytest.MonkeyPatch,
                                             receiver: _Receiver) -> None:
    d = fakecloud.setup_default()
    app = msal_app(fakecloud, monkeypatch, d.client_id, d.secret)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=receiver.redirect_uri,
                                       response_mode="form_post")
    run_browser(fakecloud, flow["auth_uri"])
    assert receiver.got.wait(15)
    assert receiver.params is not None
    bad = dict(flow, code_verifier="x" * 43)
    wrong = app.acquire_token_by_auth_code_flow(bad, receiver.params)
    assert "AADSTS501481" in wrong["error_description"]
    first = app.acquire_token_by_auth_code_flow(dict(flow), receiver.params)
    assert "access_token" in first, first
    second = app.acquire_token_by_auth_code_flow(dict(flow), receiver.params)
    assert "AADSTS54005" in second["error_description"]


def test_wrong_secret_gives_aadsts7000215(fakecloud: FakeCloud,
                                           monkeypatch: pytest.MonkeyPatch,
                                           receiver: _Receiver) -> None:
    d = fakecloud.setup_default()
    result = sign_in(fakecloud, monkeypatch, receiver,
                     Defaults(d.client_id, "6f1e0c5a-5d0b-4b7a-9a51-2f0d3c1b9e77",
                              d.user_upn, d.display_name, d.drive_id))
    assert result["error"] == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]
    assert "Trace ID:" in result["error_description"]


def test_deny_reaches_the_app_as_access_denied(fakecloud: FakeCloud,
                                               monkeypatch: pytest.MonkeyPatch,
                                               receiver: _Receiver) -> None:
    d = fakecloud.setup_default()
    result = sign_in(fakecloud, monkeypatch, receiver, d, browser_action="deny")
    assert result["error"] == "access_denied"
    assert "AADSTS65004" in result["error_description"]


def test_unknown_client_shows_error_page_and_never_redirects(
        fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch, receiver: _Receiver) -> None:
    fakecloud.setup_default()
    unknown = "00000000-1111-2222-3333-444444444444"
    app = msal_app(fakecloud, monkeypatch, unknown, "whatever")
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=receiver.redirect_uri,
                                       response_mode="form_post")
    page = requests.get(flow["auth_uri"], timeout=10)
    assert page.status_code == 400
    assert f"AADSTS700016: Application with identifier '{unknown}' was not found" in page.text
    run_browser(fakecloud, flow["auth_uri"])
    log = fakecloud.wait_browser_log("error-page")
    assert "AADSTS700016" in log
    assert not receiver.got.wait(0.5)


@pytest.mark.parametrize(("kw", "tenant", "code"), [
    ({"redirect_uris": ("http://localhost/callback",)}, "common", "AADSTS50011"),
    ({"audience": "AzureADMyOrg"}, "common", "AADSTS50194"),
    ({"audience": "PersonalMicrosoftAccount"}, "organizations", "AADSTS9002331"),
])
def test_authorize_error_pages(fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch,
                               kw: dict[str, Any], tenant: str, code: str) -> None:
    fakecloud.add_app("c0ffee00-0000-4000-8000-000000000001", "s3cret", **kw)
    fakecloud.add_user("bob@outlook.com", "Bob")
    app = msal_app(fakecloud, monkeypatch, "c0ffee00-0000-4000-8000-000000000001", "s3cret",
                   tenant)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri="http://localhost:53682/",
                                       response_mode="form_post")
    page = requests.get(flow["auth_uri"], timeout=10)
    assert page.status_code == 400 and code in page.text


def test_personal_account_on_org_only_app(fakecloud: FakeCloud,
                                          monkeypatch: pytest.MonkeyPatch,
                                          receiver: _Receiver) -> None:
    fakecloud.add_app("c0ffee00-0000-4000-8000-000000000002", "s3cret",
                      audience="AzureADMultipleOrgs")
    fakecloud.add_user("carol@outlook.com", "Carol")
    result = sign_in(fakecloud, monkeypatch, receiver,
                     Defaults("c0ffee00-0000-4000-8000-000000000002", "s3cret",
                              "carol@outlook.com", "Carol", ""))
    assert result["error"] == "unauthorized_client"
    assert "not enabled for consumers" in result["error_description"]


def test_network_down_and_foreign_hosts(fakecloud: FakeCloud,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fakecloud.apply_env(monkeypatch)
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get("https://example.com/", timeout=5)
    fakecloud.set_down(True)
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get("https://graph.microsoft.com/v1.0/me", timeout=5)
    fakecloud.set_down(False)
    r = requests.get("https://graph.microsoft.com/v1.0/me", timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"


# ---------------------------------------------------------------------- real rclone
def test_rclone_lists_and_reads(rc: tuple[Rclone, Defaults], fakecloud: FakeCloud) -> None:
    rclone, _ = rc
    listing = json.loads(rclone.ok("lsjson", "-R", "od:"))
    by_path = {e["Path"]: e for e in listing}
    assert by_path["Documents"]["IsDir"] and by_path["Photos"]["IsDir"]
    assert by_path["Documents/hello.txt"]["Size"] == len(b"hello from the cloud\n")
    assert rclone.ok("cat", "od:Documents/hello.txt") == b"hello from the cloud\n"
    about = json.loads(rclone.ok("about", "--json", "od:"))
    assert about["total"] == 5 * 2**30


def test_rclone_writes(rc: tuple[Rclone, Defaults], fakecloud: FakeCloud,
                       tmp_path: Path) -> None:
    rclone, d = rc
    big = os.urandom(10 * 2**20 + 123)
    (tmp_path / "big.bin").write_bytes(big)
    rclone.ok("copyto", str(tmp_path / "big.bin"), "od:Uploads/big.bin")
    assert fakecloud.get_file(d.drive_id, "/Uploads/big.bin") == big
    assert fakecloud.requests_to("graph.microsoft.com", "createUploadSession")
    (tmp_path / "empty").write_bytes(b"")
    rclone.ok("copyto", str(tmp_path / "empty"), "od:Uploads/empty.txt")
    assert fakecloud.get_file(d.drive_id, "/Uploads/empty.txt") == b""
    rclone.ok("mkdir", "od:New Folder")
    assert "/New Folder/" in fakecloud.list_paths(d.drive_id)
    rclone.ok("moveto", "od:Uploads/big.bin", "od:New Folder/renamed.bin")
    assert fakecloud.get_file(d.drive_id, "/Uploads/big.bin") is None
    assert fakecloud.get_file(d.drive_id, "/New Folder/renamed.bin") == big
    rclone.ok("deletefile", "od:Documents/hello.txt")
    assert fakecloud.get_file(d.drive_id, "/Documents/hello.txt") is None
    # a ranged read, as a mount does
    part = rclone.ok("cat", "--offset", "1000", "--count", "100", "od:New Folder/renamed.bin")
    assert part == big[1000:1100]
    unknown = [r for r in fakecloud.requests if r.status == 501]
    assert not unknown, [(r.method, r.path) for r in unknown]


def test_rclone_pages_through_children(fakecloud: FakeCloud, tmp_path: Path) -> None:
    d = fakecloud.setup_default()
    for i in range(1005):
        fakecloud.put_file(d.drive_id, f"/Many/f{i:04d}.txt", b"x")
    conf = write_rclone_conf(tmp_path / "rclone.conf", d, rclone_token(fakecloud, d))
    names = Rclone(fakecloud, conf).ok("lsf", "od:Many").decode().split()
    assert len(names) == 1005
    pages = [r for r in fakecloud.requests_to("graph.microsoft.com", "/children")]
    assert any(r.query.get("$skiptoken") for r in pages), [r.query for r in pages]


def test_rclone_refreshes_its_token(fakecloud: FakeCloud, tmp_path: Path) -> None:
    d = fakecloud.setup_default()
    fakecloud.access_token_lifetime = 12  # rclone refreshes ~10 s before expiry
    token = rclone_token(fakecloud, d)
    conf = write_rclone_conf(tmp_path / "rclone.conf", d, token)
    rclone = Rclone(fakecloud, conf)
    fakecloud.access_token_lifetime = 3600
    time.sleep(2.5)
    assert rclone.ok("cat", "od:Documents/hello.txt") == b"hello from the cloud\n"
    grants = [r for r in fakecloud.requests_to("login.microsoftonline.com", "/token")]
    assert grants and grants[-1].status == 200
    cp = configparser.ConfigParser()
    cp.read(conf)
    new = json.loads(cp["od"]["token"])
    assert new["access_token"] != token["access_token"]
    assert new["refresh_token"]


def test_rclone_revoked_refresh_token_fails(fakecloud: FakeCloud, tmp_path: Path) -> None:
    d = fakecloud.setup_default()
    token = rclone_token(fakecloud, d)
    token["expiry"] = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    conf = write_rclone_conf(tmp_path / "rclone.conf", d, token)
    fakecloud.revoke_refresh_tokens()
    done = Rclone(fakecloud, conf)("lsf", "od:")
    assert done.returncode != 0
    # rclone reports only the OAuth error, not Entra's AADSTS text
    assert b"invalid_grant" in done.stderr
    grants = fakecloud.requests_to("login.microsoftonline.com", "/token")
    assert grants and all(r.status == 400 for r in grants)


def test_rclone_waits_out_throttling(rc: tuple[Rclone, Defaults], fakecloud: FakeCloud) -> None:
    rclone, _ = rc
    fakecloud.throttle(2, retry_after=1)
    t0 = time.monotonic()
    assert rclone.ok("cat", "od:Documents/hello.txt") == b"hello from the cloud\n"
    statuses = [r.status for r in fakecloud.requests_to("graph.microsoft.com")]
    assert statuses[:2] == [429, 429] and 200 in statuses[2:]
    assert time.monotonic() - t0 >= 1.0  # it honoured Retry-After rather than giving up


# ---------------------------------------------------------------------- token endpoint errors
@pytest.mark.parametrize(("kw", "secret", "status", "code"), [
    ({"secret_expired": True}, "s3cret", 401, 7000222),
    ({}, None, 401, 7000218),
    ({"redirect_platform": "mobile"}, "s3cret", 400, 700025),
    ({}, "wrong", 401, 7000215),
])
def test_token_endpoint_client_errors(fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch,
                                      kw: dict[str, Any], secret: str | None, status: int,
                                      code: int) -> None:
    fakecloud.add_app("c0ffee00-0000-4000-8000-000000000003", "s3cret", **kw)
    fakecloud.apply_env(monkeypatch)
    form = {"grant_type": "refresh_token", "refresh_token": "M.C5-x",
            "client_id": "c0ffee00-0000-4000-8000-000000000003"}
    if secret is not None:
        form["client_secret"] = secret
    r = requests.post("https://login.microsoftonline.com/common/oauth2/v2.0/token", data=form,
                      timeout=10)
    assert r.status_code == status
    body = r.json()
    assert body["error"] == "invalid_client" and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")


@pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")
def test_query_mode_delivery_and_basic_auth_refresh(fakecloud: FakeCloud,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    receiver: _Receiver) -> None:
    d = fakecloud.setup_default()
    app = msal_app(fakecloud, monkeypatch, d.client_id, d.secret)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=receiver.redirect_uri,
                                       response_mode="query")
    run_browser(fakecloud, flow["auth_uri"])
    assert receiver.got.wait(15), fakecloud.browser_log_text()
    assert "delivered GET" in fakecloud.wait_browser_log("delivered")
    assert receiver.params is not None
    result = app.acquire_token_by_auth_code_flow(flow, receiver.params)
    assert "refresh_token" in result, result
    # what rclone does: refresh with HTTP Basic client authentication
    r = requests.post("https://login.microsoftonline.com/common/oauth2/v2.0/token",
                      auth=(d.client_id, d.secret), timeout=10,
                      data={"grant_type": "refresh_token",
                            "refresh_token": result["refresh_token"]})
    assert r.status_code == 200 and r.json()["access_token"]


def test_graph_expired_token_and_503(fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch,
                                     ) -> None:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    tok = rclone_token(fakecloud, d)["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    fakecloud.throttle(1, status=503, retry_after=7)
    r = requests.get(f"https://graph.microsoft.com/v1.0/drives/{d.drive_id}", headers=h,
                     timeout=10)
    assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    assert r.json()["error"]["code"] == "serviceNotAvailable"
    r = requests.get(f"https://graph.microsoft.com/v1.0/drives/{d.drive_id}", headers=h,
                     timeout=10)
    assert r.status_code == 200
    quota = r.json()["quota"]
    assert quota["used"] == len(b"hello from the cloud\n")
    assert quota["remaining"] == quota["total"] - quota["used"]
    fakecloud.expire_access_tokens()
    r = requests.get("https://graph.microsoft.com/v1.0/me", headers=h, timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_upload_session_accepts_chunked_request_bodies(fakecloud: FakeCloud,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    h = {"Authorization": f"Bearer {rclone_token(fakecloud, d)['access_token']}"}
    s = requests.post(f"https://graph.microsoft.com/v1.0/drives/{d.drive_id}/items/root:"
                      "/Photos/pic.jpg:/createUploadSession", headers=h, timeout=10,
                      json={"item": {"@microsoft.graph.conflictBehavior": "replace"}})
    assert s.status_code == 200
    url = s.json()["uploadUrl"]
    data = os.urandom(700_000)
    first = requests.put(url, data=iter([data[:300_000]]), timeout=10,
                         headers={"Content-Range": f"bytes 0-299999/{len(data)}"})
    assert first.status_code == 202 and first.json()["nextExpectedRanges"] == ["300000-"]
    last = requests.put(url, data=iter([data[300_000:500_000], data[500_000:]]), timeout=10,
                        headers={"Content-Range": f"bytes 300000-699999/{len(data)}"})
    assert last.status_code == 201
    assert last.json()["file"]["hashes"]["quickXorHash"] == quickxor_b64(data)
    assert fakecloud.get_file(d.drive_id, "/Photos/pic.jpg") == data


def test_edit_from_another_device_and_server_side_copy(rc: tuple[Rclone, Defaults],
                                                       fakecloud: FakeCloud) -> None:
    rclone, d = rc
    drive = fakecloud.state.drives[d.drive_id]

    def graph_item(path: str) -> dict[str, Any]:
        with fakecloud.state.lock:
            item = fakecloud.state.resolve(drive, drive.items[drive.root_id], path)
            assert item is not None
            return fakecloud.graph.item_json(drive, item)

    before = graph_item("/Documents/hello.txt")
    time.sleep(1.1)  # fileSystemInfo has second precision
    fakecloud.put_file(d.drive_id, "/Documents/hello.txt", b"edited on the phone\n")
    after = graph_item("/Documents/hello.txt")
    assert after["id"] == before["id"]
    for key in ("eTag", "cTag", "lastModifiedDateTime"):
        assert after[key] != before[key], key
    assert after["file"]["hashes"]["quickXorHash"] != before["file"]["hashes"]["quickXorHash"]
    assert (after["fileSystemInfo"]["lastModifiedDateTime"]
            != before["fileSystemInfo"]["lastModifiedDateTime"])

    # rclone's server-side copy (POST .../copy, then the monitor URL): no download
    start = len(fakecloud.requests)
    rclone.ok("copyto", "od:Documents/hello.txt", "od:Documents/hello (copy).txt")
    assert fakecloud.get_file(d.drive_id, "/Documents/hello (copy).txt") == (
        b"edited on the phone\n")
    seen = [(r.method, r.host, r.path) for r in fakecloud.requests[start:]]
    assert any(m == "POST" and p.endswith("/copy") for m, _, p in seen)
    assert any(h == "api.onedrive.com" and p.startswith("/monitor/") for _, h, p in seen)
    assert not [s for s in seen if s[1] == "public.dm.files.1drv.com"]  # nothing downloaded


# ---------------------------------------------------------------------- delta, paged as Graph
def _graph_get(fakecloud: FakeCloud, d: Defaults, url: str) -> dict[str, Any]:
    token = rclone_token(fakecloud, d)["access_token"]
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"},
                     proxies={"https": fakecloud.proxy_url}, verify=str(fakecloud.ca_pem),
                     timeout=30)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _delta_pages(fakecloud: FakeCloud, d: Defaults, url: str) -> list[dict[str, Any]]:
    pages = [_graph_get(fakecloud, d, url)]
    while "@odata.nextLink" in pages[-1]:
        assert "@odata.deltaLink" not in pages[-1]
        pages.append(_graph_get(fakecloud, d, pages[-1]["@odata.nextLink"]))
    return pages


def test_delta_pages_like_graph(fakecloud: FakeCloud) -> None:
    d = fakecloud.setup_default()
    for i in range(450):
        fakecloud.put_file(d.drive_id, f"/Tree/d{i % 9}/f{i:03d}.txt", b"x")
    url = f"https://graph.microsoft.com/v1.0/drives/{d.drive_id}/root/delta?$top=1000"
    pages = _delta_pages(fakecloud, d, url)
    # at most 200 a page whatever $top asks; the deltaLink only on the last page
    assert [len(p["value"]) for p in pages][:-1] == [200] * (len(pages) - 1)
    assert "@odata.deltaLink" in pages[-1] and "@odata.nextLink" not in pages[-1]
    items = [i for p in pages for i in p["value"]]
    names = {i["name"] for i in items}
    assert {f"f{i:03d}.txt" for i in range(450)} <= names and "Documents" in names
    seen: set[str] = set()
    for item in items:  # parents come before their children
        parent = item["parentReference"].get("id")
        assert parent is None or parent in seen, item["name"]
        seen.add(item["id"])
    # the next round: only what changed since (with its ancestors), paged too
    delta_link = pages[-1]["@odata.deltaLink"]
    assert _graph_get(fakecloud, d, delta_link)["value"] == []
    for i in range(300):
        fakecloud.put_file(d.drive_id, f"/Tree/new/n{i:03d}.txt", b"y")
    fakecloud.state.delete_item(fakecloud.state.drives[d.drive_id], fakecloud.state.resolve(
        fakecloud.state.drives[d.drive_id],
        fakecloud.state.drives[d.drive_id].items[fakecloud.state.drives[d.drive_id].root_id],
        "/Tree/d0/f000.txt"))
    changes = _delta_pages(fakecloud, d, delta_link)
    assert len(changes) == 2 and "@odata.deltaLink" not in changes[0]
    changed = [i for p in changes for i in p["value"]]
    assert {i["name"] for i in changed if "file" in i} == {f"n{i:03d}.txt" for i in range(300)}
    assert {"root", "Tree", "new"} <= {i["name"] for i in changed if "folder" in i}
    assert [i["name"] for i in changed if "deleted" in i] == ["f000.txt"]
    # Microsoft's costs: 2 RU without a token, 1 RU with one and for every later page
    from .throttling import request_cost
    deltas = fakecloud.requests_to("graph.microsoft.com", "/delta")
    costs = [request_cost("GET", r.path, r.query, host_kind="graph") for r in deltas]
    assert costs == [2] + [1] * (len(pages) - 1) + [1] + [1] * len(changes)


def test_rclone_lists_recursively_through_delta(fakecloud: FakeCloud, tmp_path: Path) -> None:
    d = fakecloud.setup_default()
    for i in range(500):
        fakecloud.put_file(d.drive_id, f"/Many/d{i % 25:02d}/f{i:03d}.txt", b"x")
    conf = write_rclone_conf(tmp_path / "rclone.conf", d, rclone_token(fakecloud, d))
    listed = Rclone(fakecloud, conf).ok("lsf", "-R", "--onedrive-delta", "od:Many").decode()
    assert len([ln for ln in listed.split() if ln.endswith(".txt")]) == 500
    assert not fakecloud.requests_to("graph.microsoft.com", "/children")
    deltas = fakecloud.requests_to("graph.microsoft.com", "/delta")
    assert len(deltas) >= 3 and deltas[1].query.get("$skiptoken")
