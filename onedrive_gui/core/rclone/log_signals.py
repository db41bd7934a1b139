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

Locale-proof: on Windows, rclone (Go) reports the system's own error text in the user's
language ("Auf dem Datenträger ist nicht genügend Speicherplatz vorhanden.", "wsarecv: 远程主机
强迫关闭了一个现有的连接。"), so no fault is recognised by such a text. What is the same in every
language is the *shape* Go gives an error — the operation and what it was done on ("write
<path>", "read tcp <addr>", "dial tcp", "lookup <host>") — and the state of the machine: a
failed write into the VFS cache means "cache disk full" only when that disk has (almost) no
free space left (:func:`classify_lines` asks ``shutil.disk_usage``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_MAX_LOG_READ = 1 << 20  # bytes of new log read per look at most

THROTTLED = "throttled"
SIGN_IN = "sign-in"
OFFLINE = "offline"
CACHE_FULL = "cache-full"
CACHE_WRITE_FAILED = "cache-write-failed"  # the text's part; CACHE_FULL once the disk is full
CHANGE_NOTIFY_FAILED = "change-notify-failed"  # rclone's change polling failed (INFO)

# rclone's own fixed text (backend/onedrive/onedrive.go, ChangeNotify), logged at INFO when a
# poll for changes fails; its listings may then miss changes (core/drives/indexing.py).
CHANGE_NOTIFY_MARK = "Change notify listener failure"

# A write into the cache failed and its disk has less free space than this: "cache disk full".
CACHE_FULL_FREE_BYTES = 64 << 20
CACHE_FULL_FREE_SHARE = 0.01  # ... or than this share of the disk, whichever is more

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
# A file operation (Go's os.PathError: "<op> <path>: <system text>") on a file in rclone's
# VFS cache (vfs/<remote>/<file> or vfsMeta/<remote>/<file>) that failed.
_CACHE_OP_RE = re.compile(
    r"\b(?:write|open|truncate|sync|close|mkdir|rename|fallocate|seek) "
    r"(?P<root>(?:[A-Za-z]:[/\\]|[/\\])(?:(?!: ).)*?)"
    r"[/\\]vfs(?:Meta)?[/\\](?P<remote>[^/\\]+)[/\\](?P<file>.+?): \S"
)
# How a network that does not work shows in Go's errors, by their shape rather than the
# system's words: net.OpError ("dial tcp …", "read tcp …: wsarecv: <text>"), DNS errors
# ("lookup <host>: …"), Windows socket calls, Go's own timeouts and EOFs, and a proxy's or
# gateway's HTTP status (Go's fixed texts, the same in every language).
_NETWORK_RE = re.compile(
    r"\b(?:dial|read|write|proxyconnect) (?:tcp|tcp4|tcp6|udp)\b"
    r"|\blookup [\w.-]+(?: on \S+)?: "
    r"|\b(?:wsarecv|wsasend|wsarecvfrom|wsasendto|connectex|getaddrinfow)\b"
    r"|\bi/o timeout\b|TLS handshake timeout|Client\.Timeout exceeded"
    r"|context deadline exceeded|\bunexpected EOF\b|server misbehaving|\bno such host\b"
    r"|\bBad Gateway\b|\bGateway Timeout\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signal:
    """One thing a log line says. *remote*: the rclone remote it names (without ':'), if any."""

    kind: str
    remote: str | None = None
    seconds: float | None = None  # THROTTLED: how long the cloud asked to wait
    error: str | None = None  # SIGN_IN: the OAuth error ("invalid_grant", ...)
    detail: str | None = None  # SIGN_IN: Microsoft's description; CACHE_*: the file
    path: str | None = None  # CACHE_*: the cache folder the failed write was in


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
    if CHANGE_NOTIFY_MARK in line:
        return Signal(CHANGE_NOTIFY_FAILED)
    level_m = _LEVEL_RE.match(line)
    if level_m is None or level_m.group(1) not in ("ERROR", "NOTICE", "CRITICAL"):
        return None
    return classify_error(line)


def classify_error(text: str) -> Signal | None:
    """The :class:`Signal` in an error rclone reports (an ERROR log line, or the error text
    of an rc call): sign-in refused, cloud unreachable, cache disk full."""
    cache = _CACHE_OP_RE.search(text)
    if cache:
        return Signal(CACHE_WRITE_FAILED, remote=cache.group("remote"),
                      detail=cache.group("file"), path=cache.group("root") or None)
    t = _TOKEN_FAIL_RE.search(text)
    if t:
        r = _RECONNECT_RE.search(text)
        return Signal(SIGN_IN, remote=r.group(1) if r else None,
                      error=t.group(2) or t.group(1))
    if _NETWORK_RE.search(text):
        return Signal(OFFLINE)
    return None


Usage = Callable[[str], Any]  # shutil.disk_usage: (total, used, free)


def disk_nearly_full(path: str | os.PathLike[str], usage: Usage = shutil.disk_usage) -> bool:
    """Whether the disk holding *path* (or its nearest existing parent) has less free space
    than CACHE_FULL_FREE_BYTES or CACHE_FULL_FREE_SHARE of its size."""
    p = Path(path)
    while True:
        try:
            u = usage(str(p))
            break
        except OSError:
            if p.parent == p:
                log.info("free space of %s unknown", path)
                return False
            p = p.parent
    total, free = int(u[0]), int(u[2])
    return free < max(CACHE_FULL_FREE_BYTES, int(total * CACHE_FULL_FREE_SHARE))


def classify_lines(lines: Iterable[str], usage: Usage = shutil.disk_usage) -> list[Signal]:
    """The signals in rclone's new log lines, a failed cache write turned into CACHE_FULL
    when the cache's disk is (nearly) full — and dropped when it is not (then it was
    something else, which rclone's log tells)."""
    out: list[Signal] = []
    full: dict[str, bool] = {}
    for line in lines:
        s = classify(line)
        if s is None:
            continue
        if s.kind == CACHE_WRITE_FAILED:
            root = s.path or ""
            if root not in full:
                full[root] = bool(root) and disk_nearly_full(root, usage)
            if not full[root]:
                continue
            s = Signal(CACHE_FULL, remote=s.remote, detail=s.detail, path=s.path)
        out.append(s)
    return out


def rotated_path(path: Path) -> Path:
    """Where a log file written by the app goes when it is rotated (``NAME.1``)."""
    return path.with_name(path.name + ".1")


class LogTail:
    """New complete lines appended to a file since the last read (survives truncation, and
    rotation to :func:`rotated_path`: the rest of the rotated file is read first).

    *max_read*: bytes read per look at most (older ones are skipped)."""

    def __init__(self, path: Path, *, from_end: bool = True,
                 max_read: int = _MAX_LOG_READ) -> None:
        self.path = path
        self.max_read = max_read
        self._offset = 0
        self._rest = b""
        self._ino: int | None = None
        try:
            st = path.stat()
            self._ino = st.st_ino
            if from_end:
                self._offset = st.st_size
        except OSError:
            pass

    def _read(self, path: Path, offset: int, size: int) -> bytes:
        skipped = size - offset > self.max_read
        if skipped:
            offset, self._rest = size - self.max_read, b""
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(size - offset)
        return data[data.find(b"\n") + 1:] if skipped else data  # no partial first line

    def read_lines(self) -> list[str]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        size, data = st.st_size, b""
        if self._ino is not None and st.st_ino != self._ino:  # rotated (or replaced)
            try:
                old = rotated_path(self.path)
                ost = old.stat()
                if ost.st_ino == self._ino and ost.st_size > self._offset:
                    data = self._read(old, self._offset, ost.st_size)
            except OSError:
                pass
            self._offset = 0
        elif size < self._offset:  # truncated
            self._offset, self._rest = 0, b""
        self._ino = st.st_ino
        if size > self._offset:
            data += self._read(self.path, self._offset, size)
            self._offset = size
        if not data:
            return []
        data = self._rest + data
        *lines, self._rest = data.split(b"\n")
        return [ln.decode("utf-8", "replace") for ln in lines]
