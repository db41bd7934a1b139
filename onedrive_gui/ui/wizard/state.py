"""What the wizard's pages collect, shared between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Page ids, in order.
WELCOME, REGISTER, CREDENTIALS, SIGN_IN, DRIVE, MOUNT, DONE = range(7)

AZURE_PORTAL_URL = (
    "https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
)


@dataclass
class WizardState:
    guided: bool = False
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    tenant: str = "common"
    secret_expires: date | None = None
    token: Any = field(default=None, repr=False)  # core.oauth.TokenResult
    user: Any = None  # core.graph.UserInfo
    drives: list[Any] = field(default_factory=list)  # core.graph.DriveInfo
    drive: Any = None
    account: Any = None  # core.settings.Account, set once it exists
    mount_now: bool = True
