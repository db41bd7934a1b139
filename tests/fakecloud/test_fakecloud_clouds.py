"""The emulated cloud's national clouds, SharePoint/Teams and app-registration endpoints,
checked with plain HTTPS requests through its proxy (as Graph answers them)."""

from __future__ import annotations

import secrets
import time
from urllib.parse import quote

import pytest
import requests

from .cloud import FakeCloud
from .state import AccessToken


def _token(fc: FakeCloud, upn: str, scopes: list[str], cloud: str = "global") -> str:
    t = "EwB" + secrets.token_urlsafe(30)
    fc.state.access_tokens[t] = AccessToken(t, upn, "app", scopes, time.time() + 600, cloud)
    return t


def _get(fc: FakeCloud, url: str, token: str, **kw: object) -> requests.Response:
    return requests.request(str(kw.pop("method", "GET")), url,
                            headers={"Authorization": f"Bearer {token}"},
                            proxies={"https": fc.proxy_url}, verify=str(fc.ca_pem),
                            timeout=10, **kw)  # type: ignore[arg-type]


def test_tokens_work_only_in_their_cloud(fakecloud: FakeCloud) -> None:
    d = fakecloud.setup_work("us")
    tok = _token(fakecloud, d.user_upn, ["User.Read"], "us")
    assert _get(fakecloud, "https://graph.microsoft.us/v1.0/me", tok).status_code == 200
    r = _get(fakecloud, "https://graph.microsoft.com/v1.0/me", tok)
    assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_china_children_key_form(fakecloud: FakeCloud) -> None:
    d = fakecloud.setup_work("cn")
    tok = _token(fakecloud, d.user_upn, ["Files.Read"], "cn")
    base = f"https://microsoftgraph.chinacloudapi.cn/v1.0/drives/{d.drive_id}"
    r = _get(fakecloud, f"{base}/root/children('@a1')?@a1=" + quote("'Documents/work.txt'"),
             tok)
    assert r.status_code == 200 and r.json()["name"] == "work.txt"
    r = _get(fakecloud, f"{base}/root/children('Documents')/children", tok)
    assert [i["name"] for i in r.json()["value"]] == ["work.txt"]


def test_sites_and_teams_need_their_permissions(fakecloud: FakeCloud) -> None:
    d = fakecloud.setup_work()
    site = fakecloud.add_site("Marketing", [d.user_upn])
    team = fakecloud.add_team("Sales", [d.user_upn])
    g = "https://graph.microsoft.com/v1.0"
    plain = _token(fakecloud, d.user_upn, ["Files.Read"])
    r = _get(fakecloud, f"{g}/sites?search=mark", plain)
    assert r.status_code == 403 and r.json()["error"]["code"] == "accessDenied"
    assert _get(fakecloud, f"{g}/me/joinedTeams", plain).status_code == 403
    # a site's libraries and a group's drive need Files.Read only
    assert _get(fakecloud, f"{g}/sites/{site.id}/drives", plain).json()["value"][0][
        "driveType"] == "documentLibrary"
    assert _get(fakecloud, f"{g}/groups/{team.id}/drive", plain).json()["id"] == team.drive_id
    full = _token(fakecloud, d.user_upn, ["Sites.Read.All", "Team.ReadBasic.All"])
    assert [s["displayName"] for s in _get(fakecloud, f"{g}/sites?search=mark",
                                           full).json()["value"]] == ["Marketing"]
    assert [t["displayName"] for t in _get(fakecloud, f"{g}/me/joinedTeams",
                                           full).json()["value"]] == ["Sales"]


@pytest.mark.parametrize(("cloud", "body", "says"), [
    ("global", {"displayName": "x", "signInAudience": "AzureADandPersonalMicrosoftAccount"},
     "requestedAccessTokenVersion"),
    ("us", {"displayName": "x", "signInAudience": "AzureADandPersonalMicrosoftAccount",
            "api": {"requestedAccessTokenVersion": 2}}, "signInAudience"),
    ("global", {"signInAudience": "AzureADMultipleOrgs"}, "displayName"),
    ("global", {"displayName": "x", "web": {"redirectUris": ["http://example.com"]}},
     "web.redirectUris"),
    ("global", {"displayName": "x", "requiredResourceAccess": [
        {"resourceAppId": "graph", "resourceAccess": []}]}, "requiredResourceAccess"),
])
def test_application_bodies_are_checked(fakecloud: FakeCloud, cloud: str,
                                        body: dict[str, object], says: str) -> None:
    d = fakecloud.setup_work(cloud)
    graph = {"global": "graph.microsoft.com", "us": "graph.microsoft.us"}[cloud]
    tok = _token(fakecloud, d.user_upn, ["Application.ReadWrite.All"], cloud)
    r = _get(fakecloud, f"https://{graph}/v1.0/applications", tok, method="POST", json=body)
    assert r.status_code == 400, r.text
    assert says in r.json()["error"]["message"]
    assert fakecloud.state.applications == {}
