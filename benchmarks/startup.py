"""Start-up cost of the desktop app vs a bare PySide6 tray app, in the same run.

The app: ``python -m onedrive_gui --self-test`` with one configured (not mounted) account —
QApplication, settings, tray shown, one event-loop turn, exit. The baseline: a minimal
PySide6 program that builds a QApplication and a QSystemTrayIcon with an icon, shows it,
turns the loop once and exits. Both are separate processes started alternately; we report
the median wall time and the peak RSS (from wait4), and their ratios.
Targets: time ratio ≤ 1.25, RSS ratio ≤ 1.3.

    xvfb-run -a .venv/bin/python -m benchmarks.startup [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon, QPixmap, QColor
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
app = QApplication(sys.argv[:1])
pm = QPixmap(32, 32); pm.fill(QColor("#0a64d8"))
tray = QSystemTrayIcon(QIcon(pm)); tray.setToolTip("bare"); tray.show()
QTimer.singleShot(0, app.quit)
app.exec()
tray.hide()
"""


def settings_home() -> dict[str, str]:
    home = Path(tempfile.mkdtemp(prefix="odg-startup-"))
    env = {}
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        (home / sub).mkdir(parents=True)
        env[var] = str(home / sub)
    conf = home / ".config" / "onedrive-gui"
    conf.mkdir()
    (conf / "settings.json").write_text(json.dumps({
        "schema_version": 1,
        "accounts": [{
            "name": "work", "client_id": "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44",
            "tenant": "common", "display_name": "Alice", "username": "alice@example.com",
            "drive_id": "b!abc", "drive_type": "business", "drive_name": "OneDrive",
            "mount_point": str(home / "OneDrive" / "work"), "auto_mount": False,
        }],
    }))
    env["HOME"] = str(home)
    return env


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024.0  # MiB


def tray_host() -> subprocess.Popen[bytes] | None:
    """A system tray (trayer) on this display, as a desktop has: without one the app shows
    its stand-in window instead of the tray icon, which is not what users start."""
    import shutil

    if not os.environ.get("DISPLAY") or shutil.which("trayer") is None:
        print("no tray host (install trayer; run under xvfb-run): measuring the stand-in "
              "window")
        return None
    host = subprocess.Popen(["trayer", "--SetDockType", "true", "--transparent", "false",
                             "--expand", "false", "--edge", "top", "--widthtype", "request"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # until it owns the tray selection
    return host


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    host = tray_host()
    try:
        measure(args.runs)
    finally:
        if host is not None:
            host.terminate()
            host.wait(5)


def measure(runs: int) -> None:
    env = {**os.environ, **settings_home()}
    # Measure what a user's machine does: Python caches bytecode (this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which would recompile every module of the app on each start;
    # the frozen build ships compiled modules anyway).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "onedrive_gui"),
                           quiet=1)
    app_cmd = [sys.executable, "-m", "onedrive_gui", "--self-test"]
    bare_cmd = [sys.executable, "-c", BARE]
    run(app_cmd, env)
    run(bare_cmd, env)  # warm-up
    app_t, app_m, bare_t, bare_m = [], [], [], []
    for _ in range(runs):
        t, m = run(app_cmd, env)
        app_t.append(t)
        app_m.append(m)
        t, m = run(bare_cmd, env)
        bare_t.append(t)
        bare_m.append(m)
    at, bt = statistics.median(app_t), statistics.median(bare_t)
    am, bm = statistics.median(app_m), statistics.median(bare_m)
    print(f"start-up to tray shown: app {at * 1000:.0f} ms, bare tray {bt * 1000:.0f} ms, "
          f"ratio {at / bt:.2f} (target ≤ 1.25)")
    print(f"peak RSS: app {am:.1f} MiB, bare tray {bm:.1f} MiB, ratio {am / bm:.2f} "
          "(target ≤ 1.3)")


if __name__ == "__main__":
    main()
