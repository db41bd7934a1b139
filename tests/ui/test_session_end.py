"""The session ends (log off, shut down) while the app runs: it quits as Quit does, within a
bound; on Windows, while uploads are pending, the shutdown screen says why the app waits.

Windows is reached through a recorded stand-in for user32 (the platform is a parameter);
the Windows CI runs the same code against the real user32."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from onedrive_gui.core.drives import mounts
from onedrive_gui.ui.mount_controller import MountController
from onedrive_gui.ui.session_end import SessionGuard
from onedrive_gui.ui.shell import QUIT_UPLOAD_LIMIT, DesktopShell
from tests.ui.fakes import FakeAccount

MountState, MountStatus = mounts.MountState, mounts.MountStatus


class RecordingUser32:
    """user32's ShutdownBlockReason* as Windows answers them, each call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.reasons: dict[int, str] = {}

    def ShutdownBlockReasonCreate(self, hwnd, reason):
        self.calls.append(("create", hwnd, reason))
        self.reasons[hwnd] = reason
        return 1

    def ShutdownBlockReasonDestroy(self, hwnd):
        self.calls.append(("destroy", hwnd))
        self.reasons.pop(hwnd, None)
        return 1


class FakeManager:
    def __init__(self) -> None:
        self.shutdowns: list[float | None] = []
        self.unmounted = False

    def shutdown(self, upload_timeout=None):
        self.shutdowns.append(upload_timeout)
        self.unmounted = True


class SessionManager:
    """QSessionManager's part the app uses: cancel() refuses WM_QUERYENDSESSION."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@pytest.fixture
def shell(qtbot, fake_ctx, tmp_path: Path, monkeypatch):
    fake_ctx.accounts.settings.accounts.append(
        FakeAccount(name="work", mount_point=str(tmp_path / "OneDrive" / "work")))
    controller = MountController(fake_ctx.accounts)
    controller.manager = FakeManager()
    fake_ctx.mounts = controller
    sh = DesktopShell(fake_ctx, tray_available=True)
    sh.surface.notify = lambda *a, **k: None
    sh.quit_calls = []
    monkeypatch.setattr("onedrive_gui.ui.shell.QApplication.quit",
                        lambda: sh.quit_calls.append("app quit"))
    return sh


def feed(qtbot, controller: MountController, pending: int) -> None:
    status = MountStatus("work", MountState.MOUNTED, "/x", uploads_queued=pending)
    t = threading.Thread(target=controller.on_change, args=(status,))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: controller.pending_uploads() == pending)


def test_windows_shutdown_waits_for_pending_uploads_with_a_reason(qtbot, shell):
    user32 = RecordingUser32()
    guard = SessionGuard(shell, 30.0, platform="win32", user32=user32)
    feed(qtbot, shell.controller, 2)
    # Registered beforehand, on a top-level window of the GUI thread: Windows would end a
    # windowless app at once otherwise.
    hwnd = guard.window_handle()
    assert user32.reasons == {hwnd: "Uploading 2 files to OneDrive"}
    feed(qtbot, shell.controller, 1)
    assert user32.reasons == {hwnd: "Uploading 1 file to OneDrive"}

    session = SessionManager()
    guard.commit_data(session)
    assert session.cancelled  # WM_QUERYENDSESSION refused: the shutdown screen shows why
    qtbot.waitUntil(lambda: shell.quit_calls == ["app quit"])
    assert shell.controller.manager.shutdowns == [30.0]  # bounded, not "until done"
    assert user32.reasons  # still shown while the uploads finish ...
    feed(qtbot, shell.controller, 0)
    assert user32.reasons == {}  # ... and gone when nothing is pending
    assert user32.calls[-1] == ("destroy", hwnd)


def test_windows_session_end_with_nothing_pending_quits_before_answering(qtbot, shell):
    user32 = RecordingUser32()
    guard = SessionGuard(shell, 30.0, platform="win32", user32=user32)
    feed(qtbot, shell.controller, 0)
    session = SessionManager()
    guard.commit_data(session)
    # Done before the answer: Windows may end the process right after WM_ENDSESSION.
    assert shell.controller.manager.unmounted
    assert shell.quit_calls == ["app quit"]
    assert not session.cancelled
    assert user32.calls == []


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_elsewhere_the_session_end_quits_within_the_bound_without_refusing(qtbot, shell,
                                                                           platform):
    user32 = RecordingUser32()
    guard = SessionGuard(shell, 30.0, platform=platform, user32=user32)
    feed(qtbot, shell.controller, 3)
    session = SessionManager()
    guard.commit_data(session)
    qtbot.waitUntil(lambda: shell.quit_calls == ["app quit"])
    assert shell.controller.manager.shutdowns == [30.0]
    assert not session.cancelled
    assert user32.calls == []


def test_quit_from_the_menu_never_waits_without_a_limit(qtbot, shell):
    feed(qtbot, shell.controller, 1)
    shell.ask_pending_quit = lambda count: True
    assert shell.quit() == 1
    qtbot.waitUntil(lambda: shell.quit_calls == ["app quit"])
    assert shell.controller.manager.shutdowns == [QUIT_UPLOAD_LIMIT]
