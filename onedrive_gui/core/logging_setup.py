"""Logging with redaction: secrets registered here never reach a log record."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_secrets: set[str] = set()
# Token-shaped values in free text (URLs, rclone output): access/refresh tokens, codes.
_PATTERNS = [
    # key=value, "key": "value", and JSON inside JSON (rclone logs its token as \"key\":\"v\")
    re.compile(r"(?i)((?:access_token|refresh_token|id_token|client_secret|code|password|pass)"
               r"(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)([^\"'&\s,}\\]{4,})"),
    re.compile(r"(?i)(Bearer\s+)([A-Za-z0-9._~+/=-]+)"),
]


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
    for pat in _PATTERNS:
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


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A size-capped log readable by the user only (0600 files in a 0700 folder on POSIX; on
    Windows the per-user folder's ACL already keeps others out)."""

    def _open(self):  # type: ignore[no-untyped-def]
        def opener(path: str, flags: int) -> int:
            return os.open(path, flags, 0o600)

        stream = open(self.baseFilename, self.mode, encoding=self.encoding,
                      errors=self.errors, opener=opener)
        if os.name == "posix":
            os.fchmod(stream.fileno(), 0o600)  # a file left by an older version
        return stream


def setup_logging(verbosity: int = 0, log_file: Path | None = None, *,
                  max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS) -> None:
    """Configure the root logger: stderr at WARNING (INFO/DEBUG with -v/-vv) when there is a
    stderr (a windowed Windows exe has none), and *log_file* at INFO (DEBUG with -vv),
    rotated at *max_bytes* with *backups* older files, user-only. Everything is redacted."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_onedrive_gui", False):
            root.removeHandler(h)
            h.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if sys.stderr is not None:
        stream = logging.StreamHandler()
        stream.setLevel(level)
        handlers.append(stream)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            log_file.parent.chmod(0o700)
        fh = PrivateRotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=backups,
                                        encoding="utf-8", delay=False)
        fh.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
        handlers.append(fh)
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(RedactingFilter())
        h._onedrive_gui = True  # type: ignore[attr-defined]
        root.addHandler(h)
    root.setLevel(min((h.level for h in handlers), default=level))
    for noisy in ("urllib3", "msal"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


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
