"""Running the real ``onedrive-gui`` command line as a user would, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

# The command under test: this Python's onedrive_gui, or a frozen console executable named by
# ONEDRIVE_GUI_E2E_CLI (the Windows workflow runs the e2e tests through onedrive-gui-cli.exe).
CLI = ([os.environ["ONEDRIVE_GUI_E2E_CLI"]] if os.environ.get("ONEDRIVE_GUI_E2E_CLI")
       else [sys.executable, "-m", "onedrive_gui"])


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment (isolated XDG dirs, D-Bus, fake cloud) plus *extra*."""
    env = dict(os.environ)
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_cli(
    args: list[str],
    *,
    env: Mapping[str, str],
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=timeout,
        check=False,
    )


def wait_for(cond: Callable[[], object], timeout: float = 30.0, step: float = 0.1) -> object:
    """Poll *cond* until it returns something truthy; fail the test after *timeout*."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {cond}")
        time.sleep(step)


def is_mounted(path: Path) -> bool:
    """A FUSE mount on *path* (Linux: /proc/self/mountinfo); on Windows a WinFsp drive letter
    or folder (a drive letter that exists, a folder that is a mount point)."""
    target = str(path)
    if sys.platform == "win32":
        if len(target) == 2 and target[1] == ":":
            return os.path.exists(target + "\\")
        return os.path.ismount(target) or (os.path.isdir(target) and os.path.islink(target))
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4 and fields[4].replace("\\040", " ") == target:
                return True
    return False


def force_unmount(path: Path) -> None:
    """Detach a FUSE mount a failed test left (Windows: WinFsp removes a mount whose rclone
    is gone; nothing to do)."""
    if sys.platform != "win32" and is_mounted(path):
        subprocess.run(["fusermount3", "-u", "-z", str(path)], check=False)


def listening_addrs(pid: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*: "0100007F:A3F2") of the TCP sockets
    *pid* listens on."""
    if sys.platform == "win32":  # the tests that use it are skipped there (tests/conftest.py)
        raise RuntimeError("listening_addrs reads /proc: Linux only")
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    addrs = []
    for table in ("tcp", "tcp6"):
        try:
            raw = Path(f"/proc/{pid}/net/{table}").read_text()
        except OSError:
            continue
        for line in raw.splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:  # 0A = LISTEN
                addrs.append(f[1])
    return addrs


def listening_ports(pid: int) -> set[int]:
    return {int(a.rsplit(":", 1)[1], 16) for a in listening_addrs(pid)}


def files_under(*roots: Path) -> list[Path]:
    out: list[Path] = []
    for root in roots:
        if root.exists():
            out.extend(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return out


def add_account(env: Mapping[str, str], cloud: object, name: str, mount_point: Path, *,
                write_back: str | None = None, auto_mount: bool | None = None,
                service: object | None = None) -> None:
    """``onedrive-gui add NAME`` as a user runs it (the emulated browser approves), then the
    changes a user would make in Settings: the upload delay and mount-at-start.

    *cloud*: the emulated cloud's Defaults (client ID and secret); *service*: the
    AccountService to change the settings through (a fresh one by default)."""
    from dataclasses import replace

    r = run_cli(["add", name, "--client-id", cloud.client_id,  # type: ignore[attr-defined]
                 "--mount-point", str(mount_point)],
                env=env, stdin=cloud.secret + "\n")  # type: ignore[attr-defined]
    assert r.returncode == 0, r.stderr
    if write_back is None and auto_mount is None:
        return
    if service is None:
        from onedrive_gui.core.accounts import AccountService
        from onedrive_gui.core.system.paths import AppPaths

        service = AccountService(AppPaths.default())
    a = service.account(name)  # type: ignore[attr-defined]
    options = a.options if write_back is None else replace(a.options, write_back=write_back)
    service.update_account(replace(  # type: ignore[attr-defined]
        a, options=options, auto_mount=a.auto_mount if auto_mount is None else auto_mount))
