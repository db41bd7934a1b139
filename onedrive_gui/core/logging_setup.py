"""Logging with redaction: secrets registered here never reach a log record."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

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


def setup_logging(verbosity: int = 0, log_file: Path | None = None) -> None:
    """Configure the root logger: stderr at WARNING (INFO/DEBUG with -v/-vv), optional file."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_onedrive_gui", False):
            root.removeHandler(h)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    stream = logging.StreamHandler()
    stream.setLevel(level)
    handlers.append(stream)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
        handlers.append(fh)
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(RedactingFilter())
        h._onedrive_gui = True  # type: ignore[attr-defined]
        root.addHandler(h)
    root.setLevel(min(h.level for h in handlers))
    for noisy in ("urllib3", "msal"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))
