"""Keep-alive: a sign-in about to go unused for long is renewed quietly through the account's
own rclone, which stores the new (rotated) tokens in its encrypted config; the "unused for 80
days" reminder comes only when that fails.

Real rclone, the real Secret Service, the emulated cloud (its token endpoint rotates refresh
tokens). The account is added with the real command line; "85 days later" is the *now* given
to keep_alive and the reminders (the stored access token has really expired by then).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from onedrive_gui.core.accounts import AccountService
from onedrive_gui.core.reminders import due_reminders
from onedrive_gui.core.system.paths import AppPaths
from tests.e2e.cli_helpers import cli_env, run_cli
from tests.fakecloud.cloud import FakeCloud


@pytest.fixture
def service(fakecloud: FakeCloud, app_home, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    fakecloud.access_token_lifetime = 2  # the stored access token expires at once
    r = run_cli(["add", "work", "--client-id", d.client_id, "--mount-point",
                 str(tmp_path / "mnt")], env=cli_env(fakecloud.env()), stdin=d.secret + "\n")
    assert r.returncode == 0, r.stderr
    svc = AccountService(AppPaths.default())
    time.sleep(2.5)
    yield svc, d
    svc.shutdown()


def _stored(svc: AccountService) -> tuple[str, datetime | None]:
    rc = svc.engine.client("work")
    try:
        return svc._token(rc, "work")
    finally:
        svc.engine.stop_if_idle("work")


def test_unused_sign_in_is_renewed_quietly_and_no_reminder_comes(service, fakecloud) -> None:
    svc, _d = service
    before = _stored(svc)
    later = datetime.now(UTC) + timedelta(days=85)
    assert [r.kind for r in due_reminders(svc.settings.accounts, now=later)] == ["token-idle"]
    refreshes = len(fakecloud.requests_to("login.microsoftonline.com", "/token"))

    assert svc.keep_alive("work", now=later) == "renewed"

    after = _stored(svc)
    assert after[0] != before[0]  # rclone stored the cloud's new refresh token
    assert after[1] is not None and before[1] is not None and after[1] > before[1]
    assert len(fakecloud.requests_to("login.microsoftonline.com", "/token")) > refreshes
    assert svc.account("work").last_token_refresh == later
    assert due_reminders(svc.settings.accounts, now=later) == []
    assert not svc.engine.is_running("work")  # started for this, stopped again
    # used a moment ago: nothing is asked of the cloud
    assert svc.keep_alive("work", now=later + timedelta(days=1)) == "fresh"


def test_failed_renewal_leaves_the_reminder(service, fakecloud) -> None:
    svc, d = service
    fakecloud.revoke_refresh_tokens(d.user_upn)  # e.g. a password change
    later = datetime.now(UTC) + timedelta(days=85)
    account = svc.account("work")
    assert svc.keep_alive("work", now=later) == "failed"
    assert svc.account("work").last_token_refresh == account.last_token_refresh
    reminders = due_reminders(svc.settings.accounts, now=later)
    assert [(r.kind, r.account) for r in reminders] == [("token-idle", "work")]


def test_a_token_rclone_renewed_by_itself_counts_as_use(service, fakecloud) -> None:
    svc, _d = service
    old = datetime.now(UTC) - timedelta(days=60)
    svc.update_account(replace(svc.account("work"), last_token_refresh=old, last_sign_in=old))
    # the stored access token was obtained at the add (a minute ago): the sign-in was used
    assert svc.keep_alive("work") == "fresh"
    assert svc.account("work").last_token_refresh > old + timedelta(days=59)
