"""Start the app at login: XDG autostart (Linux), HKCU Run (Windows), LaunchAgent (macOS).

The writers are split into pure *render* functions (what is written) and the code that
writes it, so the Windows and macOS formats are checked everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from onedrive_gui.core.atomic import write_atomic
from onedrive_gui.core.errors import AppError
from onedrive_gui.core.i18n import _

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"

# Desktop Entry spec, "The Exec key": characters that need the argument quoted.
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = frozenset('"`$\\')


class AutostartError(AppError):
    """Start-at-login could not be changed."""


def windowless_python(executable: str, exists: Callable[[str], bool] = os.path.isfile) -> str:
    """Windows: the ``pythonw`` next to *executable* (``python.exe`` -> ``pythonw.exe``, the
    Store's ``python3.11.exe`` -> ``pythonw3.11.exe``), which opens no console window; the
    executable itself when there is none."""
    import ntpath

    folder, name = ntpath.split(executable)
    low = name.lower()
    if not low.startswith("python") or low.startswith("pythonw") or not low.endswith(".exe"):
        return executable
    candidate = ntpath.join(folder, "pythonw" + name[len("python"):])
    return candidate if exists(candidate) else executable


# The frozen app's two executables, side by side (packaging/bundle_support.py APP_NAME and
# CLI_NAME): the windowed app, and its console companion for the command line.
FROZEN_APP = "onedrive-gui"
FROZEN_CLI = "onedrive-gui-cli"


def windowed_app(executable: str, *, windows: bool,
                 exists: Callable[[str], bool] = os.path.isfile) -> str:
    """The frozen windowed app for *executable*: the app's own exe next to it when
    *executable* is the console companion (start-at-login set from ``onedrive-gui-cli``
    would otherwise open a console window at every login); *executable* itself otherwise."""
    import ntpath
    import posixpath

    path = ntpath if windows else posixpath
    folder, name = path.split(executable)
    stem, dot, ext = name.rpartition(".") if windows and "." in name else (name, "", "")
    if path.normcase(stem) != path.normcase(FROZEN_CLI):
        return executable
    candidate = path.join(folder, FROZEN_APP + dot + ext)
    return candidate if exists(candidate) else executable


def app_command(*, executable: str | None = None, frozen: bool | None = None,
                platform: str | None = None,
                exists: Callable[[str], bool] = os.path.isfile) -> list[str]:
    """How the OS starts the app at login: the frozen app's windowed exe (also when this is
    its console companion); from a pip install the
    running Python with ``-m onedrive_gui`` — on Windows its ``pythonw.exe``, since
    ``python.exe`` would open a console window at every login."""
    exe = executable or sys.executable
    windows = (platform or sys.platform) == "win32"
    if frozen if frozen is not None else getattr(sys, "frozen", False):
        return [windowed_app(exe, windows=windows, exists=exists)]
    if windows:
        exe = windowless_python(exe, exists)
    return [exe, "-m", "onedrive_gui"]


# --- pure renderers ----------------------------------------------------------------------


def _keyfile_string(value: str) -> str:
    """Escape a value of type string in a desktop entry (spec: "Possible value types")."""
    return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r"))


def desktop_exec_arg(arg: str) -> str:
    """One argument of an Exec line: quoted when needed, ``%`` doubled, string-escaped."""
    if "\0" in arg:
        raise ValueError("NUL in a command-line argument")
    if arg and not any(c in _RESERVED for c in arg):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + c if c in _ESCAPED_IN_QUOTES else c for c in arg) + '"'
    return _keyfile_string(quoted.replace("%", "%%"))


def render_desktop_entry(command: list[str], display_name: str, icon: str) -> str:
    """The XDG autostart file's text."""
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        f"Name={_keyfile_string(display_name)}",
        f"Comment={_keyfile_string('Mount your OneDrive drives from the tray')}",
        "Exec=" + " ".join(desktop_exec_arg(a) for a in command),
        f"Icon={_keyfile_string(icon)}",
        "Terminal=false",
        "Categories=Network;FileTransfer;",
        "X-GNOME-Autostart-enabled=true",
        "",
    ])


def windows_run_value(command: list[str]) -> str:
    """The HKCU Run value: a command line quoted the way Windows parses it."""
    return subprocess.list2cmdline(command)


def startup_approved_enabled(data: bytes | None) -> bool:
    """Whether a ``StartupApproved\\Run`` entry allows the program to start.

    Task Manager writes 12 bytes; the first is even (02, 06) when enabled and odd (03, 07)
    when the user disabled the entry. No entry means enabled.
    """
    return not data or data[0] & 1 == 0


def launch_agent_plist(label: str, command: list[str]) -> dict[str, Any]:
    """The macOS LaunchAgent: run once at login, in the user's GUI session."""
    return {
        "Label": label,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }


# --- writers -----------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, data, 0o644)


def _xdg_config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".config"


def _desktop_flags(text: str) -> dict[str, str]:
    """Keys of the [Desktop Entry] group (enough to read Hidden and the GNOME switch)."""
    keys: dict[str, str] = {}
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            group = line
        elif group == "[Desktop Entry]" and "=" in line and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            keys[key.strip()] = value.strip()
    return keys


class Autostart:
    """Start-at-login for *command* (the app's own command line, as a list)."""

    def __init__(
        self,
        command: list[str],
        *,
        app_id: str = "onedrive-gui",
        display_name: str = "OneDrive GUI",
    ) -> None:
        if not command or not command[0]:
            raise ValueError("command must be a non-empty list starting with the program")
        self.command = list(command)
        self.app_id = app_id
        self.display_name = display_name

    # paths -----------------------------------------------------------------------------
    @property
    def desktop_file(self) -> Path:
        return _xdg_config_home() / "autostart" / f"{self.app_id}.desktop"

    @property
    def launch_agent_label(self) -> str:
        return f"io.github.{self.app_id}"

    @property
    def launch_agent_file(self) -> Path:
        return Path.home() / "Library" / "LaunchAgents" / f"{self.launch_agent_label}.plist"

    def location(self) -> str:
        """Where the entry lives, for the user."""
        if sys.platform == "win32":
            return f"HKEY_CURRENT_USER\\{RUN_KEY} ({self.app_id})"
        if sys.platform == "darwin":
            return str(self.launch_agent_file)
        return str(self.desktop_file)

    def platform_note(self) -> str:
        """One sentence for the settings dialog about how start-at-login works here."""
        if sys.platform == "win32":
            return (_("Uses the Run entry of your user account; it also appears in Task "
                    "Manager under Startup apps, where disabling it wins until you enable it "
                    "here again."))
        if sys.platform == "darwin":
            return (_(
                "Uses a LaunchAgent ({launch_agent_file}); macOS may list it under System "
                "Settings > General > Login Items. It takes effect at your next login."
            ).format(launch_agent_file=self.launch_agent_file))
        return (_(
            "Uses the XDG autostart entry {desktop_file}, honoured by GNOME, KDE Plasma, Xfce, "
            "Cinnamon and MATE; minimal window managers may ignore it."
        ).format(desktop_file=self.desktop_file))

    # state -----------------------------------------------------------------------------
    def is_enabled(self) -> bool:
        try:
            if sys.platform == "win32":
                return self._win_is_enabled()
            if sys.platform == "darwin":
                return self._mac_is_enabled()
            return self._xdg_is_enabled()
        except OSError as exc:
            raise self._error("read", exc) from exc

    def enable(self) -> None:
        try:
            if sys.platform == "win32":
                self._win_enable()
            elif sys.platform == "darwin":
                import plistlib

                _write_atomic(self.launch_agent_file, plistlib.dumps(
                    launch_agent_plist(self.launch_agent_label, self.command)))
            else:
                _write_atomic(self.desktop_file, render_desktop_entry(
                    self.command, self.display_name, self.app_id).encode("utf-8"))
        except OSError as exc:
            raise self._error("enable", exc) from exc

    def disable(self) -> None:
        try:
            if sys.platform == "win32":
                self._win_disable()
            elif sys.platform == "darwin":
                self.launch_agent_file.unlink(missing_ok=True)
            else:
                self.desktop_file.unlink(missing_ok=True)
        except OSError as exc:
            raise self._error("disable", exc) from exc

    def _error(self, doing: str, exc: OSError) -> AutostartError:
        return AutostartError(
            _("Start at login not changed") if doing != "read" else _("Start at login unknown"),
            {"read": _("Could not read starting at login ({location}): {value}."),
             "enable": _("Could not enable starting at login ({location}): {value}."),
             "disable": _("Could not disable starting at login ({location}): {value}."),
             }.get(doing, "{location}: {value}").format(location=self.location(),
                                                      value=exc.strerror or exc),
            _("Check that the folder is writable by you, then try again."),
        )

    # Linux / XDG -----------------------------------------------------------------------
    def _xdg_is_enabled(self) -> bool:
        try:
            text = self.desktop_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False
        keys = _desktop_flags(text)
        return (keys.get("Hidden", "false").lower() != "true"
                and keys.get("X-GNOME-Autostart-enabled", "true").lower() != "false")

    # macOS -----------------------------------------------------------------------------
    def _mac_is_enabled(self) -> bool:
        import plistlib

        try:
            with self.launch_agent_file.open("rb") as fh:
                data = plistlib.load(fh)
        except FileNotFoundError:
            return False
        except plistlib.InvalidFileException:
            return False  # not a plist we can use; enable() rewrites it
        return bool(data.get("RunAtLoad")) and not data.get("Disabled", False)

    # Windows ---------------------------------------------------------------------------
    def _win_is_enabled(self) -> bool:
        if sys.platform != "win32":
            raise NotImplementedError
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, self.app_id)
        except FileNotFoundError:
            return False
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, APPROVED_KEY) as key:
                data, _kind = winreg.QueryValueEx(key, self.app_id)
        except FileNotFoundError:
            return True
        return startup_approved_enabled(bytes(data) if data else None)

    def _win_enable(self) -> None:
        if sys.platform != "win32":
            raise NotImplementedError
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0,
                                winreg.KEY_SET_VALUE) as key:
            winreg.SetValueEx(key, self.app_id, 0, winreg.REG_SZ,
                              windows_run_value(self.command))
        self._win_clear_approval()

    def _win_disable(self) -> None:
        if sys.platform != "win32":
            raise NotImplementedError
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0,
                                winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, self.app_id)
        except FileNotFoundError:
            pass  # not there: already disabled
        self._win_clear_approval()

    def _win_clear_approval(self) -> None:
        """Remove our StartupApproved entry, so a 'disabled in Task Manager' flag goes."""
        if sys.platform != "win32":
            raise NotImplementedError
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, APPROVED_KEY, 0,
                                winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, self.app_id)
        except FileNotFoundError:
            pass  # no entry: nothing was disabled
