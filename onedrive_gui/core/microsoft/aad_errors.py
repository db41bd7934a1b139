"""Microsoft identity platform errors (OAuth ``error`` + AADSTS code) -> what to tell the user.

Branch on the OAuth ``error`` and use the AADSTS code from the description as the more
precise hint (DESIGN.md §4). Codes we do not know still show the server's first description
line, without the Trace ID / Correlation ID / Timestamp boilerplate Microsoft appends.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from onedrive_gui.core.errors import AuthError
from onedrive_gui.core.i18n import N_, _

_CODE_RE = re.compile(r"AADSTS(\d{4,9})")
# On an error page the message sits in HTML text or inside a JS string ("...AADSTS50011: ...").
_PAGE_RE = re.compile(r"AADSTS(\d{4,9})\s*:\s*([^<\"\r\n]*)")
_JS_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
_BOILERPLATE = ("trace id", "correlation id", "timestamp", "request id")
_MAX_DETAIL = 400


@dataclass(frozen=True)
class _Entry:
    title: str
    message: str
    hint: str


_RE_SIGN_IN = _Entry(
    N_("Sign in again"),
    N_("Microsoft no longer accepts this sign-in (it expired, was already used, or was revoked "
    "— for example after a password change or 90 days without use)."),
    N_("Sign in again."),
)
_CONSENT = _Entry(
    N_("Permission not granted"),
    N_("The app was not given access to your OneDrive."),
    N_("Sign in again and click Accept on Microsoft's permission page. If your organization "
    "requires an administrator's approval, ask your administrator to grant consent to your "
    "app registration."),
)

_BY_CODE: dict[int, _Entry] = {
    7000215: _Entry(
        N_("Wrong client secret"),
        N_("Microsoft rejected the client secret."),
        N_("Paste the secret's Value, not its Secret ID: in the Azure portal, under Certificates "
        "& secrets, copy the Value column (it is shown only right after the secret is "
        "created; if it is hidden, create a new secret)."),
    ),
    7000222: _Entry(
        N_("Client secret expired"),
        N_("The client secret of your app registration has expired."),
        N_("Create a new client secret under Certificates & secrets in the Azure portal, then "
        "use its Value (update it in Settings, or with 'onedrive-gui set-secret')."),
    ),
    700016: _Entry(
        N_("App registration not found"),
        N_("Microsoft has no application with this client ID in the directory used for sign-in."),
        N_("Check the Application (client) ID on your app's Overview page in the Azure portal. "
        "If the app is registered for one organization only, set the tenant to that "
        "organization's tenant ID."),
    ),
    50011: _Entry(
        N_("Redirect URI not registered"),
        N_("Your app registration does not allow this app's redirect URI (http://localhost)."),
        N_("In the Azure portal, open Authentication, add a platform of type Web and enter the "
        "redirect URI http://localhost (no port, no path)."),
    ),
    700025: _Entry(
        N_("Redirect URI on the wrong platform"),
        N_("The redirect URI is registered as Mobile and desktop, which does not accept a client "
        "secret."),
        N_("In the Azure portal, under Authentication, remove the Mobile and desktop redirect and "
        "add http://localhost under the Web platform."),
    ),
    7000218: _Entry(
        N_("Redirect URI on the wrong platform"),
        N_("Microsoft expected a different kind of app registration for this redirect URI."),
        N_("In the Azure portal, under Authentication, register http://localhost under the Web "
        "platform (not Mobile and desktop)."),
    ),
    50194: _Entry(
        N_("App is for one organization only"),
        N_("Your app registration accepts accounts of its own organization only, so it cannot "
        "sign in through the common endpoint."),
        N_("Either set Supported account types to include other organizations and personal "
        "Microsoft accounts, or set the tenant to your organization's tenant ID."),
    ),
    9002331: _Entry(
        N_("App is for personal accounts only"),
        N_("Your app registration accepts personal Microsoft accounts only."),
        N_("Set the tenant to 'consumers', or change Supported account types to include "
        "organizational accounts."),
    ),
    50020: _Entry(
        N_("Account not in this organization"),
        N_("The account you signed in with does not belong to the tenant the app signs in to."),
        N_("Sign in with an account of that organization, or change the tenant setting."),
    ),
    50034: _Entry(
        N_("Account does not exist"),
        N_("Microsoft does not know the account you signed in with."),
        N_("Check the email address and sign in again."),
    ),
    65001: _CONSENT,
    90094: _CONSENT,
    65004: _Entry(
        N_("Permission declined"),
        N_("You declined the permissions the app asked for, so it cannot reach your OneDrive."),
        N_("Sign in again and click Accept on Microsoft's permission page."),
    ),
    70008: _RE_SIGN_IN,
    700082: _RE_SIGN_IN,
    50173: _RE_SIGN_IN,
    54005: _RE_SIGN_IN,
    50076: _Entry(
        N_("Multi-factor authentication required"),
        N_("Your organization requires multi-factor authentication for this sign-in."),
        N_("Sign in again and complete the multi-factor prompt in the browser."),
    ),
    53003: _Entry(
        N_("Blocked by Conditional Access"),
        N_("Your organization's Conditional Access policies blocked this sign-in."),
        N_("Ask your administrator to allow this app, or sign in from a compliant device."),
    ),
    500112: _Entry(
        N_("Redirect URI changed during sign-in"),
        N_("The reply address sent with the code does not match the one used to get it."),
        N_("Sign in again."),
    ),
    501481: _Entry(
        N_("Sign-in check failed"),
        N_("Microsoft rejected the PKCE code verifier of this sign-in."),
        N_("Sign in again."),
    ),
}

_NOT_FOR_CONSUMERS = _Entry(
    N_("App does not accept personal accounts"),
    N_("Your app registration is for organizational accounts only, and you signed in with a "
    "personal Microsoft account."),
    N_("In the Azure portal, set Supported account types to 'Accounts in any organizational "
    "directory and personal Microsoft accounts', or sign in with a work or school account."),
)

_BY_ERROR: dict[str, _Entry] = {
    "access_denied": _Entry(
        N_("Permission declined"),
        N_("The sign-in was cancelled or the permissions were declined in the browser."),
        N_("Sign in again and click Accept on Microsoft's permission page."),
    ),
    "consent_required": _CONSENT,
    "interaction_required": _Entry(
        N_("More steps needed in the browser"),
        N_("Microsoft needs you to complete more steps (such as multi-factor authentication)."),
        N_("Sign in again and complete every prompt in the browser."),
    ),
    "invalid_grant": _RE_SIGN_IN,
    "invalid_client": _Entry(
        N_("App registration rejected"),
        N_("Microsoft rejected the client ID or client secret."),
        N_("Check the Application (client) ID on the Overview page and the secret's Value under "
        "Certificates & secrets in the Azure portal."),
    ),
    "unauthorized_client": _Entry(
        N_("App not allowed to sign in"),
        N_("Microsoft does not allow this app registration to sign in this account."),
        N_("Check Supported account types and the Web redirect URI http://localhost of your app "
        "registration in the Azure portal."),
    ),
    "temporarily_unavailable": _Entry(
        N_("Microsoft sign-in unavailable"),
        N_("Microsoft's sign-in service is temporarily unavailable."),
        N_("Wait a few minutes and try again."),
    ),
    "server_error": _Entry(
        N_("Microsoft sign-in failed"),
        N_("Microsoft's sign-in service had an internal error."),
        N_("Try again in a few minutes."),
    ),
}


def aadsts_code(text: str | None) -> int | None:
    """The first AADSTS code in *text* (``"AADSTS7000215: ..."`` -> 7000215), or None."""
    if not text:
        return None
    m = _CODE_RE.search(text)
    return int(m.group(1)) if m else None


def first_line(description: str | None) -> str:
    """The server's description without Microsoft's trace/correlation boilerplate."""
    if not description:
        return ""
    for raw in re.split(r"[\r\n]+", description):
        line = raw.strip()
        if line and not line.lower().startswith(_BOILERPLATE):
            return line[:_MAX_DETAIL]
    return ""


def auth_error(error: str, description: str | None) -> AuthError:
    """Map an OAuth error response (``error`` + ``error_description``) to an AuthError."""
    err = (error or "").strip()
    code = aadsts_code(description)
    detail = first_line(description)
    entry: _Entry | None = None
    if err == "unauthorized_client" and description and "consumers" in description.lower():
        entry = _NOT_FOR_CONSUMERS
    elif code is not None and code in _BY_CODE:
        entry = _BY_CODE[code]
    elif err in _BY_ERROR:
        entry = _BY_ERROR[err]
    code_text = f"AADSTS{code}" if code is not None else (err or None)
    if entry is None:
        message = (_("Microsoft refused the sign-in: {detail}").format(detail=detail) if detail
                   else _("Microsoft refused the sign-in ({reason}).").format(
                       reason=err or _("no reason given")))
        return AuthError(
            _("Sign-in failed"),
            message,
            _("Check your app registration in the Azure portal (client ID, secret Value, Web "
            "redirect URI http://localhost, supported account types) and try again."),
            code=code_text,
        )
    message = (_("{message} ({code})").format(message=_(entry.message), code=code_text)
               if code_text else _(entry.message))
    return AuthError(_(entry.title), message, _(entry.hint), code=code_text)


def error_from_page(page: str) -> AuthError | None:
    """The AADSTS error shown on a Microsoft sign-in page, or None when the page has none.

    Microsoft shows some errors (unknown app, redirect mismatch, wrong tenant kind) as a page
    and never redirects back to the app, so the app fetches the authorize URL first and
    reads the page.
    """
    text = _JS_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), page)
    text = html.unescape(text)
    m = _PAGE_RE.search(text)
    if m is None:
        return None
    return auth_error("", f"AADSTS{m.group(1)}: {m.group(2).strip()}")


ADMIN_CONSENT_CODES = ("AADSTS65001", "AADSTS90094")


class AdminConsentRequired(AuthError):
    """The tenant lets only administrators consent; ``admin_consent_url`` is for them."""

    def __init__(self, message: str, admin_consent_url: str, *, code: str | None) -> None:
        super().__init__(
            _("Administrator approval required"),
            message,
            _(
                "Your organization lets only administrators approve this app. Send this link "
                "to an administrator of your organization: {admin_consent_url} — after they "
                "accept, sign in again."
            ).format(admin_consent_url=admin_consent_url),
            code=code,
        )
        self.admin_consent_url = admin_consent_url


def with_admin_consent(err: AuthError, admin_consent_url: str) -> AuthError:
    """*err* with the organization's admin-consent link in its hint, when the error says an
    administrator's approval is missing (AADSTS65001 / 90094); otherwise *err* unchanged.

    The link (``https://<sign-in host>/<tenant>/adminconsent?client_id=<ID>``) is what the
    user sends to an administrator; the error keeps it in ``admin_consent_url``.
    """
    if err.code not in ADMIN_CONSENT_CODES:
        return err
    return AdminConsentRequired(err.message, admin_consent_url, code=err.code)
