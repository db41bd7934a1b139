"""Logging out sends the desktop app SIGTERM: it must quit as Quit does — uploads finished,
drives unmounted, rclone stopped, no crash record left — not die with a broken mount."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.e2e.cli_helpers import assert_quit_cleanly, running_desktop_app


def test_sigterm_quits_cleanly_after_the_uploads(fakecloud, app_home, tmp_path):
    with running_desktop_app(fakecloud, tmp_path, write_back="3s") as app:
        (app.mount_point / "minutes.txt").write_text("written just before logging out\n")

        app.proc.send_signal(signal.SIGTERM)  # the session ends
        out, _ = app.proc.communicate(timeout=60)
        assert app.proc.returncode == 0, out
    assert fakecloud.get_file(app.cloud.drive_id, "/minutes.txt") == \
        b"written just before logging out\n"
    assert_quit_cleanly(app)
    mnt = app.mount_point
    assert os.path.isdir(mnt) and not any(Path(mnt).iterdir())
