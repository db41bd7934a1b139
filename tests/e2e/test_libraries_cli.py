"""SharePoint and Teams libraries on the command line, against the emulated cloud and the real
rclone: a work account adds a library found by a site search and its Team's library (listed
by ``onedrive-gui libraries``), mounts both, writes a file into each, and the bytes land in the
right library. A personal account is told why it sees only its own drives."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.cli_helpers import cli_env, force_unmount, run_cli, wait_for
from tests.e2e.test_accounts_cli import Proc

pytestmark = pytest.mark.e2e


def _mount_and_write(env, name, mnt, rel, data):  # type: ignore[no-untyped-def]
    mount = Proc(["mount", name], env)
    try:
        wait_for(lambda: f"Mounted '{name}'" in mount.text() or mount.p.poll() is not None, 60)
        assert mount.p.poll() is None, mount.text()
        (mnt / rel).write_bytes(data)
        mount.p.send_signal(signal.SIGINT)
        assert mount.p.wait(120) == 0, mount.text()
    finally:
        if mount.p.poll() is None:
            mount.p.kill()
        force_unmount(mnt)


def test_site_search_and_team_library_mounted_and_written(fakecloud, app_home, tmp_path):
    d = fakecloud.setup_work()
    other = fakecloud.add_user("eve@contoso.com", "Eve", personal=False,
                               tenant_id=fakecloud.state.user(d.user_upn).tenant_id)
    site = fakecloud.add_site("Marketing", [d.user_upn], libraries=("Documents",))
    fakecloud.add_site("Marketing Archive", [other.upn])  # not visible to Bob
    team = fakecloud.add_team("Sales Team", [d.user_upn])
    site_drive = site.drives[0]
    env = cli_env(fakecloud.env())

    # the list of libraries: own drive, the Team's library; Sites.Read.All and
    # Team.ReadBasic.All were asked for
    r = run_cli(["libraries", "--client-id", d.client_id, "--search", "market",
                 "--tenant", "organizations"], env=env, stdin=d.secret + "\n")
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    assert any(d.drive_id in row and "business" in row for row in rows)
    assert any(site_drive in row and "Site: Marketing" in row for row in rows)
    assert any(team.drive_id in row and "Team: Sales Team" in row for row in rows)
    assert "Marketing Archive" not in r.stdout
    authorize = fakecloud.requests_to("login.microsoftonline.com", "/authorize")[-1]
    assert {"Sites.Read.All", "Team.ReadBasic.All"} <= set(authorize.query["scope"].split())

    # a library found by a site search
    mnt_site = tmp_path / "mnt" / "marketing"
    r = run_cli(["add", "marketing", "--client-id", d.client_id, "--site", "Marketing",
                 "--library", "Documents", "--mount-point", str(mnt_site)],
                env=env, stdin=d.secret + "\n")
    assert r.returncode == 0, r.stderr
    assert "Documents (documentLibrary)" in r.stdout

    # the Team's library by the ID the list showed, from the same sign-in: no browser
    authorizations = len(fakecloud.requests_to("login.microsoftonline.com", "/authorize"))
    mnt_team = tmp_path / "mnt" / "sales"
    r = run_cli(["add", "sales", "--from", "marketing", "--drive-id", team.drive_id,
                 "--mount-point", str(mnt_team)], env=env)
    assert r.returncode == 0, r.stderr
    assert "Using the sign-in of 'marketing'" in r.stderr
    assert len(fakecloud.requests_to("login.microsoftonline.com", "/authorize")) == \
        authorizations

    r = run_cli(["rclone", "--", "config", "show", "sales"], env=env)
    assert r.returncode == 0, r.stderr
    assert f"drive_id = {team.drive_id}" in r.stdout
    assert "drive_type = documentLibrary" in r.stdout

    _mount_and_write(env, "marketing", mnt_site, "plan.txt", b"marketing plan\n")
    _mount_and_write(env, "sales", mnt_team, "leads.txt", b"sales leads\n")
    assert fakecloud.get_file(site_drive, "/plan.txt") == b"marketing plan\n"
    assert fakecloud.get_file(team.drive_id, "/leads.txt") == b"sales leads\n"
    assert fakecloud.get_file(site_drive, "/leads.txt") is None
    assert fakecloud.get_file(team.drive_id, "/plan.txt") is None
    assert fakecloud.get_file(d.drive_id, "/plan.txt") is None


def test_site_search_several_libraries_asks_which(fakecloud, app_home, tmp_path):
    d = fakecloud.setup_work()
    fakecloud.add_site("Finance", [d.user_upn], libraries=("Documents", "Invoices"))
    r = run_cli(["add", "fin", "--client-id", d.client_id, "--site", "Finance",
                 "--mount-point", str(tmp_path / "fin")],
                env=cli_env(fakecloud.env()), stdin=d.secret + "\n")
    assert r.returncode == 2
    assert "Several libraries found" in r.stderr
    assert "Invoices" in r.stderr and "--library" in r.stderr


def test_personal_account_gets_the_explanation(fakecloud, app_home):
    d = fakecloud.setup_default()
    env = cli_env(fakecloud.env())
    r = run_cli(["libraries", "--client-id", d.client_id], env=env, stdin=d.secret + "\n")
    assert r.returncode == 0, r.stderr
    assert d.drive_id in r.stdout
    assert "Personal Microsoft accounts have no SharePoint sites or Teams" in r.stderr
    # no site or Team request was sent for a personal account
    assert not fakecloud.requests_to("graph.microsoft.com", "/sites")
    assert not fakecloud.requests_to("graph.microsoft.com", "/joinedTeams")

    r = run_cli(["add", "p", "--client-id", d.client_id, "--site", "Marketing"], env=env,
                stdin=d.secret + "\n")
    assert r.returncode == 2
    assert "Personal Microsoft accounts have no SharePoint sites" in r.stderr


def test_common_tenant_lists_sites_and_says_how_to_get_teams(fakecloud, app_home):
    d = fakecloud.setup_work()
    site = fakecloud.add_site("Marketing", [d.user_upn], followers=(d.user_upn,))
    fakecloud.add_team("Sales Team", [d.user_upn])
    r = run_cli(["libraries", "--client-id", d.client_id], env=cli_env(fakecloud.env()),
                stdin=d.secret + "\n")
    assert r.returncode == 0, r.stderr
    assert site.drives[0] in r.stdout and "Sales Team" not in r.stdout
    assert "Team.ReadBasic.All" in r.stderr and "--tenant organizations" in r.stderr
