"""Checks of what a user types: client IDs, secrets, tenants, account names."""

from __future__ import annotations

import re

from onedrive_gui.core.errors import ValidationError

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_TENANT_DOMAIN = re.compile(r"^(?=.{3,253}$)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
KNOWN_TENANTS = ("common", "consumers", "organizations")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value.strip()))


def validate_client_id(value: str) -> str:
    """Return the client ID trimmed, or raise ValidationError saying where to find it."""
    v = value.strip()
    if not v:
        raise ValidationError(
            "Client ID missing",
            "No Application (client) ID was given.",
            "Copy the Application (client) ID from your app's Overview page in the Azure portal.",
        )
    if not is_guid(v):
        raise ValidationError(
            "Not a client ID",
            f"'{v[:60]}' is not an Application (client) ID: it must look like "
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.",
            "Copy the Application (client) ID from your app's Overview page in the Azure portal.",
        )
    return v.lower()


def secret_looks_like_secret_id(secret: str) -> bool:
    """True when the 'secret' is a GUID: the Secret ID was pasted instead of the Value."""
    return is_guid(secret)


SECRET_ID_WARNING = (
    "This looks like the secret's Secret ID (a GUID), not its Value. In the Azure portal, "
    "under Certificates & secrets, copy the Value column (shown only right after creation)."
)


def clean_secret(secret: str) -> tuple[str, bool]:
    """Strip surrounding whitespace; return (secret, whether anything was stripped)."""
    s = secret.strip()
    if not s:
        raise ValidationError(
            "Client secret missing",
            "No client secret was given.",
            "Create one under Certificates & secrets in the Azure portal and paste its Value.",
        )
    if len(s) > 1024 or any(ord(c) < 32 for c in s):
        raise ValidationError(
            "Not a client secret",
            "The text given is not a client secret (too long or containing control characters).",
            "Paste the Value of a client secret from Certificates & secrets.",
        )
    return s, s != secret


def validate_tenant(value: str) -> str:
    v = value.strip()
    if v.lower() in KNOWN_TENANTS:
        return v.lower()
    if is_guid(v):
        return v.lower()
    if _TENANT_DOMAIN.match(v):
        return v.lower()
    raise ValidationError(
        "Unknown tenant",
        f"'{v[:60]}' is not a tenant: use common, consumers, organizations, a tenant ID "
        "(a GUID) or a domain such as contoso.onmicrosoft.com.",
        "Leave it at 'common' unless your app is registered for one organization only.",
    )


def validate_account_name(value: str, existing: list[str] | tuple[str, ...] = ()) -> str:
    """Account names double as rclone remote names: letters, digits and '_' only."""
    v = value.strip()
    if not _NAME.match(v):
        raise ValidationError(
            "Invalid account name",
            f"'{v[:40]}' cannot be used as an account name.",
            "Use 1 to 32 characters: letters A-Z, digits and underscore (e.g. work or personal).",
        )
    if v.lower() in (e.lower() for e in existing):
        raise ValidationError(
            "Name already used",
            f"An account named '{v}' already exists.",
            "Pick another name, or remove the existing account first.",
        )
    return v
