"""GraphClient against the emulated Graph (reached through HTTPS_PROXY + the test CA), with a
token from a real sign-in (core.oauth + the fake browser)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onedrive_gui import __version__
from onedrive_gui.core.errors import AuthError, GraphError, NetworkError
from onedrive_gui.core.microsoft.browser import open_browser
from onedrive_gui.core.microsoft.graph import GraphClient, parse_drive, retry_after_seconds
from onedrive_gui.core.microsoft.oauth import sign_in
from tests.fakecloud.cloud import Defaults, FakeCloud

GIB = 2**30


@pytest.fixture
def signed_in(fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> tuple[Defaults, str]:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    token = sign_in(d.client_id, d.secret, port=0, timeout=30, open_browser=open_browser)
    return d, token.access_token


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_me_and_email_falls_back_to_upn(signed_in: tuple[Defaults, str]) -> None:
    d, token = signed_in
    me = GraphClient(token).me()
    assert me.display_name == d.display_name
    assert me.mail is None  # personal accounts often have no mail
    assert me.email == d.user_upn


def test_me_prefers_mail(fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    fakecloud.add_app("11111111-2222-4333-8444-555555555555", "Sec~ret.value.1234")
    fakecloud.add_user("bob@contoso.com", "Bob", personal=False,
                       tenant_id="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
                       mail="Bob.Smith@contoso.com")
    fakecloud.add_drive("bob@contoso.com", drive_type="business")
    fakecloud.apply_env(monkeypatch)
    token = sign_in("11111111-2222-4333-8444-555555555555", "Sec~ret.value.1234", port=0,
                    timeout=30, open_browser=open_browser)
    assert GraphClient(token.access_token).me().email == "Bob.Smith@contoso.com"


def test_drives_default_first_deduplicated_with_quota(fakecloud: FakeCloud,
                                                      signed_in: tuple[Defaults, str]) -> None:
    d, token = signed_in
    extra = fakecloud.add_drive(d.user_upn, drive_type="business", name="Team files",
                                quota_total=3 * GIB, default=False)
    g = GraphClient(token)
    drives = g.drives()
    assert [x.id for x in drives] == [d.drive_id, extra]
    first, second = drives
    assert first.is_default and not second.is_default
    assert (first.drive_type, first.quota_total) == ("personal", 5 * GIB)
    assert first.quota_used == len(b"hello from the cloud\n")
    assert first.owner_name == d.display_name
    assert (second.name, second.drive_type, second.quota_total) == ("Team files", "business",
                                                                      3 * GIB)
    assert g.drive(extra).is_default is False
    assert g.drive(d.drive_id).is_default is True


def test_graph_requests_are_decorated(fakecloud: FakeCloud,
                                      signed_in: tuple[Defaults, str]) -> None:
    GraphClient(signed_in[1]).me()
    rec = fakecloud.requests_to("graph.microsoft.com", "/v1.0/me")[-1]
    assert rec.headers["user-agent"] == f"ISV|onedrive-gui|onedrive-gui/{__version__}"


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_honours_retry_after(fakecloud: FakeCloud, signed_in: tuple[Defaults, str],
                                        status: int) -> None:
    fakecloud.throttle(2, status=status, retry_after=7)
    sleeps = Sleeps()
    me = GraphClient(signed_in[1], sleep=sleeps).me()
    assert me.email == signed_in[0].user_upn
    assert sleeps == [7.0, 7.0]


def test_throttling_gives_up_after_max_retries(fakecloud: FakeCloud,
                                               signed_in: tuple[Defaults, str]) -> None:
    fakecloud.throttle(10, retry_after=1)
    sleeps = Sleeps()
    with pytest.raises(GraphError) as err:
        GraphClient(signed_in[1], max_retries=3, sleep=sleeps).me()
    assert sleeps == [1.0, 1.0, 1.0]
    assert err.value.title == "Too many requests"
    assert "Wait a few minutes" in err.value.hint


def test_throttling_longer_than_max_wait_is_not_slept(fakecloud: FakeCloud,
                                                      signed_in: tuple[Defaults, str]) -> None:
    fakecloud.throttle(1, retry_after=600)
    sleeps = Sleeps()
    with pytest.raises(GraphError) as err:
        GraphClient(signed_in[1], max_wait=60, sleep=sleeps).me()
    assert sleeps == []
    assert "600" in err.value.message


def test_expired_token_asks_to_sign_in_again(fakecloud: FakeCloud,
                                             signed_in: tuple[Defaults, str]) -> None:
    fakecloud.expire_access_tokens()
    with pytest.raises(AuthError) as err:
        GraphClient(signed_in[1]).drives()
    assert "Sign in again" in err.value.hint
    assert signed_in[1] not in err.value.user_text()


def test_network_down(fakecloud: FakeCloud, signed_in: tuple[Defaults, str]) -> None:
    fakecloud.set_down(True)
    with pytest.raises(NetworkError) as err:
        GraphClient(signed_in[1]).me()
    assert "connection/proxy" in err.value.hint


def test_no_drive_is_a_clear_error(fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    fakecloud.add_app("11111111-2222-4333-8444-555555555556", "Sec~ret.value.5678")
    fakecloud.add_user("nodrive@outlook.com", "No Drive")
    fakecloud.apply_env(monkeypatch)
    token = sign_in("11111111-2222-4333-8444-555555555556", "Sec~ret.value.5678", port=0,
                    timeout=30, open_browser=open_browser)
    with pytest.raises(GraphError) as err:
        GraphClient(token.access_token).drives()
    assert "OneDrive" in err.value.hint


def test_retry_after_forms() -> None:
    now = datetime(2026, 8, 1, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("Sat, 01 Aug 2026 10:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Sat, 01 Aug 2026 09:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_quota_parsing_tolerates_missing_fields() -> None:
    d = parse_drive({"id": "b!x", "driveType": "documentLibrary", "name": "Docs",
                     "owner": {"group": {"displayName": "Team"}}})
    assert (d.quota_total, d.quota_used, d.owner_name) == (None, None, "Team")
    d = parse_drive({"id": "y", "driveType": "business",
                     "quota": {"total": "1099511627776", "used": 5}})
    assert (d.quota_total, d.quota_used) == (2**40, 5)
