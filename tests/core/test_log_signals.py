"""The rclone log lines that change what the app shows: recorded from rclone 1.75.2 against
the emulated OneDrive (revoked sign-in, cloud down, full cache disk)."""

from __future__ import annotations

import pytest

from onedrive_gui.core.mounts import _sign_in_text
from onedrive_gui.core.rclone import log_signals as sig
from onedrive_gui.core.rclone.process import keep_log_line

FATAL = (
    '2026/11/26 23:35:19 DEBUG : od: got fatal oauth error: oauth2: "invalid_grant" '
    '"AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token '
    "is needed. The user might have changed or reset their password. The grant was issued on "
    "'11/26/2026 23:35:08' and the TokensValidFrom date (before which tokens are not valid) "
    "for this user is '11/26/2026 23:35:19'.\\r\\nTrace ID: 954d9018-caf4-4d2f-b344-"
    "34f4f19f0a3f\\r\\nCorrelation ID: 6ee966fe-692b-408f-b54e-d00ed41ee4ba\\r\\nTimestamp: "
    '2026-11-26 23:35:19Z" "https://login.microsoftonline.com/error?code=***"'
)
REFRESHER = (
    "2026/11/26 23:35:19 ERROR : OneDrive root '': Background token refresher failed: Get "
    '"https://graph.microsoft.com/v1.0/drives/c3624f102db2c23c/root": couldn\'t fetch token: '
    'invalid_grant: maybe token expired? - try refreshing with "rclone config reconnect od:"'
)
DOWN = (
    '2026/11/26 23:35:18 ERROR : big.bin: Failed to copy: Post "https://graph.microsoft.com/'
    'v1.0/drives/c3624f102db2c23c/items/C3624F102DB2C23C!101:/big.bin:/createUploadSession": '
    'couldn\'t fetch token: Post "https://login.microsoftonline.com/common/oauth2/v2.0/token":'
    " Bad Gateway"
)
NO_HOST = (
    "2026/11/26 23:40:02 ERROR : Documents: Dir.Stat error: Get \"https://graph.microsoft.com/"
    'v1.0/drives/x/items/X!101": dial tcp: lookup graph.microsoft.com: no such host'
)
FULL = (
    "2026/11/26 23:35:08 ERROR : IO error: write /home/u/.cache/onedrive-gui/rclone/vfs/od/"
    "Reports/big.bin: no space left on device"
)
FULL_META = (
    "2026/11/26 23:35:11 ERROR : x.txt: vfs cache: failed to open item: vfs cache item: create "
    "cache file failed: vfs cache item: _save failed: vfs cache item: failed to encode "
    "metadata: write /home/u/.cache/onedrive-gui/rclone/vfsMeta/od/x.txt: no space left on "
    "device"
)


def test_revoked_sign_in_names_the_remote_and_microsofts_reason() -> None:
    s = sig.classify(FATAL)
    assert s is not None and s.kind == sig.SIGN_IN and s.remote == "od"
    assert s.error == "invalid_grant" and s.detail is not None
    assert s.detail.startswith("AADSTS50173: The provided grant has expired")
    assert "\r\nTrace ID" in s.detail
    text = _sign_in_text([s])
    assert text.startswith("Sign-in needed: Microsoft no longer accepts this sign-in")
    assert "(AADSTS50173)" in text and "Sign in again." in text


def test_refresh_refused_at_error_level_is_a_sign_in_signal() -> None:
    s = sig.classify(REFRESHER)
    assert s == sig.Signal(sig.SIGN_IN, remote="od", error="invalid_grant")


@pytest.mark.parametrize("line", [DOWN, NO_HOST])
def test_network_failures_are_offline_not_sign_in(line: str) -> None:
    assert sig.classify(line) == sig.Signal(sig.OFFLINE)


@pytest.mark.parametrize(("line", "file"), [(FULL, "Reports/big.bin"), (FULL_META, "x.txt")])
def test_full_cache_disk_names_the_remote_and_file(line: str, file: str) -> None:
    assert sig.classify(line) == sig.Signal(sig.CACHE_FULL, remote="od", detail=file)


@pytest.mark.parametrize("line", [
    '2026/11/26 23:35:08 DEBUG : rc: "core/stats": reply map[bytes:0]',
    "2026/11/26 23:35:08 DEBUG : od: Token refresh failed try 1/5: Post \"https://login."
    'microsoftonline.com/common/oauth2/v2.0/token": Bad Gateway',  # retried: not yet offline
    "2026/11/26 23:35:08 INFO  : big.bin: Copied (new)",
    "2026/11/26 23:35:08 NOTICE: Serving remote control on http://127.0.0.1:33747/",
])
def test_ordinary_lines_say_nothing(line: str) -> None:
    assert sig.classify(line) is None


def test_microsofts_reason_reaches_the_log_file_at_info() -> None:
    # The DEBUG line with the AADSTS code is kept (it holds no secret); other DEBUG lines not.
    assert keep_log_line(FATAL, "INFO", previous_kept=False)
    assert not keep_log_line('2026/11/26 23:35:08 DEBUG : rc: "config/update": with '
                             "parameters map[token:...]", "INFO", previous_kept=True)
