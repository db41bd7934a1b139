"""The rclone log lines that change what the app shows: recorded from rclone 1.75.2 against
the emulated OneDrive (revoked sign-in, cloud down, full cache disk)."""

from __future__ import annotations

import pytest

from onedrive_gui.core.drives.mounts import _sign_in_text
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


def _usage(free: int, total: int = 100 << 30):
    """shutil.disk_usage's answer for a disk with *free* bytes left."""
    recorded: list[str] = []

    def usage(path: str):
        recorded.append(path)
        return (total, total - free, free)

    usage.paths = recorded  # type: ignore[attr-defined]
    return usage


@pytest.mark.parametrize(("line", "file"), [(FULL, "Reports/big.bin"), (FULL_META, "x.txt")])
def test_full_cache_disk_names_the_remote_and_file(line: str, file: str) -> None:
    assert sig.classify(line) == sig.Signal(sig.CACHE_WRITE_FAILED, remote="od", detail=file,
                                            path="/home/u/.cache/onedrive-gui/rclone")
    full = _usage(free=0)
    assert sig.classify_lines([line], usage=full) == [sig.Signal(
        sig.CACHE_FULL, remote="od", detail=file, path="/home/u/.cache/onedrive-gui/rclone")]
    assert full.paths == ["/home/u/.cache/onedrive-gui/rclone"]  # the disk of that cache


# What rclone logs on Windows in other languages: the system's text is translated, Go's
# shape of the error ("write <path>:", "read tcp …: wsarecv:", "dial tcp …: connectex:") is not.
WIN_CACHE = "C:\\Users\\jürgen\\AppData\\Local\\onedrive-gui\\Cache\\rclone"
WIN_FULL = {
    "de": f"2026/11/30 09:12:01 ERROR : IO error: write {WIN_CACHE}\\vfs\\work\\Berichte\\"
          "gross.bin: Auf dem Datenträger ist nicht genügend Speicherplatz vorhanden.",
    "zh": f"2026/11/30 09:12:01 ERROR : IO error: write {WIN_CACHE}\\vfs\\work\\报告\\大.bin: "
          "磁盘空间不足。",
    "fr": "2026/11/30 09:12:01 ERROR : x.txt: vfs cache: failed to open item: vfs cache item: "
          f"failed to encode metadata: write {WIN_CACHE}\\vfsMeta\\work\\x.txt: Espace "
          "insuffisant sur le disque.",
}
WIN_OFFLINE = {
    "de-reset": '2026/11/30 09:12:01 ERROR : a.docx: Failed to copy: Put "https://graph.'
                'microsoft.com/v1.0/drives/x/items/y/content": read tcp 192.168.1.5:50123->'
                "20.190.151.68:443: wsarecv: Eine vorhandene Verbindung wurde vom Remotehost "
                "geschlossen.",
    "zh-reset": '2026/11/30 09:12:01 ERROR : a.docx: Failed to copy: Put "https://graph.'
                'microsoft.com/v1.0/drives/x/items/y/content": read tcp 192.168.1.5:50123->'
                "20.190.151.68:443: wsarecv: 远程主机强迫关闭了一个现有的连接。",
    "de-connect": "2026/11/30 09:12:01 ERROR : Documents: Dir.Stat error: Get \"https://graph."
                  'microsoft.com/v1.0/drives/x/root": dial tcp 20.190.151.68:443: connectex: '
                  "Ein Verbindungsversuch ist fehlgeschlagen, da die Gegenstelle nach einer "
                  "bestimmten Zeitspanne nicht richtig reagiert hat.",
    "zh-dns": "2026/11/30 09:12:01 ERROR : Documents: Dir.Stat error: Get \"https://graph."
              'microsoft.com/v1.0/drives/x/root": dial tcp: lookup graph.microsoft.com: '
              "getaddrinfow: 不知道这样的主机。",
    "ja-proxy": "2026/11/30 09:12:01 ERROR : a.docx: Failed to copy: Post \"https://graph."
                'microsoft.com/v1.0/x": proxyconnect tcp: dial tcp 10.0.0.1:8080: connectex: '
                "対象のコンピューターによって拒否されたため、接続できませんでした。",
}


@pytest.mark.parametrize("lang", sorted(WIN_FULL))
def test_full_cache_disk_in_any_language_by_the_disks_free_space(lang: str) -> None:
    line = WIN_FULL[lang]
    found = sig.classify_lines([line], usage=_usage(free=3 << 20))  # 3 MiB left
    assert [(s.kind, s.remote) for s in found] == [(sig.CACHE_FULL, "work")]
    assert found[0].path == WIN_CACHE
    # The same failed write on a disk with room is something else: not "cache full".
    assert sig.classify_lines([line], usage=_usage(free=50 << 30)) == []


def test_a_small_disk_counts_as_full_below_a_share_of_its_size() -> None:
    line = WIN_FULL["de"]
    # 2 TB disk: 64 MiB would be too little to call it "almost full"; 1 % (20 GB) is the bar.
    assert sig.classify_lines([line], usage=_usage(free=10 << 30, total=2 << 40))
    assert not sig.classify_lines([line], usage=_usage(free=30 << 30, total=2 << 40))


def test_free_space_is_asked_of_the_nearest_existing_folder(tmp_path) -> None:
    missing = tmp_path / "gone" / "rclone"
    asked = []

    def usage(path: str):
        asked.append(path)
        if path != str(tmp_path):
            raise FileNotFoundError(path)
        return (100 << 30, 100 << 30, 0)

    assert sig.disk_nearly_full(missing, usage)
    assert asked == [str(missing), str(missing.parent), str(tmp_path)]


@pytest.mark.parametrize("lang", sorted(WIN_OFFLINE))
def test_network_failures_in_any_language_are_offline(lang: str) -> None:
    assert sig.classify(WIN_OFFLINE[lang]) == sig.Signal(sig.OFFLINE)
    assert sig.classify_lines([WIN_OFFLINE[lang]]) == [sig.Signal(sig.OFFLINE)]


def test_a_probes_rc_error_in_another_language_is_offline() -> None:
    rc_error = ('couldn\'t list files: Get "https://graph.microsoft.com/v1.0/drives/x/root":'
                " read tcp 10.1.1.2:50432->20.190.151.68:443: wsarecv: Une connexion existante "
                "a dû être fermée par l’hôte distant.")
    assert sig.classify_error(rc_error) == sig.Signal(sig.OFFLINE)


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


@pytest.mark.parametrize("line", [
    # rclone's own words around "lookup" or a cache path are not a network failure ...
    "2026/11/30 09:12:01 ERROR : a.txt: failed to lookup item in directory listing",
    # ... and a cache-file error on a disk with room is left to rclone's log.
    "2026/11/30 09:12:01 ERROR : IO error: open /home/u/.cache/onedrive-gui/rclone/vfs/od/"
    "a.txt: permission denied",
])
def test_lookalikes_say_nothing(line: str) -> None:
    assert sig.classify_lines([line], usage=_usage(free=50 << 30)) == []
