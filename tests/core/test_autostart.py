"""Start at login: the XDG autostart entry for real; Windows/macOS through their renderers."""

from __future__ import annotations

import json
import plistlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from onedrive_gui.core.system.autostart import (
    Autostart,
    AutostartError,
    app_command,
    desktop_exec_arg,
    launch_agent_plist,
    render_desktop_entry,
    startup_approved_enabled,
    windowless_python,
    windows_run_value,
)

# The real writes are the XDG ones (Linux, the CI); the other systems are checked through
# their renderers at the end.
xdg_only = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG autostart")

NASTY_ARGS = ["plain", "with space", "it's", 'say "hi"', "$HOME", "`id`", "50%", "%u",
              "back\\slash", "tab\there", "~user", "a;b|c&d", ""]


def _script(tmp_path: Path) -> tuple[Path, Path]:
    """A program in a folder with spaces that records the arguments it was given."""
    folder = tmp_path / "My Apps (x86)"
    folder.mkdir()
    out = tmp_path / "argv.json"
    script = folder / "record args.py"
    script.write_text(
        "import json, sys\n"
        f"open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    return script, out


@xdg_only
def test_enable_writes_the_xdg_entry_and_disable_removes_it(app_home: Path) -> None:
    a = Autostart(["/opt/onedrive gui/onedrive-gui", "--tray"])
    entry = app_home / ".config" / "autostart" / "onedrive-gui.desktop"
    assert not a.is_enabled()
    a.enable()
    assert a.is_enabled()
    assert a.desktop_file == entry
    text = entry.read_text()
    assert 'Exec="/opt/onedrive gui/onedrive-gui" --tray\n' in text
    assert "Name=OneDrive GUI\n" in text and "Type=Application\n" in text
    a.enable()  # idempotent
    a.disable()
    assert not entry.exists()
    assert not a.is_enabled()
    a.disable()  # already off


@xdg_only
def test_desktop_launcher_runs_exactly_our_command(app_home: Path, tmp_path: Path) -> None:
    """gio launches the entry as the session would at login: every argument arrives intact."""
    script, out = _script(tmp_path)
    a = Autostart([sys.executable, str(script), *NASTY_ARGS])
    a.enable()
    subprocess.run(["gio", "launch", str(a.desktop_file)], check=True, timeout=30)
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert json.loads(out.read_text()) == NASTY_ARGS


@xdg_only
def test_entry_disabled_by_the_desktop_counts_as_off_until_enabled(app_home: Path) -> None:
    a = Autostart(["onedrive-gui"])
    a.enable()
    for switch in ("X-GNOME-Autostart-enabled=false", "Hidden=true"):
        text = render_desktop_entry(["onedrive-gui"], "OneDrive GUI", "onedrive-gui")
        a.desktop_file.write_text(
            text.replace("X-GNOME-Autostart-enabled=true", switch))
        assert not a.is_enabled()
        a.enable()
        assert a.is_enabled()


@xdg_only
def test_xdg_config_home_is_honoured_and_falls_back_to_dot_config(
    app_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    assert Autostart(["x"]).desktop_file == tmp_path / "elsewhere/autostart/onedrive-gui.desktop"
    for value in ("", "relative/dir"):  # the spec says: ignore a non-absolute value
        monkeypatch.setenv("XDG_CONFIG_HOME", value)
        assert Autostart(["x"]).desktop_file == app_home / ".config/autostart/onedrive-gui.desktop"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    a = Autostart(["x"], app_id="other-app", display_name="Other")
    a.enable()
    assert (app_home / ".config/autostart/other-app.desktop").read_text().count("Name=Other\n")


@xdg_only
def test_unwritable_location_is_a_clear_error(app_home: Path) -> None:
    (app_home / ".config" / "autostart").write_text("a file where the folder should be")
    a = Autostart(["onedrive-gui"])
    with pytest.raises(AutostartError) as err:
        a.enable()
    assert "autostart" in err.value.message
    assert err.value.hint


@xdg_only
def test_platform_note_names_the_entry(app_home: Path) -> None:
    note = Autostart(["x"]).platform_note()
    assert "autostart/onedrive-gui.desktop" in note and "GNOME" in note


# --- renderers for the other systems -----------------------------------------------------


def test_exec_quoting_follows_the_desktop_entry_spec() -> None:
    assert desktop_exec_arg("/usr/bin/onedrive-gui") == "/usr/bin/onedrive-gui"
    assert desktop_exec_arg("/opt/My App/app") == '"/opt/My App/app"'
    assert desktop_exec_arg('a"b') == '"a\\\\"b"'  # \" in the Exec value, \\" in the file
    assert desktop_exec_arg("100%") == "100%%"
    assert desktop_exec_arg("") == '""'


def test_windows_run_value_quotes_like_windows() -> None:
    assert windows_run_value(
        [r"C:\Users\Ada Lovelace\AppData\Local\Programs\OneDrive GUI\onedrive-gui.exe",
         "--tray"]
    ) == r'"C:\Users\Ada Lovelace\AppData\Local\Programs\OneDrive GUI\onedrive-gui.exe" --tray'
    assert windows_run_value([r"C:\app.exe", "a b\\", 'say "hi"']) == (
        r'C:\app.exe "a b\\" "say \"hi\""')


@pytest.mark.parametrize(
    ("data", "enabled"),
    [
        (None, True),
        (b"", True),
        (bytes.fromhex("020000000000000000000000"), True),
        (bytes.fromhex("060000000000000000000000"), True),
        (bytes.fromhex("0300000066bcd1c4a2c7d901"), False),  # disabled in Task Manager
        (bytes.fromhex("0700000066bcd1c4a2c7d901"), False),
    ],
)
def test_startup_approved_flag(data: bytes | None, enabled: bool) -> None:
    assert startup_approved_enabled(data) is enabled


def test_launch_agent_runs_the_command_at_login() -> None:
    command = ["/Applications/OneDrive GUI.app/Contents/MacOS/onedrive-gui", "--tray"]
    plist = launch_agent_plist("io.github.onedrive-gui", command)
    parsed = plistlib.loads(plistlib.dumps(plist))
    assert parsed["Label"] == "io.github.onedrive-gui"
    assert parsed["ProgramArguments"] == command  # an argument list: no shell quoting
    assert parsed["RunAtLoad"] is True
    assert parsed["KeepAlive"] is False
    assert parsed["LimitLoadToSessionType"] == "Aqua"
    a = Autostart(command)
    assert a.launch_agent_file.name == "io.github.onedrive-gui.plist"
    assert a.launch_agent_file.parent.name == "LaunchAgents"


# --- the command the OS runs at login (the platform is a parameter) ------------------------


def test_pip_install_on_windows_starts_pythonw_so_no_console_opens_at_login() -> None:
    venv = "C:\\Users\\ana\\venv\\Scripts"
    files = {f"{venv}\\python.exe", f"{venv}\\pythonw.exe"}
    cmd = app_command(executable=f"{venv}\\python.exe", frozen=False, platform="win32",
                      exists=files.__contains__)
    assert cmd == [f"{venv}\\pythonw.exe", "-m", "onedrive_gui"]
    # The value written under HKCU\...\Run, quoted for CreateProcess:
    assert windows_run_value(cmd) == f"{venv}\\pythonw.exe -m onedrive_gui"


def test_store_python_and_a_missing_pythonw() -> None:
    store = "C:\\Users\\ana\\AppData\\Local\\Microsoft\\WindowsApps"
    assert windowless_python(f"{store}\\python3.11.exe",
                             {f"{store}\\pythonw3.11.exe"}.__contains__) == (
        f"{store}\\pythonw3.11.exe")
    # No pythonw next to it: python.exe is still better than nothing starting at all.
    assert windowless_python("C:\\Py\\python.exe", lambda p: False) == "C:\\Py\\python.exe"
    assert windowless_python("C:\\Py\\pythonw.exe", lambda p: True) == "C:\\Py\\pythonw.exe"


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_elsewhere_the_running_python_is_used(platform: str) -> None:
    assert app_command(executable="/home/ana/.venv/bin/python3", frozen=False,
                       platform=platform, exists=lambda p: True) == [
        "/home/ana/.venv/bin/python3", "-m", "onedrive_gui"]


@pytest.mark.parametrize("platform", ["win32", "linux"])
def test_the_frozen_app_starts_itself(platform: str) -> None:
    exe = "C:\\Users\\ana\\AppData\\Local\\Programs\\OneDrive GUI\\onedrive-gui.exe"
    assert app_command(executable=exe, frozen=True, platform=platform) == [exe]


@pytest.mark.parametrize(("platform", "folder", "cli", "app"), [
    ("win32", "C:\\Users\\ana\\AppData\\Local\\Programs\\OneDrive GUI\\",
     "onedrive-gui-cli.exe", "onedrive-gui.exe"),
    ("win32", "C:\\Apps\\OneDrive GUI\\", "ONEDRIVE-GUI-CLI.EXE", "onedrive-gui.EXE"),
    ("linux", "/opt/onedrive-gui/", "onedrive-gui-cli", "onedrive-gui"),
])
def test_start_at_login_set_from_the_console_exe_starts_the_windowed_app(
        platform: str, folder: str, cli: str, app: str) -> None:
    """`onedrive-gui-cli` (the frozen console companion) turning start-at-login on must not
    register itself: a console window would open at every login."""
    cmd = app_command(executable=folder + cli, frozen=True, platform=platform,
                      exists={folder + app}.__contains__)
    assert cmd == [folder + app]
    # (the app's own exe, when the companion is alone: better than nothing starting)
    assert app_command(executable=folder + cli, frozen=True, platform=platform,
                       exists=lambda p: False) == [folder + cli]


def test_the_frozen_names_are_the_bundles() -> None:
    from onedrive_gui.core.system import autostart
    from tests.packaging.conftest import bs

    assert (autostart.FROZEN_APP, autostart.FROZEN_CLI) == (bs.APP_NAME, bs.CLI_NAME)


@pytest.mark.skipif(sys.platform != "win32", reason="the Windows registry exists on Windows only")
def test_windows_run_entry_and_task_managers_switch() -> None:
    """The real HKCU Run / StartupApproved values (under a throwaway name): enabled, then
    disabled in Task Manager (StartupApproved, odd first byte) is off, enabling again here
    wins, disabling removes both."""
    import os
    import winreg

    from onedrive_gui.core.system.autostart import APPROVED_KEY, RUN_KEY

    name = f"onedrive-gui-test-{os.getpid()}"
    command = ["C:\\Program Files\\Odd Name\\onedrive-gui.exe", "--minimized"]
    entry = Autostart(command, app_id=name)

    def value(key: str) -> object:
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as k:
                return winreg.QueryValueEx(k, name)[0]
        except FileNotFoundError:
            return None

    try:
        entry.enable()
        assert value(RUN_KEY) == windows_run_value(command)
        assert entry.is_enabled()
        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, APPROVED_KEY, 0,
                                winreg.KEY_SET_VALUE) as k:
            winreg.SetValueEx(k, name, 0, winreg.REG_BINARY, b"\x03" + b"\0" * 11)
        assert not entry.is_enabled()  # the user's switch in Task Manager
        entry.enable()
        assert entry.is_enabled() and value(APPROVED_KEY) is None
        entry.disable()
        assert not entry.is_enabled()
        assert value(RUN_KEY) is None and value(APPROVED_KEY) is None
    finally:
        entry.disable()
