"""The log view's reading and the diagnostics report, on logs written by the app's own logging
and by the real rclone."""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from onedrive_gui.core import diagnostics
from onedrive_gui.core.logging_setup import register_secret, setup_logging
from onedrive_gui.core.rclone.binary import RcloneBinary
from onedrive_gui.core.settings import Account, AppSettings

SECRET = "Xy7~s3cr3t.Value_from-portal"


@pytest.fixture
def logs(tmp_path: Path, rclone_binary: RcloneBinary) -> Iterator[Path]:
    """A log folder as the running app leaves it: its own log and rclone's."""
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    # rclone's own lines (its real format), as the app copies them into rclone.log
    subprocess.run([str(rclone_binary.path), "lsd", "nothere:", "-vv", "--config",
                    str(tmp_path / "empty.conf"), "--log-file", str(log_dir / "rclone.log")],
                   check=False, capture_output=True, timeout=60)
    # the app's lines through its logging setup (redacting, as in the app)
    setup_logging(verbosity=2, log_file=log_dir / "onedrive-gui.log")
    register_secret(SECRET)
    logger = logging.getLogger("onedrive_gui.test")
    logger.info("mounted work on /tmp/x")
    logger.warning("client secret %s rejected", SECRET)
    try:
        raise ValueError("broken on purpose")
    except ValueError:
        logger.exception("a task failed")
    root = logging.getLogger()
    for h in root.handlers:
        h.flush()
    yield log_dir
    for h in list(root.handlers):
        if getattr(h, "_onedrive_gui", False):
            root.removeHandler(h)
            h.close()


def test_both_logs_are_read_merged_in_time_order(logs: Path) -> None:
    lines = diagnostics.read_logs(logs)
    sources = {ln.source for ln in lines}
    assert sources == {"app", "rclone"}
    assert all(ln.time is not None for ln in lines)
    assert [ln.time for ln in lines] == sorted(ln.time for ln in lines)  # type: ignore[type-var]
    rclone_levels = {ln.level for ln in lines if ln.source == "rclone"}
    assert {"DEBUG", "CRITICAL"} <= rclone_levels  # "-vv" debug lines and the failure
    # a traceback continues its record instead of becoming lines of its own
    failed = [ln for ln in lines if ln.text.endswith("a task failed") or "a task failed\n"
              in ln.text]
    assert len(failed) == 1 and "ValueError: broken on purpose" in failed[0].text
    assert not any(SECRET in ln.text for ln in lines)


def test_filters_by_level_source_and_search(logs: Path) -> None:
    lines = diagnostics.read_logs(logs)
    errors = diagnostics.filter_lines(lines, min_level="ERROR")
    assert errors and all(ln.level in ("ERROR", "CRITICAL") for ln in errors)
    assert {ln.source for ln in errors} == {"app", "rclone"}
    app_only = diagnostics.filter_lines(lines, source="app")
    assert app_only and {ln.source for ln in app_only} == {"app"}
    rclone_only = diagnostics.filter_lines(lines, source="rclone")
    assert rclone_only and {ln.source for ln in rclone_only} == {"rclone"}
    found = diagnostics.filter_lines(lines, search="MOUNTED WORK")
    assert [ln.text for ln in found] == ["onedrive_gui.test: mounted work on /tmp/x"]
    # rclone's NOTICE ranks between INFO and WARNING
    notice = diagnostics.LogLine(datetime(2026, 1, 1), "NOTICE", "rclone", "n")
    assert diagnostics.filter_lines([notice], min_level="WARNING") == []
    assert diagnostics.filter_lines([notice], min_level="INFO") == [notice]


def test_reads_only_the_end_of_a_big_log(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    with open(log_dir / "onedrive-gui.log", "w", encoding="utf-8") as f:
        for i in range(20000):
            f.write(f"2026-11-30 05:00:00,000 INFO onedrive_gui.x: line {i}\n")
    lines = diagnostics.read_logs(log_dir, limit=4096)
    assert lines[-1].text.endswith("line 19999")
    assert 0 < len(lines) < 100
    assert all(ln.time is not None for ln in lines)  # no half line at the cut


def test_report_has_what_a_bug_report_needs_and_nothing_secret(logs: Path) -> None:
    account = Account(name="work", client_id="3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44",
                      display_name="Alice Example", username="alice@contoso.com",
                      drive_id="b!abcdefghijklmnopqrstuvwxyz", drive_type="business")
    # a line with a registered secret that reached a log unredacted (a log of an older
    # version, say): the report redacts it again
    with open(logs / "rclone.log", "a", encoding="utf-8") as f:
        f.write(f"2099/01/01 00:00:00 ERROR : leaked {SECRET}\n")
    text = diagnostics.diagnostics_report(
        versions={"onedrive-gui": "0.1.0", "rclone": "v1.75.2"},
        settings=AppSettings(accounts=[account]),
        states={"work": "mounted on ~/OneDrive/work"},
        lines=diagnostics.read_logs(logs))
    assert "onedrive-gui: 0.1.0" in text and "rclone: v1.75.2" in text
    assert "work: mounted on ~/OneDrive/work" in text
    assert '"drive_type": "business"' in text and '"cache_mode": "writes"' in text
    assert "3f1c…1a44" in text and "3f1c2b7a-9d4e" not in text
    assert "a***@contoso.com" in text and "alice" not in text and "Alice" not in text
    assert "abcdefghijklmnop" not in text
    assert SECRET not in text and "leaked ***" in text
    assert "a task failed" in text and "broken on purpose" in text
    shown = text.split("## Last ", 1)[1]
    records = [ln for ln in shown.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", ln)]
    assert int(shown.split()[0]) == len(records) <= 200


def test_report_hides_home_folder_login_name_and_tenant(  # issue 22
    logs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "users" / "zoetester"
    monkeypatch.setenv("HOME", str(home))
    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(var, "zoetester")
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    work = Account(name="work", client_id="3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44",
                   tenant=tenant, username="zoe@contoso.com", drive_id="b!abcdefghijkl1234",
                   drive_type="business", mount_point=str(home / "OneDrive" / "work"))
    personal = Account(name="personal", client_id="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                       drive_id="0123456789abcdef", drive_type="personal")
    settings = AppSettings(accounts=[work, personal], rclone_path=str(home / "bin" / "rclone"))
    with open(logs / "onedrive-gui.log", "a", encoding="utf-8") as f:
        f.write(f"2099-01-01 00:00:00,000 INFO onedrive_gui.x: mounted work on {home}/OneDrive"
                "/work\n"
                f"2099-01-01 00:00:01,000 WARNING onedrive_gui.x: AADSTS50020: user not in "
                f"tenant {tenant}\n"
                "2099-01-01 00:00:02,000 INFO onedrive_gui.x: cache on /media/zoetester/usb "
                "(owner ZOETESTER)\n")
    text = diagnostics.diagnostics_report(
        versions={"onedrive-gui": "0.1.0"}, settings=settings,
        states={"work": f"mounted on {home}/OneDrive/work"},
        lines=diagnostics.read_logs(logs))
    assert str(home) not in text
    assert "zoetester" not in text.lower()
    assert tenant not in text and "72f9…db47" in text
    assert '"tenant": "common"' in text  # a tenant that names no organisation stays
    assert "mounted work on ~/OneDrive/work" in text and "work: mounted on ~/OneDrive/work" in text
    assert '"mount_point": "~/OneDrive/work"' in text and '"rclone_path": "~/bin/rclone"' in text
    assert "cache on /media/<user>/usb (owner <user>)" in text
    assert "AADSTS50020: user not in tenant 72f9…db47" in text
