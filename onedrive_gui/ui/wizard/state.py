"""What the wizard's pages collect, shared between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Page ids, in order (the Cloud Shell path replaces REGISTER + CREDENTIALS).
WELCOME, REGISTER, CREDENTIALS, SIGN_IN, DRIVE, MOUNT, DONE, CLOUD_SHELL = range(8)

AZURE_PORTAL_URL = (
    "https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
)


@dataclass
class WizardState:
    guided: bool = False
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    tenant: str = "common"
    cloud: str = "global"  # core.clouds key
    extra_scopes: tuple[str, ...] = ()  # optional permissions asked for (sites, Teams)
    keep_sign_in: bool = False  # restarting at the drive page with the same sign-in
    secret_expires: date | None = None
    token: Any = field(default=None, repr=False)  # core.oauth.TokenResult
    user: Any = None  # core.graph.UserInfo
    drives: list[Any] = field(default_factory=list)  # core.graph.DriveInfo
    drive: Any = None
    account: Any = None  # core.settings.Account, set once it exists
    mount_now: bool = True
