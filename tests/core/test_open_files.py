"""Before unmounting on Windows: which programs still have files open from the drive."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from onedrive_gui.core.drives.open_files import (
    FileHolder,
    _restart_manager_list,
    cached_files,
    file_holders,
    unmount_question,
)


class RecordedRestartManager:
    """Stands in for the Restart Manager: answers with processes recorded from a real
    session (Word and Excel holding documents on Z:), and keeps the files it was asked about."""

    def __init__(self, answer: list[tuple[int, str]] | OSError) -> None:
        self.answer = answer
        self.asked: list[list[str]] = []

    def __call__(self, paths: Sequence[str]) -> list[tuple[int, str]]:
        self.asked.append(list(paths))
        if isinstance(self.answer, OSError):
            raise self.answer
        return self.answer


def _cache(tmp_path: Path) -> Path:
    data = tmp_path / "cache" / "vfs" / "work"
    (data / "Reports").mkdir(parents=True)
    for i, rel in enumerate(["Reports/Q3 — Álvaro.docx", "budget.xlsx", "notes.txt"]):
        f = data / rel
        f.write_text("x")
        os.utime(f, (1_700_000_000 + i, 1_700_000_000 + i))
    return tmp_path / "cache"


def test_the_cached_files_are_the_ones_asked_about_newest_first(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    assert cached_files(cache, "work", "Z:") == [
        "Z:\\notes.txt", "Z:\\budget.xlsx", "Z:\\Reports\\Q3 — Álvaro.docx"]
    assert cached_files(cache, "work", "C:\\Users\\me\\work", limit=1) == [
        "C:\\Users\\me\\work\\notes.txt"]
    assert cached_files(cache, "home", "Y:") == []


def test_programs_holding_files_are_named_on_windows(tmp_path: Path) -> None:
    paths = cached_files(_cache(tmp_path), "work", "Z:")
    rm = RecordedRestartManager([(4242, "Microsoft Word"), (5151, "Microsoft Excel"),
                                 (4242, "Microsoft Word"), (os.getpid(), "OneDrive GUI")])
    holders = file_holders(paths, platform="win32", lister=rm)
    assert holders == [FileHolder(5151, "Microsoft Excel"), FileHolder(4242, "Microsoft Word")]
    assert rm.asked == [paths]
    question, details = unmount_question("Z:", holders)
    assert question == "Save and close the files open from Z: first."
    assert ("Microsoft Excel (process 5151), Microsoft Word (process 4242)" in details
            and "not saved there is lost" in details)


@pytest.mark.parametrize(("platform", "answer", "paths"), [
    ("linux", [(1, "x")], ["/m/a"]),  # FUSE waits for open files itself ("busy")
    ("win32", OSError(5, "RmStartSession failed"), ["Z:\\a"]),  # Windows cannot tell
    ("win32", [(1, "x")], []),  # nothing in the cache to ask about
])
def test_when_windows_cannot_tell_the_question_stays_general(platform, answer, paths) -> None:
    rm = RecordedRestartManager(answer)
    holders = file_holders(paths, platform=platform, lister=rm)
    assert holders is None
    assert rm.asked == ([paths] if platform == "win32" and paths else [])
    question, details = unmount_question("Z:\\", holders)
    assert question == "Save and close the files open from Z: first."
    assert "even while a program still has a file open" in details


@pytest.mark.skipif(sys.platform != "win32", reason="the Restart Manager exists on Windows only")
def test_the_restart_manager_names_a_process_holding_a_file(tmp_path: Path) -> None:
    doc = tmp_path / "report.docx"
    doc.write_text("draft")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "f = open(sys.argv[1], 'r+')\nprint('open', flush=True)\n"
                               "time.sleep(60)", str(doc)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"open"
        deadline = time.monotonic() + 10
        while holder.pid not in [pid for pid, _app in _restart_manager_list([str(doc)])]:
            assert time.monotonic() < deadline, "the Restart Manager did not list the holder"
            time.sleep(0.2)
        assert [h.pid for h in file_holders([str(doc)]) or []] == [holder.pid]
    finally:
        holder.kill()
        holder.wait()
