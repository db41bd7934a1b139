"""``pip install onedrive-gui`` brings the desktop app: a fresh venv, a plain install, the app runs.

The install is offline: ``scripts/setup.sh`` keeps the locked wheels (PyPI's files, hash-checked)
in ``.venv/wheelhouse``; pip builds the app from this source tree with build isolation, as for
a user, and installs nothing else.
"""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / ".venv" / "wheelhouse"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not any(WHEELHOUSE.glob("*.whl")):
        pytest.fail(f"no wheels in {WHEELHOUSE}: run scripts/setup.sh (it downloads the lock)")
    target = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(target, with_pip=True)
    py = target / "bin" / "python"
    # a copy of the source tree (the files git knows, as they are now), so the build's own
    # files (build/, *.egg-info) stay out of the repo
    src = tmp_path_factory.mktemp("src")
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True,
                            check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        if (REPO / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, src / rel)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", "--find-links",
                    str(WHEELHOUSE), str(src)], check=True, timeout=600)
    return target


def test_plain_install_has_the_gui_and_rclone(fresh_install: Path) -> None:
    py = fresh_install / "bin" / "python"
    out = subprocess.run(
        [str(py), "-c", "import PySide6.QtWidgets, sysconfig, shutil;"
         "print(shutil.which('rclone', path=sysconfig.get_path('scripts')))"],
        capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(fresh_install / "bin" / "rclone")


def test_plain_install_runs_the_desktop_self_test(fresh_install: Path,
                                                   isolated_env: dict[str, str]) -> None:
    """``onedrive-gui --self-test`` (the desktop app's start, then quit) from the fresh venv.

    No rclone on PATH (isolated_env): the app must find the one the install brought.
    """
    exe = fresh_install / "bin" / "onedrive-gui"
    proc = subprocess.run([str(exe), "--self-test"], env=isolated_env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-test ok" in proc.stdout
    assert f"self-test: rclone ok: rclone v1.75.2 ({fresh_install / 'bin' / 'rclone'})" in (
        proc.stdout)
    assert "self-test: keyring ok" in proc.stdout
    assert "ModuleNotFoundError" not in proc.stderr
