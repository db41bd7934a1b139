"""National clouds end to end on the command line: an app registration and a work account in
the US Government or the China (21Vianet) cloud — sign-in, drive discovery, the remote with
rclone's ``region``, a real FUSE mount through which the real rclone writes — and every
request reached that cloud's hosts only (seen at the emulated cloud's proxy)."""

from __future__ import annotations

import signal
from urllib.parse import unquote

import pytest

from tests.e2e.cli_helpers import cli_env, force_unmount, is_mounted, run_cli, wait_for
from tests.e2e.test_accounts_cli import Proc
from tests.fakecloud.state import CLOUDS

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("cloud_key", ["us", "cn"])
def test_national_cloud_sign_in_mount_write(fakecloud, app_home, tmp_path, cloud_key):
    d = fakecloud.setup_work(cloud_key)
    env = cli_env(fakecloud.env())
    mnt = tmp_path / "mnt" / "gov"

    r = run_cli(["add", "gov", "--client-id", d.client_id, "--cloud", cloud_key,
                 "--tenant", "organizations", "--mount-point", str(mnt)],
                env=env, stdin=d.secret + "\n")
    assert r.returncode == 0, r.stderr
    assert "Added 'gov'" in r.stdout and d.user_upn in r.stdout

    r = run_cli(["list"], env=env)
    assert f"[{cloud_key}]" in next(ln for ln in r.stdout.splitlines() if ln.startswith("gov"))

    r = run_cli(["rclone", "--", "config", "show", "gov"], env=env)
    assert r.returncode == 0, r.stderr
    assert f"region = {cloud_key}" in r.stdout

    mount = Proc(["mount", "gov"], env)
    try:
        wait_for(lambda: "Mounted 'gov'" in mount.text() or mount.p.poll() is not None, 60)
        assert mount.p.poll() is None, mount.text()
        assert (mnt / "Documents" / "work.txt").read_bytes() == b"work file\n"
        (mnt / "Documents" / "report.txt").write_bytes(b"written in the national cloud\n")
        mount.p.send_signal(signal.SIGINT)
        assert mount.p.wait(120) == 0, mount.text()
    finally:
        if mount.p.poll() is None:
            mount.p.kill()
        force_unmount(mnt)
    assert not is_mounted(mnt)
    assert fakecloud.get_file(d.drive_id, "/Documents/report.txt") == \
        b"written in the national cloud\n"

    login_host, graph_host, file_host = CLOUDS[cloud_key]
    reached = fakecloud.hosts_reached()
    assert {login_host, graph_host} <= reached
    assert reached <= {login_host, graph_host, file_host}, reached
    # the sign-in went through the national host's token endpoint
    assert fakecloud.requests_to(login_host, "/oauth2/v2.0/token")
    if cloud_key == "cn":  # rclone's China form of lookups (children('name')): region=cn
        assert any("children('" in unquote(r.path)
                   for r in fakecloud.requests_to(graph_host))


def test_personal_tenant_refused_in_national_cloud(fakecloud, app_home):
    d = fakecloud.setup_work("us")
    env = cli_env(fakecloud.env())
    r = run_cli(["authorize", "--client-id", d.client_id, "--cloud", "us",
                 "--tenant", "consumers"], env=env, stdin=d.secret + "\n")
    assert r.returncode == 2
    assert "no personal Microsoft accounts" in r.stderr
    assert fakecloud.hosts_reached() == set()


def test_dod_is_said_plainly(fakecloud, app_home):
    d = fakecloud.setup_work("us")
    r = run_cli(["authorize", "--client-id", d.client_id, "--cloud", "dod"],
                env=cli_env(fakecloud.env()), stdin=d.secret + "\n")
    assert r.returncode == 2
    assert "rclone" in r.stderr and "DoD" in r.stderr
    assert fakecloud.hosts_reached() == set()


def test_app_of_another_cloud_is_unknown_there(fakecloud, app_home):
    """An app registered in the global cloud does not exist in the US Government cloud: the
    pre-flight reads AADSTS700016 from the .us sign-in page."""
    d = fakecloud.setup_default()
    r = run_cli(["authorize", "--client-id", d.client_id, "--cloud", "us"],
                env=cli_env(fakecloud.env()), stdin=d.secret + "\n")
    assert r.returncode != 0
    assert "AADSTS700016" in r.stderr
    assert fakecloud.hosts_reached() == {"login.microsoftonline.us"}


def test_admin_approval_link_on_the_command_line(fakecloud, app_home):
    """Only administrators may consent in this tenant (AADSTS90094): the error names the
    tenant's admin-consent link on the US Government sign-in host."""
    d = fakecloud.setup_work("us", tenant_id="0c3a9a57-5e0c-4b8e-9d7e-1f2a3b4c5d6e")
    fakecloud.state.apps[d.client_id].admin_consent_only = True
    r = run_cli(["authorize", "--client-id", d.client_id, "--cloud", "us",
                 "--tenant", "0c3a9a57-5e0c-4b8e-9d7e-1f2a3b4c5d6e"],
                env=cli_env(fakecloud.env()), stdin=d.secret + "\n")
    assert r.returncode != 0
    assert "Administrator approval required" in r.stderr
    assert ("https://login.microsoftonline.us/0c3a9a57-5e0c-4b8e-9d7e-1f2a3b4c5d6e/adminconsent"
            f"?client_id={d.client_id}") in r.stderr
