"""What the user reads for each Microsoft sign-in error (DESIGN.md §4)."""

from __future__ import annotations

import pytest

from onedrive_gui.core.errors import AuthError
from onedrive_gui.core.microsoft.aad_errors import auth_error, error_from_page, first_line

BOILERPLATE = ("\r\nTrace ID: 0b7c2a1e-1111-2222-3333-444455556666"
               "\r\nCorrelation ID: 9f0e1d2c-aaaa-bbbb-cccc-ddddeeeeffff"
               "\r\nTimestamp: 2026-08-01 10:00:00Z")


@pytest.mark.parametrize(("error", "code", "title", "in_hint"), [
    ("invalid_client", 7000215, "Wrong client secret", "Value, not its Secret ID"),
    ("invalid_client", 7000222, "Client secret expired", "new client secret"),
    ("invalid_client", 700016, "App registration not found", "Application (client) ID"),
    ("invalid_request", 50011, "Redirect URI not registered", "http://localhost"),
    ("invalid_client", 700025, "Redirect URI on the wrong platform", "Web"),
    ("invalid_client", 7000218, "Redirect URI on the wrong platform", "Web"),
    ("invalid_request", 50194, "App is for one organization only", "tenant ID"),
    ("invalid_request", 9002331, "App is for personal accounts only", "consumers"),
    ("invalid_grant", 50020, "Account not in this organization", "organization"),
    ("access_denied", 65004, "Permission declined", "Accept"),
    ("consent_required", 65001, "Permission not granted", "administrator"),
    ("invalid_grant", 70008, "Sign in again", "Sign in again"),
    ("invalid_grant", 700082, "Sign in again", "Sign in again"),
    ("invalid_grant", 50173, "Sign in again", "Sign in again"),
    ("interaction_required", 50076, "Multi-factor authentication required", "multi-factor"),
    ("interaction_required", 53003, "Blocked by Conditional Access", "administrator"),
])
def test_known_codes(error: str, code: int, title: str, in_hint: str) -> None:
    err = auth_error(error, f"AADSTS{code}: Something the server said.{BOILERPLATE}")
    assert isinstance(err, AuthError)
    assert err.title == title
    assert in_hint in err.hint
    assert err.code == f"AADSTS{code}"
    assert f"AADSTS{code}" in err.message
    text = err.user_text()
    assert "Trace ID" not in text and "Correlation ID" not in text


def test_org_only_app_with_a_personal_account() -> None:
    err = auth_error("unauthorized_client", "The client does not exist or is not enabled for "
                     "consumers. If you are the application developer, configure a new "
                     "application through the App Registrations in the Azure Portal.")
    assert err.title == "App does not accept personal accounts"
    assert "personal Microsoft accounts" in err.hint


def test_unknown_code_shows_the_servers_first_line_without_boilerplate() -> None:
    err = auth_error("invalid_request",
                     "AADSTS9999999: The moon is in the wrong phase." + BOILERPLATE)
    assert err.title == "Sign-in failed"
    assert "AADSTS9999999: The moon is in the wrong phase." in err.message
    assert "Trace ID" not in err.user_text()
    assert "Timestamp" not in err.user_text()
    assert err.code == "AADSTS9999999"


def test_error_without_code_or_description() -> None:
    assert auth_error("access_denied", None).title == "Permission declined"
    err = auth_error("weird_error", None)
    assert "weird_error" in err.message
    assert err.hint


def test_first_line_skips_boilerplate_only_descriptions() -> None:
    assert first_line("Trace ID: x\r\nCorrelation ID: y") == ""
    assert first_line("\r\n  AADSTS1: first  \r\nsecond") == "AADSTS1: first"


def test_error_page_html() -> None:
    page = """<html><body><div id="error"><p>Sorry, but we're having trouble signing you
    in.</p><p id="message">AADSTS50011: The redirect URI &#x27;http://localhost:53682/&#x27;
    specified in the request does not match.</p><p>Request Id: 1<br>Correlation Id: 2</p>
    </div></body></html>"""
    err = error_from_page(page)
    assert err is not None
    assert err.code == "AADSTS50011"
    assert err.title == "Redirect URI not registered"


def test_error_page_in_a_script_config_as_microsoft_serves_it() -> None:
    page = ('<script>$Config={"iErrorCode":700016,"strServiceExceptionMessage":'
            '"AADSTS700016: Application with identifier \\u0027abc\\u0027 was not found in '
            'the directory \\u0027Microsoft Accounts\\u0027."};</script>')
    err = error_from_page(page)
    assert err is not None and err.code == "AADSTS700016"
    assert err.title == "App registration not found"


def test_consent_page_is_not_an_error() -> None:
    page = ('<html><body><h1>Let this app access your info?</h1><form id="consent">'
            '<button>Accept</button></form></body></html>')
    assert error_from_page(page) is None
