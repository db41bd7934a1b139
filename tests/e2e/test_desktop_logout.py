"""Logging out sends the desktop app SIGTERM: it must quit as Quit does — uploads finished,
drives unmounted, rclone stopped, no crash record left — not die with a broken mount."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from onedrive_gui.core.accounts import AccountService
from onedrive_gui.core.paths import AppPaths
from tests.e2e.cli_helpers import cli_env, force_unmount, is_mounted, run_cli, wait_for


def test_sigterm_quits_cleanly_after_the_uploads(fakecloud, app_home, tmp_path):
    d = fakecloud.setup_default()
    env = cli_env({**fakecloud.env(), "QT_QPA_PLATFORM": "offscreen"})
    mnt = tmp_path / "OneDrive" / "work"
    r = run_cli(["add", "work", "--client-id", d.client_id, "--mount-point", str(mnt)],
                env=env, stdin=d.secret + "\n")
    assert r.returncode == 0, r.stderr
    service = AccountService(AppPaths.default())
    a = service.account("work")
    service.update_account(replace(a, auto_mount=True,
                                   options=replace(a.options, write_back="3s")))
    sessions = AppPaths.default().sessions_dir
    app = subprocess.Popen([sys.executable, "-m", "onedrive_gui"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: is_mounted(mnt) and (mnt / "Documents").is_dir(), 60)
        (mnt / "minutes.txt").write_text("written just before logging out\n")
        assert list(sessions.glob("*.json"))  # the crash record while mounted

        app.send_signal(signal.SIGTERM)  # the session ends
        out, _ = app.communicate(timeout=60)
        assert app.returncode == 0, out
    finally:
        if app.poll() is None:
            app.kill()
        force_unmount(mnt)
    assert fakecloud.get_file(d.drive_id, "/minutes.txt") == b"written just before logging out\n"
    assert not is_mounted(mnt)
    assert not list(sessions.glob("*.json"))
    rclones = subprocess.run(["pgrep", "-f", f"rclone rcd.*{AppPaths.default().rclone_config}"],
                             capture_output=True, text=True, check=False)
    assert rclones.stdout == ""
    assert os.path.isdir(mnt) and not any(Path(mnt).iterdir())
