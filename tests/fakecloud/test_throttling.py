"""The emulator's model of Microsoft's documented SharePoint/OneDrive throttling."""

from __future__ import annotations

import pytest
import requests

from .cloud import FakeCloud
from .test_fakecloud import rclone_token
from .throttling import ThrottlingModel, request_cost


@pytest.mark.parametrize(("licences", "per_minute", "per_day"), [
    (1, 1_250, 1_200_000), (1_000, 1_250, 1_200_000), (1_001, 2_500, 2_400_000),
    (15_000, 3_750, 3_600_000), (50_000, 5_000, 4_800_000), (200_000, 6_250, 6_000_000)])
def test_budgets_follow_the_tenant_size(licences: int, per_minute: int, per_day: int) -> None:
    m = ThrottlingModel.for_tenant(licences)
    assert (m.app_ru_per_window, m.app_window, m.app_ru_per_day) == (per_minute, 60, per_day)
    assert (m.user_requests_per_window, m.user_window) == (3_000, 300)


@pytest.mark.parametrize(("method", "path", "query", "kind", "cost"), [
    ("GET", "/v1.0/drives/d/items/i", {}, "graph", 1),
    ("GET", "/v1.0/drives/d/items/i/children", {}, "graph", 2),
    ("GET", "/v1.0/drives/d/root/delta", {}, "graph", 2),
    ("GET", "/v1.0/drives/d/root/delta", {"token": "x"}, "graph", 1),
    ("GET", "/v1.0/drives/d/root/delta", {"token": ""}, "graph", 2),  # empty: no token
    ("GET", "/v1.0/drives/d/root/delta", {"$skiptoken": "s"}, "graph", 1),  # a later page
    ("PUT", "/v1.0/drives/d/items/p:/f.txt:/content", {}, "graph", 2),
    ("POST", "/v1.0/drives/d/items/p:/f.txt:/createUploadSession", {}, "graph", 2),
    ("PATCH", "/v1.0/drives/d/items/i", {}, "graph", 2),
    ("DELETE", "/v1.0/drives/d/items/i", {}, "graph", 2),
    ("POST", "/v1.0/drives/d/items/i/invite", {}, "graph", 5),
    ("GET", "/v1.0/drives/d/items/i/permissions", {}, "graph", 5),
    ("GET", "/y4mtoken/f.txt", {}, "download", 1),
    ("PUT", "/rup/session", {}, "upload", 2),
])
def test_request_costs(method: str, path: str, query: dict[str, str], kind: str,
                       cost: int) -> None:
    assert request_cost(method, path, query, host_kind=kind) == cost


def test_over_budget_is_refused_with_retry_after_and_a_compliant_retry_passes() -> None:
    m = ThrottlingModel(app_ru_per_window=10, app_window=10.0)
    assert all(m.decide("t", "app", "u", 2, 0.0).allowed for _ in range(5))
    refused = m.decide("t", "app", "u", 2, 1.0)
    assert not refused.allowed and refused.reason == "app"
    # the refused request counts (2 RU at 1.0): the retry fits once the listings sent at 0
    # have left the window
    assert refused.retry_after == 9
    assert m.decide("t", "app", "u", 2, 1.0 + refused.retry_after).allowed


def test_requests_sent_while_throttled_prolong_it() -> None:
    """Honouring Retry-After gets through; retrying faster than the budget never does."""
    def first_success(step: float | None) -> float | None:
        m = ThrottlingModel(app_ru_per_window=20, app_window=10.0)  # 1 listing/s
        for _ in range(10):
            m.decide("t", "app", "u", 2, 0.0)
        t = 0.5
        while t < 120:
            d = m.decide("t", "app", "u", 2, t)
            if d.allowed:
                return t
            t += d.retry_after if step is None else step
        return None

    assert first_success(None) == 10.5  # one retry, when told
    assert first_success(0.5) is None  # 2 listings/s, each counted: refused for good


def test_budgets_are_per_app_per_tenant_and_per_user() -> None:
    m = ThrottlingModel(app_ru_per_window=4, app_window=60.0, user_requests_per_window=3,
                        user_window=300.0)
    assert m.decide("t", "a1", "alice", 2, 0).allowed
    assert m.decide("t", "a1", "bob", 2, 0).allowed
    assert not m.decide("t", "a1", "carol", 2, 0).allowed  # app a1 spent its 4 RU
    assert m.decide("t", "a2", "alice", 2, 0).allowed  # another app has its own budget
    assert m.decide("t2", "a1", "dave", 2, 0).allowed  # so has the same app elsewhere
    assert m.decide("t3", "a3", "alice", 1, 0).allowed  # alice's third request
    refused = m.decide("t4", "a4", "alice", 1, 0)  # her fourth, whatever the app
    assert not refused.allowed and refused.reason == "user" and refused.retry_after == 300


def test_scaling_keeps_the_documented_rate() -> None:
    m = ThrottlingModel.for_tenant(500).scaled(1 / 6)
    assert (m.app_window, m.user_window) == (10, 50)
    assert m.app_ru_per_window / m.app_window == pytest.approx(1_250 / 60, rel=0.01)
    assert m.user_requests_per_window / m.user_window == pytest.approx(3_000 / 300)


def test_the_cloud_throttles_only_when_asked(fakecloud: FakeCloud,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    h = {"Authorization": f"Bearer {rclone_token(fakecloud, d)['access_token']}"}
    url = f"https://graph.microsoft.com/v1.0/drives/{d.drive_id}/root/children"
    assert all(requests.get(url, headers=h, timeout=10).status_code == 200 for _ in range(8))

    fakecloud.set_throttling(ThrottlingModel(app_ru_per_window=6, app_window=60.0))
    statuses = [requests.get(url, headers=h, timeout=10) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[3].headers["Retry-After"].isdigit()  # rclone parses whole seconds only
    assert statuses[3].json()["error"]["code"] == "TooManyRequests"
    fakecloud.set_throttling(None)
    assert requests.get(url, headers=h, timeout=10).status_code == 200


@pytest.mark.parametrize(("fragment_cost", "status"), [(0, 201), (2, 429)])
def test_the_cost_of_an_upload_fragment_can_be_set(fakecloud: FakeCloud,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   fragment_cost: int, status: int) -> None:
    """Microsoft does not document what a fragment costs: the benchmarks try both."""
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    h = {"Authorization": f"Bearer {rclone_token(fakecloud, d)['access_token']}"}
    fakecloud.set_throttling(ThrottlingModel(app_ru_per_window=2, app_window=60.0,
                                             fragment_cost=fragment_cost))
    session = requests.post(
        f"https://graph.microsoft.com/v1.0/drives/{d.drive_id}/root:/up.bin:/"
        "createUploadSession", headers=h, json={}, timeout=10)
    assert session.status_code == 200  # 2 RU: the whole budget
    put = requests.put(session.json()["uploadUrl"], data=b"abc",
                       headers={"Content-Range": "bytes 0-2/3"}, timeout=10)
    assert put.status_code == status
    fakecloud.set_throttling(None)
