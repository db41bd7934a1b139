"""App settings: accounts, their mount options, app-wide switches; one JSON file.

The file holds no secret (those live in the keyring). It carries ``schema_version``; a file
written by a newer version of the app is never overwritten, and a file that cannot be read
is copied aside (``settings.json.corrupt-<UTC timestamp>``) before the error is reported.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from onedrive_gui.core.atomic import write_atomic
from onedrive_gui.core.drives.limits import DEFAULT_PREFILL_MAX_ITEMS, MAX_WRITE_BACK
from onedrive_gui.core.errors import SettingsError, ValidationError
from onedrive_gui.core.i18n import N_, _

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CACHE_MODES = ("off", "minimal", "writes", "full")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# OneDrive upload sessions take fragments in multiples of 320 KiB; rclone recommends <= 250M.
CHUNK_UNIT = 320 * 1024
CHUNK_MAX = 250 * 1024 * 1024

_SIZE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([kmgtpe]?)(i?)(b?)$", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w|M|y)")
_DURATION_NS = {
    "ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
    "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9,
    "M": 30 * 86400 * 10**9, "y": 365 * 86400 * 10**9,
}
_BW_TIME = re.compile(r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)-)?([01]?\d|2[0-3]):?([0-5]\d)$")


_INT64_LIMIT = 2.0**63


def parse_size(text: str, *, allow_off: bool = False) -> int:
    """Bytes in an rclone size ("10M", "10Mi", "10MiB", "512k", "1.5G"; bare = KiB).

    "off" gives -1 when *allow_off*. Raises ValueError when rclone would not accept it.
    """
    s = text.strip()
    if allow_off and s.lower() == "off":
        return -1
    m = _SIZE.match(s)
    if not m:
        raise ValueError(s)
    number, unit, binary, b = m.groups()
    if not unit and binary:
        raise ValueError(s)
    if not unit:
        multiplier = 1 if b else 1024  # rclone: "10b" is bytes, a bare number KiB
    else:
        multiplier = 1024 ** ("kmgtpe".index(unit.lower()) + 1)
    value = float(number) * multiplier
    if not value < _INT64_LIMIT:  # rclone keeps sizes in 64 bits (also catches inf)
        raise ValueError(s)
    return int(value)


def parse_duration(text: str, *, allow_off: bool = False) -> float:
    """Seconds in an rclone duration ("1h", "1h30m", "90s", "1d", "1.5h"; bare = seconds)."""
    s = text.strip()
    if allow_off and s.lower() == "off":
        return math.inf
    if re.fullmatch(r"\d+(?:\.\d*)?", s):
        total = float(s)
    elif not s:
        raise ValueError(s)
    else:
        pos, total = 0, 0.0
        while pos < len(s):
            m = _DURATION_PART.match(s, pos)
            if not m:
                raise ValueError(s)
            total += float(m.group(1)) * _DURATION_NS[m.group(2)] / 1e9
            pos = m.end()
    if not total * 1e9 < _INT64_LIMIT:  # rclone keeps durations in 64-bit nanoseconds
        raise ValueError(s)
    return total


def _check_bwlimit(text: str) -> None:
    """Accept what rclone's --bwlimit accepts: "", off, RATE, UP:DOWN, or a timetable."""
    s = text.strip()
    if not s or s.lower() == "off":
        return

    def rate(r: str) -> None:
        for part in r.split(":") if r.count(":") == 1 else [r]:
            parse_size(part, allow_off=True)

    entries = s.split()
    if len(entries) == 1 and "," not in s:
        rate(s)
        return
    for entry in entries:
        when, sep, r = entry.partition(",")
        if not sep or not _BW_TIME.match(when):
            raise ValueError(entry)
        rate(r)


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class MountOptions:
    """How one account is mounted. Defaults chosen for OneDrive; ``help`` says why."""

    cache_mode: str = field(default="writes", metadata=_help(
        N_("VFS cache mode. 'writes' keeps files opened for writing on disk until they are "
        "uploaded, so apps that save, rename or append (office suites, editors) work; 'off' "
        "breaks many of them, 'full' also caches reads (more disk, fewer downloads).")))
    cache_max_size: str = field(default="10G", metadata=_help(
        N_("Upper bound of the local cache. Files not yet uploaded are never evicted, so the "
        "cache can exceed it while uploads are pending.")))
    cache_max_age: str = field(default="24h", metadata=_help(
        N_("Cached files unused for this long are removed from the local disk (not from "
        "OneDrive).")))
    dir_cache_time: str = field(default="6h", metadata=_help(
        N_("How long folder listings are kept. After mounting, the app reads every folder of "
        "the drive in a few requests (its delta listing) and reads them all again every "
        "4 hours; OneDrive reports changes through polling (see poll interval), so listings "
        "stay fresh while far fewer listing requests are sent, which keeps the account "
        "clear of throttling. Keep it longer than reading the whole drive takes.")))
    poll_interval: str = field(default="1m", metadata=_help(
        N_("How often rclone asks OneDrive for changes made elsewhere (one cheap delta request "
        "per interval).")))
    write_back: str = field(default="5s", metadata=_help(
        N_("Delay between closing a changed file and uploading it; a short delay merges "
        "quick successive saves into one upload.")))
    tpslimit: float = field(default=0.0, metadata=_help(
        N_("Maximum HTTP requests per second of this account, a hard ceiling (0 = none, the "
        "default). SharePoint/OneDrive throttles each app registration per tenant (1,250 "
        "resource units a minute in small tenants, shared by every device using the app); the "
        "app paces uploads by the cloud's answers and remembers the rate it learned, so no "
        "fixed limit is needed: a limit caps uploads even below your tenant's budget. Set one "
        "(rclone's maintainers suggest 3) if you see 'Too many requests' often.")))
    tpslimit_burst: int = field(default=100, metadata=_help(
        N_("Requests sent at once before the per-second limit applies (opening a large folder, "
        "saving many files).")))
    transfers: int = field(default=4, metadata=_help(
        N_("Files uploaded or downloaded in parallel.")))
    checkers: int = field(default=4, metadata=_help(
        N_("Parallel listings and checks (rclone's default is 8). OneDrive throttles on the "
        "number of requests, which grows with the number of files, so fewer parallel "
        "checks mean fewer 429 'Too many requests' answers.")))
    bwlimit: str = field(default="", metadata=_help(
        N_("Bandwidth limit, e.g. '10M' (bytes per second), '1M:10M' (upload:download) or a "
        "timetable such as '08:00,1M 19:00,off'. Empty = no limit.")))
    chunk_size: str = field(default="10M", metadata=_help(
        N_("Upload chunk size. OneDrive needs a multiple of 320 KiB (10M = 32 × 320 KiB, "
        "rclone's default) and at most 250M. Each running transfer holds one chunk in "
        "memory.")))

    prefill_max_items: int = field(default=DEFAULT_PREFILL_MAX_ITEMS, metadata=_help(
        N_("After mounting, the app reads the whole drive's folder listings in a few requests, "
        "so that opening folders is instant and cheap. The account's rclone then holds about "
        "2 KB of memory per file and folder: a drive that had more items than this at its "
        "last reading is not read ahead (its folders are listed as you open them). "
        "0 = never read ahead.")))

    @staticmethod
    def help(name: str) -> str:
        """The reason for a field's default, for the settings dialog and the README."""
        for f in fields(MountOptions):
            if f.name == name:
                return _(str(f.metadata["help"]))
        raise KeyError(name)

    def validate(self) -> None:
        """Raise ValidationError naming the first unacceptable option and what is allowed."""

        def bad(label: str, value: object, hint: str) -> ValidationError:
            return ValidationError(_("Invalid mount option"), _(
                "{label}: '{value}' is not valid."
            ).format(label=label, value=value),
                                   hint)

        if self.cache_mode not in CACHE_MODES:
            raise bad(_("Cache mode"), self.cache_mode,
                      _("Use one of: {values}.").format(values=", ".join(CACHE_MODES)))
        size_hint = _("Use a size such as 500M, 10G or 1T (K, M, G, T = KiB, MiB, GiB, TiB).")
        try:
            if parse_size(self.cache_max_size, allow_off=True) == 0:
                raise ValueError(self.cache_max_size)
        except ValueError:
            raise bad(_("Cache size"), self.cache_max_size,
                      _("{size_hint} 'off' = no limit.").format(size_hint=size_hint)) from None
        dur_hint = _("Use a duration such as 30s, 5m, 1h, 1h30m or 7d.")
        for label, value, allow_off in (
            (_("Cache max age"), self.cache_max_age, True),
            (_("Folder cache time"), self.dir_cache_time, False),
            (_("Poll interval"), self.poll_interval, False),
            (_("Upload delay"), self.write_back, False),
        ):
            try:
                parse_duration(value, allow_off=allow_off)
            except ValueError:
                raise bad(label, value, dur_hint) from None
        if parse_duration(self.write_back) > MAX_WRITE_BACK:
            # every upload is checked against the cloud before it starts; rclone holds it
            # meanwhile for a time derived from this delay, which must stay far below it
            raise bad(_("Upload delay"), self.write_back, _(
                "Use at most 1h: each upload is checked against the cloud before it "
                "starts, and a longer delay could not be held safely until then."))
        if isinstance(self.tpslimit, bool) or not isinstance(self.tpslimit, int | float) or (
            not math.isfinite(self.tpslimit) or self.tpslimit < 0
        ):
            raise bad(_("Requests per second"), self.tpslimit,
                      _("Use a number of requests per second such as 8 or 3 (0 = unlimited)."))
        if isinstance(self.prefill_max_items, bool) or not isinstance(
                self.prefill_max_items, int) or self.prefill_max_items < 0:
            raise bad(_("Read-ahead limit"), self.prefill_max_items,
                      _("Use a whole number of files and folders such as 100000 (0 = never)."))
        for label, count in (
            (_("Request burst"), self.tpslimit_burst),
            (_("Transfers"), self.transfers),
            (_("Checkers"), self.checkers),
        ):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise bad(label, count, _("Use a whole number of 1 or more."))
        try:
            _check_bwlimit(self.bwlimit)
        except ValueError:
            raise bad(_("Bandwidth limit"), self.bwlimit,
                      _("Leave it empty for no limit, or use a rate such as 10M, an upload:"
                      "download pair such as 1M:10M, or a timetable such as "
                      "'08:00,1M 19:00,off'.")) from None
        try:
            chunk = parse_size(self.chunk_size)
        except ValueError:
            chunk = -1
        if chunk <= 0 or chunk % CHUNK_UNIT or chunk > CHUNK_MAX:
            raise bad(_("Chunk size"), self.chunk_size,
                      _("OneDrive needs a multiple of 320 KiB up to 250M: e.g. 5M (16 × 320k), "
                      "10M (32 × 320k, the default), 20M or 100M."))

    def to_rc(self, volume_name: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(mountOpt, vfsOpt) for rclone's rc ``mount/mount``, in rclone's own key names."""
        mount_opt: dict[str, Any] = {}
        if volume_name:
            mount_opt["VolumeName"] = volume_name
        vfs_opt: dict[str, Any] = {
            "CacheMode": self.cache_mode,
            "CacheMaxSize": self.cache_max_size,
            "CacheMaxAge": self.cache_max_age,
            "DirCacheTime": self.dir_cache_time,
            "PollInterval": self.poll_interval,
            "WriteBack": self.write_back,
        }
        return mount_opt, vfs_opt

    def global_flags(self) -> dict[str, Any]:
        """The account's limits in rclone's option names: flags of the account's own
        ``rclone rcd`` (core.rclone.process.limit_args); rclone's limiters are per process."""
        return {
            "TPSLimit": float(self.tpslimit),
            "TPSLimitBurst": self.tpslimit_burst,
            "Transfers": self.transfers,
            "Checkers": self.checkers,
            "BwLimit": self.bwlimit.strip() or "off",
        }

    def backend_opts(self) -> dict[str, str]:
        """OneDrive backend options: keys of the remote in the (encrypted) rclone config."""
        return {"chunk_size": self.chunk_size}


@dataclass(kw_only=True)
class Account:
    """One OneDrive drive the app mounts; ``name`` is also the rclone remote's name."""

    name: str
    client_id: str
    tenant: str = "common"
    cloud: str = "global"  # core.clouds key = rclone's region: global | us | cn
    display_name: str | None = None
    username: str | None = None
    drive_id: str
    drive_type: str
    drive_name: str | None = None
    secret_expires: date | None = None
    last_sign_in: datetime | None = None
    last_token_refresh: datetime | None = None
    mount_point: str | None = None
    auto_mount: bool = False
    options: MountOptions = field(default_factory=MountOptions)


@dataclass
class AppSettings:
    schema_version: int = SCHEMA_VERSION
    accounts: list[Account] = field(default_factory=list)
    start_at_login: bool = False
    notifications: bool = True
    rclone_path: str | None = None
    log_level: str = "INFO"
    # The desktop app's language: "" follows the system, else a catalogue's name ("en",
    # "zh_CN"); read at start-up (core/i18n.py: languages_for).
    language: str = ""

    def account(self, name: str) -> Account:
        for a in self.accounts:
            if a.name == name:
                return a
        known = ", ".join(self.names()) or _("none yet")
        raise ValidationError(
            _("Unknown account"),
            _(
                "There is no account named '{name}' (accounts: {known})."
            ).format(name=name, known=known),
            _("Use one of the names listed, or add the account first."),
        )

    def names(self) -> list[str]:
        return [a.name for a in self.accounts]


# --- JSON -------------------------------------------------------------------------------


class _Shape(Exception):
    """The JSON parsed but does not have the expected shape (internal)."""


def _expect(value: Any, typ: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and typ in (int, float, (int, float)):
        raise _Shape(_("{where} must be a number, not true/false").format(where=where))
    if not isinstance(value, typ):
        raise _Shape(_(
            "{where} has the wrong type ({type})"
        ).format(where=where, type=type(value).__name__))
    return value


def _opt_str(d: dict[str, Any], key: str, where: str) -> str | None:
    v = d.get(key)
    return None if v is None else str(_expect(v, str, f"{where}.{key}"))


def _date(v: Any, where: str) -> date | None:
    if v is None:
        return None
    try:
        return date.fromisoformat(_expect(v, str, where))
    except ValueError:
        raise _Shape(_("{where} is not a date (YYYY-MM-DD)").format(where=where)) from None


def _datetime(v: Any, where: str) -> datetime | None:
    if v is None:
        return None
    try:
        dt = datetime.fromisoformat(_expect(v, str, where))
    except ValueError:
        raise _Shape(_("{where} is not a date and time").format(where=where)) from None
    if dt.tzinfo is None:
        raise _Shape(_("{where} has no time zone").format(where=where))
    return dt


def _dt_out(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo is not None else dt.astimezone()).isoformat()


def _options_from(d: Any, where: str) -> MountOptions:
    _expect(d, dict, where)
    defaults = MountOptions()
    kw: dict[str, Any] = {}
    for f in fields(MountOptions):
        if f.name not in d:
            continue  # options added by a later version of this schema take their default
        v = d[f.name]
        default = getattr(defaults, f.name)
        typ: type | tuple[type, ...] = (int, float) if isinstance(default, float) else type(default)
        kw[f.name] = _expect(v, typ, f"{where}.{f.name}")
    opts = MountOptions(**kw)
    try:
        opts.validate()
    except ValidationError as exc:
        raise _Shape(_("{where}: {message}").format(where=where, message=exc.message)) from None
    return opts


def _cloud_from(v: Any, where: str) -> str:
    """A cloud key (files written before clouds existed have none: global)."""
    from onedrive_gui.core.microsoft.clouds import CLOUDS

    key = _expect(v, str, where)
    if key not in CLOUDS:
        raise _Shape(_(
            "{where} '{key}' is not one of {join}"
        ).format(where=where, key=key, join=', '.join(CLOUDS)))
    return str(key)


def _account_from(d: Any, i: int) -> Account:
    where = f"accounts[{i}]"
    _expect(d, dict, where)
    try:
        name = _expect(d["name"], str, f"{where}.name")
        return Account(
            name=name,
            client_id=_expect(d["client_id"], str, f"{where}.client_id"),
            tenant=_expect(d.get("tenant", "common"), str, f"{where}.tenant"),
            cloud=_cloud_from(d.get("cloud", "global"), f"{where}.cloud"),
            display_name=_opt_str(d, "display_name", where),
            username=_opt_str(d, "username", where),
            drive_id=_expect(d["drive_id"], str, f"{where}.drive_id"),
            drive_type=_expect(d["drive_type"], str, f"{where}.drive_type"),
            drive_name=_opt_str(d, "drive_name", where),
            secret_expires=_date(d.get("secret_expires"), f"{where}.secret_expires"),
            last_sign_in=_datetime(d.get("last_sign_in"), f"{where}.last_sign_in"),
            last_token_refresh=_datetime(d.get("last_token_refresh"),
                                         f"{where}.last_token_refresh"),
            mount_point=_opt_str(d, "mount_point", where),
            auto_mount=_expect(d.get("auto_mount", False), bool, f"{where}.auto_mount"),
            options=_options_from(d.get("options", {}), f"{where}.options"),
        )
    except KeyError as exc:
        raise _Shape(_("{where} lacks '{args}'").format(where=where, args=exc.args[0])) from None


def settings_from_json(data: Any) -> AppSettings:
    """AppSettings from parsed JSON; raises _Shape on anything unexpected."""
    _expect(data, dict, _("the file"))
    accounts_raw = _expect(data.get("accounts", []), list, "accounts")
    accounts = [_account_from(a, i) for i, a in enumerate(accounts_raw)]
    names = [a.name.lower() for a in accounts]
    if len(set(names)) != len(names):
        raise _Shape(_("two accounts have the same name"))
    level = _expect(data.get("log_level", "INFO"), str, "log_level")
    if level.upper() not in LOG_LEVELS:
        raise _Shape(_(
            "log_level '{level}' is not one of {join}"
        ).format(level=level, join=', '.join(LOG_LEVELS)))
    return AppSettings(
        schema_version=SCHEMA_VERSION,
        accounts=accounts,
        start_at_login=_expect(data.get("start_at_login", False), bool, "start_at_login"),
        notifications=_expect(data.get("notifications", True), bool, "notifications"),
        rclone_path=_opt_str(data, "rclone_path", "settings"),
        log_level=level.upper(),
        language=_expect(data.get("language", ""), str, "language"),
    )


def settings_to_json(settings: AppSettings) -> dict[str, Any]:
    def account(a: Account) -> dict[str, Any]:
        return {
            "name": a.name,
            "client_id": a.client_id,
            "tenant": a.tenant,
            "cloud": a.cloud,
            "display_name": a.display_name,
            "username": a.username,
            "drive_id": a.drive_id,
            "drive_type": a.drive_type,
            "drive_name": a.drive_name,
            "secret_expires": a.secret_expires.isoformat() if a.secret_expires else None,
            "last_sign_in": _dt_out(a.last_sign_in),
            "last_token_refresh": _dt_out(a.last_token_refresh),
            "mount_point": a.mount_point,
            "auto_mount": a.auto_mount,
            "options": {f.name: getattr(a.options, f.name) for f in fields(MountOptions)},
        }

    return {
        "schema_version": SCHEMA_VERSION,
        "accounts": [account(a) for a in settings.accounts],
        "start_at_login": settings.start_at_login,
        "notifications": settings.notifications,
        "rclone_path": settings.rclone_path,
        "log_level": settings.log_level,
        "language": settings.language,
    }


class SettingsStore:
    """Reads and writes the settings file (atomically, readable by the user only)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> AppSettings:
        """The settings; defaults when there is no file yet.

        A file that cannot be read as settings is copied aside first and SettingsError names
        the copy; a file from a newer version of the app raises SettingsError.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return AppSettings()
        except OSError as exc:
            raise SettingsError(
                _("Cannot read settings"),
                _(
                    "{path} cannot be read: {value}."
                ).format(path=self.path, value=exc.strerror or exc),
                _("Check the file's permissions."),
            ) from exc
        try:
            data = json.loads(raw.decode("utf-8"))
            version = _expect(data, dict, _("the file")).get("schema_version")
            if isinstance(version, int) and not isinstance(version, bool) and (
                version > SCHEMA_VERSION
            ):
                raise SettingsError(
                    _("Settings from a newer version"),
                    _(
                        "{path} was written by a newer version of OneDrive GUI (settings "
                        "format {version}; this version reads format {SCHEMA_VERSION}). It was "
                        "left untouched."
                    ).format(path=self.path, version=version, SCHEMA_VERSION=SCHEMA_VERSION),
                    _("Install the newer version again, or move the file away to start afresh."),
                )
            if version != SCHEMA_VERSION:
                raise _Shape(_(
                    "schema_version is {version!r}, expected {SCHEMA_VERSION}"
                ).format(version=version, SCHEMA_VERSION=SCHEMA_VERSION))
            return settings_from_json(data)
        except (UnicodeDecodeError, json.JSONDecodeError, _Shape) as exc:
            why = str(exc) if isinstance(exc, _Shape) else _("it is not valid JSON")
            backup = self._backup(raw)
            raise SettingsError(
                _("Settings file damaged"),
                _(
                    "{path} cannot be used ({why}). A copy was saved as {backup}."
                ).format(path=self.path, why=why, backup=backup),
                _(
                    "Fix the file (or delete it to start with default settings) and start the "
                    "app again; your accounts' details are in {name}."
                ).format(name=backup.name),
            ) from None

    def _backup(self, raw: bytes) -> Path:
        for old in sorted(self.path.parent.glob(self.path.name + ".corrupt-*")):
            try:
                if old.read_bytes() == raw:
                    return old  # the same damaged content was saved before
            except OSError as exc:
                log.warning("cannot read earlier settings backup %s: %s", old, exc)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while backup.exists():
            n += 1
            backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
        except OSError as exc:
            raise SettingsError(
                _("Settings file damaged"),
                _(
                    "{path} cannot be used, and a copy could not be saved ({strerror})."
                ).format(path=self.path, strerror=exc.strerror),
                _("Copy {path} somewhere safe, then fix or delete it.").format(path=self.path),
            ) from exc
        return backup

    def _on_disk_version(self) -> object:
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return None  # missing or unreadable: load() reports it; save() may replace it
        return data.get("schema_version") if isinstance(data, dict) else None

    def save(self, settings: AppSettings) -> None:
        """Write atomically (temp file in the same folder, fsync, rename), mode 0600."""
        version = self._on_disk_version()
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise SettingsError(
                _("Settings from a newer version"),
                _(
                    "{path} was written by a newer version of OneDrive GUI; it was not "
                    "overwritten."
                ).format(path=self.path),
                _("Install the newer version again, or move the file away to start afresh."),
            )
        for a in settings.accounts:
            a.options.validate()
        text = json.dumps(settings_to_json(settings), indent=2, ensure_ascii=False) + "\n"
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                folder.chmod(0o700)
            write_atomic(self.path, text.encode("utf-8"), 0o600)
        except OSError as exc:
            raise SettingsError(
                _("Cannot save settings"),
                _(
                    "The settings could not be written to {path}: {value}."
                ).format(path=self.path, value=exc.strerror or exc),
                _("Check that the disk is not full and that the folder is writable; the previous "
                "settings file was left as it was."),
            ) from exc
