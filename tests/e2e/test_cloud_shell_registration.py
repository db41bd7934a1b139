"""The registration in one command: the exact text the wizard shows runs in Bash (as in Azure
Cloud Shell) with a stand-in for ``az rest`` against the emulated Graph of each cloud, which
checks the bodies as Graph does. The line it prints parses into a working registration: the
app signs in and finds the drive. A tenant that caps secret lifetimes gets the longest
allowed; malformed or partial lines are refused with a clear message."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.microsoft.registration import (
    LINE_MARK,
    PERMISSION_IDS,
    cloud_shell_command,
    parse_result_line,
)
from tests.e2e.cli_helpers import cli_env, run_cli
from tests.fakecloud.state import CLOUDS

pytestmark = pytest.mark.e2e


def run_in_cloud_shell(fakecloud, admin_upn: str, command: str):  # type: ignore[no-untyped-def]
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                          env=fakecloud.cloud_shell_env(admin_upn), timeout=120, check=False)


@pytest.mark.parametrize("cloud_key", ["global", "us", "cn"])
def test_command_creates_a_working_registration(fakecloud, app_home, cloud_key):
    d = fakecloud.setup_work(cloud_key)
    before = set(fakecloud.state.apps)
    r = run_in_cloud_shell(fakecloud, d.user_upn, cloud_shell_command(cloud_key))
    assert r.returncode == 0, r.stderr
    created = parse_result_line(r.stdout, expected_cloud=cloud_key)
    assert created.cloud == cloud_key
    assert abs((created.expires - date.today()).days - 730) <= 2  # 24 months

    new = set(fakecloud.state.apps) - before
    assert new == {created.client_id}
    app = fakecloud.state.apps[created.client_id]
    assert app.secret == created.secret and app.cloud == cloud_key
    assert app.redirect_platform == "web" and app.redirect_uris == ("http://localhost",)
    assert app.audience == ("AzureADandPersonalMicrosoftAccount" if cloud_key == "global"
                            else "AzureADMultipleOrgs")
    body = next(iter(fakecloud.state.applications.values()))
    assert body["api"] == {"requestedAccessTokenVersion": 2}
    ids = {ra["id"] for ra in body["requiredResourceAccess"][0]["resourceAccess"]}
    assert ids == set(PERMISSION_IDS.values())
    login_host, graph_host, _ = CLOUDS[cloud_key]
    assert fakecloud.hosts_reached() == {graph_host}

    # the registration works: sign in with it and get the drive token
    r = run_cli(["authorize", "--client-id", created.client_id, "--cloud", cloud_key,
                 "--tenant", "organizations"],
                env=cli_env(fakecloud.env(browser_user=d.user_upn)),
                stdin=created.secret + "\n")
    assert r.returncode == 0, r.stderr
    assert '"refresh_token"' in r.stdout
    assert fakecloud.hosts_reached() == {graph_host, login_host}


def test_command_never_reuses_an_existing_app(fakecloud, app_home):
    d = fakecloud.setup_work()
    cmd = cloud_shell_command("global")
    first = parse_result_line(run_in_cloud_shell(fakecloud, d.user_upn, cmd).stdout)
    second = parse_result_line(run_in_cloud_shell(fakecloud, d.user_upn, cmd).stdout)
    assert first.client_id != second.client_id
    # the first app keeps its secret: nothing was reset
    assert fakecloud.state.apps[first.client_id].secret == first.secret


def test_tenant_policy_gets_the_longest_secret_it_allows(fakecloud, app_home):
    d = fakecloud.setup_work()
    fakecloud.state.secret_max_days = 200  # e.g. a policy of about six months
    r = run_in_cloud_shell(fakecloud, d.user_upn, cloud_shell_command("global"))
    assert r.returncode == 0, r.stderr
    created = parse_result_line(r.stdout)
    assert 150 <= (created.expires - date.today()).days <= 200  # 6 months, not 3
    assert "A 24-month secret was refused" in r.stderr
    assert "A 12-month secret was refused" in r.stderr


def test_no_permission_to_register_stops_with_graphs_error(fakecloud, app_home):
    d = fakecloud.setup_default()  # a personal account cannot create app registrations
    r = run_in_cloud_shell(fakecloud, d.user_upn, cloud_shell_command("global"))
    assert r.returncode != 0
    assert "Insufficient privileges" in r.stderr
    assert LINE_MARK not in r.stdout
    assert fakecloud.state.applications == {}


@pytest.mark.parametrize(("text", "says"), [
    ("", "Nothing was pasted"),
    ("Copy the next line into OneDrive GUI:", f"no line starting with {LINE_MARK}"),
    (f"{LINE_MARK} cloud=global client_id=3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44 secret=abc~x",
     "lacks expires"),
    (f"{LINE_MARK} cloud=global client_id=not-a-guid secret=abc~x expires=2028-11-30",
     "is not an application (client) ID"),
    (f"{LINE_MARK} cloud=global client_id=3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44 "
     "secret=abc~x expires=30/11/2028", "is not a date"),
    (f"{LINE_MARK} cloud=mars client_id=3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44 secret=abc~x "
     "expires=2028-11-30", "not a Microsoft cloud"),
])
def test_malformed_or_partial_lines_are_refused(text, says):
    with pytest.raises(ValidationError) as err:
        parse_result_line(text)
    assert says in err.value.message


def test_line_of_another_cloud_is_refused():
    line = (f"{LINE_MARK} cloud=us client_id=3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44 "
            "secret=abc~x expires=2028-11-30")
    with pytest.raises(ValidationError) as err:
        parse_result_line(line, expected_cloud="global")
    assert "US Government" in err.value.message
