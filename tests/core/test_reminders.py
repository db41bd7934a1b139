"""Reminders for expiring client secrets and idle sign-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from onedrive_gui.core.reminders import due_reminders

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass
class Acc:
    name: str
    secret_expires: date | None = None
    last_token_refresh: datetime | None = None
    last_sign_in: datetime | None = None


def kinds(*accounts: Acc) -> list[tuple[str, str]]:
    return [(r.kind, r.account) for r in due_reminders(accounts, NOW)]


def test_nothing_due_for_a_fresh_account() -> None:
    assert kinds(Acc("work", date(2028, 11, 1), NOW, NOW)) == []


def test_secret_expiring_within_30_days_and_expired() -> None:
    soon = Acc("work", NOW.date() + timedelta(days=30))
    late = Acc("home", NOW.date() - timedelta(days=1))
    fine = Acc("x", NOW.date() + timedelta(days=31))
    assert kinds(soon, late, fine) == [("secret-expiring", "work"), ("secret-expired", "home")]
    texts = due_reminders([soon], NOW)[0]
    assert "in 30 days" in texts.title and "Settings" in texts.text


def test_token_idle_for_80_days_nudges_with_days_left() -> None:
    idle = Acc("work", last_token_refresh=NOW - timedelta(days=85))
    [r] = due_reminders([idle], NOW)
    assert r.kind == "token-idle" and "within 5 days" in r.text
    dead = Acc("home", last_sign_in=NOW - timedelta(days=95))
    [r] = due_reminders([dead], NOW)
    assert "sign in again" in r.text
    assert kinds(Acc("ok", last_token_refresh=NOW - timedelta(days=79))) == []
