"""The CONNECT proxy: terminates TLS for the emulated hosts and serves them over HTTP/1.1.

Clients reach the emulated cloud exactly as they reach the real one through a corporate
proxy: ``HTTPS_PROXY=http://127.0.0.1:<port>`` plus the test CA in their trust store.
Any other host gets 403 (nothing is ever connected to outside).
"""

from __future__ import annotations

import http.server
import logging
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .messages import Request, Response
from .state import CloudState, RequestRecord

log = logging.getLogger("fakecloud")

Dispatcher = Callable[[Request], Response]


def read_body(rfile: Any, headers: Any) -> bytes:
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            line = rfile.readline(65537)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(rfile.read(size))
            rfile.readline(65537)
        return b"".join(chunks)
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length else b""


class _TunnelHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive over the TLS side of a CONNECT tunnel."""

    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    host = ""
    proxy: ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.host, *args)

    def _serve(self) -> None:
        proxy = self.proxy
        if proxy.state.down:
            self.close_connection = True
            return
        body = read_body(self.rfile, self.headers)
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = self.host
        req = Request(self.command, host, self.path, headers, body)
        record = RequestRecord(self.command, host, req.raw_path, req.query, headers,
                               time=time.time())
        with proxy.state.lock:
            proxy.state.requests.append(record)
        resp = proxy.dispatch(req)
        record.status = resp.status
        log.info("%s %s%s -> %d", self.command, host, self.path[:200], resp.status)
        self.send_response(resp.status)
        names = {k.lower() for k, _ in resp.headers}
        for k, v in resp.headers:
            self.send_header(k, v)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("request-id", record.headers.get("client-request-id", "") or "-")
        if (headers.get("connection") or "").lower() == "close":
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ThreadingServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("proxy " + format, *args)

    def _refuse(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_CONNECT(self) -> None:
        proxy = self.server.proxy
        host, _, port = self.path.rpartition(":")
        host = host.strip("[]").lower()
        if proxy.state.down:
            self.close_connection = True
            self._refuse(502, "fakecloud: network is down")
            return
        if port != "443" or host not in proxy.hosts:
            self._refuse(403, f"fakecloud: {self.path} is not an emulated host")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            tls = proxy.ssl_context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("TLS handshake for %s failed: %s", host, exc)
            return
        proxy.track(tls, True)
        try:
            handler_cls = type("Tunnel", (_TunnelHandler,), {"host": host, "proxy": proxy})
            handler_cls(tls, self.client_address, self.server)
        except (OSError, ssl.SSLError) as exc:
            log.debug("tunnel to %s closed: %s", host, exc)
        finally:
            proxy.track(tls, False)
            try:
                tls.close()
            except OSError:
                pass

    def _plain(self) -> None:
        self.close_connection = True
        self._refuse(403, "fakecloud: only CONNECT to emulated hosts is allowed")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _plain


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    proxy: ProxyServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            log.debug("connection from %s ended: %s", client_address, exc)
            return
        super().handle_error(request, client_address)


class ProxyServer:
    def __init__(self, state: CloudState, dispatch: Dispatcher, ssl_context: ssl.SSLContext,
                 hosts: set[str], port: int = 0) -> None:
        self.state = state
        self.dispatch = dispatch
        self.ssl_context = ssl_context
        self.hosts = hosts
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.httpd = _ThreadingServer(("127.0.0.1", port), _ProxyHandler)
        self.httpd.proxy = self
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._socks.add if add else self._socks.discard)(sock)

    def drop_connections(self) -> None:
        """Close every open tunnel (clients see their connections reset)."""
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fakecloud-proxy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.drop_connections()
        if self._thread is not None:
            self._thread.join(5)
