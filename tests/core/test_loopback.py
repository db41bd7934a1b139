"""The loopback redirect receiver, spoken to as a browser (and a hostile client) would."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from onedrive_gui.core.errors import CancelledError, NetworkError, SignInTimeoutError
from onedrive_gui.core.microsoft.loopback import MAX_BODY, MAX_HEAD, LoopbackReceiver

STATE = "st-abc123"


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def _request(port: int, method: str = "GET", target: str = "/", body: bytes | None = None,
             headers: dict[str, str] | None = None, host: str = "127.0.0.1",
             ) -> tuple[int, str]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        h = {"Host": f"localhost:{port}"}
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn.request(method, target, body=body, headers=h)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def _get(port: int, params: dict[str, str], **kw: object) -> tuple[int, str]:
    return _request(port, "GET", "/?" + urlencode(params), **kw)  # type: ignore[arg-type]


def _post(port: int, params: dict[str, str], **kw: object) -> tuple[int, str]:
    return _request(port, "POST", "/", urlencode(params).encode(), **kw)  # type: ignore[arg-type]


@pytest.fixture
def rx() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver(STATE, port=0) as r:
        yield r


def test_get_with_matching_state_is_accepted_once_then_410(rx: LoopbackReceiver) -> None:
    assert rx.redirect_uri == f"http://localhost:{rx.port}/"
    status, page = _get(rx.port, {"code": "the-code", "state": STATE})
    assert status == 200
    assert "Signed in — you can close this tab" in page
    assert rx.wait(5).params == {"code": "the-code", "state": STATE}
    # a replayed or second answer is refused
    status, page = _get(rx.port, {"code": "the-code", "state": STATE})
    assert status == 410
    status, _ = _post(rx.port, {"code": "other", "state": STATE})
    assert status == 410
    assert rx.wait(1).params["code"] == "the-code"


def test_the_browser_gets_its_page_although_the_app_closes_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The sign-in closes the receiver as soon as wait() returns the answer: the page for the
    browser that brought it must already be on its way. (The receiver's answering thread is
    slowed down here, as on a busy computer, where the page was lost: "connection closed".)"""
    respond = LoopbackReceiver._respond

    def slow_respond(*args: object) -> None:
        threading.Event().wait(0.3)
        respond(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(LoopbackReceiver, "_respond", staticmethod(slow_respond))
    rx = LoopbackReceiver(STATE, port=0)
    rx.start()
    answered = threading.Thread(target=lambda: (rx.wait(10), rx.close()))
    answered.start()
    try:
        status, page = _post(rx.port, {"code": "c0de", "state": STATE})
    finally:
        answered.join(10)
        rx.close()
    assert status == 200 and "Signed in — you can close this tab" in page


def test_form_post_is_accepted(rx: LoopbackReceiver) -> None:
    status, page = _post(rx.port, {"code": "c0de", "state": STATE, "session_state": "x"})
    assert status == 200, page
    assert rx.wait(5).params["code"] == "c0de"


def test_state_mismatch_or_missing_is_refused_and_receiver_keeps_waiting(
        rx: LoopbackReceiver) -> None:
    status, page = _post(rx.port, {"code": "evil", "state": "forged"})
    assert status == 400
    assert "does not belong" in page
    status, _ = _get(rx.port, {"code": "evil"})
    assert status == 400
    with pytest.raises(SignInTimeoutError):
        rx.wait(0.2)  # nothing accepted yet
    status, _ = _get(rx.port, {"code": "good", "state": STATE})
    assert status == 200
    assert rx.wait(5).params["code"] == "good"


def test_foreign_path_method_and_host_are_refused(rx: LoopbackReceiver) -> None:
    good = urlencode({"code": "x", "state": STATE})
    assert _request(rx.port, "GET", "/favicon.ico")[0] == 404
    assert _request(rx.port, "GET", "/callback?" + good)[0] == 404
    assert _request(rx.port, "PUT", "/?" + good, body=b"")[0] == 405
    # DNS rebinding: a page on another site resolving to 127.0.0.1 sends its own Host
    assert _request(rx.port, "GET", "/?" + good, headers={"Host": "evil.example:80"})[0] == 400
    # a form in another encoding is not a form_post answer
    assert _request(rx.port, "POST", "/", body=b'{"code":"x"}',
                    headers={"Content-Type": "application/json"})[0] == 415
    with pytest.raises(SignInTimeoutError):
        rx.wait(0.2)
    assert _request(rx.port, "GET", "/?" + good)[0] == 200
    assert rx.wait(5).params["code"] == "x"


def test_error_answer_is_accepted_and_shown_escaped(rx: LoopbackReceiver) -> None:
    status, page = _post(rx.port, {"error": "access_denied", "state": STATE,
                                   "error_description": "AADSTS65004: <script>x()</script>"})
    assert status == 200
    assert "<script>" not in page
    assert "AADSTS65004: &lt;script&gt;x()&lt;/script&gt;" in page
    assert rx.wait(5).params["error"] == "access_denied"


def test_ipv4_and_ipv6_loopback_on_the_same_port(rx: LoopbackReceiver) -> None:
    if _has_ipv6_loopback():
        status, _ = _get(rx.port, {"code": "v6", "state": STATE}, host="::1")
        assert status == 200
        assert rx.wait(5).params["code"] == "v6"
        assert _get(rx.port, {"code": "v4", "state": STATE})[0] == 410
    else:  # a host without IPv6: IPv4 alone must work
        assert _get(rx.port, {"code": "v4", "state": STATE})[0] == 200
        assert rx.wait(5).params["code"] == "v4"


def test_huge_headers_and_body_are_refused_and_receiver_survives(rx: LoopbackReceiver) -> None:
    big = "a" * (MAX_HEAD + 1024)
    try:
        status, _ = _request(rx.port, "GET", "/", headers={"X-Big": big})
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        status = 431  # the receiver hung up before reading it all: also a refusal
    assert status == 431
    try:
        status, _ = _post(rx.port, {"code": "x" * (MAX_BODY + 10), "state": STATE})
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        status = 413
    assert status == 413
    # a lying Content-Length is refused before any body is read
    with socket.create_connection(("127.0.0.1", rx.port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: 999999999\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 413")
    with pytest.raises(SignInTimeoutError):
        rx.wait(0.1)
    assert _get(rx.port, {"code": "ok", "state": STATE})[0] == 200
    assert rx.wait(5).params["code"] == "ok"


def test_slow_client_blocks_neither_a_good_one_nor_the_shutdown() -> None:
    rx = LoopbackReceiver(STATE, port=0)
    rx.start()
    slow = socket.create_connection(("127.0.0.1", rx.port), timeout=30)
    try:
        slow.sendall(b"GET /?state=" + STATE.encode() + b"&code=slow HTTP/1.1\r\nHo")
        assert _get(rx.port, {"code": "fast", "state": STATE})[0] == 200
        assert rx.wait(5).params["code"] == "fast"
        rx.close()
        # the stalled connection is dropped by close(), not left hanging
        assert slow.recv(100) == b""
    finally:
        slow.close()
        rx.close()
    _assert_port_free(rx.port)


def test_timeout_and_cancel() -> None:
    with LoopbackReceiver(STATE, port=0) as rx:
        with pytest.raises(SignInTimeoutError) as err:
            rx.wait(0.2)
        assert "did not come back" in err.value.message
        threading.Timer(0.2, rx.cancel).start()
        with pytest.raises(CancelledError) as cancelled:
            rx.wait(30)
        assert not isinstance(cancelled.value, SignInTimeoutError)
        assert cancelled.value.exit_code == 130
        port = rx.port
    _assert_port_free(port)


def _assert_port_free(port: int) -> None:
    """A new receiver (or rclone) can listen on the port again, on both families."""
    with LoopbackReceiver(STATE, port=port, allow_fallback=False) as again:
        assert again.port == port


def _hold(family: socket.AddressFamily, host: str, port: int = 0) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    s.listen(1)
    return s


def test_busy_port_falls_back_to_a_free_one() -> None:
    held = _hold(socket.AF_INET, "127.0.0.1")
    busy = held.getsockname()[1]
    try:
        with LoopbackReceiver(STATE, port=busy) as rx:
            assert rx.fell_back
            assert rx.port != busy
            assert rx.redirect_uri == f"http://localhost:{rx.port}/"
            assert _post(rx.port, {"code": "c", "state": STATE})[0] == 200
            assert rx.wait(5).params["code"] == "c"
        with pytest.raises(NetworkError) as err:
            LoopbackReceiver(STATE, port=busy, allow_fallback=False).start()
        assert f"Port {busy}" in err.value.message
    finally:
        held.close()


def test_port_busy_on_ipv6_only_also_falls_back() -> None:
    if not _has_ipv6_loopback():
        # without IPv6 the receiver uses IPv4 alone and keeps the requested port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        with LoopbackReceiver(STATE, port=free) as rx:
            assert rx.port == free and not rx.fell_back
        return
    held = _hold(socket.AF_INET6, "::1")
    busy = held.getsockname()[1]
    try:
        with LoopbackReceiver(STATE, port=busy) as rx:
            assert rx.fell_back and rx.port != busy
            assert _get(rx.port, {"code": "c6", "state": STATE}, host="::1")[0] == 200
            assert rx.wait(5).params["code"] == "c6"
    finally:
        held.close()


def test_repr_does_not_show_the_code(rx: LoopbackReceiver) -> None:
    _get(rx.port, {"code": "secret-code-value", "state": STATE})
    assert "secret-code-value" not in repr(rx.wait(5))
