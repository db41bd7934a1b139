"""``onedrive-gui quit`` (scripts, the Windows installer before an upgrade): the running
desktop app quits as Quit does — the pending upload lands, the drive is unmounted, rclone is
stopped, no crash record is left — and its own log says so."""

from __future__ import annotations

import subprocess
import sys

from onedrive_gui.core.system.paths import AppPaths
from tests.e2e.cli_helpers import add_account, cli_env, force_unmount, is_mounted, run_cli, wait_for


def test_quit_command_quits_the_running_app_after_its_upload(fakecloud, app_home, tmp_path):
    d = fakecloud.setup_default()
    env = cli_env({**fakecloud.env(), "QT_QPA_PLATFORM": "offscreen"})
    mnt = tmp_path / "OneDrive" / "work"
    add_account(env, d, "work", mnt, write_back="5s", auto_mount=True)
    paths = AppPaths.default()
    app = subprocess.Popen([sys.executable, "-m", "onedrive_gui"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: is_mounted(mnt) and (mnt / "Documents").is_dir(), 60)
        (mnt / "report.txt").write_text("saved just before the installer ran\n")
        assert list(paths.sessions_dir.glob("*.json"))  # the crash record while mounted

        r = run_cli(["quit", "--timeout", "60"], env=env, timeout=150)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"process {app.pid}" in r.stdout and "has quit" in r.stdout, r.stdout
        # The command returned only once the app was gone.
        assert app.poll() is not None
        out, _ = app.communicate(timeout=10)
        assert app.returncode == 0, out
    finally:
        if app.poll() is None:
            app.kill()
        force_unmount(mnt)
    assert fakecloud.get_file(d.drive_id, "/report.txt") == b"saved just before the installer ran\n"
    assert not is_mounted(mnt)
    assert not list(paths.sessions_dir.glob("*.json"))  # a clean quit, not a crash
    rclones = subprocess.run(["pgrep", "-f", f"rclone rcd.*{paths.rclone_config}"],
                             capture_output=True, text=True, check=False)
    assert rclones.stdout == ""
    log_text = paths.app_log.read_text(encoding="utf-8")
    assert "asked by onedrive-gui quit" in log_text
    assert "OneDrive GUI quit (exit code 0)" in log_text
    assert d.secret not in log_text

    # Nothing runs any more: the command says so and succeeds.
    again = run_cli(["quit"], env=env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "not running" in again.stdout


def test_quit_refuses_a_bad_timeout_before_asking_anything(app_home):
    env = cli_env()
    for bad, said in (("-1", "Invalid timeout"), ("nan", "Invalid timeout"),
                      ("soon", "'soon' is not a number of seconds")):
        r = run_cli(["quit", "--timeout", bad], env=env, timeout=60)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert said in r.stderr, r.stderr
