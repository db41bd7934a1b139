"""What the user types: client IDs, secrets, tenants, account names."""

from __future__ import annotations

import pytest

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.validation import (
    clean_secret,
    secret_looks_like_secret_id,
    validate_account_name,
    validate_client_id,
    validate_tenant,
)

GUID = "0b7d3b2e-5a8c-4c1e-9f3a-2d6e8f1a4b5c"


def test_client_id_is_trimmed_and_lowered() -> None:
    assert validate_client_id(f"  {GUID.upper()} \n") == GUID


@pytest.mark.parametrize("bad", ["", "   ", "not-a-guid", GUID[:-1], GUID + "0", "{" + GUID + "}"])
def test_client_id_that_is_not_a_guid_says_where_to_find_it(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_client_id(bad)
    assert "Overview" in info.value.hint


def test_secret_id_pasted_instead_of_value_is_recognised() -> None:
    assert secret_looks_like_secret_id(GUID)
    assert not secret_looks_like_secret_id("Abc8Q~k2.x_yZ-0123456789abcdefghijklmnop")


def test_secret_whitespace_is_trimmed_and_reported() -> None:
    assert clean_secret("  s3cr3t~value\n") == ("s3cr3t~value", True)
    assert clean_secret("s3cr3t~value") == ("s3cr3t~value", False)


@pytest.mark.parametrize("bad", ["", "  \n", "a\x00b", "x" * 2000])
def test_unusable_secret_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        clean_secret(bad)
    if bad.strip():
        assert bad.strip() not in info.value.user_text()


@pytest.mark.parametrize(
    ("given", "expected"),
    [("common", "common"), ("Consumers", "consumers"), ("organizations", "organizations"),
     (GUID.upper(), GUID), ("contoso.onmicrosoft.com", "contoso.onmicrosoft.com")],
)
def test_tenants_accepted(given: str, expected: str) -> None:
    assert validate_tenant(given) == expected


@pytest.mark.parametrize("bad", ["", "personal", "../etc", "contoso", "x y.com", "ä.com"])
def test_tenants_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        validate_tenant(bad)


@pytest.mark.parametrize("good", ["work", "Personal_2", "a", "x" * 32])
def test_account_names_accepted(good: str) -> None:
    assert validate_account_name(good) == good


@pytest.mark.parametrize("bad", ["", "my drive", "work-2", "../x", "wörk", "x" * 33, "a:b"])
def test_account_names_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_account_name(bad)
    assert "letters" in info.value.hint


def test_duplicate_account_name_is_refused_case_insensitively() -> None:
    with pytest.raises(ValidationError) as info:
        validate_account_name("Work", ["work"])
    assert info.value.title == "Name already used"


def test_account_service_default_port_is_the_loopback_default() -> None:
    from onedrive_gui.core import accounts, loopback

    assert accounts.DEFAULT_PORT == loopback.DEFAULT_PORT
