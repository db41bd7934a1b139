"""packaging/windows/installer.nsi compiled by Debian's makensis and run under wine64.

The real Windows payload (PyInstaller output) can only be built on Windows, so the installer
is compiled against a *staged* payload with the same layout: onedrive-gui.exe and rclone.exe
are stand-ins (a tiny amd64 PE made by makensis itself), plus _internal/ and the real licence
files (packaging/bundle_support.stage_windows_payload). What runs for real is the installer's
own logic: per-user install dir, shortcuts, HKCU uninstall entry, Run value, command-line
options, the uninstaller and its keep-settings default.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.packaging.conftest import Wine, bs, timed

pytestmark = pytest.mark.slow

UNINST = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\onedrive-gui"
RUN = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "onedrive-gui"  # the value core/autostart.py writes too


def _install_dir(wine: Wine) -> Path:
    return wine.local_appdata / "Programs" / "OneDrive GUI"


def _settings_dir(wine: Wine) -> Path:
    return wine.local_appdata / "onedrive-gui"


def _uninstall(wine: Wine, *opts: str) -> None:
    """Run uninstall.exe /S and wait: it re-launches itself from %TEMP% and returns at once."""
    timed("uninstall", wine.run, str(_install_dir(wine) / "uninstall.exe"), "/S", *opts)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not _install_dir(wine).exists() and wine.reg_values(UNINST) is None:
            return
        time.sleep(0.5)
    raise AssertionError("the uninstaller did not finish within 60 s")


def test_installer_compiles(installer: Path) -> None:
    data = installer.read_bytes()
    assert data[:2] == b"MZ"
    assert len(data) < 2_000_000  # stand-in payload: just the NSIS overhead


def test_silent_install_with_options_then_uninstall_keeps_settings(
        wine: Wine, installer: Path) -> None:
    timed("install", wine.run, str(installer), "/S", "/AUTOSTART=1", "/DESKTOP=1")
    inst = _install_dir(wine)
    for f in ("onedrive-gui.exe", "rclone.exe", "uninstall.exe", "_internal/base_library.zip",
              "licenses/rclone-COPYING.txt"):
        assert (inst / f).is_file(), f
    assert (wine.start_menu / "OneDrive GUI.lnk").is_file()
    assert (wine.home / "Desktop" / "OneDrive GUI.lnk").is_file()

    win_dir = "C:\\users\\" + wine.user_dir.name + "\\AppData\\Local\\Programs\\OneDrive GUI"
    values = wine.reg_values(UNINST)
    assert values is not None
    assert values["DisplayName"] == "OneDrive GUI"
    assert values["DisplayVersion"] == bs.app_version()
    assert values["Publisher"]
    assert values["InstallLocation"] == win_dir
    assert values["UninstallString"] == f'"{win_dir}\\uninstall.exe"'
    assert values["QuietUninstallString"] == f'"{win_dir}\\uninstall.exe" /S'
    assert values["DisplayIcon"] == f"{win_dir}\\onedrive-gui.exe,0"
    assert values["NoModify"] == "0x1" and values["NoRepair"] == "0x1"
    assert int(values["EstimatedSize"], 16) > 0
    run = wine.reg_values(RUN) or {}
    assert run.get(RUN_VALUE) == f'"{win_dir}\\onedrive-gui.exe"'

    # the app's settings (what platformdirs gives it on Windows) survive a silent uninstall
    settings = _settings_dir(wine)
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "settings.json").write_text("{}")
    _uninstall(wine)
    assert not inst.exists()
    assert not (wine.start_menu / "OneDrive GUI.lnk").exists()
    assert not (wine.home / "Desktop" / "OneDrive GUI.lnk").exists()
    assert RUN_VALUE not in (wine.reg_values(RUN) or {})
    assert (settings / "settings.json").is_file()


def test_install_without_options_upgrade_and_purge(wine: Wine, installer: Path) -> None:
    timed("install", wine.run, str(installer), "/S", "/AUTOSTART=0", "/DESKTOP=0")
    assert (_install_dir(wine) / "onedrive-gui.exe").is_file()
    assert not (wine.home / "Desktop" / "OneDrive GUI.lnk").exists()
    assert RUN_VALUE not in (wine.reg_values(RUN) or {})

    # install again over it (upgrade path): a stale runtime file goes, choices are kept
    stale = _install_dir(wine) / "_internal" / "stale.pyd"
    stale.write_bytes(b"old")
    timed("upgrade", wine.run, str(installer), "/S")
    assert not stale.exists()
    assert (_install_dir(wine) / "_internal" / "base_library.zip").is_file()
    assert RUN_VALUE not in (wine.reg_values(RUN) or {})
    assert not (wine.home / "Desktop" / "OneDrive GUI.lnk").exists()

    settings = _settings_dir(wine)
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "settings.json").write_text("{}")
    _uninstall(wine, "/PURGE=1")
    assert not settings.exists()
    assert wine.reg_values(UNINST) is None
