"""The fake web browser: plays the user on the emulated sign-in pages.

Run as ``BROWSER`` by Python's webbrowser (or anything else) with the URL as the only
argument. It detaches at once (webbrowser waits for it) and exits 0; the detached child:

- GETs the URL through HTTPS_PROXY, trusting SSL_CERT_FILE;
- on an error page: logs the page's text and stops (the user sees the error);
- FAKE_BROWSER_ACTION=ignore: does nothing more (the user closed the tab);
- otherwise posts the consent form as FAKE_BROWSER_USER (default: the account the page
  suggests) with approve or deny, then delivers the result to the redirect URI directly
  (form_post POST or query GET), trying localhost's addresses in getaddrinfo order, and logs
  the loopback server's answer.

Every step is appended to FAKE_BROWSER_LOG. Standard library only.
"""

from __future__ import annotations

import html.parser
import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit


def log(msg: str) -> None:
    path = os.environ.get("FAKE_BROWSER_LOG")
    line = f"{time.strftime('%H:%M:%S')} {msg}\n"
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
    else:
        sys.stderr.write(line)


class _FormParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "title"):
            self._skip += 1
        if tag == "form":
            self.forms.append({"action": a.get("action", ""),
                               "method": a.get("method", "GET").upper(), "fields": []})
        elif tag == "input" and self.forms and a.get("name") and \
                a.get("type", "text") != "submit":
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, list)
            fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())


def parse(page: str) -> _FormParser:
    p = _FormParser()
    p.feed(page)
    return p


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def opener() -> urllib.request.OpenerDirector:
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or ""
    cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
    ctx = ssl.create_default_context(cafile=cafile)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": proxy} if proxy else {}),
        urllib.request.HTTPSHandler(context=ctx), _NoRedirect())


def fetch(op: urllib.request.OpenerDirector, url: str, data: bytes | None = None,
          ) -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, data=data, headers={
        "User-Agent": "Mozilla/5.0 (fakecloud browser)"})
    try:
        with op.open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode("utf-8", "replace")


def deliver(url: str, method: str, body: bytes | None) -> None:
    """Send the sign-in result to the app's loopback redirect URI, as a browser would."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = {"Host": parts.netloc, "User-Agent": "Mozilla/5.0 (fakecloud browser)"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        log(f"deliver-failed {host}: {exc}")
        return
    last: Exception | None = None
    for family, _, _, _, addr in infos:
        conn = http.client.HTTPConnection(addr[0], port, timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            text = " ".join(parse(resp.read().decode("utf-8", "replace")).text)
            fam = "ipv6" if family == socket.AF_INET6 else "ipv4"
            log(f"delivered {method} {fam} {resp.status} {text}")
            return
        except OSError as exc:
            last = exc
        finally:
            conn.close()
    log(f"deliver-failed {url}: {last}")


def run(url: str) -> int:
    action = os.environ.get("FAKE_BROWSER_ACTION", "approve")
    log(f"open {url}")
    op = opener()
    status, _, page = fetch(op, url)
    doc = parse(page)
    consent = next((f for f in doc.forms if "consent" in str(f["action"])), None)
    if status != 200 or consent is None:
        log(f"error-page {status} {' '.join(doc.text)}")
        return 0
    if action == "ignore":
        log("ignored (tab closed)")
        return 0
    fields = [(k, v) for k, v in consent["fields"] if k != "login"]  # type: ignore[union-attr]
    suggested = dict(consent["fields"]).get("login", "")  # type: ignore[call-overload]
    user = os.environ.get("FAKE_BROWSER_USER") or suggested
    fields += [("login", user), ("action", "approve" if action == "approve" else "deny")]
    log(f"consent {action} as {user}")
    status, headers, page = fetch(op, str(consent["action"]), urlencode(fields).encode())
    if status in (301, 302, 303):
        location = headers.get("Location") or headers.get("location") or ""
        deliver(location, "GET", None)
        return 0
    doc = parse(page)
    if status != 200 or not doc.forms:
        log(f"error-page {status} {' '.join(doc.text)}")
        return 0
    form = doc.forms[0]
    body = urlencode(form["fields"]).encode()  # type: ignore[arg-type]
    deliver(str(form["action"]), str(form["method"]), body)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "--child":
        try:
            return run(argv[1])
        except Exception as exc:
            log(f"browser-crashed {type(exc).__name__}: {exc}")
            return 1
    if not argv:
        sys.stderr.write("usage: browser.py URL\n")
        return 2
    subprocess.Popen(  # detach: the caller (webbrowser) waits for us
        [sys.executable, os.path.abspath(__file__), "--child", argv[0]],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
