"""Settings: OneDrive-aware mount options, the JSON file, damaged and newer files."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from onedrive_gui.core.errors import SettingsError, ValidationError
from onedrive_gui.core.rclone.binary import locate_rclone
from onedrive_gui.core.rclone.process import Rcd
from onedrive_gui.core.rclone.rc import RcClient
from onedrive_gui.core.settings import (
    Account,
    AppSettings,
    MountOptions,
    SettingsStore,
    parse_duration,
    parse_size,
)


def _account(name: str = "work", **kw: object) -> Account:
    base: dict[str, object] = dict(
        name=name,
        client_id="11111111-2222-3333-4444-555555555555",
        tenant="common",
        display_name="Ada Lovelace",
        username="ada@example.com",
        drive_id="b!abc",
        drive_type="business",
        drive_name="OneDrive",
        secret_expires=date(2027, 5, 1),
        last_sign_in=datetime(2026, 8, 1, 12, 30, tzinfo=UTC),
        last_token_refresh=datetime(2026, 8, 2, 9, 0, tzinfo=timezone(timedelta(hours=2))),
        mount_point="/home/ada/OneDrive/work",
        auto_mount=True,
        options=MountOptions(cache_mode="full", tpslimit=3, checkers=2),
    )
    base.update(kw)
    return Account(**base)  # type: ignore[arg-type]


# --- mount options -----------------------------------------------------------------------


def test_defaults_are_the_onedrive_aware_ones() -> None:
    o = MountOptions()
    assert (o.cache_mode, o.cache_max_size, o.cache_max_age, o.dir_cache_time) == (
        "writes", "10G", "24h", "6h")  # longer than reading the whole drive ahead takes
    assert (o.poll_interval, o.tpslimit, o.tpslimit_burst, o.transfers, o.checkers) == (
        "1m", 0, 100, 4, 4)  # no request limit: the upload pacer leads
    assert (o.bwlimit, o.chunk_size) == ("", "10M")
    assert o.prefill_max_items == 100_000  # read ahead drives up to this many items
    o.validate()


@pytest.mark.parametrize("value", [-1, 1.5, True, "100"])
def test_prefill_limit_must_be_a_whole_number(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        MountOptions(prefill_max_items=value).validate()  # type: ignore[arg-type]
    assert "Read-ahead limit" in exc.value.message


def test_every_option_explains_itself() -> None:
    for f in fields(MountOptions):
        assert len(MountOptions.help(f.name)) > 30, f.name
    assert "320 KiB" in MountOptions.help("chunk_size")
    assert "1,250" in MountOptions.help("tpslimit")


@pytest.mark.parametrize(
    ("text", "size"),
    [("10M", 10 * 2**20), ("10Mi", 10 * 2**20), ("10MiB", 10 * 2**20), ("320k", 327_680),
     ("1.5G", 3 * 2**29), ("100", 100 * 1024), ("512b", 512), ("2T", 2 * 2**40)],
)
def test_sizes_parse_like_rclone(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(("text", "secs"), [("1h", 3600), ("1h30m", 5400), ("90", 90),
                                           ("500ms", 0.5), ("7d", 7 * 86400), ("1.5h", 5400)])
def test_durations_parse_like_rclone(text: str, secs: float) -> None:
    assert parse_duration(text) == pytest.approx(secs)


@pytest.mark.parametrize("chunk", ["320k", "5M", "10M", "20M", "100M", "250M", "655360b"])
def test_chunk_sizes_onedrive_accepts(chunk: str) -> None:
    MountOptions(chunk_size=chunk).validate()


@pytest.mark.parametrize("chunk", ["11M", "1M", "300k", "0", "260M", "ten", ""])
def test_chunk_sizes_onedrive_refuses(chunk: str) -> None:
    with pytest.raises(ValidationError) as err:
        MountOptions(chunk_size=chunk).validate()
    assert "Chunk size" in err.value.message
    assert "320 KiB" in err.value.hint


@pytest.mark.parametrize(
    ("change", "label"),
    [
        ({"cache_mode": "all"}, "Cache mode"),
        ({"cache_max_size": "lots"}, "Cache size"),
        ({"cache_max_age": "a day"}, "Cache max age"),
        ({"dir_cache_time": "1x"}, "Folder cache time"),
        ({"poll_interval": ""}, "Poll interval"),
        ({"write_back": "-5s"}, "Upload delay"),
        # each upload is checked before it starts: rclone holds it meanwhile (issue 23)
        ({"write_back": "1h1s"}, "Upload delay"),
        ({"tpslimit": -1}, "Requests per second"),
        ({"tpslimit_burst": 0}, "Request burst"),
        ({"transfers": 0}, "Transfers"),
        ({"checkers": -2}, "Checkers"),
        ({"bwlimit": "fast"}, "Bandwidth limit"),
        ({"bwlimit": "25:00,1M"}, "Bandwidth limit"),
        # more than rclone's 64-bit sizes and durations hold (was an OverflowError)
        ({"cache_max_size": "9" * 300}, "Cache size"),
        ({"cache_max_size": "9" * 400 + "G"}, "Cache size"),
        ({"cache_max_age": "9" * 400}, "Cache max age"),
        ({"dir_cache_time": "300y"}, "Folder cache time"),
        ({"bwlimit": "9" * 400 + "M"}, "Bandwidth limit"),
    ],
)
def test_invalid_options_are_named_with_a_hint(change: dict[str, object], label: str) -> None:
    with pytest.raises(ValidationError) as err:
        replace(MountOptions(), **change).validate()  # type: ignore[arg-type]
    assert err.value.message.startswith(label)
    assert err.value.hint
    if change.get("write_back") == "1h1s":
        assert "at most 1h" in err.value.hint


def test_the_longest_upload_delay_is_accepted() -> None:
    replace(MountOptions(), write_back="1h").validate()


@pytest.mark.parametrize("bw", ["", "off", "10M", "1M:10M", "08:00,512k 19:00,off",
                                "Mon-08:00,1M:off Sat-00:00,off"])
def test_bandwidth_limits_rclone_accepts(bw: str) -> None:
    MountOptions(bwlimit=bw).validate()


def test_rc_blocks_use_rclone_key_names() -> None:
    o = MountOptions()
    mount_opt, vfs_opt = o.to_rc()
    assert mount_opt == {}
    assert vfs_opt == {"CacheMode": "writes", "CacheMaxSize": "10G", "CacheMaxAge": "24h",
                       "DirCacheTime": "6h", "PollInterval": "1m", "WriteBack": "5s"}
    assert o.to_rc(volume_name="work")[0] == {"VolumeName": "work"}
    assert o.global_flags() == {"TPSLimit": 0.0, "TPSLimitBurst": 100, "Transfers": 4,
                                "Checkers": 4, "BwLimit": "off"}
    assert o.backend_opts() == {"chunk_size": "10M"}


@pytest.fixture
def rc(tmp_path: Path) -> Iterator[RcClient]:
    rcd = Rcd(locate_rclone(), config_path=tmp_path / "rclone.conf", config_password=None,
              cache_dir=tmp_path / "cache", log_file=tmp_path / "rclone.log")
    client = rcd.start()
    try:
        yield client
    finally:
        rcd.stop(timeout=10)


def test_rclone_runs_with_every_limit(tmp_path: Path) -> None:
    """The account's limits are flags of its rcd: rclone reports each back."""
    opts = MountOptions(tpslimit=3, tpslimit_burst=5, transfers=2, checkers=3, bwlimit="1M:2M")
    rcd = Rcd(locate_rclone(), config_path=tmp_path / "rclone.conf", config_password=None,
              cache_dir=tmp_path / "cache", log_file=tmp_path / "rclone.log",
              limits=opts.global_flags())
    rc = rcd.start()
    try:
        main = rc.call("options/get")["main"]
        assert (main["TPSLimit"], main["TPSLimitBurst"], main["Transfers"],
                main["Checkers"]) == (3, 5, 2, 3)
        assert main["BwLimit"] == "1Mi:2Mi"
        rcd.set_bwlimit("off")  # live: rc core/bwlimit
        assert rc.call("core/bwlimit")["rate"] == "off"
    finally:
        rcd.stop(timeout=10)


def test_rclone_mounts_with_every_vfs_option(rc: RcClient, tmp_path: Path) -> None:
    """A real mount: rclone reports back each value, so no key is misspelt (rclone ignores
    unknown keys silently)."""
    src, mp = tmp_path / "src", tmp_path / "mnt"
    src.mkdir()
    mp.mkdir()
    opts = MountOptions(cache_mode="full", cache_max_size="3G", cache_max_age="36h",
                        dir_cache_time="2h", poll_interval="2m", write_back="7s")
    mount_opt, vfs_opt = opts.to_rc()
    rc.mount(str(src), str(mp), mount_opt=mount_opt, vfs_opt=vfs_opt)
    try:
        fs = rc.list_mounts()[0].fs
        got = rc.vfs_stats(fs).raw["opt"]
    finally:
        rc.unmount(str(mp))
    s = 10**9
    assert got["CacheMode"] in ("full", 3)
    assert got["CacheMaxSize"] == 3 * 2**30
    assert (got["CacheMaxAge"], got["DirCacheTime"]) == (36 * 3600 * s, 2 * 3600 * s)
    assert (got["PollInterval"], got["WriteBack"]) == (120 * s, 7 * s)


# --- the settings file -------------------------------------------------------------------


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = SettingsStore(tmp_path / "cfg" / "settings.json").load()
    assert s == AppSettings()
    assert (s.schema_version, s.accounts, s.notifications, s.log_level) == (1, [], True, "INFO")
    assert not (tmp_path / "cfg").exists()


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "cfg" / "settings.json")
    settings = AppSettings(accounts=[_account(), _account("home", drive_type="personal",
                                                          secret_expires=None,
                                                          last_sign_in=None)],
                           start_at_login=True, notifications=False,
                           rclone_path="/opt/rclone", log_level="DEBUG")
    store.save(settings)
    loaded = SettingsStore(tmp_path / "cfg" / "settings.json").load()
    assert loaded == settings
    assert loaded.account("work").last_token_refresh.utcoffset() == timedelta(hours=2)  # type: ignore[union-attr]
    data = json.loads((tmp_path / "cfg" / "settings.json").read_text())
    assert data["schema_version"] == 1
    assert data["accounts"][0]["secret_expires"] == "2027-05-01"
    assert data["accounts"][0]["last_sign_in"] == "2026-08-01T12:30:00+00:00"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_file_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    store = SettingsStore(path)
    store.save(AppSettings())
    inode = path.stat().st_ino
    store.save(AppSettings(accounts=[_account()]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]  # no temp left


def test_failed_save_leaves_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    store = SettingsStore(path)
    store.save(AppSettings(accounts=[_account()]))
    before = path.read_bytes()
    broken = AppSettings(accounts=[_account(options=MountOptions(chunk_size="11M"))])
    with pytest.raises(ValidationError):
        store.save(broken)
    assert path.read_bytes() == before


def test_missing_option_keys_take_defaults(tmp_path: Path) -> None:
    """A file from before an option existed still loads."""
    path = tmp_path / "settings.json"
    store = SettingsStore(path)
    store.save(AppSettings(accounts=[_account()]))
    data = json.loads(path.read_text())
    del data["accounts"][0]["options"]["write_back"]
    path.write_text(json.dumps(data))
    assert store.load().account("work").options.write_back == "5s"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[]", "wrong type"),
        (b'{"schema_version": 1, "accounts": [{"name": "x"}]}', "lacks 'client_id'"),
        (b'{"schema_version": 1, "accounts": "none"}', "accounts"),
        (b'{"accounts": []}', "schema_version"),
        (b'{"schema_version": 1, "start_at_login": "yes"}', "start_at_login"),
    ],
)
def test_damaged_file_is_backed_up_and_reported(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    with pytest.raises(SettingsError) as err:
        SettingsStore(path).load()
    backups = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == content
    assert path.read_bytes() == content  # the original is not touched
    assert str(backups[0]) in err.value.message
    assert why in err.value.message
    assert err.value.hint


def test_damaged_values_are_reported_with_their_place(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    store = SettingsStore(path)
    store.save(AppSettings(accounts=[_account()]))
    for key, value, why in (
        ("last_sign_in", "2026-08-01T12:30:00", "no time zone"),
        ("secret_expires", "May 2027", "not a date"),
        ("options", {"chunk_size": "11M"}, "Chunk size"),
    ):
        data = json.loads(path.read_text())
        data["accounts"][0][key] = value
        path.write_text(json.dumps(data))
        with pytest.raises(SettingsError) as err:
            store.load()
        assert f"accounts[0].{key}" in err.value.message
        assert why in err.value.message
        store.save(AppSettings(accounts=[_account()]))


def test_loading_the_same_damaged_file_twice_keeps_one_backup(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{")
    for _ in range(2):
        with pytest.raises(SettingsError):
            SettingsStore(path).load()
    assert len(list(tmp_path.glob("settings.json.corrupt-*"))) == 1
    path.write_text("[")
    with pytest.raises(SettingsError) as err:
        SettingsStore(path).load()
    assert len(list(tmp_path.glob("settings.json.corrupt-*"))) == 2
    assert "corrupt-" in err.value.message


def test_newer_file_is_refused_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    newer = b'{"schema_version": 2, "accounts": [], "profiles": {"a": 1}}'
    path.write_bytes(newer)
    store = SettingsStore(path)
    with pytest.raises(SettingsError) as err:
        store.load()
    assert "newer version" in err.value.message
    with pytest.raises(SettingsError):
        store.save(AppSettings())
    assert path.read_bytes() == newer
    assert not list(tmp_path.glob("settings.json.corrupt-*"))


def test_unknown_account_lists_the_known_ones() -> None:
    s = AppSettings(accounts=[_account("work"), _account("home")])
    assert s.account("home").name == "home"
    assert s.names() == ["work", "home"]
    with pytest.raises(ValidationError) as err:
        s.account("play")
    assert err.value.title == "Unknown account"
    assert "work, home" in err.value.message
    with pytest.raises(ValidationError) as err:
        AppSettings().account("play")
    assert "none yet" in err.value.message


def test_naive_datetimes_are_saved_with_the_local_zone(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    naive = datetime(2026, 1, 2, 3, 4, 5)
    SettingsStore(path).save(AppSettings(accounts=[_account(last_sign_in=naive)]))
    loaded = SettingsStore(path).load().account("work").last_sign_in
    assert loaded is not None and loaded.tzinfo is not None
    assert loaded.timestamp() == time.mktime(naive.timetuple())
