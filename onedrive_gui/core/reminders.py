"""Reminders the tray shows: client secrets about to expire, tokens about to go stale.

Microsoft does not let the app read a secret's expiry with delegated permissions, so the
user types it in (wizard, ``--secret-expires``); refresh tokens expire after 90 days
without use, so an account idle for 80 days gets a nudge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from onedrive_gui.core.i18n import _, ngettext

SECRET_WARNING_DAYS = 30
TOKEN_IDLE_WARNING_DAYS = 80
TOKEN_LIFETIME_DAYS = 90
# The running app renews a sign-in unused this long (AccountService.keep_alive), far from
# the 80-day reminder; an access token lives at most this long (Microsoft: 60-90 minutes).
KEEP_ALIVE_DAYS = 14
ACCESS_TOKEN_MAX_MINUTES = 90


class _AccountLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def secret_expires(self) -> date | None: ...
    @property
    def last_token_refresh(self) -> datetime | None: ...
    @property
    def last_sign_in(self) -> datetime | None: ...


@dataclass(frozen=True)
class Reminder:
    kind: str  # "secret-expiring" | "secret-expired" | "token-idle"
    account: str
    title: str
    text: str


def due_reminders(accounts: Iterable[_AccountLike], now: datetime | None = None) -> list[Reminder]:
    now = now or datetime.now(UTC)
    today = now.date()
    out: list[Reminder] = []
    for a in accounts:
        if a.secret_expires is not None:
            days = (a.secret_expires - today).days
            if days < 0:
                out.append(Reminder(
                    "secret-expired", a.name, _(
                        "{name}: client secret expired"
                    ).format(name=a.name),
                    _(
                        "The client secret expired on {isoformat}: the drive stops working "
                        "when its token needs renewing. Create a new secret in the Azure "
                        "portal (Certificates & secrets) and enter it in Settings."
                    ).format(isoformat=a.secret_expires.isoformat()),
                ))
            elif days <= SECRET_WARNING_DAYS:
                when = _("today") if days == 0 else ngettext(
                    "in {days} day", "in {days} days", days).format(days=days)
                out.append(Reminder(
                    "secret-expiring", a.name, _(
                        "{name}: secret expires {when}"
                    ).format(name=a.name, when=when),
                    _(
                        "The client secret expires on {isoformat}. Create a new one in the "
                        "Azure portal (Certificates & secrets) and enter it in Settings."
                    ).format(isoformat=a.secret_expires.isoformat()),
                ))
        last_use = a.last_token_refresh or a.last_sign_in
        if last_use is not None:
            idle = now - last_use
            if idle >= timedelta(days=TOKEN_IDLE_WARNING_DAYS):
                left = TOKEN_LIFETIME_DAYS - idle.days
                text = (_(
                    "'{name}' has not been used for {days} days. Microsoft ends the sign-in "
                    "after 90 days without use: mount it within {left} days to keep it."
                ) if left > 0 else _(
                    "'{name}' has not been used for {days} days. Microsoft ends the sign-in "
                    "after 90 days without use: sign in again (Re-authorize in Settings)."
                )).format(name=a.name, days=idle.days, left=left)
                out.append(Reminder("token-idle", a.name, _(
                    "{name}: sign-in about to lapse"
                ).format(name=a.name),
                                    text))
    return out
