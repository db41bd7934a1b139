"""The app registration in one command: a Bash command for Azure Cloud Shell that creates it
through Microsoft Graph (``az rest``), and the one line it prints, which the wizard reads.

Why Graph calls and not ``az ad app create``: that command cannot set
``api.requestedAccessTokenVersion`` (which must be 2 for personal Microsoft accounts) and
silently patches an existing app of the same display name (DESIGN.md §9). One ``POST
/applications`` with the whole body creates a new app every time — it never reuses or resets
one — and ``POST /applications/{id}/addPassword`` adds a secret, trying the longest lifetime
first (24 months, as the portal offers) and shorter ones when the tenant's policy refuses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.microsoft.clouds import CLOUDS, Cloud
from onedrive_gui.core.microsoft.clouds import cloud as cloud_named
from onedrive_gui.core.validation import (
    clean_secret,
    is_guid,
    secret_looks_like_secret_id,
)

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph delegated permission IDs (the same in every cloud).
PERMISSION_IDS = {
    "Files.Read": "10465720-29dd-4523-a11a-6a75c743c9d9",
    "Files.ReadWrite": "5c28f0bf-8a70-41f1-8ab2-9032436ddb65",
    "Files.Read.All": "df85f4d6-205c-4ac5-a5ea-6bf408dba283",
    "Files.ReadWrite.All": "863451e7-0667-486c-a5d6-d135439485f0",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    # optional, work/school: SharePoint sites and Teams libraries
    "Sites.Read.All": "205e70e5-aba6-4c52-a976-6d2d46c48043",
    "Team.ReadBasic.All": "485be79e-c497-4b35-9400-0e3fa7f2a5d4",
}
SECRET_MONTHS = (24, 12, 6, 3, 1)  # tried in this order: the longest the tenant allows wins
LINE_MARK = "ONEDRIVE-GUI-APP"
_FIELDS = ("cloud", "client_id", "secret", "expires")


def audience(c: Cloud) -> str:
    """Personal and work/school accounts in Global; organizations only in national clouds."""
    return "AzureADandPersonalMicrosoftAccount" if c.personal_accounts else \
        "AzureADMultipleOrgs"


def application_body(cloud_key: str, display_name: str) -> dict[str, object]:
    """The body of ``POST /applications``: the registration the guide describes."""
    c = cloud_named(cloud_key)
    return {
        "displayName": display_name,
        "signInAudience": audience(c),
        "api": {"requestedAccessTokenVersion": 2},
        "web": {"redirectUris": ["http://localhost"]},
        "requiredResourceAccess": [{
            "resourceAppId": GRAPH_APP_ID,
            "resourceAccess": [{"id": pid, "type": "Scope"} for pid in PERMISSION_IDS.values()],
        }],
    }


def cloud_shell_command(cloud_key: str, today: date | None = None) -> str:
    """One Bash command (one line) for Azure Cloud Shell of *cloud_key*.

    It runs in a subshell (a failure never closes the Cloud Shell session), prints Graph's
    errors as they come, and ends with one line ``ONEDRIVE-GUI-APP cloud=… client_id=…
    secret=… expires=YYYY-MM-DD`` for the wizard.
    """
    c = cloud_named(cloud_key)
    name = f"OneDrive GUI {(today or date.today()).isoformat()}"
    body = json.dumps(application_body(c.key, name), separators=(",", ":"))
    graph = f"https://{c.graph_host}/v1.0"
    months = " ".join(str(m) for m in SECRET_MONTHS)
    steps = [
        "set -eo pipefail",
        f"G={graph}",
        # a new application every time: POST never matches or changes an existing one
        "R=$(az rest --method POST --url \"$G/applications\" --headers "
        f"Content-Type=application/json --body '{body}' --query \"[id,appId]\" -o tsv)",
        # `-o tsv` prints each value of the list on its own line: split on any whitespace
        "set -- $R; ID=$1; APPID=$2",
        "OUT=\"\"",
        f"for M in {months}; do END=$(date -u -d \"+$M months\" +%Y-%m-%dT%H:%M:%SZ); "
        "if OUT=$(az rest --method POST --url \"$G/applications/$ID/addPassword\" --headers "
        "Content-Type=application/json --body \"{\\\"passwordCredential\\\":{\\\"displayName"
        "\\\":\\\"onedrive-gui\\\",\\\"endDateTime\\\":\\\"$END\\\"}}\" --query "
        "\"[secretText,endDateTime]\" -o tsv); then break; fi; "
        "echo \"A $M-month secret was refused; trying a shorter one.\" >&2; OUT=\"\"; done",
        "[ -n \"$OUT\" ] || { echo \"The app $APPID was created, but no client secret could "
        "be added: see the errors above.\" >&2; exit 1; }",
        "set -- $OUT; SECRET=$1; ENDS=$2",
        "echo",
        "echo \"Copy the next line into OneDrive GUI:\"",
        f"echo \"{LINE_MARK} cloud={c.key} client_id=$APPID secret=$SECRET "
        "expires=${ENDS%%T*}\"",
    ]
    return "(" + "; ".join(steps) + ")"


@dataclass(frozen=True, repr=False)
class CreatedApp:
    cloud: str
    client_id: str
    secret: str
    expires: date

    def __repr__(self) -> str:
        return f"CreatedApp(cloud={self.cloud!r}, client_id={self.client_id!r}, secret=***)"


def _bad(message: str, hint: str = "") -> ValidationError:
    return ValidationError(
        _("Line not understood"), message,
        hint or _(
            "Copy the whole last line the command printed in Cloud Shell (it starts with "
            "{LINE_MARK}) and paste it here."
        ).format(LINE_MARK=LINE_MARK))


def parse_result_line(text: str, expected_cloud: str | None = None) -> CreatedApp:
    """The app the Cloud Shell command created, from the line it printed (or any pasted text
    containing it). Raises ValidationError saying what is missing or wrong."""
    from onedrive_gui.core.logging_setup import register_secret

    lines = [ln.strip() for ln in (text or "").splitlines() if LINE_MARK in ln]
    if not lines:
        if not (text or "").strip():
            raise _bad(_("Nothing was pasted."))
        raise _bad(_(
            "The pasted text has no line starting with {LINE_MARK}."
        ).format(LINE_MARK=LINE_MARK))
    line = lines[-1]
    line = line[line.index(LINE_MARK) + len(LINE_MARK):]
    values: dict[str, str] = {}
    for part in line.split():
        key, sep, value = part.partition("=")
        if sep and key in _FIELDS:
            values[key] = value
    if "secret" in values:
        register_secret(values["secret"])
    missing = [f for f in _FIELDS if not values.get(f)]
    if missing:
        raise _bad(_(
            "The line lacks {join} — it was probably cut off when it was copied."
        ).format(join=', '.join(missing)),
            _("Copy the whole line again (it can be long; make sure it was not "
              "wrapped or cut) and paste it here."))
    if values["cloud"] not in CLOUDS:
        raise _bad(_(
            "'{cloud}' is not a Microsoft cloud this app knows."
        ).format(cloud=values['cloud']))
    if expected_cloud is not None and values["cloud"] != expected_cloud:
        raise _bad(
            _(
                "The app was created in the {label} cloud, but {label2} is chosen."
            ).format(
                label=_(CLOUDS[values['cloud']].label),
                label2=_(CLOUDS[expected_cloud].label),
            ),
            _("Choose the same cloud (Back → Advanced), or run the command shown here in that "
            "cloud's Cloud Shell."))
    client_id = values["client_id"]
    if not is_guid(client_id):
        raise _bad(_(
            "client_id '{client_id}' is not an application (client) ID."
        ).format(client_id=client_id[:40]))
    secret, _cleaned = clean_secret(values["secret"])
    if secret_looks_like_secret_id(secret):
        raise _bad(_("The secret in the line looks like a Secret ID, not a secret's value."))
    try:
        expires = date.fromisoformat(values["expires"])
    except ValueError:
        raise _bad(_(
            "expires '{expires}' is not a date (YYYY-MM-DD)."
        ).format(expires=values['expires'][:20])) from None
    return CreatedApp(values["cloud"], client_id.lower(), secret, expires)
