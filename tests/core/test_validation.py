"""What the user types: client IDs, secrets, tenants, account names, dates, ports, paths."""

from __future__ import annotations

import math
import os
from datetime import date, timedelta

import pytest

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.validation import (
    SECRET_ID_WARNING,
    clean_secret,
    secret_looks_like_secret_id,
    validate_account_name,
    validate_client_id,
    validate_port,
    validate_rclone_path,
    validate_secret_expiry,
    validate_tenant,
    validate_timeout,
)

GUID = "0b7d3b2e-5a8c-4c1e-9f3a-2d6e8f1a4b5c"


@pytest.mark.parametrize("given", [f"  {GUID.upper()} \n", "{" + GUID + "}", f" {{{GUID}}} ",
                                   f"\ufeff{GUID}\u200b", f"\xa0{GUID}\t"])
def test_client_id_is_trimmed_unbraced_and_lowered(given: str) -> None:
    assert validate_client_id(given) == GUID


@pytest.mark.parametrize(
    ("bad", "title"),
    [("", "Client ID missing"), ("   ", "Client ID missing"), ("\u200b", "Client ID missing"),
     ("not-a-guid", "Not a client ID"), (GUID[:-1], "Not a client ID"),
     (GUID + "0", "Not a client ID"), ("{" + GUID, "Not a client ID"),
     (GUID.replace("-", ""), "Not a client ID"), ("x" * 5000, "Not a client ID"),
     ("Ünïcödé-ïd", "Not a client ID"), ("Xq8~fakeSecretValue.0123456789", "Not a client ID")],
)
def test_client_id_that_is_not_a_guid_says_where_to_find_it(bad: str, title: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_client_id(bad)
    assert info.value.title == title
    assert "Overview" in info.value.hint
    assert len(info.value.message) < 200  # a 5000-character paste is not echoed whole


def test_a_secret_pasted_as_client_id_is_named_and_not_echoed() -> None:
    with pytest.raises(ValidationError) as info:
        validate_client_id("Xq8~fakeSecretValue.0123456789")
    assert "looks like a client secret" in info.value.message
    assert "fakeSecretValue" not in info.value.user_text()


def test_secret_id_pasted_instead_of_value_is_recognised() -> None:
    assert secret_looks_like_secret_id(GUID)
    assert not secret_looks_like_secret_id("Abc8Q~k2.x_yZ-0123456789abcdefghijklmnop")


def test_secret_id_in_braces_is_recognised_too() -> None:
    assert secret_looks_like_secret_id(" {" + GUID + "} ")
    assert "Value" in SECRET_ID_WARNING


@pytest.mark.parametrize("given", ["  s3cr3t~value\n", "\ts3cr3t~value", "s3cr3t~value\r\n",
                                   "\ufeffs3cr3t~value", "s3cr3t~value\u200b", "\xa0s3cr3t~value"])
def test_secret_whitespace_is_trimmed_and_reported(given: str) -> None:
    assert clean_secret(given) == ("s3cr3t~value", True)


def test_clean_secret_is_left_alone() -> None:
    assert clean_secret("s3cr3t~value") == ("s3cr3t~value", False)


@pytest.mark.parametrize(
    ("bad", "title", "says"),
    [("", "Client secret missing", "No client secret"),
     ("  \n", "Client secret missing", "No client secret"),
     ("a\x00b-s3cr3t", "Not a client secret", "control character"),
     ("Xq8~s3cr3t\t9f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44", "Not a client secret", "table row"),
     ("Xq8~s3cr3t\nline2", "Not a client secret", "line break"),
     ("x" * 2000, "Not a client secret", "2000 characters"),
     ("Xq8*********************************", "Secret value hidden", "'***'")],
)
def test_unusable_secret_is_refused_without_echoing_it(bad: str, title: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        clean_secret(bad)
    assert info.value.title == title
    assert says in info.value.message and info.value.hint
    if bad.strip():
        assert bad.strip()[:8] not in info.value.user_text()


@pytest.mark.parametrize(
    ("given", "expected"),
    [("common", "common"), ("Consumers", "consumers"), ("organizations", "organizations"),
     ("common ", "common"), ("\tCOMMON\n", "common"), (GUID.upper(), GUID),
     ("{" + GUID.upper() + "}", GUID), ("contoso.onmicrosoft.com", "contoso.onmicrosoft.com"),
     ("Contoso.COM", "contoso.com")],
)
def test_tenants_accepted(given: str, expected: str) -> None:
    assert validate_tenant(given) == expected


@pytest.mark.parametrize(
    ("bad", "title", "hint"),
    [("", "Tenant missing", "common"), ("   ", "Tenant missing", "common"),
     ("foo", "Unknown tenant", "Leave it at 'common'"),
     ("personal", "Unknown tenant", "Did you mean 'consumers'?"),
     ("consumer", "Unknown tenant", "Did you mean 'consumers'?"),
     ("comon", "Unknown tenant", "Did you mean 'common'?"),
     ("organisations", "Unknown tenant", "Did you mean 'organizations'?"),
     ("work", "Unknown tenant", "Did you mean 'organizations'?"),
     ("../etc", "Unknown tenant", "Leave it at 'common'"),
     ("contoso", "Unknown tenant", "Leave it at 'common'"),
     ("x y.com", "Unknown tenant", "Leave it at 'common'"),
     ("ä.com", "Unknown tenant", "Leave it at 'common'"),
     ("{" + GUID, "Unknown tenant", "Leave it at 'common'"),
     ("a." * 200 + "com", "Unknown tenant", "Leave it at 'common'")],
)
def test_tenants_refused(bad: str, title: str, hint: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_tenant(bad)
    assert info.value.title == title
    assert hint in info.value.hint
    if bad.strip():
        assert "is not a tenant: use common, consumers, organizations" in info.value.message


@pytest.mark.parametrize(("given", "expected"),
                         [("work", "work"), ("Personal_2", "Personal_2"), ("a", "a"),
                          ("x" * 32, "x" * 32), ("  work \n", "work"), ("2nd", "2nd")])
def test_account_names_accepted(given: str, expected: str) -> None:
    assert validate_account_name(given) == expected


@pytest.mark.parametrize(
    ("bad", "title", "says"),
    [("", "Account name missing", "No account name"),
     ("   ", "Account name missing", "No account name"),
     ("x" * 33, "Account name too long", "33 characters"),
     ("x" * 200, "Account name too long", "200 characters"),
     ("my drive", "Invalid account name", "a space"),
     ("work-2", "Invalid account name", "'-'"),
     ("-x", "Invalid account name", "'-'"),
     ("../x", "Invalid account name", "'.'"),
     ("a/b", "Invalid account name", "'/' (names are not paths)"),
     ("..\\x", "Invalid account name", "'.'"),
     ("a\\b", "Invalid account name", "'\\' (names are not paths)"),
     ("a:b", "Invalid account name", "':'"),
     ("wörk", "Invalid account name", "'ö' (only the letters A-Z"),
     ("日本", "Invalid account name", "'日' (only the letters A-Z"),
     ("drive😀", "Invalid account name", "'😀'"),
     ("a\tb", "Invalid account name", "a control character")],
)
def test_account_names_refused_naming_the_problem(bad: str, title: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_account_name(bad)
    assert info.value.title == title
    assert says in info.value.message
    assert "letters" in info.value.hint
    assert len(info.value.message) < 200


@pytest.mark.parametrize("reserved", ["CON", "nul", "Com1", "LPT9", "aux", "prn"])
def test_windows_device_names_are_refused(reserved: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_account_name(reserved)
    assert "reserved by Windows" in info.value.message


def test_duplicate_account_name_is_refused_case_insensitively() -> None:
    with pytest.raises(ValidationError) as info:
        validate_account_name("Work", ["work"])
    assert info.value.title == "Name already used"


def test_secret_expiry_today_or_later_is_fine_past_is_refused() -> None:
    today = date(2026, 11, 26)
    assert validate_secret_expiry(today, today) == today
    assert validate_secret_expiry(today + timedelta(days=730), today)
    with pytest.raises(ValidationError) as info:
        validate_secret_expiry(today - timedelta(days=1), today)
    assert info.value.title == "Secret already expired"
    assert "2026-11-25 is in the past" in info.value.message
    assert "create a new one" in info.value.hint


@pytest.mark.parametrize("port", [1024, 53682, 65535])
def test_ports_accepted(port: int) -> None:
    assert validate_port(port) == port


@pytest.mark.parametrize("port", [-1, 0, 80, 1023, 65536, 10**9])
def test_ports_refused(port: int) -> None:
    with pytest.raises(ValidationError) as info:
        validate_port(port)
    assert info.value.title == "Invalid port"
    assert "1024 to 65535" in info.value.hint


@pytest.mark.parametrize("seconds", [0.0, -5.0, math.nan, math.inf])
def test_timeouts_refused(seconds: float) -> None:
    with pytest.raises(ValidationError) as info:
        validate_timeout(seconds)
    assert info.value.title == "Invalid timeout"


def test_rclone_path_empty_means_bundled_and_must_be_full() -> None:
    assert validate_rclone_path("  ") is None
    assert validate_rclone_path(" /opt/rclone/rclone ") == "/opt/rclone/rclone"
    assert validate_rclone_path("~/bin/rclone") == os.path.expanduser("~/bin/rclone")
    for relative in ("rclone", "bin/rclone", "./rclone"):
        with pytest.raises(ValidationError) as info:
            validate_rclone_path(relative)
        assert info.value.title == "Not a full path"


def test_account_service_default_port_is_the_loopback_default() -> None:
    from onedrive_gui.core import accounts
    from onedrive_gui.core.microsoft import loopback

    assert accounts.DEFAULT_PORT == loopback.DEFAULT_PORT
