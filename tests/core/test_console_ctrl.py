"""Closing the console of `onedrive-gui-cli.exe mount` (Windows): the handler asks for a stop
and holds the process until the clean-up is done (kernel32 is a recorded stand-in here, the
real one on the Windows runner; the handler is a real ctypes callback either way)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from onedrive_gui.cli import mount as mount_cli
from onedrive_gui.core.system import console_ctrl
from onedrive_gui.core.system.console_ctrl import ConsoleClose


class RecordingKernel32:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.calls: list[tuple[Any, bool]] = []

    def SetConsoleCtrlHandler(self, handler: Any, add: bool) -> int:
        self.calls.append((handler, add))
        return int(self.ok)


def _installed(**kwargs: Any) -> tuple[ConsoleClose, RecordingKernel32, list[str]]:
    kernel32 = RecordingKernel32()
    asked: list[str] = []
    console = ConsoleClose(asked.append, platform="win32", kernel32=kernel32, **kwargs)
    assert console.install()
    return console, kernel32, asked


def test_closing_the_console_asks_to_stop_and_holds_the_process_until_done() -> None:
    kernel32 = RecordingKernel32()
    asked: list[str] = []
    heard = threading.Event()
    console = ConsoleClose(lambda kind: (asked.append(kind), heard.set()), platform="win32",
                           kernel32=kernel32)
    assert console.install()
    [(handler, add)] = kernel32.calls
    assert add
    result: list[int] = []
    closing = threading.Thread(target=lambda: result.append(handler(console_ctrl.CTRL_CLOSE_EVENT)))
    closing.start()
    # the program hears of it, and the handler has not returned (Windows would end the
    # process the moment it does)
    assert heard.wait(30)
    assert asked == ["close"]
    assert closing.is_alive() and result == []
    console.done()  # rclone has quit over rc
    closing.join(timeout=30)
    assert result == [1]
    console.uninstall()
    assert kernel32.calls[1] == (handler, False)


@pytest.mark.parametrize(("event", "kind"), [(console_ctrl.CTRL_LOGOFF_EVENT, "logoff"),
                                             (console_ctrl.CTRL_SHUTDOWN_EVENT, "shutdown")])
def test_logoff_and_shutdown_are_handled_like_closing(event: int, kind: str) -> None:
    console, kernel32, asked = _installed()
    console.done()
    assert kernel32.calls[0][0](event) == 1
    assert asked == [kind]


@pytest.mark.parametrize("event", [console_ctrl.CTRL_C_EVENT, console_ctrl.CTRL_BREAK_EVENT])
def test_ctrl_c_and_ctrl_break_go_on_to_pythons_signals(event: int) -> None:
    _console, kernel32, asked = _installed()
    assert kernel32.calls[0][0](event) == 0  # the next handler: SIGINT / SIGBREAK
    assert asked == []


def test_a_clean_up_that_takes_too_long_does_not_hold_the_process_forever() -> None:
    _console, kernel32, asked = _installed(grace=0.05)
    assert kernel32.calls[0][0](console_ctrl.CTRL_CLOSE_EVENT) == 1  # never done()
    assert asked == ["close"]


def test_a_failing_stop_request_still_holds_for_the_clean_up(caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    kernel32 = RecordingKernel32()

    def broken(kind: str) -> None:
        raise RuntimeError("boom")

    console = ConsoleClose(broken, platform="win32", kernel32=kernel32, grace=0.05)
    assert console.install()
    assert kernel32.calls[0][0](console_ctrl.CTRL_CLOSE_EVENT) == 1
    assert "boom" in caplog.text


def test_refused_registration_is_reported_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    console = ConsoleClose(lambda kind: None, platform="win32", kernel32=RecordingKernel32(False))
    assert not console.install()
    assert "SetConsoleCtrlHandler failed" in caplog.text
    console.uninstall()  # nothing registered: nothing to remove


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_other_systems_have_nothing_to_register(platform: str) -> None:
    kernel32 = RecordingKernel32()
    console = ConsoleClose(lambda kind: None, platform=platform, kernel32=kernel32)
    assert not console.install()
    console.uninstall()
    assert kernel32.calls == []


def test_mount_stops_safely_on_ctrl_break_where_there_is_one() -> None:
    """Ctrl-Break (SIGBREAK, Windows only) asks `mount` for the same safe stop as Ctrl-C."""
    sigs = mount_cli._stop_signals()
    assert signal.SIGINT in sigs and signal.SIGTERM in sigs
    assert (getattr(signal, "SIGBREAK", None) in sigs) == hasattr(signal, "SIGBREAK")
    stop = mount_cli._Stop()
    stop.console_ending("close")
    assert stop.event.is_set() and stop.ending == "close"
