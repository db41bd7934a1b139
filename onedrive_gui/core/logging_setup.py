"""Logging with redaction: secrets registered here never reach a log record."""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_secrets: set[str] = set()
# Secrets in free text (URLs, rclone's and Go's output, JSON), recognised two ways: by the key
# in front of them (any spelling: refresh_token, refreshToken, RefreshToken, client-secret,
# secretText, --rc-pass VALUE, Authorization: Basic ...) and by their own shape (Azure client
# secrets, JWTs, Microsoft's refresh and access tokens), so that a bare value is masked too.
_KEYS = (r"(?:access|refresh|id)[_-]?token|client[_-]?secret|secret[_-]?text|password|pass"
         r"|code")
_VALUE_CHARS = r"A-Za-z0-9!*$._~+/=-"  # Microsoft's tokens use ! * $ besides base64url
_SOURCES = (
    # command-line flags: --rc-pass VALUE, --client-secret=VALUE, rclone's "Setting --rc-pass"
    r"(?i)(--(?:rc-pass|rc-htpasswd|password|pass|(?:onedrive-)?client-secret"
    r"|(?:onedrive-)?token)(?:\s+|=)\\?[\"']?)([^\s\"'\\]+)",
    # key=value, "key": "value", Go's Key:value, and JSON inside JSON (\"key\":\"v\")
    r"(?i)((?:" + _KEYS + r")(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
    r"([^\"'&\s,}\\\]]{4,})",
    # an HTTP Authorization header, also as Go prints a header map (Authorization:[Basic x])
    r"(?i)(Authorization\\?[\"']?\s*[:=]\s*\[?\\?[\"']?"
    r"(?:Basic|Bearer|Digest|Negotiate)\s+)([^\s\"'\],\\]+)",
    # Bearer <token>; not a Go field name that follows (TokenType:Bearer RefreshToken:...)
    r"(?i)(Bearer\s+)([A-Za-z0-9._~+/=-]+)(?![\w:])",
    # shapes: Azure client secret (3 characters, a digit, "Q~", 31-34 more)
    r"()(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}"
    r"(?![A-Za-z0-9_~.-])",
    # a JWT (header.payload.signature, also id tokens; JWE has five parts)
    r"()\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){1,4}",
    # Microsoft account refresh token (M.C5xx_BAY.0.U.-C...!...*...$)
    r"()(?<![\w.])M\.C\d{1,4}_[A-Za-z0-9]{2,8}\.[" + _VALUE_CHARS + r"]{8,}",
    # Microsoft Entra refresh token (0.AXkA... / 1.AQs..., dot-separated parts)
    r"()(?<![\w.])[01]\.A[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_*-]+)*",
    # Microsoft account access token (EwB..., opaque, long)
    r"()(?<![\w.])Ew[A-Za-z0-9+/_-]{100,}={0,2}",
)


@functools.cache
def _patterns() -> list[re.Pattern[str]]:
    """The patterns, compiled at the first record (not at import: start-up time)."""
    return [re.compile(source) for source in _SOURCES]


def register_secret(value: str | None) -> None:
    """Make *value* redacted from every log record from now on."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, "***")
    for pat in _patterns():
        text = pat.sub(lambda m: m.group(1) + "***", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        record.msg = redact(msg)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


LOG_MAX_BYTES = 1 << 20  # the app's own log: at most this much per file ...
LOG_BACKUPS = 3  # ... and this many older files (onedrive-gui.log.1 ... .3)


class _UserOnly(logging.FileHandler):
    """A log file readable by the user only (0600 files in a 0700 folder on POSIX; on Windows
    the per-user folder's ACL already keeps others out)."""

    def _open(self):  # type: ignore[no-untyped-def]
        def opener(path: str, flags: int) -> int:
            return os.open(path, flags, 0o600)

        stream = open(self.baseFilename, self.mode, encoding=self.encoding,
                      errors=self.errors, opener=opener)
        if os.name == "posix":
            os.fchmod(stream.fileno(), 0o600)  # a file left by an older version
        return stream


def _rotating(log_file: Path, max_bytes: int, backups: int) -> logging.Handler:
    """The app's log file, size-capped: *backups* older files of *max_bytes* at most.
    (logging.handlers, with the socket and pickle modules it loads, only from here.)"""
    import logging.handlers

    class PrivateRotatingFileHandler(_UserOnly, logging.handlers.RotatingFileHandler):
        pass

    return PrivateRotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=backups,
                                      encoding="utf-8", delay=False)


# setup_logging(rotate=False): the rotation start_rotation() installs
_pending_rotation: tuple[logging.Handler, Path, int, int] | None = None


def setup_logging(verbosity: int = 0, log_file: Path | None = None, *,
                  max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS,
                  rotate: bool = True) -> None:
    """Configure the root logger: stderr at WARNING (INFO/DEBUG with -v/-vv) when there is a
    stderr (a windowed Windows exe has none), and *log_file* at INFO (DEBUG with -vv),
    rotated at *max_bytes* with *backups* older files, user-only. Everything is redacted.

    *rotate* False (the desktop app, until its icon is in the tray): the file is appended to
    at once and rotated from :func:`start_rotation` on."""
    global _pending_rotation
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_onedrive_gui", False):
            root.removeHandler(h)
            h.close()
    _pending_rotation = None
    handlers: list[logging.Handler] = []
    if sys.stderr is not None:
        stream = logging.StreamHandler()
        stream.setLevel(level)
        handlers.append(stream)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            log_file.parent.chmod(0o700)
        fh = _rotating(log_file, max_bytes, backups) if rotate else _UserOnly(
            log_file, encoding="utf-8", delay=False)
        fh.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
        handlers.append(fh)
        if not rotate:
            _pending_rotation = (fh, log_file, max_bytes, backups)
    for h in handlers:
        _install(root, h)
    root.setLevel(min((h.level for h in handlers), default=level))
    for noisy in ("urllib3", "msal"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


def start_rotation() -> None:
    """The log file set up with ``rotate=False`` is rotated from now on (a no-op otherwise)."""
    global _pending_rotation
    pending, _pending_rotation = _pending_rotation, None
    if pending is None:
        return
    plain, log_file, max_bytes, backups = pending
    rotating = _rotating(log_file, max_bytes, backups)
    rotating.setLevel(plain.level)
    root = logging.getLogger()
    _install(root, rotating)  # before the plain one goes: no record is lost meanwhile
    root.removeHandler(plain)
    plain.close()


def _install(root: logging.Logger, handler: logging.Handler) -> None:
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    handler._onedrive_gui = True  # type: ignore[attr-defined]
    root.addHandler(handler)


def log_uncaught_exceptions() -> None:
    """Tracebacks of uncaught exceptions (GUI slots, threads) go to the log, not only to a
    stderr that a windowed app does not have."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            logging.getLogger("onedrive_gui").critical("uncaught exception",
                                                       exc_info=(kind, value, tb))
        if sys.stderr is not None:
            previous(kind, value, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            logging.getLogger("onedrive_gui").critical(
                "uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = hook
    threading.excepthook = thread_hook
