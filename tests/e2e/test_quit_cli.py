"""``onedrive-gui quit`` (scripts, the Windows installer before an upgrade): the running
desktop app quits as Quit does — the pending upload lands, the drive is unmounted, rclone is
stopped, no crash record is left — and its own log says so."""

from __future__ import annotations

from tests.e2e.cli_helpers import assert_quit_cleanly, cli_env, run_cli, running_desktop_app


def test_quit_command_quits_the_running_app_after_its_upload(fakecloud, app_home, tmp_path):
    with running_desktop_app(fakecloud, tmp_path, write_back="5s") as app:
        (app.mount_point / "report.txt").write_text("saved just before the installer ran\n")

        r = run_cli(["quit", "--timeout", "60"], env=app.env, timeout=150)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"process {app.proc.pid}" in r.stdout and "has quit" in r.stdout, r.stdout
        # The command returned only once the app was gone.
        assert app.proc.poll() is not None
        out, _ = app.proc.communicate(timeout=10)
        assert app.proc.returncode == 0, out
    d = app.cloud
    assert fakecloud.get_file(d.drive_id, "/report.txt") == b"saved just before the installer ran\n"
    assert_quit_cleanly(app)
    log_text = app.paths.app_log.read_text(encoding="utf-8")
    assert "asked by onedrive-gui quit" in log_text
    assert "OneDrive GUI quit (exit code 0)" in log_text
    assert d.secret not in log_text

    # Nothing runs any more: the command says so and succeeds.
    again = run_cli(["quit"], env=app.env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "not running" in again.stdout


def test_quit_refuses_a_bad_timeout_before_asking_anything(app_home):
    env = cli_env()
    for bad, said in (("-1", "Invalid timeout"), ("nan", "Invalid timeout"),
                      ("soon", "'soon' is not a number of seconds")):
        r = run_cli(["quit", "--timeout", bad], env=env, timeout=60)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert said in r.stderr, r.stderr
