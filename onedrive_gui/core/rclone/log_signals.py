"""What rclone's log lines say about a mount: throttled, offline, sign-in needed, cache full.

rclone reports these only in its log (its rc API has no field for them). The rcd's log file
is written by the app (filtered and redacted, see ``process``); :class:`LogTail` reads what
was appended since the last look and :func:`classify` turns a line into a :class:`Signal`.
Examples of the lines (rclone 1.74/1.75, OneDrive backend)::

    DEBUG : Too many requests. Trying again in 2 seconds.
    DEBUG : od: got fatal oauth error: oauth2: "invalid_grant" "AADSTS50173: The provided ..."
    ERROR : OneDrive root '': Background token refresher failed: Get "...": couldn't fetch
            token: invalid_grant: maybe token expired? - try refreshing with "rclone config
            reconnect od:"
    ERROR : big.bin: Failed to copy: Post "...": couldn't fetch token: Post "https://login
            .microsoftonline.com/common/oauth2/v2.0/token": dial tcp: lookup ...: no such host
    ERROR : IO error: write /home/u/.cache/onedrive-gui/rclone/vfs/od/big.bin: no space left
            on device
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_MAX_LOG_READ = 1 << 20  # bytes of new log read per look at most

THROTTLED = "throttled"
SIGN_IN = "sign-in"
OFFLINE = "offline"
CACHE_FULL = "cache-full"

# rclone's OneDrive backend on 429 and 503 with Retry-After (DEBUG):
_THROTTLE_RES = (
    re.compile(r"Too many requests\. Trying again in (\d+(?:\.\d+)?) seconds?"),
    re.compile(r"Too many requests: trying again in (\d+(?:\.\d+)?)s\b"),
)
_LEVEL_RE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? +([A-Z]+) *:")
_FATAL_OAUTH_RE = re.compile(
    r':\s*([^\s:]+): got fatal oauth error: oauth2: "([a-z_]+)" "((?:[^"\\]|\\.)*)"'
)
_RECONNECT_RE = re.compile(r"rclone config reconnect ([^\s:\"]+):")
_TOKEN_FAIL_RE = re.compile(r"couldn't fetch token: (invalid_grant|invalid_client|unauthorized"
                            r"_client|oauth2: \"(invalid_grant|invalid_client|unauthorized_client)"
                            r"\")")
_NO_SPACE = "no space left on device"
_CACHE_PATH_RE = re.compile(r"[/\\]vfs(?:Meta)?[/\\]([^/\\]+)[/\\](.+?): no space left on device")
# How a network that does not work shows in Go's errors (and the proxy's / gateway's answers).
_NETWORK_MARKS = (
    "no such host", "connection refused", "network is unreachable", "i/o timeout",
    "tls handshake timeout", "connection reset by peer", "no route to host",
    "proxyconnect tcp", "bad gateway", "gateway timeout", "server misbehaving",
    "temporary failure in name resolution", "unexpected eof", "broken pipe",
    "client.timeout exceeded", "dial tcp",
)


@dataclass(frozen=True)
class Signal:
    """One thing a log line says. *remote*: the rclone remote it names (without ':'), if any."""

    kind: str
    remote: str | None = None
    seconds: float | None = None  # THROTTLED: how long the cloud asked to wait
    error: str | None = None  # SIGN_IN: the OAuth error ("invalid_grant", ...)
    detail: str | None = None  # SIGN_IN: Microsoft's description; CACHE_FULL: the file


def parse_throttle(line: str) -> float | None:
    """Seconds to wait when *line* is rclone's throttling message, else None."""
    for pat in _THROTTLE_RES:
        m = pat.search(line)
        if m:
            return float(m.group(1))
    return None


def classify(line: str) -> Signal | None:
    """The :class:`Signal` in one rclone log line, or None for every other line."""
    seconds = parse_throttle(line)
    if seconds is not None:
        return Signal(THROTTLED, seconds=seconds)
    m = _FATAL_OAUTH_RE.search(line)
    if m:
        detail = m.group(3).replace("\\r", "\r").replace("\\n", "\n").replace('\\"', '"')
        return Signal(SIGN_IN, remote=m.group(1), error=m.group(2), detail=detail)
    level_m = _LEVEL_RE.match(line)
    if level_m is None or level_m.group(1) not in ("ERROR", "NOTICE", "CRITICAL"):
        return None
    return classify_error(line)


def classify_error(text: str) -> Signal | None:
    """The :class:`Signal` in an error rclone reports (an ERROR log line, or the error text
    of an rc call): sign-in refused, cloud unreachable, cache disk full."""
    low = text.lower()
    if _NO_SPACE in low:
        pm = _CACHE_PATH_RE.search(text)
        return Signal(CACHE_FULL, remote=pm.group(1) if pm else None,
                      detail=pm.group(2) if pm else None)
    t = _TOKEN_FAIL_RE.search(text)
    if t:
        r = _RECONNECT_RE.search(text)
        return Signal(SIGN_IN, remote=r.group(1) if r else None,
                      error=t.group(2) or t.group(1))
    if any(mark in low for mark in _NETWORK_MARKS):
        return Signal(OFFLINE)
    return None


class LogTail:
    """New complete lines appended to a file since the last read (survives truncation)."""

    def __init__(self, path: Path, *, from_end: bool = True) -> None:
        self.path = path
        self._offset = 0
        self._rest = b""
        if from_end:
            try:
                self._offset = path.stat().st_size
            except OSError:
                self._offset = 0

    def read_lines(self) -> list[str]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self._offset:  # truncated or replaced
            self._offset, self._rest = 0, b""
        if size - self._offset > _MAX_LOG_READ:
            self._offset, self._rest = size - _MAX_LOG_READ, b""
        if size == self._offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read(size - self._offset)
        self._offset += len(data)
        data = self._rest + data
        *lines, self._rest = data.split(b"\n")
        return [ln.decode("utf-8", "replace") for ln in lines]
