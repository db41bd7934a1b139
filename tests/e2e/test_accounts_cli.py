"""A user's whole journey on the command line, against the emulated Microsoft cloud, the real
rclone, a real FUSE mount and the real Secret Service:

add → list → mount → read → write (small + 10 MiB) → Ctrl-C waits for the uploads → the
files are in the cloud → rotate the secret → reauth → rclone refreshes with the new secret →
remove. Then: no secret or token in plain text anywhere the app or rclone wrote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import (
    CLI,
    cli_env,
    files_under,
    force_unmount,
    is_mounted,
    run_cli,
    wait_for,
)

pytestmark = pytest.mark.e2e


class Proc:
    """A running CLI process whose stdout/stderr are collected line by line. On Windows it
    gets a process group of its own, so that Ctrl-Break can be sent to it alone."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        flags = subprocess.CREATE_NEW_PROCESS_GROUP if sys.platform == "win32" else 0
        self.p = subprocess.Popen(
            [*CLI, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
            creationflags=flags,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, sink in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _pump(stream, sink: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            sink.append(line)

    def text(self) -> str:
        return "".join(self.out) + "".join(self.err)

    def interrupt(self) -> None:
        """What a user's Ctrl-C does (Windows: Ctrl-Break, the one console event a process
        group of its own can be sent)."""
        if sys.platform == "win32":
            os.kill(self.p.pid, signal.CTRL_BREAK_EVENT)
        else:
            self.p.send_signal(signal.SIGINT)


@pytest.fixture
def cloud(fakecloud, app_home):  # type: ignore[no-untyped-def]
    d = fakecloud.setup_default()
    return d


def _secrets_in_plain_files(roots: list[Path], needles: list[str]) -> list[str]:
    hits = []
    for f in files_under(*roots):
        data = f.read_bytes()
        for n in needles:
            if n.encode() in data:
                hits.append(f"{f}: contains a {len(n)}-char secret")
    return hits


def test_add_mount_write_unmount_rotate_reauth_remove(fakecloud, cloud, app_home, tmp_path):
    env = cli_env(fakecloud.env())
    mnt = tmp_path / "mnt" / "work"

    # add: consent in the (emulated) browser, drive discovery, keyring, encrypted remote
    r = run_cli(
        ["add", "work", "--client-id", cloud.client_id, "--secret-expires", "2027-06-30",
         "--mount-point", str(mnt)],
        env=env, stdin=cloud.secret + "\n",
    )
    assert r.returncode == 0, r.stderr
    assert "Added 'work'" in r.stdout and cloud.user_upn in r.stdout
    conf = Path(os.environ["XDG_DATA_HOME"]) / "onedrive-gui" / "rclone" / "work.conf"
    assert b"\nRCLONE_ENCRYPT_V0:\n" in conf.read_bytes()

    # a second add with the same name is refused before anything happens
    r = run_cli(["add", "work", "--client-id", cloud.client_id], env=env, stdin=cloud.secret)
    assert r.returncode != 0 and "already exists" in r.stderr

    r = run_cli(["list"], env=env)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("work "))
    assert cloud.user_upn in row and "unmounted" in row and "2027-06-30" in row

    # mount in the foreground
    mount = Proc(["mount", "work"], env)
    try:
        wait_for(lambda: "Mounted 'work'" in mount.text() or mount.p.poll() is not None, 60)
        assert mount.p.poll() is None, mount.text()
        assert is_mounted(mnt)
        assert (mnt / "Documents" / "hello.txt").read_bytes() == b"hello from the cloud\n"
        big = os.urandom(10 * 2**20)
        (mnt / "notes.txt").write_text("written through the mount\n")
        (mnt / "Documents" / "big.bin").write_bytes(big)

        # Ctrl-C: the unmount waits for the uploads (rclone writes back after 5 s)
        mount.p.send_signal(signal.SIGINT)
        assert mount.p.wait(120) == 0, mount.text()
    finally:
        if mount.p.poll() is None:
            mount.p.kill()
        force_unmount(mnt)
    text = mount.text()
    assert "Waiting for" in text and "upload" in text, text
    assert "Unmounted 'work'" in text
    assert not is_mounted(mnt)
    assert fakecloud.get_file(cloud.drive_id, "/notes.txt") == b"written through the mount\n"
    assert fakecloud.get_file(cloud.drive_id, "/Documents/big.bin") == big

    # rotate the client secret (the old one stops working in the portal)
    new_secret = "Nw9~rotatedSecretValue.abcdefghijklmnopQRS"
    fakecloud.state.apps[cloud.client_id.lower()].secret = new_secret
    r = run_cli(["set-secret", "work", "--expires", "2028-01-31"], env=env,
                stdin=f"  {new_secret}  \n")
    assert r.returncode == 0, r.stderr
    assert "2028-01-31" in r.stdout

    # reauth with the new secret; a short token lifetime makes rclone refresh right away
    fakecloud.access_token_lifetime = 11
    r = run_cli(["reauth", "work"], env=env)
    assert r.returncode == 0, r.stderr
    refreshes_before = len([q for q in fakecloud.requests_to("login.microsoftonline.com", "token")])
    r = run_cli(["rclone", "--", "lsf", "work:Documents"], env=env)
    assert r.returncode == 0, r.stderr
    assert "hello.txt" in r.stdout and "big.bin" in r.stdout
    assert len(fakecloud.requests_to("login.microsoftonline.com", "token")) > refreshes_before
    assert b"\nRCLONE_ENCRYPT_V0:\n" in conf.read_bytes()

    # nothing secret in plain text anywhere the app or rclone wrote
    needles = [cloud.secret, new_secret]
    needles += [t.token for t in fakecloud.state.access_tokens.values()]
    needles += [t.token for t in fakecloud.state.refresh_tokens.values()]
    assert _secrets_in_plain_files([app_home], needles) == []

    r = run_cli(["list"], env=env)
    assert "2028-01-31" in r.stdout

    # a mount during which rclone renews the (11 s) token records the refresh: the 90-day
    # inactivity clock restarts
    settings_file = Path(os.environ["XDG_CONFIG_HOME"]) / "onedrive-gui" / "settings.json"
    before = json.loads(settings_file.read_text())["accounts"][0]["last_token_refresh"]
    time.sleep(6)  # the 11 s token rclone holds is now surely inside its refresh margin
    mount = Proc(["mount", "work"], env)
    try:
        wait_for(lambda: "Mounted 'work'" in mount.text() or mount.p.poll() is not None, 60)
        assert mount.p.poll() is None, mount.text()
        assert (mnt / "Documents" / "hello.txt").read_bytes() == b"hello from the cloud\n", (
            mount.text(), os.listdir(mnt))
        mount.p.send_signal(signal.SIGINT)
        assert mount.p.wait(60) == 0, mount.text()
    finally:
        if mount.p.poll() is None:
            mount.p.kill()
        force_unmount(mnt)
    assert "renewed the sign-in" in mount.text()
    after = json.loads(settings_file.read_text())["accounts"][0]["last_token_refresh"]
    assert after > before

    # remove: remote, keyring entry and settings entry
    r = run_cli(["remove", "work"], env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli(["list"], env=env)
    assert "No accounts yet" in r.stdout
    r = run_cli(["rclone", "--", "listremotes"], env=env)
    assert r.returncode == 0 and "work:" not in r.stdout
    import keyring

    assert keyring.get_password("onedrive-gui", "client-secret:work") is None


def test_unknown_account_and_bad_names_are_clear(fakecloud, cloud, app_home):
    env = cli_env(fakecloud.env())
    r = run_cli(["mount", "nosuch"], env=env)
    assert r.returncode != 0 and "Unknown account" in r.stderr
    r = run_cli(["add", "my drive", "--client-id", cloud.client_id], env=env, stdin=cloud.secret)
    assert r.returncode != 0 and "letters" in r.stderr
    r = run_cli(["remove", "nosuch"], env=env)
    assert r.returncode != 0 and "Unknown account" in r.stderr


def test_rclone_config_deleted_behind_our_back(fakecloud, cloud, app_home, tmp_path):
    env = cli_env(fakecloud.env())
    r = run_cli(["add", "work", "--client-id", cloud.client_id,
                 "--mount-point", str(tmp_path / "mnt")], env=env, stdin=cloud.secret)
    assert r.returncode == 0, r.stderr
    conf = Path(os.environ["XDG_DATA_HOME"]) / "onedrive-gui" / "rclone" / "work.conf"
    conf.unlink()
    r = run_cli(["mount", "work"], env=env)
    assert r.returncode != 0
    assert "rclone configuration missing" in r.stderr and "remove the account" in r.stderr
    assert not conf.exists()  # not silently recreated
    r = run_cli(["remove", "work"], env=env)
    assert r.returncode == 0, r.stderr
