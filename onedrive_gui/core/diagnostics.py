"""What the app and rclone logged, filtered for reading, and a redacted report for a bug report.

The log view shows the app's own log and rclone's logs (the lines the app kept: already
filtered and redacted when written) as one list in time order. ``diagnostics_report`` puts
versions, the settings without secrets or personal data, the mount states and the last log
lines into one text for the clipboard; every line passes :func:`logging_setup.redact` again.
"""

from __future__ import annotations

import getpass
import json
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from onedrive_gui.core.logging_setup import redact
from onedrive_gui.core.settings import AppSettings

# rclone's levels and Python's, in one order (rclone's NOTICE sits between INFO and WARNING).
LEVELS: dict[str, int] = {"DEBUG": 10, "INFO": 20, "NOTICE": 25, "WARNING": 30, "ERROR": 40,
                          "CRITICAL": 50}
APP_SOURCE = "app"
READ_LIMIT = 2 * 1024 * 1024  # bytes read from the end of each log file
REPORT_LINES = 200

# "2026-11-30 05:12:01,123 WARNING onedrive_gui.core.drives.mounts: text" (core/logging_setup.py)
_APP_LINE = re.compile(
    r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:,\d+)? (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
    r"(.*)$")
# "2026/11/30 05:12:01 NOTICE: text" / "2026/11/30 05:12:01.123456 ERROR : work: text"
_RCLONE_LINE = re.compile(
    r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? +(DEBUG|INFO|NOTICE|ERROR|CRITICAL|"
    r"EMERGENCY|ALERT|WARNING)\s*: ?(.*)$")


@dataclass(frozen=True)
class LogLine:
    time: datetime | None
    level: str
    source: str  # "app", or the rclone log's name ("rclone", "rclone-work", ...)
    text: str

    def render(self) -> str:
        when = self.time.strftime("%Y-%m-%d %H:%M:%S") if self.time else "?"
        return f"{when} {self.level:<7} [{self.source}] {self.text}"


def log_files(log_dir: Path) -> dict[str, Path]:
    """The logs to show, by source name: the app's log and every rclone log in *log_dir*."""
    found: dict[str, Path] = {}
    app = log_dir / "onedrive-gui.log"
    if app.is_file():
        found[APP_SOURCE] = app
    for p in sorted(log_dir.glob("rclone*.log")):
        if p.is_file():
            found[p.stem] = p
    return found


def _tail_text(path: Path, limit: int) -> str:
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        start = max(0, size - limit)
        f.seek(start)
        data = f.read()
    if start:  # drop the partial first line
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    return data.decode("utf-8", errors="replace")


def parse_log(text: str, source: str) -> list[LogLine]:
    """Lines of one log; lines that start no record (tracebacks) continue the one before."""
    pattern, fmt = ((_APP_LINE, "%Y-%m-%d %H:%M:%S") if source == APP_SOURCE
                    else (_RCLONE_LINE, "%Y/%m/%d %H:%M:%S"))
    out: list[LogLine] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        m = pattern.match(raw)
        if m is None:
            if out:
                prev = out[-1]
                out[-1] = LogLine(prev.time, prev.level, prev.source, f"{prev.text}\n{raw}")
            else:
                out.append(LogLine(None, "INFO", source, raw))
            continue
        level = m.group(2)
        level = {"EMERGENCY": "CRITICAL", "ALERT": "CRITICAL"}.get(level, level)
        try:
            when: datetime | None = datetime.strptime(m.group(1), fmt)
        except ValueError:
            when = None
        out.append(LogLine(when, level, source, m.group(3)))
    return out


def read_logs(log_dir: Path, *, limit: int = READ_LIMIT) -> list[LogLine]:
    """Every log's last *limit* bytes, merged in time order (records without a time last)."""
    lines: list[LogLine] = []
    for source, path in log_files(log_dir).items():
        try:
            text = _tail_text(path, limit)
        except OSError:
            continue  # rotated or removed between the listing and the read: nothing to show
        lines.extend(parse_log(text, source))
    return sorted(lines, key=lambda ln: (ln.time is None, ln.time or datetime.min))


def filter_lines(lines: Iterable[LogLine], *, min_level: str = "DEBUG", search: str = "",
                 source: str | None = None) -> list[LogLine]:
    """Lines at *min_level* or above, from *source* (app / any rclone log when "rclone"),
    containing *search* (case-insensitive)."""
    floor = LEVELS.get(min_level.upper(), 0)
    needle = search.strip().casefold()
    out = []
    for ln in lines:
        if LEVELS.get(ln.level, 20) < floor:
            continue
        if source == APP_SOURCE and ln.source != APP_SOURCE:
            continue
        if source == "rclone" and not ln.source.startswith("rclone"):
            continue
        if needle and needle not in ln.text.casefold():
            continue
        out.append(ln)
    return out


def _mask_id(value: str | None) -> str | None:
    if not value:
        return value
    return value if len(value) <= 8 else f"{value[:4]}…{value[-4:]}"


def _mask_user(value: str | None) -> str | None:
    if not value:
        return value
    local, at, domain = value.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else f"{value[:1]}***"


# Tenants that name no organisation (kept as they are in a report).
_PUBLIC_TENANTS = ("common", "organizations", "consumers")


def _mask_tenant(value: str | None) -> str | None:
    return value if not value or value in _PUBLIC_TENANTS else _mask_id(value)


def settings_for_report(settings: AppSettings) -> dict[str, Any]:
    """The settings as JSON data, with identifying values shortened and names left out.

    The settings hold no secret (those are in the keyring and rclone's encrypted config);
    client, drive and tenant IDs are cut to their ends, user names to their domain.
    """
    data = asdict(settings)
    for acc in data.get("accounts", []):
        acc["client_id"] = _mask_id(acc.get("client_id"))
        acc["drive_id"] = _mask_id(acc.get("drive_id"))
        acc["tenant"] = _mask_tenant(acc.get("tenant"))
        acc["username"] = _mask_user(acc.get("username"))
        acc.pop("display_name", None)
    return data


_WORD_END = r"(?=[\\/\s\"',;:)\]}]|$)"  # a path component ends here


def _login_name() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name in the environment nor the user database
        return None


def anonymise(text: str, settings: AppSettings | None = None) -> str:
    """*text* without who the user is: the home folder as ``~``, the login name as
    ``<user>`` wherever else it stands as a word (Windows' short form ``ALICE~1`` too; names
    shorter than 3 characters are left, they would hit ordinary words), and the accounts'
    tenant, client and drive IDs and user names shortened as in the settings."""
    for acc in settings.accounts if settings is not None else []:
        for value, masked in ((acc.tenant, _mask_tenant(acc.tenant)),
                              (acc.client_id, _mask_id(acc.client_id)),
                              (acc.drive_id, _mask_id(acc.drive_id)),
                              (acc.username, _mask_user(acc.username))):
            if value and masked and value != masked:
                text = text.replace(value, masked)
    flags = re.IGNORECASE if sys.platform == "win32" else 0
    home = Path.home()
    for form in sorted({str(home), home.as_posix()}, key=len, reverse=True):
        if len(form) > 1:
            text = re.sub(re.escape(form) + _WORD_END, "~", text, flags=flags)
    login = _login_name()
    if login and len(login) >= 3:
        names = [re.escape(login)]
        if len(login) > 8:
            names.append(re.escape(login[:6]) + r"~\d")
        text = re.sub(r"(?<![A-Za-z0-9._-])(?:" + "|".join(names) + r")(?![A-Za-z0-9_-])",
                      "<user>", text, flags=re.IGNORECASE)
    return text


def diagnostics_report(
    *,
    versions: Mapping[str, str],
    settings: AppSettings | None,
    states: Mapping[str, str],
    lines: Iterable[LogLine],
    last: int = REPORT_LINES,
) -> str:
    """A text for a bug report: versions, settings, mount states, the last *last* log lines.

    Redacted as the logs are (registered secrets, token-shaped values) and anonymised
    (:func:`anonymise`: home folder, login name, tenant and other IDs)."""
    out = ["OneDrive GUI diagnostics", f"created {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
           "", "## Versions"]
    out += [f"{k}: {v}" for k, v in versions.items()]
    out += [f"os: {platform.platform()}", f"python: {platform.python_version()}", "",
            "## Settings (no secrets; IDs shortened)"]
    if settings is None:
        out.append("(could not be read)")
    else:
        out.append(json.dumps(settings_for_report(settings), indent=2, default=str,
                              ensure_ascii=False))
    out += ["", "## Mounts"]
    out += [f"{name}: {state}" for name, state in states.items()] or ["(no accounts)"]
    tail = list(lines)[-last:]
    out += ["", f"## Last {len(tail)} log lines"]
    out += [ln.render() for ln in tail]
    return redact(anonymise("\n".join(out), settings)) + "\n"
