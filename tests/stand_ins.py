"""Programs the tests put where the app expects another program (a browser, ``az``, an
rclone), written in Python and runnable by path without a shell on every platform.

POSIX: a ``#!/bin/sh`` script that runs the Python code with this interpreter. Windows cannot
run a ``#!`` script (WinError 193; ``webbrowser`` would then fall back to the real default
browser), so there the stand-in is an ``.exe`` made exactly the way pip makes console scripts:
distlib's console launcher, a ``#!"<this python>"`` line and a zip holding ``__main__.py``
(the launcher starts that Python on its own file; Python runs the zip's ``__main__.py``).
Also console-script paths: :func:`console_script`.
"""

from __future__ import annotations

import io
import os
import signal
import stat
import sys
import sysconfig
import zipfile
from pathlib import Path


def _windows_launcher() -> bytes:
    from pip._vendor import distlib  # pip ships the launchers for every platform

    return (Path(distlib.__file__).parent / "t64.exe").read_bytes()


def python_program(path: Path, code: str, *, windows: bool | None = None) -> Path:
    """Write a program at *path* (``<path>.exe`` on Windows) that runs *code* with this Python,
    its arguments in ``sys.argv[1:]``; returns the program's path."""
    if windows is None:
        windows = sys.platform == "win32"
    if windows:
        exe = path if path.suffix.lower() == ".exe" else path.with_name(path.name + ".exe")
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as zf:
            zf.writestr("__main__.py", code)
        shebang = f'#!"{sys.executable}"\r\n'.encode()
        exe.write_bytes(_windows_launcher() + shebang + zipped.getvalue())
        program = exe
    else:
        script = path.with_name(path.name + ".py")
        script.write_text(code, encoding="utf-8")
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n',
                        encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        program = path
    return program


def python_file_program(path: Path, script: Path, *, windows: bool | None = None) -> Path:
    """A program at *path* that runs the Python file *script* (which stays where it is)."""
    return python_program(
        path, f"import runpy, sys\nsys.argv[0] = {str(script)!r}\n"
              f"runpy.run_path({str(script)!r}, run_name='__main__')\n", windows=windows)


def printing_program(path: Path, *lines: str, code: int = 0,
                     windows: bool | None = None) -> Path:
    """A program that prints *lines* on stdout and exits with *code* (a fake ``rclone
    version``, say)."""
    return python_program(path, f"import sys\nprint({chr(10).join(lines)!r})\n"
                                f"sys.exit({code})\n", windows=windows)


def kill_hard(pid: int) -> None:
    """End *pid* at once, as a crash would: SIGKILL; TerminateProcess on Windows (which
    ``os.kill`` calls for any signal but the console ones)."""
    if sys.platform == "win32":
        os.kill(pid, signal.SIGTERM)
    else:
        os.kill(pid, signal.SIGKILL)


def console_script(name: str) -> Path:
    """Where pip put the console script *name* of this environment (``Scripts\\NAME.exe`` on
    Windows, ``bin/NAME`` elsewhere)."""
    suffix = ".exe" if sys.platform == "win32" else ""
    return Path(sysconfig.get_path("scripts")) / f"{name}{suffix}"
