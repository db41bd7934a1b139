"""Only one app per user: a second launch asks the first to show itself and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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
    from onedrive_gui.core.paths import AppPaths

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
