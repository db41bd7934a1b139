"""One-shot receiver of the OAuth redirect on the loopback interface.

The browser is sent to ``http://localhost:<port>/`` after consent. ``localhost`` may resolve
to 127.0.0.1 or ::1 first, so the receiver listens on both, on one port. It accepts exactly
one answer whose ``state`` matches, either as a GET query or as a ``form_post`` POST body,
and then answers every later request with 410. Requests are read with hard limits on size
and time, each on its own thread, so a slow or hostile client cannot block a good one or the
shutdown.
"""

from __future__ import annotations

import errno
import hmac
import html
import logging
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from onedrive_gui.core.errors import CancelledError, NetworkError, SignInTimeoutError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.logging_setup import register_secret

log = logging.getLogger(__name__)

DEFAULT_PORT = 53682
MAX_HEAD = 16 * 1024  # request line + headers
MAX_BODY = 64 * 1024  # form_post body
CONNECTION_BUDGET = 10.0  # seconds a client has to send its whole request
MAX_CONNECTIONS = 32
_FALLBACK_ATTEMPTS = 20
_BUSY_ERRNOS = {errno.EADDRINUSE, errno.EACCES, 10013, 10048}  # + WSAEACCES, WSAEADDRINUSE
_NO_IPV6_ERRNOS = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            410: "Gone", 411: "Length Required", 413: "Content Too Large",
            415: "Unsupported Media Type", 431: "Request Header Fields Too Large",
            501: "Not Implemented"}


@dataclass(frozen=True, repr=False)
class RedirectResult:
    """What the browser brought back: code + state, or error + error_description + state."""

    params: dict[str, str]

    def __repr__(self) -> str:  # the code is a secret
        return f"RedirectResult(keys={sorted(self.params)})"


class _Reject(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _listen(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name == "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined,unused-ignore]
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(16)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _bind_pair(port: int) -> list[socket.socket]:
    """Listening sockets on 127.0.0.1 and ::1 (when the host has IPv6), on one port."""
    v4 = _listen(socket.AF_INET, "127.0.0.1", port)
    actual = int(v4.getsockname()[1])
    if not socket.has_ipv6:
        return [v4]
    try:
        v6 = _listen(socket.AF_INET6, "::1", actual)
    except OSError as exc:
        if exc.errno in _NO_IPV6_ERRNOS:
            log.debug("no IPv6 loopback here (%s); listening on 127.0.0.1 only", exc)
            return [v4]
        v4.close()
        raise
    return [v4, v6]


def _page(title: str, text: str) -> bytes:
    body = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:3em;max-width:40em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return body.encode("utf-8")


class LoopbackReceiver:
    """Receives one OAuth redirect on http://localhost:<port>/ (context manager)."""

    def __init__(self, expected_state: str, *, port: int = DEFAULT_PORT,
                 allow_fallback: bool = True) -> None:
        if not expected_state:
            raise ValueError("expected_state must not be empty")
        self._expected_state = expected_state
        self._requested_port = port
        self._allow_fallback = allow_fallback
        self.port = 0
        self.fell_back = False
        self.redirect_uri = ""
        self._cond = threading.Condition()
        self._result: RedirectResult | None = None
        # an answer was taken (its page still being sent): wait() returns it only once the
        # browser has its page, since the caller then closes the receiver and its connections
        self._answered = False
        self._cancelled = False
        self._closing = False
        self._socks: list[socket.socket] = []
        self._conns: set[socket.socket] = set()
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("LoopbackReceiver already started")
        self._socks = self._bind()
        self.port = int(self._socks[0].getsockname()[1])
        self.redirect_uri = f"http://localhost:{self.port}/"
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._thread = threading.Thread(target=self._accept_loop, name="loopback-receiver",
                                        daemon=True)
        self._thread.start()
        log.info("waiting for the sign-in redirect on %s", self.redirect_uri)

    def _bind(self) -> list[socket.socket]:
        try:
            return _bind_pair(self._requested_port)
        except OSError as exc:
            if exc.errno not in _BUSY_ERRNOS and getattr(exc, "winerror", None) not in (
                    10013, 10048):
                raise NetworkError(
                    _("Cannot listen for the sign-in"),
                    _(
                        "The app could not open port {requested_port} on this computer "
                        "({value})."
                    ).format(requested_port=self._requested_port, value=exc.strerror or exc),
                    _("Check that nothing blocks local connections (security software), then "
                    "try again."),
                ) from exc
            if not self._allow_fallback:
                raise NetworkError(
                    _("Port in use"),
                    _(
                        "Port {requested_port} on this computer is already in use by another "
                        "program."
                    ).format(requested_port=self._requested_port),
                    _("Close the other program (for example a running 'rclone authorize'), or "
                    "choose another port."),
                ) from exc
        last: OSError | None = None
        for _attempt in range(_FALLBACK_ATTEMPTS):
            try:
                socks = _bind_pair(0)
            except OSError as exc:  # the port was free on IPv4 but taken on IPv6: try again
                last = exc
                continue
            self.fell_back = True
            log.info("port %d is in use; using port %d", self._requested_port,
                     socks[0].getsockname()[1])
            return socks
        raise NetworkError(
            _("No free port"),
            _(
                "Port {requested_port} is in use and no other free port was found ({last})."
            ).format(requested_port=self._requested_port, last=last),
            _("Close some programs that listen on this computer and try again."),
        )

    def __enter__(self) -> LoopbackReceiver:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def cancel(self) -> None:
        """Make wait() raise CancelledError (from any thread)."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    def close(self) -> None:
        """Stop listening, drop open connections, release the port. Idempotent."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify_all()
            conns = list(self._conns)
        if self._wake_w is not None:
            try:
                self._wake_w.send(b"x")
            except OSError as exc:
                log.debug("loopback wake-up failed: %s", exc)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        for s in self._socks:
            s.close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                log.debug("loopback connection already gone: %s", exc)
        for w in (self._wake_r, self._wake_w):
            if w is not None:
                w.close()

    # ------------------------------------------------------------------ waiting
    def wait(self, timeout: float) -> RedirectResult:
        """Block until the browser comes back; SignInTimeoutError or CancelledError."""
        if self._thread is None:
            raise RuntimeError("LoopbackReceiver.wait() before start()")
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._result is not None:
                    return self._result
                if self._cancelled or self._closing:
                    raise CancelledError(_("Sign-in cancelled"), _("The sign-in was cancelled."),
                                         _("Start the sign-in again when you are ready."))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SignInTimeoutError(
                        _("No answer from the browser"),
                        _(
                            "The browser did not come back to the app within {timeout:g} "
                            "seconds."
                        ).format(timeout=timeout),
                        _("Try again and finish signing in in the browser. If the browser "
                        "showed an error page, its AADSTS code tells what to fix in your app "
                        "registration. If no browser opened, open the sign-in link yourself."),
                    )
                # short slices keep Ctrl-C responsive where lock waits are not interruptible
                self._cond.wait(min(remaining, 0.5))

    # ------------------------------------------------------------------ serving
    def _accept_loop(self) -> None:
        assert self._wake_r is not None
        sel = selectors.DefaultSelector()
        try:
            sel.register(self._wake_r, selectors.EVENT_READ)
            for s in self._socks:
                sel.register(s, selectors.EVENT_READ)
            while not self._closing:
                for key, _events in sel.select():
                    if key.fileobj is self._wake_r:
                        return
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    try:
                        conn, _addr = sock.accept()
                    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                        continue
                    with self._cond:
                        if self._closing or len(self._conns) >= MAX_CONNECTIONS:
                            conn.close()
                            continue
                        self._conns.add(conn)
                    threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                     name="loopback-conn").start()
        finally:
            sel.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.setblocking(True)
            deadline = time.monotonic() + CONNECTION_BUDGET
            try:
                status, title, text, result = self._handle(*self._read_request(conn, deadline))
            except _Reject as rej:
                status, title, text, result = rej.status, _("Request refused"), rej.text, None
            try:
                self._respond(conn, status, title, text)
            finally:  # the browser has its page (or went away): now the caller may go on
                if result is not None:
                    with self._cond:
                        self._result = result
                        self._cond.notify_all()
        except (OSError, ValueError) as exc:  # client went away, timed out, or sent garbage
            log.debug("loopback connection dropped: %s", type(exc).__name__)
        finally:
            with self._cond:
                self._conns.discard(conn)
            conn.close()

    @staticmethod
    def _recv(conn: socket.socket, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("client too slow")
        conn.settimeout(remaining)
        return conn.recv(8192)

    def _read_request(self, conn: socket.socket, deadline: float,
                      ) -> tuple[str, str, dict[str, str], bytes]:
        buf = b""
        while b"\r\n\r\n" not in buf:
            if len(buf) > MAX_HEAD:
                raise _Reject(431, _("The request headers are too large."))
            chunk = self._recv(conn, deadline)
            if not chunk:
                raise ConnectionResetError("client closed the connection")
            buf += chunk
        head, _sep, body = buf.partition(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            raise _Reject(431, _("The request headers are too large."))
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _Reject(400, _("Malformed request."))
        method, target = parts[0], parts[1]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise _Reject(400, _("Malformed header."))
            headers[name.lower()] = value.strip()
        if method == "POST":
            if "transfer-encoding" in headers:
                raise _Reject(411, _("Send the form with a Content-Length."))
            try:
                length = int(headers.get("content-length", ""))
            except ValueError:
                raise _Reject(411, _("Send the form with a Content-Length.")) from None
            if length < 0 or length > MAX_BODY:
                raise _Reject(413, _("The request body is too large."))
            while len(body) < length:
                chunk = self._recv(conn, deadline)
                if not chunk:
                    raise ConnectionResetError("client closed the connection")
                body += chunk
                if len(body) > MAX_BODY:
                    raise _Reject(413, _("The request body is too large."))
            body = body[:length]
        return method, target, headers, body

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes,
                ) -> tuple[int, str, str, RedirectResult | None]:
        """The page to answer with, and the sign-in answer when this request carries it."""
        host = urlsplit("//" + headers.get("host", "")).hostname or ""
        if host not in _LOCAL_HOSTS:
            raise _Reject(400, _("This address only answers requests for localhost."))
        url = urlsplit(target)
        if url.path != "/":
            raise _Reject(404, _("Nothing here."))
        if method == "GET":
            raw = url.query
        elif method == "POST":
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                raise _Reject(415, _("Expected a form."))
            try:
                raw = body.decode("utf-8")
            except UnicodeDecodeError:
                raise _Reject(400, _("Malformed sign-in answer.")) from None
        else:
            raise _Reject(405, _("Only GET and POST are accepted."))
        try:
            params = dict(parse_qsl(raw, keep_blank_values=True, max_num_fields=64))
        except ValueError:
            raise _Reject(400, _("Malformed sign-in answer.")) from None
        with self._cond:
            if self._answered or self._closing or self._cancelled:
                log.info("loopback: refused a request after the sign-in ended")
                return 410, _("Sign-in already finished"), (
                    _("This sign-in is over. Return to the app; start a new sign-in there if "
                    "needed.")), None
            state = params.get("state", "")
            if not state or not hmac.compare_digest(state.encode(),
                                                    self._expected_state.encode()):
                log.warning("loopback: refused an answer whose state does not match")
                return 400, _("Not this sign-in"), (
                    _("This answer does not belong to the sign-in the app is waiting for. "
                    "Finish the sign-in in the tab the app opened.")), None
            if "code" not in params and "error" not in params:
                return 400, _("No sign-in answer"), _("The request carries neither a code nor an "\
                    "error."), None
            register_secret(params.get("code"))
            self._answered = True
        result = RedirectResult(params)
        if "error" in params:
            desc = params.get("error_description") or params["error"]
            first = desc.splitlines()[0] if desc.strip() else params["error"]
            return 200, _("Sign-in failed"), _(
                "{first} — Return to the app for what to do."
            ).format(first=first[:300]), result
        return 200, _("Signed in — you can close this tab"), (
            _("Signed in — you can close this tab. OneDrive GUI finishes the sign-in and shows "
            "the result.")), result

    @staticmethod
    def _respond(conn: socket.socket, status: int, title: str, text: str) -> None:
        body = _page(title, text)
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n"
            "Cache-Control: no-store\r\n"
            "Referrer-Policy: no-referrer\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
            "\r\n"
        ).encode("latin-1")
        conn.settimeout(5)
        conn.sendall(head + body)
        conn.shutdown(socket.SHUT_WR)
        # Let the client read the answer before the close: drain a little of what it still
        # sends (a refused oversized request), bounded in time and size.
        deadline = time.monotonic() + 1.0
        drained = 0
        while drained < 4 * MAX_BODY and time.monotonic() < deadline:
            conn.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = conn.recv(65536)
            except OSError as exc:
                log.debug("loopback: client gone after the answer (%s)", type(exc).__name__)
                break
            if not chunk:
                break
            drained += len(chunk)
