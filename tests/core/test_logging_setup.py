"""Secrets never reach a log record, at any level."""

from __future__ import annotations

import logging
from pathlib import Path

from onedrive_gui.core.logging_setup import redact, register_secret, setup_logging


def test_registered_secret_and_token_shapes_are_redacted(tmp_path: Path) -> None:
    log_file = tmp_path / "app.log"
    setup_logging(verbosity=2, log_file=log_file)
    register_secret("Q~supersecretvalue123")
    log = logging.getLogger("test.redact")
    log.debug("secret is %s", "Q~supersecretvalue123")
    log.info("POST body refresh_token=0.AAAA-bbbb&client_secret=xyz123&grant_type=refresh")
    log.warning("header Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.payload.sig")
    try:
        raise ValueError("failed with Q~supersecretvalue123")
    except ValueError:
        log.exception("boom")
    for h in logging.getLogger().handlers:
        h.flush()
    text = log_file.read_text()
    assert "secret is ***" in text
    assert "Q~supersecretvalue123" not in text
    assert "0.AAAA-bbbb" not in text and "xyz123" not in text
    assert "eyJ0eXAiOiJKV1QiLCJhbGciOi" not in text
    assert "grant_type=refresh" in text  # the rest of the line stays readable
    assert "ValueError" in text


def test_redact_keeps_ordinary_text() -> None:
    line = "mounted work on /home/u/OneDrive/work"
    assert redact(line) == line


def test_rclone_debug_lines_with_nested_token_json_are_redacted() -> None:
    line = (
        '2026/11/26 20:55:01 DEBUG : rc: "config/create": with parameters map[name:work '
        'parameters:map[client_secret:Xq8~abcdefSECRET token:{"access_token":"EwBAA1234567",'
        '"refresh_token":"M.C5_BAY.-0987","expiry":"2026-11-26T21:55:00Z"}]]'
    )
    nested = '{"token":"{\\"access_token\\":\\"EwBAA1234567\\",\\"refresh_token\\":\\"M.C5\\"}"}'
    out = redact(line) + redact(nested)
    for secret in ("Xq8~abcdefSECRET", "EwBAA1234567", "M.C5_BAY.-0987", "M.C5"):
        assert secret not in out
    assert "2026-11-26T21:55:00Z" in out and "config/create" in out


def test_error_words_after_token_stay_readable() -> None:
    line = "couldn't fetch token: invalid_grant: maybe token expired?"
    assert redact(line) == line


def _flush() -> None:
    for h in logging.getLogger().handlers:
        h.flush()


def test_app_log_is_user_only_and_rotation_caps_its_size(tmp_path: Path) -> None:
    import os
    import stat

    log_dir = tmp_path / "log"
    log_file = log_dir / "onedrive-gui.log"
    setup_logging(verbosity=0, log_file=log_file, max_bytes=20_000, backups=2)
    log = logging.getLogger("test.rotate")
    for i in range(2_000):
        log.info("line %05d of a long day of mounting and uploading", i)
    _flush()
    files = sorted(p.name for p in log_dir.iterdir())
    assert files == ["onedrive-gui.log", "onedrive-gui.log.1", "onedrive-gui.log.2"]
    sizes = [(log_dir / f).stat().st_size for f in files]
    assert all(s <= 20_000 for s in sizes), sizes  # at most 3 × 20 kB, however long it runs
    assert "line 01999" in log_file.read_text()  # the newest records are kept
    if os.name == "posix":
        assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
        for f in files:
            assert stat.S_IMODE((log_dir / f).stat().st_mode) == 0o600, f


def test_app_log_written_without_a_stderr(tmp_path: Path, monkeypatch) -> None:
    """A windowed Windows exe has sys.stderr None: the file still gets every record, the
    uncaught exception's traceback included (redacted)."""
    import sys
    import threading

    from onedrive_gui.core.logging_setup import log_uncaught_exceptions

    monkeypatch.setattr(sys, "stderr", None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    log_file = tmp_path / "onedrive-gui.log"
    setup_logging(verbosity=0, log_file=log_file)
    register_secret("Q~anothersecretvalue9")
    logging.getLogger("test.nostderr").info("app started")
    log_uncaught_exceptions()
    try:
        raise RuntimeError("a slot failed with Q~anothersecretvalue9")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    _flush()
    text = log_file.read_text()
    assert "app started" in text
    assert "uncaught exception" in text and "RuntimeError: a slot failed with ***" in text
    assert "Q~anothersecretvalue9" not in text
