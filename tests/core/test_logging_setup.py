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


# ---- redaction by value shape as well as by key (issue 22) -----------------------------
# Realistic samples of every format, made up here (never a real credential).
AZURE_SECRET = "kT38Q~Zx0-a_b.c~dEfGhIjKlMnOpQrStUvWxYz0"  # 3 chars, digit, Q~, 34 more: 40
JWT = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6Ik1HTHFqOThWTkxvWGFGZnBKQ0JwZ0I0SmFLcyJ9"
       ".eyJhdWQiOiIwMDAwMDAwMy0wMDAwLTAwMDAtYzAwMC0wMDAwMDAwMDAwMDAiLCJpc3MiOiJodHRwczovL3N0cy"
       "53aW5kb3dzLm5ldC8ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
MSA_REFRESH = "M.C544_BAY.0.U.-Cm9mDtPLC9b!ZrVBsQ6Ql2lRtkjPo*9Iq2rP0kXyB7t1QWcZ8cuNw$$"
ENTRA_REFRESH = ("0.ARwA6WgJJ9X2qk2HRYmFBFMxzfIhbBnvbLZKvqzXtY0bAcIcAH0.AgABAAEAAAD--DLA3VO7Qr"
                 "ddgJg7WevrAgDs_wQA9P-TqMz*Xw1")
MSA_ACCESS = "EwBIA8l6BAAU" + "x7Rk2vQp9LmN3aB5cD8eF1gH4iJ6kL0mN2oP5qR7sT9uV1wX3yZ5" * 3 + "AA=="
BASIC = "b25lZHJpdmUtZ3VpLTEyMzQ6ZGVyaXZlZHJjcGFzc3dvcmQxMjM0NTY3ODk="

SAMPLES = {
    "bare Azure client secret in an error": f"secret {AZURE_SECRET} was refused",
    "bare JWT": f"id token {JWT} received",
    "bare Microsoft account refresh token": f"renewing with {MSA_REFRESH} now",
    "bare Entra refresh token": f"renewing with {ENTRA_REFRESH} now",
    "bare Microsoft account access token": f"GET /me/drive with {MSA_ACCESS}",
    "CamelCase RefreshToken": f"RefreshToken:{MSA_REFRESH[:12]}abcdEF",
    "camelCase clientSecret (JSON)": '{"clientId": "x", "clientSecret": "plainSecretValue42"}',
    "Graph addPassword secretText": '{"keyId": "k", "secretText": "anotherSecret-9876"}',
    "Authorization: Basic": f"header Authorization: Basic {BASIC}",
    "Go header map": f"map[Authorization:[Basic {BASIC}] User-Agent:[rclone/v1.75.2]]",
    "--rc-pass VALUE": "rclone rcd --rc-user u --rc-pass derivedRcPassword1234 --rc-addr x",
    "rclone's own --rc-pass line":
        'DEBUG : Setting --rc-pass "derivedRcPassword1234" from environment variable',
    "Go oauth2.Token": ("token: &{AccessToken:EwBQ1234abcd TokenType:Bearer "
                        f"RefreshToken:{MSA_REFRESH} Expiry:2026-12-03 09:14:55 +0000 UTC}}"),
}
SECRETS = [AZURE_SECRET, JWT, MSA_REFRESH, ENTRA_REFRESH, MSA_ACCESS, BASIC,
           MSA_REFRESH[:12] + "abcdEF", "plainSecretValue42", "anotherSecret-9876",
           "derivedRcPassword1234", "EwBQ1234abcd"]


def test_every_secret_format_is_masked_by_key_or_by_shape() -> None:
    for what, line in SAMPLES.items():
        out = redact(line)
        for secret in SECRETS:
            assert secret not in out, (what, out)
            # and no long piece of it either (a half-masked token still leaks)
            assert not any(secret[i:i + 16] in out for i in range(len(secret) - 15)), (what, out)
        assert "***" in out, what


def test_go_token_keeps_its_field_names_and_masks_the_token() -> None:
    out = redact(SAMPLES["Go oauth2.Token"])
    assert MSA_REFRESH not in out and "EwBQ1234abcd" not in out
    assert "TokenType:Bearer RefreshToken:***" in out  # the token, not the word, is masked
    assert "Expiry:2026-12-03 09:14:55 +0000 UTC" in out


def test_headers_and_flags_stay_readable_around_the_mask() -> None:
    assert redact(SAMPLES["Authorization: Basic"]) == "header Authorization: Basic ***"
    assert redact(SAMPLES["Go header map"]) == (
        "map[Authorization:[Basic ***] User-Agent:[rclone/v1.75.2]]")
    assert redact(SAMPLES["--rc-pass VALUE"]) == (
        "rclone rcd --rc-user u --rc-pass *** --rc-addr x")


ORDINARY = [
    "2026/12/03 08:09:47 NOTICE: Serving remote control on http://127.0.0.1:42739/",
    "mounted work on /home/alice/OneDrive/work (Report Q4~final v2.docx)",
    "C:\\Users\\alice\\OneDrive - Contoso\\Budget 2026.xlsx: Copied (new)",
    "drive b!9xJ5w3kQ0Uei_ExampleDriveIdAbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "item 01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47",
    "vfs cache: cleaned: objects 12 (was 12) in use 0, to upload 0, uploading 0, total 1.2Mi",
    "Too many requests. Trying again in 31 seconds.",
    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
    "request is the client secret value, not the client secret ID.",
    "rclone v1.75.2 - os/version: ubuntu 24.04 (64 bit) - go/version: go1.26.0",
    "token: TokenType:Bearer",
    "version 0.A1 of the cache format; client_id=3fa85f64-5717-4562-b3fc-2c963f66afa6",
]


def test_ordinary_log_text_paths_and_ids_survive() -> None:
    for line in ORDINARY:
        assert redact(line) == line


def test_app_log_rotation_deferred_until_the_tray_shows(tmp_path: Path) -> None:
    """The desktop app writes its log from the first line but loads the rotation (the
    logging.handlers module) once its icon is in the tray: records before that are in the
    same file, user-only, and from start_rotation() on the file is capped as usual — a file
    already over the cap is rotated at the first record."""
    import os
    import stat

    from onedrive_gui.core.logging_setup import start_rotation

    log_dir = tmp_path / "log"
    log_file = log_dir / "onedrive-gui.log"
    log_dir.mkdir()
    log_file.write_text("x" * 30_000 + "\n")  # an earlier run's log, over the cap
    setup_logging(verbosity=0, log_file=log_file, max_bytes=20_000, backups=2, rotate=False)
    log = logging.getLogger("test.deferred")
    log.info("before the tray: the first line")
    _flush()
    assert "before the tray: the first line" in log_file.read_text()
    assert sorted(p.name for p in log_dir.iterdir()) == ["onedrive-gui.log"]
    start_rotation()
    for i in range(2_000):
        log.info("line %05d after the tray showed", i)
    _flush()
    files = sorted(p.name for p in log_dir.iterdir())
    assert files == ["onedrive-gui.log", "onedrive-gui.log.1", "onedrive-gui.log.2"]
    assert all((log_dir / f).stat().st_size <= 20_000 for f in files)
    assert "line 01999" in log_file.read_text()
    if os.name == "posix":
        for f in files:
            assert stat.S_IMODE((log_dir / f).stat().st_mode) == 0o600, f
    start_rotation()  # once only: a second call changes nothing
    assert sum(1 for h in logging.getLogger().handlers
               if getattr(h, "baseFilename", None) == str(log_file)) == 1
