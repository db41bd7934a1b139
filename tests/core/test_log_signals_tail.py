"""rclone's log as the app writes it (rotated past a size) and its readers follow it."""

from __future__ import annotations

from pathlib import Path

from onedrive_gui.core.rclone.log_signals import LogTail, rotated_path
from onedrive_gui.core.rclone.process import LogWriter


def test_a_reader_gets_every_line_across_rotations(tmp_path: Path) -> None:
    path = tmp_path / "rclone-work.log"
    out = LogWriter(path, max_bytes=200)
    tail = LogTail(path)
    got: list[str] = []
    for i in range(100):
        out.write(f"2026/12/03 10:00:00 DEBUG : f{i:03d}.txt: Open: flags=O_RDONLY\n")
        if i % 3 == 0:  # lines written, rotated, written again between two looks (one
            # rotation at most between looks: the app looks every second, rotates at 16 MiB)
            got += tail.read_lines()
    got += tail.read_lines()
    out.close()
    assert got == [f"2026/12/03 10:00:00 DEBUG : f{i:03d}.txt: Open: flags=O_RDONLY"
                   for i in range(100)]
    # the log stays bounded: the current file and one older
    assert path.stat().st_size <= 300 and rotated_path(path).stat().st_size <= 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rclone-work.log",
                                                         "rclone-work.log.1"]


def test_a_reader_skips_what_it_cannot_read_in_one_look(tmp_path: Path) -> None:
    path = tmp_path / "rclone-work.log"
    path.write_text("")
    tail = LogTail(path, max_read=100)
    path.write_text("".join(f"line {i:03d}\n" for i in range(50)))
    lines = tail.read_lines()
    assert 0 < len(lines) <= 12 and lines[-1] == "line 049"  # whole lines only
