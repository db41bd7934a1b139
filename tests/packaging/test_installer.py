"""packaging/windows/installer.nsi compiled by Debian's makensis and run under wine64.

The release builds its installer the same way (Debian's makensis, on Linux, from the Windows
payload). The real payload (PyInstaller output) can only be built on Windows, so here the
installer is compiled against a *staged* payload with the same layout: onedrive-gui.exe,
onedrive-gui-cli.exe and rclone.exe are stand-ins (a tiny amd64 PE made by makensis itself
that records how it was called: conftest.stub_exe), plus _internal/ and the real licence files
(packaging/bundle_support.stage_windows_payload). What runs for real is the installer's own
logic: per-user install dir (folders needing administrator rights refused), shortcuts, HKCU
uninstall entry, Run value, PATH, command-line options, `onedrive-gui-cli quit` before files
are replaced, the uninstaller and its keep-settings default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.conftest import ABOUT_URL, Wine, bs, build, timed

pytestmark = pytest.mark.slow

UNINST = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\onedrive-gui"
RUN = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "onedrive-gui"  # the value core/system/autostart.py writes too
ENV = r"HKCU\Environment"
QUIT = "quit --timeout 60"
MARKER = "odg-old-runtime.txt"  # in _internal/: present = the files were not yet replaced


def _install_dir(wine: Wine) -> Path:
    return wine.local_appdata / "Programs" / "OneDrive GUI"


def _settings_dir(wine: Wine) -> Path:
    return wine.local_appdata / "onedrive-gui"


def _uninstall(wine: Wine, *opts: str, inst: Path | None = None,
               env: dict[str, str] | None = None) -> None:
    """Run uninstall.exe /S and wait: it re-launches itself from %TEMP% and returns at once."""
    inst = inst or _install_dir(wine)
    timed("uninstall", wine.run, str(inst / "uninstall.exe"), "/S", *opts, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not inst.exists() and wine.reg_values(UNINST) is None:
            return
        time.sleep(0.5)
    raise AssertionError("the uninstaller did not finish within 60 s")


class Calls:
    """What the stand-in exes were asked to do (conftest.stub_exe writes the file)."""

    def __init__(self, wine: Wine, tmp_path: Path) -> None:
        self.file = tmp_path / "calls.log"
        self.env = {"ODG_STUB_LOG": wine.windows_path(self.file)}

    def __call__(self) -> list[tuple[str, str, str]]:
        if not self.file.exists():
            return []
        text = self.file.read_bytes().decode("utf-16-le").lstrip("\ufeff")
        return [(exe.rsplit("\\", 1)[-1], args.strip(), runtime)
                for exe, args, runtime in (line.split("|") for line in text.splitlines() if line)]

    def exes(self) -> list[str]:
        if not self.file.exists():
            return []
        text = self.file.read_bytes().decode("utf-16-le").lstrip("\ufeff")
        return [line.split("|")[0] for line in text.splitlines() if line]


def _mark_old_runtime(inst: Path) -> Path:
    marker = inst / "_internal" / MARKER
    marker.write_text("from the earlier install")
    return marker


def test_installer_compiles(installer: Path) -> None:
    data = installer.read_bytes()
    assert data[:2] == b"MZ"
    assert len(data) < 2_000_000  # stand-in payload: just the NSIS overhead


def test_installer_speaks_english_and_simplified_chinese() -> None:
    """Every text the script shows itself is a LangString in both languages (MUI2 picks the
    one of Windows' display language; English otherwise, being inserted first)."""
    import re

    nsi = (bs.ROOT / "packaging" / "windows" / "installer.nsi").read_text(encoding="utf-8")
    langs = re.findall(r'!insertmacro MUI_LANGUAGE "(\w+)"', nsi)
    assert langs == ["English", "SimpChinese"]
    defined: dict[str, set[str]] = {}
    for key, lang in re.findall(r"^LangString (\w+) \$\{LANG_(\w+)\}", nsi, re.M):
        defined.setdefault(key, set()).add(lang)
    used = set(re.findall(r"\$\((\w+)\)", nsi))
    assert used and used <= set(defined)
    assert all(v == {"ENGLISH", "SIMPCHINESE"} for v in defined.values())
    chinese = re.findall(r'^LangString \w+ \$\{LANG_SIMPCHINESE\} "(.*)"$', nsi, re.M)
    assert all(re.search("[\u4e00-\u9fff]", t) for t in chinese)
    # no English sentence left outside the language strings (pages, sections, messages)
    code = [line for line in nsi.splitlines() if not line.startswith("LangString")]
    for pattern in (r'DetailPrint "[A-Z][a-z]', r'MessageBox \S+ "[A-Z]',
                    r'NSD_Create\w+\} [^"]*"[A-Z][a-z]+ ', r'MUI_DESCRIPTION_TEXT \S+ "[A-Z]',
                    r'^Section (/o )?"(?!Uninstall")[A-Z]', r'MUI_HEADER_TEXT "[A-Z]'):
        assert not [line for line in code if re.search(pattern, line)], pattern


def test_silent_install_with_options_then_uninstall_keeps_settings(
        wine: Wine, installer: Path, tmp_path: Path) -> None:
    calls = Calls(wine, tmp_path)
    # the user's own PATH entries stay, with %VARIABLES% unexpanded
    wine.run("reg", "add", ENV, "/v", "Path", "/t", "REG_EXPAND_SZ", "/d",
             r"C:\Tools;%USERPROFILE%\bin", "/f")
    timed("install", wine.run, str(installer), "/S", "/AUTOSTART=1", "/DESKTOP=1", "/PATH=1",
          env=calls.env)
    assert calls() == []  # a first install has no running app to ask
    inst = _install_dir(wine)
    for f in ("onedrive-gui.exe", "onedrive-gui-cli.exe", "rclone.exe", "uninstall.exe",
              "_internal/base_library.zip", "licenses/rclone-COPYING.txt"):
        assert (inst / f).is_file(), f
    assert (wine.start_menu / "OneDrive GUI.lnk").is_file()
    assert (wine.home / "Desktop" / "OneDrive GUI.lnk").is_file()

    win_dir = wine.user_windows_dir() + "\\AppData\\Local\\Programs\\OneDrive GUI"
    values = wine.reg_values(UNINST)
    assert values is not None
    assert values["DisplayName"] == "OneDrive GUI"
    assert values["DisplayVersion"] == bs.app_version()
    assert values["Publisher"]
    assert values["InstallLocation"] == win_dir
    assert values["UninstallString"] == f'"{win_dir}\\uninstall.exe"'
    assert values["QuietUninstallString"] == f'"{win_dir}\\uninstall.exe" /S'
    assert values["DisplayIcon"] == f"{win_dir}\\onedrive-gui.exe,0"
    assert values["URLInfoAbout"] == ABOUT_URL  # the app's page, not WinFsp's
    assert values["NoModify"] == "0x1" and values["NoRepair"] == "0x1"
    assert int(values["EstimatedSize"], 16) > 0
    run = wine.reg_values(RUN) or {}
    assert run.get(RUN_VALUE) == f'"{win_dir}\\onedrive-gui.exe"'
    on_path = rf"C:\Tools;%USERPROFILE%\bin;{win_dir}"
    assert (wine.reg_values(ENV) or {}).get("Path") == on_path
    # an upgrade keeps the choice (once on PATH); unticking it takes the folder off again
    timed("upgrade", wine.run, str(installer), "/S")
    assert (wine.reg_values(ENV) or {}).get("Path") == on_path
    timed("upgrade", wine.run, str(installer), "/S", "/PATH=0")
    assert (wine.reg_values(ENV) or {}).get("Path") == r"C:\Tools;%USERPROFILE%\bin"
    timed("upgrade", wine.run, str(installer), "/S", "/PATH=1")
    assert (wine.reg_values(ENV) or {}).get("Path") == on_path

    # the app's settings (what platformdirs gives it on Windows) survive a silent uninstall
    settings = _settings_dir(wine)
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "settings.json").write_text("{}")
    _mark_old_runtime(inst)
    _uninstall(wine, env=calls.env)
    # the running app was asked to quit, by the installed console exe, before files went
    assert calls() == [("onedrive-gui-cli.exe", QUIT, "old")]
    assert calls.exes() == [f"{win_dir}\\onedrive-gui-cli.exe"]
    assert not inst.exists()
    assert not (wine.start_menu / "OneDrive GUI.lnk").exists()
    assert not (wine.home / "Desktop" / "OneDrive GUI.lnk").exists()
    assert RUN_VALUE not in (wine.reg_values(RUN) or {})
    assert (wine.reg_values(ENV) or {}).get("Path") == r"C:\Tools;%USERPROFILE%\bin"
    assert (settings / "settings.json").is_file()
    wine.run("reg", "delete", ENV, "/v", "Path", "/f")


def test_install_without_options_upgrade_and_purge(wine: Wine, installer: Path,
                                                   tmp_path: Path) -> None:
    calls = Calls(wine, tmp_path)
    timed("install", wine.run, str(installer), "/S", "/AUTOSTART=0", "/DESKTOP=0")
    assert (_install_dir(wine) / "onedrive-gui.exe").is_file()
    assert not (wine.home / "Desktop" / "OneDrive GUI.lnk").exists()
    assert RUN_VALUE not in (wine.reg_values(RUN) or {})
    assert "Path" not in (wine.reg_values(ENV) or {})  # /PATH is off by default

    # install again over it (upgrade path): the running app is asked to quit first, then a
    # stale runtime file goes, and the choices are kept
    stale = _install_dir(wine) / "_internal" / "stale.pyd"
    stale.write_bytes(b"old")
    marker = _mark_old_runtime(_install_dir(wine))
    timed("upgrade", wine.run, str(installer), "/S", env=calls.env)
    assert calls() == [("onedrive-gui-cli.exe", QUIT, "old")]
    assert not stale.exists() and not marker.exists()
    assert (_install_dir(wine) / "_internal" / "base_library.zip").is_file()
    assert RUN_VALUE not in (wine.reg_values(RUN) or {})
    assert not (wine.home / "Desktop" / "OneDrive GUI.lnk").exists()

    # quit fails (say, uploads did not finish in time): the upgrade still goes through
    _mark_old_runtime(_install_dir(wine))
    timed("upgrade", wine.run, str(installer), "/S", env={**calls.env, "ODG_STUB_EXIT": "1"})
    assert calls()[1:] == [("onedrive-gui-cli.exe", QUIT, "old")]
    assert not (_install_dir(wine) / "_internal" / MARKER).exists()
    assert (_install_dir(wine) / "onedrive-gui-cli.exe").is_file()

    settings = _settings_dir(wine)
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "settings.json").write_text("{}")
    _uninstall(wine, "/PURGE=1")
    assert not settings.exists()
    assert wine.reg_values(UNINST) is None


def _long_path(length: int) -> str:
    """A user PATH of at least *length* characters, like a developer machine's."""
    entries = [r"%USERPROFILE%\bin"]
    while len(";".join(entries)) < length:
        entries.append(rf"C:\Tools\toolchain-{len(entries):03d}\bin")
    return ";".join(entries)


def _path(wine: Wine) -> tuple[str, str] | None:
    """The user's PATH value: (type, data), None when there is none."""
    proc = wine.run("reg", "query", ENV, "/v", "Path", check=False)
    for line in proc.stdout.splitlines():
        parts = line.strip().split("    ")
        if len(parts) >= 3 and parts[0].lower() == "path":
            return parts[1], "    ".join(parts[2:])
    return None


@pytest.mark.parametrize("length", [2000, 1000])
def test_a_long_user_path_is_never_rewritten(wine: Wine, installer: Path, length: int) -> None:
    """NSIS reads at most NSIS_MAX_STRLEN (1,024) characters: a longer PATH reads as "" with
    the error flag, and was once replaced by the install folder alone. Install, upgrade
    (option on, off, kept) and uninstall must leave it exactly as it was — also when it
    holds the install folder (then the user is told to remove it themselves). A PATH that
    fits but leaves no room for the folder is left alone the same way."""
    original = _long_path(length)
    win_dir = wine.user_windows_dir() + "\\AppData\\Local\\Programs\\OneDrive GUI"
    try:
        for path in (original, f"{original};{win_dir}"):
            wine.run("reg", "add", ENV, "/v", "Path", "/t", "REG_EXPAND_SZ", "/d", path, "/f")
            assert _path(wine) == ("REG_EXPAND_SZ", path)
            timed("install", wine.run, str(installer), "/S", "/PATH=1")
            assert _path(wine) == ("REG_EXPAND_SZ", path)
            for opts in (["/PATH=1"], [], ["/PATH=0"]):
                timed("upgrade", wine.run, str(installer), "/S", *opts)
                assert _path(wine) == ("REG_EXPAND_SZ", path), opts
            _uninstall(wine)
            assert _path(wine) == ("REG_EXPAND_SZ", path)
    finally:
        wine.run("reg", "delete", ENV, "/v", "Path", "/f", check=False)


def test_no_user_path_yet_gets_just_the_install_folder(wine: Wine, installer: Path) -> None:
    """(The one case where an unreadable-looking PATH is really missing.)"""
    wine.run("reg", "delete", ENV, "/v", "Path", "/f", check=False)
    assert _path(wine) is None
    win_dir = wine.user_windows_dir() + "\\AppData\\Local\\Programs\\OneDrive GUI"
    timed("install", wine.run, str(installer), "/S", "/PATH=1")
    assert _path(wine) == ("REG_EXPAND_SZ", win_dir)
    _uninstall(wine)
    assert _path(wine) is None


@pytest.fixture
def fake_msiexec(wine: Wine, stub_exe: Path) -> Iterator[dict[str, str]]:
    """The prefix's msiexec.exe replaced by the recording stand-in for one test (the
    environment to run the installer with: wine then loads the stand-in, not its own)."""
    import shutil

    msiexec = wine.prefix / "drive_c" / "windows" / "system32" / "msiexec.exe"
    saved = msiexec.read_bytes()
    shutil.copyfile(stub_exe, msiexec)
    try:
        yield {"WINEDLLOVERRIDES": wine.env["WINEDLLOVERRIDES"] + ";msiexec.exe=n"}
    finally:
        msiexec.write_bytes(saved)


@pytest.mark.parametrize("code", ["0", "3010", "1603"])
def test_silent_install_runs_the_bundled_winfsp_installer_passively(
        wine: Wine, installer: Path, tmp_path: Path, fake_msiexec: dict[str, str],
        code: str) -> None:
    """/S /WINFSP=1: msiexec gets /passive (no dialogs to answer in a silent install) and
    /norestart; its 3010 ("restart required") is a success like 0, and even a failed
    WinFsp install leaves the app installed (it only says drives need WinFsp)."""
    calls = Calls(wine, tmp_path)
    proc = timed("install", wine.run, str(installer), "/S", "/WINFSP=1", check=False,
                 env={**fake_msiexec, **calls.env, "ODG_STUB_EXIT": code})
    assert proc.returncode == 0
    assert [(exe, args.split(" ", 2)[0], args.rsplit(" ", 2)[1:]) for exe, args, _r in calls()
            ] == [("msiexec.exe", "/i", ["/passive", "/norestart"])]
    assert (_install_dir(wine) / "onedrive-gui.exe").is_file()
    _uninstall(wine)


def test_without_winfsp_option_a_silent_install_does_not_run_it(
        wine: Wine, installer: Path, tmp_path: Path, fake_msiexec: dict[str, str]) -> None:
    calls = Calls(wine, tmp_path)
    timed("install", wine.run, str(installer), "/S", env={**fake_msiexec, **calls.env})
    assert calls() == []
    _uninstall(wine)


@pytest.mark.parametrize("folder", [r"C:\Program Files\OneDrive GUI",
                                    r"C:\Program Files (x86)\OneDrive GUI",
                                    r"C:\Windows\OneDrive GUI"])
def test_folders_needing_admin_rights_are_refused(wine: Wine, installer: Path,
                                                  folder: str) -> None:
    """A per-user install cannot write there on Windows (wine lets anyone write, so only
    the installer's own check stops it): exit code 2, nothing installed."""
    proc = wine.run_line(installer, f"/S /D={folder}", check=False)
    assert proc.returncode == 2
    assert not (wine.prefix / "drive_c" / folder[3:].replace("\\", "/")).exists()
    assert wine.reg_values(UNINST) is None


def test_a_folder_with_an_apostrophe(wine: Wine, installer: Path, tmp_path: Path) -> None:
    """Like a user named O'Brien: installed, asked to quit, uninstalled."""
    calls = Calls(wine, tmp_path)
    parent = "AppData\\Local\\Programs\\O'Brien's apps"
    win_dir = f"{wine.user_windows_dir()}\\{parent}\\OneDrive GUI"
    inst = wine.user_dir / parent.replace("\\", "/") / "OneDrive GUI"
    timed("install", wine.run_line, installer, f"/S /D={win_dir}")
    assert (inst / "onedrive-gui-cli.exe").is_file()
    assert (wine.reg_values(UNINST) or {}).get("InstallLocation") == win_dir
    _mark_old_runtime(inst)
    # (an upgrade finds the folder in the uninstall entry)
    timed("upgrade", wine.run, str(installer), "/S", env=calls.env)
    assert calls() == [("onedrive-gui-cli.exe", QUIT, "old")]
    assert calls.exes() == [f"{win_dir}\\onedrive-gui-cli.exe"]
    _uninstall(wine, inst=inst)
    assert not inst.exists()


def test_the_bundled_winfsp_installer_must_be_the_pinned_release(tmp_path: Path) -> None:
    wrong = tmp_path / "winfsp.msi"
    wrong.write_bytes(b"not WinFsp")
    with pytest.raises(SystemExit, match=bs.WINFSP_SHA256):
        build.check_winfsp_msi(wrong)
    with pytest.raises(SystemExit, match="does not exist"):
        build.check_winfsp_msi(tmp_path / "missing.msi")


def test_the_about_link_is_the_repository_the_workflow_builds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/onedrive-gui")
    assert build.about_url() == "https://github.example/someone/onedrive-gui"
    monkeypatch.delenv("GITHUB_REPOSITORY")
    assert build.about_url() is None  # outside a workflow: no link rather than a wrong one
