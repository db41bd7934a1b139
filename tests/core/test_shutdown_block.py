"""ShutdownBlockReasonCreate/Destroy as the app calls them (the platform is a parameter;
user32 is a recorded stand-in here and the real one in the Windows CI)."""

from __future__ import annotations

import pytest

from onedrive_gui.core.system.shutdown_block import ShutdownBlock, block_reason


class RecordingUser32:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.calls: list[tuple] = []

    def ShutdownBlockReasonCreate(self, hwnd, reason):
        self.calls.append(("create", hwnd, reason))
        return int(self.ok)

    def ShutdownBlockReasonDestroy(self, hwnd):
        self.calls.append(("destroy", hwnd))
        return int(self.ok)


def test_reason_text_is_short_and_counts() -> None:
    assert block_reason(1) == "Uploading 1 file to OneDrive"
    assert block_reason(12) == "Uploading 12 files to OneDrive"


def test_windows_registers_updates_and_removes_the_reason() -> None:
    user32 = RecordingUser32()
    block = ShutdownBlock(platform="win32", user32=user32)
    assert block.update(0x1234, 3)
    assert block.update(0x1234, 3)  # unchanged: no second call
    assert block.update(0x1234, 2)
    assert not block.update(0x1234, 0)
    assert user32.calls == [("create", 0x1234, "Uploading 3 files to OneDrive"),
                            ("destroy", 0x1234),
                            ("create", 0x1234, "Uploading 2 files to OneDrive"),
                            ("destroy", 0x1234)]
    assert block.reason is None


def test_windows_refusal_is_logged_not_raised(caplog) -> None:
    block = ShutdownBlock(platform="win32", user32=RecordingUser32(ok=False))
    assert not block.update(7, 1)
    assert block.reason is None
    assert "ShutdownBlockReasonCreate failed" in caplog.text


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_other_systems_have_nothing_to_call(platform: str) -> None:
    user32 = RecordingUser32()
    block = ShutdownBlock(platform=platform, user32=user32)
    assert not block.update(1, 5)
    block.clear()
    assert user32.calls == []
