"""Logging out sends the desktop app SIGTERM: it must quit as Quit does — uploads finished,
drives unmounted, rclone stopped, no crash record left — not die with a broken mount."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from onedrive_gui.core.system.paths import AppPaths
from tests.e2e.cli_helpers import add_account, cli_env, force_unmount, is_mounted, wait_for


def test_sigterm_quits_cleanly_after_the_uploads(fakecloud, app_home, tmp_path):
    d = fakecloud.setup_default()
    env = cli_env({**fakecloud.env(), "QT_QPA_PLATFORM": "offscreen"})
    mnt = tmp_path / "OneDrive" / "work"
    add_account(env, d, "work", mnt, write_back="3s", auto_mount=True)
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
    rclones = subprocess.run(
        ["pgrep", "-f", f"rclone rcd.*{AppPaths.default().rclone_configs_dir}"],
        capture_output=True, text=True, check=False)
    assert rclones.stdout == ""
    assert os.path.isdir(mnt) and not any(Path(mnt).iterdir())
