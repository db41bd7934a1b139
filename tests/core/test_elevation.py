"""Running as administrator on Windows: drives mounted then are invisible to the user's
normal programs, so the app warns at start."""

from __future__ import annotations

import pytest

from onedrive_gui.core.system.elevation import ELEVATED_TITLE, elevation_warning, is_elevated


class RecordedShell32:
    """Stands in for shell32.dll: answers IsUserAnAdmin as Windows would, and counts calls."""

    def __init__(self, answer: int | None) -> None:
        self.answer = answer
        self.calls = 0

    def IsUserAnAdmin(self) -> int:
        self.calls += 1
        if self.answer is None:
            raise OSError("the function is not there")
        return self.answer


@pytest.mark.parametrize(("platform", "answer", "warned"), [
    ("win32", 1, True),    # started with "Run as administrator" (elevated token)
    ("win32", 0, False),   # an administrator's normal, filtered token
    ("win32", None, False),  # cannot tell: no warning rather than a wrong one
    ("linux", 1, False),   # root on Linux sees its own FUSE mounts
    ("darwin", 1, False),
])
def test_elevated_runs_are_warned_about_on_windows_only(platform, answer, warned) -> None:
    shell32 = RecordedShell32(answer)
    warning = elevation_warning(platform=platform, shell32=shell32)
    assert (warning is not None) == warned
    assert is_elevated(platform=platform, shell32=shell32) == warned
    assert shell32.calls == (2 if platform == "win32" else 0)
    if warning is not None:
        title, text = warning
        assert title == ELEVATED_TITLE
        assert "not visible in File Explorer" in text and "Run as administrator" in text
