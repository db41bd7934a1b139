"""Only one app per user: a second launch asks the first to show itself and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from onedrive_gui.core.system import instance as channel
from onedrive_gui.ui.single_instance import SingleInstance, allow_foreground


def test_second_instance_forwards_show(qtbot, tmp_path):
    first = SingleInstance(tmp_path)
    assert first.acquire()
    second = SingleInstance(tmp_path)
    with qtbot.waitSignal(first.show_requested, timeout=5000):
        assert not second.acquire()
    first.release()
    third = SingleInstance(tmp_path)
    assert third.acquire()
    third.release()


class RecordedUser32:
    """Stands in for user32.dll: records the calls Windows would get."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def AllowSetForegroundWindow(self, pid: int) -> int:
        self.calls.append(pid)
        return 1


def test_second_instance_knows_the_first_ones_pid(qtbot, tmp_path):
    first = SingleInstance(tmp_path)
    assert first.acquire()
    second = SingleInstance(tmp_path)
    assert second.first_pid() == os.getpid()  # read from the lock file
    first.release()


@pytest.mark.parametrize(("platform", "expected"), [("win32", [4242]), ("linux", []),
                                                    ("darwin", [])])
def test_the_first_instance_may_come_to_the_front(platform, expected):
    """Windows lets only the foreground process (the second launch) bring a window forward;
    it passes that right to the first instance before asking it to show."""
    user32 = RecordedUser32()
    assert allow_foreground(4242, platform=platform, user32=user32) == bool(expected)
    assert user32.calls == expected
    assert not allow_foreground(0, platform="win32", user32=user32)


def test_second_launch_of_the_app_exits_0(qtbot, tmp_path, app_home):
    from onedrive_gui.core.system.paths import AppPaths

    first = SingleInstance(AppPaths.default().config_dir)
    assert first.acquire()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "onedrive_gui"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with qtbot.waitSignal(first.show_requested, timeout=20000):
        pass
    assert proc.wait(timeout=20) == 0
    first.release()


def test_self_test_exits_0(app_home):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "onedrive_gui", "--self-test"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "self-test ok: 0 account(s)" in proc.stdout


# ---- onedrive-gui quit: the request through the same folder ------------------------------


def _in_thread(fn):
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except Exception as exc:  # handed to the test
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, box


def test_quit_request_reaches_the_app_and_waits_until_it_is_gone(qtbot, tmp_path):
    app = SingleInstance(tmp_path)
    assert app.acquire()
    gone = threading.Event()
    seen = []

    def on_quit(req):  # what the app does: answer, quit, release the lock
        seen.append(req.timeout)
        app.reply_quit(channel.QuitReply(req.token, True, pending=2))
        app.release()
        gone.set()

    app.quit_requested.connect(on_quit)
    accepted = []
    t, box = _in_thread(lambda: channel.quit_running(
        tmp_path, 45, alive=lambda pid: pid == os.getpid() and not gone.is_set(),
        on_accepted=lambda pid, reply: accepted.append((pid, reply.pending))))
    qtbot.waitUntil(lambda: not t.is_alive(), timeout=10000)
    assert "error" not in box, box
    assert seen == [45.0]
    assert accepted == [(os.getpid(), 2)]
    assert box["result"] == channel.QuitOutcome(os.getpid(), 2)
    assert not (tmp_path / channel.QUIT_REQUEST).exists()
    assert not (tmp_path / channel.QUIT_REPLY).exists()


def test_quit_when_no_app_runs_says_so(tmp_path):
    assert channel.quit_running(tmp_path, 60) == channel.QuitOutcome(None)
    assert not (tmp_path / channel.QUIT_REQUEST).exists()


def test_a_bad_quit_request_is_refused_with_the_reason(qtbot, tmp_path):
    app = SingleInstance(tmp_path)
    assert app.acquire()
    app.quit_requested.connect(lambda req: pytest.fail("a bad request must not quit"))
    t, box = _in_thread(lambda: channel.quit_running(tmp_path, -1, answer_timeout=10))
    qtbot.waitUntil(lambda: not t.is_alive(), timeout=15000)
    err = box.get("error")
    assert isinstance(err, channel.QuitError), box
    assert err.title == "The app refused to quit"
    assert "not a number of seconds" in err.message
    app.release()


def test_an_app_that_does_not_answer_or_does_not_go_is_reported(qtbot, tmp_path):
    app = SingleInstance(tmp_path)
    assert app.acquire()
    # The event loop does not run here: the request is never read.
    with pytest.raises(channel.QuitError, match="did not answer"):
        channel.quit_running(tmp_path, 60, answer_timeout=0.3)
    app.quit_requested.connect(
        lambda req: app.reply_quit(channel.QuitReply(req.token, True)))  # ... and stays
    t, box = _in_thread(lambda: channel.quit_running(tmp_path, 0, grace=0.5))
    qtbot.waitUntil(lambda: not t.is_alive(), timeout=15000)
    err = box.get("error")
    assert isinstance(err, channel.QuitError) and "still running" in err.message, box
    app.release()


def test_a_quit_request_left_while_no_app_ran_does_not_quit_the_next_one(qtbot, tmp_path):
    channel.write_quit_request(tmp_path, 60)  # e.g. a `quit` that gave up
    app = SingleInstance(tmp_path)
    quits = []
    app.quit_requested.connect(quits.append)
    assert app.acquire()
    qtbot.wait(300)
    assert quits == []
    assert not (tmp_path / channel.QUIT_REQUEST).exists()
    app.release()
