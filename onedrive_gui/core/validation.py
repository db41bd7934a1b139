"""Checks of what a user types: client IDs, secrets, tenants, account names, dates, ports.

The wizard, the settings dialog and the command line all call these, so a value is judged
the same way everywhere and the message says what to do. Mount points are checked in
:mod:`onedrive_gui.core.drives.mountpoints`.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from datetime import date

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import N_, _

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")
NAME_MAX = 32
_TENANT_DOMAIN = re.compile(r"^(?=.{3,253}$)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
KNOWN_TENANTS = ("common", "consumers", "organizations")
# What people type for a known tenant: the hint suggests the real one.
_TENANT_WORDS = {"personal": "consumers", "consumer": "consumers", "private": "consumers",
                 "live": "consumers", "outlook": "consumers", "msa": "consumers",
                 "work": "organizations", "school": "organizations",
                 "organization": "organizations", "organisations": "organizations",
                 "organisation": "organizations", "business": "organizations",
                 "any": "common", "all": "common", "default": "common"}
# Device names Windows reserves in every folder: rclone's cache folder for a remote of that
# name could not be created there, and settings are meant to move between machines.
_RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                   *(f"lpt{i}" for i in range(1, 10))}
# Invisible characters that come along when text is copied from web pages or files.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
SECRET_MAX = 1024
PORT_MIN, PORT_MAX = 1024, 65535
CLIENT_ID_HINT = (N_("Copy the Application (client) ID from your app's Overview page in the "
                  "Azure portal."))
NAME_HINT = (N_("Use 1 to 32 characters: letters A-Z, digits and underscore (e.g. work or "
             "personal)."))


def trim(value: str) -> str:
    """*value* without whitespace and invisible characters (zero-width, BOM) at its ends."""
    return value.strip(" \t\r\n\f\v\x85\xa0\u2028\u2029\u3000" + _INVISIBLE).strip()


def _shown(value: str, limit: int = 40) -> str:
    """*value* for a message: cut to *limit* characters, control characters made visible."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in value[:limit])
    return text + ("…" if len(value) > limit else "")


def _unbrace(value: str) -> str:
    """``{GUID}`` (as .NET and the registry write GUIDs) -> ``GUID``."""
    if value.startswith("{") and value.endswith("}"):
        return value[1:-1].strip()
    return value


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value.strip()))


def validate_client_id(value: str) -> str:
    """Return the client ID trimmed (braces removed) and lower-cased, or raise saying where
    to find it."""
    v = trim(value)
    if not v:
        raise ValidationError(
            _("Client ID missing"),
            _("No Application (client) ID was given."),
            _(CLIENT_ID_HINT),
        )
    v = _unbrace(v)
    if is_guid(v):
        return v.lower()
    if "~" in v and not any(c.isspace() for c in v):
        raise ValidationError(
            _("Not a client ID"),
            _("This looks like a client secret (it contains '~'), not the Application "
            "(client) ID."),
            _("{hint} The secret goes into the client secret field.").format(
                hint=_(CLIENT_ID_HINT)),
        )
    raise ValidationError(
        _("Not a client ID"),
        _(
            "'{shown}' is not an Application (client) ID: it must look like "
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx."
        ).format(shown=_shown(v, 60)),
        _(CLIENT_ID_HINT),
    )


def secret_looks_like_secret_id(secret: str) -> bool:
    """True when the 'secret' is a GUID: the Secret ID was pasted instead of the Value."""
    return is_guid(_unbrace(trim(secret)))


SECRET_ID_WARNING = (
    N_("This looks like the secret's Secret ID (a GUID), not its Value. In the Azure portal, "
    "under Certificates & secrets, copy the Value column (shown only right after creation).")
)
SECRET_TRIMMED_NOTE = (N_("Note: removed spaces/line breaks around the client secret; they are "
                       "not part of it."))


def clean_secret(secret: str) -> tuple[str, bool]:
    """Strip surrounding whitespace (and invisible characters such as a byte-order mark);
    return (secret, whether anything was stripped). Messages never repeat the secret."""
    s = trim(secret)
    if not s:
        raise ValidationError(
            _("Client secret missing"),
            _("No client secret was given."),
            _("Create one under Certificates & secrets in the Azure portal and paste its Value."),
        )
    if len(s) > SECRET_MAX:
        raise ValidationError(
            _("Not a client secret"),
            _(
                "The text given is {n_s} characters long; a client secret has about 40."
            ).format(n_s=len(s)),
            _("Paste only the Value of a client secret from Certificates & secrets."),
        )
    if any(unicodedata.category(c) == "Cc" or c in _INVISIBLE for c in s):
        raise ValidationError(
            _("Not a client secret"),
            _("The text given contains a line break, tab or other control character inside, "
            "so more than the secret was copied (perhaps the whole table row)."),
            _("Copy only the Value of the secret from Certificates & secrets."),
        )
    if "***" in s:
        raise ValidationError(
            _("Secret value hidden"),
            _("The text given contains '***': that is the hidden form the portal shows once you "
            "leave the page, not the secret itself."),
            _("The Value is shown only right after the secret is created: create a new secret "
            "under Certificates & secrets and copy its Value at once."),
        )
    return s, s != secret


def validate_tenant(value: str) -> str:
    """common, consumers, organizations, a tenant ID (GUID, braces allowed) or a domain;
    returned lower-cased."""
    v = trim(value)
    if not v:
        raise ValidationError(
            _("Tenant missing"),
            _("No tenant was given."),
            _("Use 'common' (any account) unless your app is registered for one organization "
            "only; then use its tenant ID."),
        )
    if v.lower() in KNOWN_TENANTS:
        return v.lower()
    if is_guid(_unbrace(v)):
        return _unbrace(v).lower()
    if _TENANT_DOMAIN.match(v):
        return v.lower()
    import difflib  # only for a wrong tenant

    suggestion = _TENANT_WORDS.get(v.lower()) or next(
        iter(difflib.get_close_matches(v.lower(), KNOWN_TENANTS, n=1, cutoff=0.75)), None)
    hint = (_("Leave it at 'common' unless your app is registered for one organization only.")
            if suggestion is None else _(
                "Did you mean '{suggestion}'?"
            ).format(suggestion=suggestion))
    raise ValidationError(
        _("Unknown tenant"),
        _(
            "'{shown}' is not a tenant: use common, consumers, organizations, a tenant ID (a "
            "GUID) or a domain such as contoso.onmicrosoft.com."
        ).format(shown=_shown(v, 60)),
        hint,
    )


def _bad_character(name: str) -> str | None:
    """How the first character not allowed in an account name is described, or None."""
    for c in name:
        if c.isascii() and (c.isalnum() or c == "_"):
            continue
        if c == " ":
            return _("a space")
        if not c.isprintable():
            return _("a control character")
        if c in "/\\":
            return _("'{c}' (names are not paths)").format(c=c)
        if not c.isascii() and c.isalpha():
            return _("'{c}' (only the letters A-Z can be used)").format(c=c)
        return f"'{c}'"
    return None


def validate_account_name(value: str, existing: list[str] | tuple[str, ...] = ()) -> str:
    """Account names double as rclone remote names: letters, digits and '_' only.

    rclone itself would take more (spaces, '-', accented letters), but a name also becomes a
    folder name, a keyring entry and ``name:`` in shell commands, where those need quoting.
    Spaces around the name are removed.
    """
    v = trim(value)
    if not v:
        raise ValidationError(_("Account name missing"), _("No account name was given."),
                              _(NAME_HINT))
    if len(v) > NAME_MAX:
        raise ValidationError(
            _("Account name too long"),
            _(
                "'{shown}' has {n_v} characters; at most {NAME_MAX} are allowed."
            ).format(shown=_shown(v), n_v=len(v), NAME_MAX=NAME_MAX),
            _(NAME_HINT),
        )
    if not _NAME.match(v):
        bad = _bad_character(v) or _("a character that is not allowed")
        raise ValidationError(
            _("Invalid account name"),
            _(
                "'{shown}' cannot be used as an account name: it contains {bad}."
            ).format(shown=_shown(v), bad=bad),
            _(NAME_HINT),
        )
    if v.lower() in _RESERVED_NAMES:
        raise ValidationError(
            _("Invalid account name"),
            _("'{v}' is a device name reserved by Windows.").format(v=v),
            _("Pick another name (e.g. work or personal)."),
        )
    if v.lower() in (e.lower() for e in existing):
        raise ValidationError(
            _("Name already used"),
            _("An account named '{v}' already exists.").format(v=v),
            _("Pick another name, or remove the existing account first."),
        )
    return v


def validate_secret_expiry(expires: date, today: date | None = None) -> date:
    """The secret's expiry date; a date in the past means the secret no longer works."""
    today = today or date.today()
    if expires < today:
        raise ValidationError(
            _("Secret already expired"),
            _(
                "The expiry date {isoformat} is in the past, so this secret no longer works."
            ).format(isoformat=expires.isoformat()),
            _("Check the Expires column under Certificates & secrets; if the secret has expired, "
            "create a new one and use its Value and date."),
        )
    return expires


def validate_port(port: int) -> int:
    """A loopback port for the sign-in redirect (ports below 1024 need administrator rights)."""
    if not PORT_MIN <= port <= PORT_MAX:
        raise ValidationError(
            _("Invalid port"),
            _("{port} cannot be used as the sign-in port.").format(port=port),
            _(
                "Use a number from {PORT_MIN} to {PORT_MAX}, or leave the default 53682."
            ).format(PORT_MIN=PORT_MIN, PORT_MAX=PORT_MAX),
        )
    return port


def validate_timeout(seconds: float) -> float:
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValidationError(
            _("Invalid timeout"),
            _("{seconds:g} is not a number of seconds to wait.").format(seconds=seconds),
            _("Give a positive number of seconds, e.g. --timeout 300."),
        )
    return seconds


def validate_rclone_path(value: str) -> str | None:
    """The rclone path from Settings: None (the bundled rclone) when empty, else the full
    path with ``~`` expanded. Whether it is rclone is checked by running it
    (:func:`onedrive_gui.core.rclone.binary.locate_rclone`)."""
    v = trim(value)
    if not v:
        return None
    expanded = os.path.expanduser(v)
    if not os.path.isabs(expanded):
        raise ValidationError(
            _("Not a full path"),
            _("'{shown}' is not a full path to the rclone program.").format(shown=_shown(v, 60)),
            _("Use Choose… to pick the program, or leave the field empty to use the rclone "
            "that comes with the app."),
        )
    return expanded


def secret_feedback(raw: str) -> tuple[bool, str, str]:
    """What to tell someone about a client secret as typed: (usable, note, kind), kind being
    "error", "warning", "info" or "" (nothing to say; an empty field says nothing yet)."""
    try:
        value, trimmed = clean_secret(raw)
    except ValidationError as err:
        return False, (_("{message} {hint}").format(message=err.message, hint=err.hint)
                       if raw else ""), "error"
    if secret_looks_like_secret_id(value):
        return True, _(SECRET_ID_WARNING), "warning"
    if trimmed:
        return True, _(SECRET_TRIMMED_NOTE), "info"
    return True, "", ""
