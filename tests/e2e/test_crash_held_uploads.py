"""A crash while local edits wait to upload loses neither edit (issue 23, defect 1).

Through the command line only, as the issue saw it: ``onedrive-gui mount``; one document is
read and saved through a temporary file and a rename (as office suites do), another opened
read-write and edited in place; both are edited in the browser meanwhile; the app and its
rclone are killed (SIGKILL) 8 s later, before the 30 s upload delay; ``onedrive-gui mount``
again. The reloaded files carry the cloud's *new* fingerprint in rclone's cache; only the
app's durable base tells that they were based on the old one.
"""

from __future__ import annotations

import os
import signal
import time

from tests.e2e.cli_helpers import add_account, cli_env, force_unmount, wait_for
from tests.e2e.test_accounts_cli import Proc, cloud  # noqa: F401 - fixture


def _copies(fakecloud, drive_id: str, stem: str) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    return {p: fakecloud.get_file(drive_id, p) for p in fakecloud.list_paths(drive_id)
            if p.startswith(f"/Documents/{stem} (conflict")}


def _rclone_pids_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if int(fields[1]) == pid and b"rclone" in cmd:
            out.append(int(entry))
    return out


def test_crash_during_the_hold_keeps_both_edits(fakecloud, cloud, app_home,  # noqa: F811
                                                 tmp_path):
    env = cli_env(fakecloud.env())
    mnt = tmp_path / "mnt" / "work"
    add_account(env, cloud, "work", mnt, write_back="30s")
    fakecloud.put_file(cloud.drive_id, "/Documents/report.txt", b"report v1\n")
    fakecloud.put_file(cloud.drive_id, "/Documents/notes.txt", b"notes v1\n")

    first = Proc(["mount", "work"], env)
    second = None
    try:
        wait_for(lambda: "Mounted 'work'" in first.text() or first.p.poll() is not None, 60)
        assert first.p.poll() is None, first.text()
        docs = mnt / "Documents"
        report_local = (docs / "report.txt").read_bytes() + b"my paragraph\n"
        tmp = docs / "~report.tmp"
        tmp.write_bytes(report_local)
        os.replace(tmp, docs / "report.txt")
        with open(docs / "notes.txt", "r+b") as f:
            notes_local = f.read() + b"my note\n"
            f.seek(0)
            f.write(notes_local)
        report_cloud, notes_cloud = b"report v1\ncolleague's paragraph\n", b"notes v1\nphone\n"
        fakecloud.put_file(cloud.drive_id, "/Documents/report.txt", report_cloud)
        fakecloud.put_file(cloud.drive_id, "/Documents/notes.txt", notes_cloud)
        time.sleep(8)  # the user goes on working; then the app dies, its rclone with it

        rclones = _rclone_pids_of(first.p.pid)
        assert rclones, "the app's rclone was not found"
        first.p.send_signal(signal.SIGKILL)
        for pid in rclones:
            os.kill(pid, signal.SIGKILL)
        first.p.wait(10)
        assert fakecloud.get_file(cloud.drive_id, "/Documents/report.txt") == report_cloud

        second = Proc(["mount", "work"], env)
        wait_for(lambda: "Mounted 'work'" in second.text() or second.p.poll() is not None, 60)
        assert second.p.poll() is None, second.text()
        wait_for(lambda: fakecloud.get_file(cloud.drive_id, "/Documents/report.txt")
                 == report_local and fakecloud.get_file(cloud.drive_id, "/Documents/notes.txt")
                 == notes_local, 120)
        # the cloud's edits are kept next to them, once each
        wait_for(lambda: list(_copies(fakecloud, cloud.drive_id, "report").values())
                 == [report_cloud], 30)
        assert list(_copies(fakecloud, cloud.drive_id, "notes").values()) == [notes_cloud]

        # a third start after a clean stop makes no second copy
        second.p.send_signal(signal.SIGINT)
        assert second.p.wait(120) == 0, second.text()
        third = Proc(["mount", "work"], env)
        try:
            wait_for(lambda: "Mounted 'work'" in third.text() or third.p.poll() is not None,
                     60)
            assert third.p.poll() is None, third.text()
            third.p.send_signal(signal.SIGINT)
            assert third.p.wait(120) == 0, third.text()
        finally:
            if third.p.poll() is None:
                third.p.kill()
        assert len(_copies(fakecloud, cloud.drive_id, "report")) == 1
        assert len(_copies(fakecloud, cloud.drive_id, "notes")) == 1
    finally:
        for proc in (first, second):
            if proc is not None and proc.p.poll() is None:
                proc.p.kill()
        force_unmount(mnt)
