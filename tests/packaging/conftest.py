"""Session fixtures for the packaging tests: one frozen build, one installer, one wine prefix.

Everything is built in pytest's temp dirs (never in the repo's build/ or dist/).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"


def _load(name: str, file: str | None = None) -> ModuleType:
    # packaging/ is not importable as a package (it would shadow PyPI's "packaging").
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{file or name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


bs = _load("bundle_support")  # build.py reuses this one (sys.modules["bundle_support"])
build = _load("odg_packaging_build", "build")


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    out = fn(*args, **kwargs)
    print(f"[packaging] {label}: {time.monotonic() - t0:.1f} s")
    return out


# --- the frozen Linux app ----------------------------------------------------------------
@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/onedrive-gui/ built by packaging/onedrive_gui.spec (PyInstaller, this OS)."""
    import PyInstaller  # noqa: F401  (the test extra installs it; missing = a failure)
    base = tmp_path_factory.mktemp("freeze")
    return timed("PyInstaller build", build.freeze, base / "dist", base / "work")


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The test environment with a throwaway HOME / XDG dirs and no rclone on PATH."""
    env = dict(os.environ)
    home = tmp_path / "home"
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env["HOME"] = str(home)
    env["PATH"] = "/usr/bin:/bin"
    for k in list(env):
        if k.startswith(("RCLONE_", "PYTHON", "VIRTUAL_ENV")):
            del env[k]
    return env


# --- NSIS + wine -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def makensis() -> str:
    found = shutil.which("makensis")
    if found is None:
        pytest.fail("makensis not installed (Debian package nsis, see scripts/system-packages.txt)")
    return found


@pytest.fixture(scope="session")
def stub_exe(makensis: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny amd64 PE (a silent NSIS "installer") standing in for the Windows exes.

    It appends one line per run to the file named by ODG_STUB_LOG (when set):
    ``<its own path>|<its arguments>|<runtime>``, where runtime says whether
    ``_internal\\odg-old-runtime.txt`` was next to it at that moment ("old" / "new"): the
    tests leave that file in an installed copy, and the installer removes it when it replaces
    the runtime, so the line shows whether a call came before the files were replaced. It
    exits with ODG_STUB_EXIT (default 0).
    """
    d = tmp_path_factory.mktemp("stub")
    (d / "stub.nsi").write_text(
        'Unicode true\nTarget amd64-unicode\nOutFile "stub.exe"\nSilentInstall silent\n'
        "RequestExecutionLevel user\n"
        '!include "FileFunc.nsh"\n!include "LogicLib.nsh"\n'
        "Section\n"
        "  ReadEnvStr $0 ODG_STUB_LOG\n"
        '  ${If} $0 != ""\n'
        "    ${GetParameters} $1\n"
        '    StrCpy $3 "new"\n'
        '    ${If} ${FileExists} "$EXEDIR\\_internal\\odg-old-runtime.txt"\n'
        '      StrCpy $3 "old"\n'
        "    ${EndIf}\n"
        "    FileOpen $4 $0 a\n"
        "    FileSeek $4 0 END\n"
        '    FileWriteUTF16LE $4 "$EXEPATH|$1|$3$\\r$\\n"\n'
        "    FileClose $4\n"
        "  ${EndIf}\n"
        "  ReadEnvStr $5 ODG_STUB_EXIT\n"
        '  ${If} $5 != ""\n'
        "    SetErrorLevel $5\n"
        "  ${EndIf}\n"
        "SectionEnd\n",
        encoding="utf-8",
    )
    subprocess.run([makensis, "-V1", "stub.nsi"], cwd=d, check=True)
    return d / "stub.exe"


@pytest.fixture(scope="session")
def fake_winfsp_msi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bytes in place of the WinFsp installer: the installer bundles whatever it is given
    (build.py checks the real one's hash); the tests never let it run."""
    f = tmp_path_factory.mktemp("winfsp") / "winfsp.msi"
    f.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    return f


ABOUT_URL = "https://example.invalid/onedrive-gui"


@pytest.fixture(scope="session")
def installer(makensis: str, stub_exe: Path, fake_winfsp_msi: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """installer.nsi compiled against a staged Windows payload (stand-in exes)."""
    d = tmp_path_factory.mktemp("installer")
    payload = bs.stage_windows_payload(d / "payload", stub_exe)
    out = d / f"onedrive-gui-{bs.app_version()}-setup.exe"
    return timed("makensis", build.build_installer, payload, out, bs.app_version(), makensis,
                 winfsp_msi=fake_winfsp_msi, about=ABOUT_URL)


class Wine:
    """A throwaway 64-bit wine prefix; a persistent wineserver for the session."""

    def __init__(self, root: Path, wine: str) -> None:
        self.wine = wine
        self.prefix = root / "prefix"
        self.home = root / "home"
        (self.home / "Desktop").mkdir(parents=True)  # wine links the Windows Desktop here
        self.env = dict(os.environ)
        self.env.update({
            "WINEPREFIX": str(self.prefix), "WINEARCH": "win64", "WINEDEBUG": "-all",
            "HOME": str(self.home),
            # no Mono / Gecko install prompts (they would want the network)
            "WINEDLLOVERRIDES": "mscoree,mshtml=",
        })
        self.user = os.environ.get("USER") or os.environ.get("LOGNAME") or "root"

    def run(self, *args: str, timeout: float = 120, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        # Output goes to files, not pipes: wine's background processes (wineserver, services,
        # explorer) inherit the handles and would keep a pipe open long after wine returns.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run([self.wine, *args], env={**self.env, **(env or {})},
                                  stdout=out, stderr=err,
                                  timeout=timeout, check=False, stdin=subprocess.DEVNULL)
            out.seek(0)
            err.seek(0)
            res = subprocess.CompletedProcess(
                proc.args, proc.returncode, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"))
        if check:
            res.check_returncode()
        return res

    def run_line(self, exe: Path, line: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run *exe* with *line* as its command line, unquoted (as NSIS wants /D=<dir>, even
        with spaces); wine would quote an argument that has spaces, so cmd /c starts it."""
        return self.run("cmd", "/c", f"{self.windows_path(exe)} {line}", **kwargs)

    def server(self, *args: str) -> None:
        subprocess.run(["wineserver", *args], env=self.env, timeout=60, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def user_dir(self) -> Path:
        users = self.prefix / "drive_c" / "users"
        cands = [p for p in users.iterdir() if p.name not in ("Public",) and p.is_dir()]
        assert len(cands) == 1, cands
        return cands[0]

    def windows_path(self, path: Path) -> str:
        """The path as Windows programs in this prefix see it (wine maps / to Z:)."""
        return "Z:" + str(path.resolve()).replace("/", "\\")

    def user_windows_dir(self) -> str:
        return "C:\\users\\" + self.user_dir.name

    @property
    def local_appdata(self) -> Path:
        return self.user_dir / "AppData" / "Local"

    @property
    def start_menu(self) -> Path:
        return self.user_dir / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" \
            / "Programs"

    def reg_values(self, key: str) -> dict[str, str] | None:
        """`reg query KEY` -> {name: data}; None if the key does not exist."""
        proc = self.run("reg", "query", key, check=False)
        if proc.returncode != 0:
            return None
        out: dict[str, str] = {}
        for line in proc.stdout.splitlines():
            parts = line.strip().split("    ")
            if len(parts) >= 3 and parts[1].startswith("REG_"):
                out[parts[0]] = "    ".join(parts[2:])
        return out


@pytest.fixture(scope="session")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    exe = shutil.which("wine64") or shutil.which("wine")
    if exe is None or shutil.which("wineserver") is None:
        pytest.fail("wine not installed (Debian package wine64, see scripts/system-packages.txt)")
    if not os.environ.get("DISPLAY"):
        pytest.fail("no X display for wine: run the tests with scripts/test.sh (Xvfb)")
    w = Wine(tmp_path_factory.mktemp("wine"), exe)
    try:
        timed("wineboot -i", w.run, "wineboot", "-i", timeout=300)
        w.server("-p")  # persistent server: later wine calls start quickly
        yield w
    finally:
        w.server("-k")
