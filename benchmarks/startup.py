"""Start-up cost of the desktop app vs a bare PySide6 tray app, in the same run: the time
from starting the process until its icon is **in the tray**.

The tray is a real one (trayer on the X display, as a desktop has); the moment an icon is in
it is when trayer maps the socket window it embedded the icon into (a MapNotify under
trayer's panel, watched with ``xev``). The app: ``python -m onedrive_gui`` as a user starts
it, with one configured (not mounted) account; the baseline: a minimal PySide6 program that
builds a QApplication and a QSystemTrayIcon with an icon and shows it. Each is stopped
(SIGTERM) once its icon is in the tray; started alternately; we report the median time to
icon and the peak RSS (from wait4), and their ratios. Targets: time ≤ 1.25, RSS ≤ 1.3.

    xvfb-run -a .venv/bin/python -m benchmarks.startup [--runs 15]

Run it with a Secret Service too (scripts/test.sh's dbus-run-session + gnome-keyring), as a
desktop has: the app must not wait for the keyring before its icon shows.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BARE = r"""
import sys
from PySide6.QtGui import QIcon, QPixmap, QColor
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
app = QApplication(sys.argv[:1])
pm = QPixmap(32, 32); pm.fill(QColor("#0a64d8"))
tray = QSystemTrayIcon(QIcon(pm)); tray.setToolTip("bare"); tray.show()
app.exec()
"""
ICON_TIMEOUT = 30.0


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


class TrayWatch:
    """The moments trayer maps a socket window (an icon just embedded) under its panel."""

    def __init__(self) -> None:
        tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                              check=True).stdout
        m = re.search(r'(0x[0-9a-f]+) "panel": \("panel" "trayer"\)', tree)
        if m is None:
            raise SystemExit("trayer's panel window not found")
        self.events: queue.Queue[float] = queue.Queue()
        self.proc = subprocess.Popen(["stdbuf", "-oL", "xev", "-id", m.group(1), "-event",
                                      "substructure"], stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("MapNotify event"):
                self.events.put(time.perf_counter())

    def drain(self) -> None:
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def run(cmd: list[str], env: dict[str, str], watch: TrayWatch) -> tuple[float, float]:
    """(seconds from start until its icon is in the tray, peak RSS in MiB)."""
    time.sleep(0.3)  # the previous icon's socket is gone
    watch.drain()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        shown = watch.events.get(timeout=ICON_TIMEOUT)
    except queue.Empty:
        proc.kill()
        raise SystemExit(f"{cmd}: no icon in the tray within {ICON_TIMEOUT:.0f} s: "
                         f"{proc.stderr.read().decode() if proc.stderr else ''}") from None
    proc.send_signal(signal.SIGTERM)
    _, _status, usage = os.wait4(proc.pid, 0)
    return shown - t0, usage.ru_maxrss / 1024.0


def tray_host() -> subprocess.Popen[bytes]:
    """A system tray (trayer) on this display, as a desktop has."""
    import shutil

    if not os.environ.get("DISPLAY") or shutil.which("trayer") is None \
            or shutil.which("xev") is None:
        raise SystemExit("needs an X display (xvfb-run), trayer and xev (x11-utils)")
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
    watch = TrayWatch()
    try:
        measure(args.runs, watch)
    finally:
        watch.close()
        host.terminate()
        host.wait(5)


def measure(runs: int, watch: TrayWatch) -> None:
    env = {**os.environ, **settings_home()}
    # Measure what a user's machine does: Python caches bytecode (this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which would recompile every module of the app on each start;
    # the frozen build ships compiled modules anyway).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "onedrive_gui"),
                           quiet=1)
    app_cmd = [sys.executable, "-m", "onedrive_gui"]
    bare_cmd = [sys.executable, "-c", BARE]
    run(app_cmd, env, watch)
    run(bare_cmd, env, watch)  # warm-up
    app_t, app_m, bare_t, bare_m = [], [], [], []
    for _ in range(runs):
        t, m = run(app_cmd, env, watch)
        app_t.append(t)
        app_m.append(m)
        t, m = run(bare_cmd, env, watch)
        bare_t.append(t)
        bare_m.append(m)
    at, bt = statistics.median(app_t), statistics.median(bare_t)
    am, bm = statistics.median(app_m), statistics.median(bare_m)
    print(f"start-up to icon in the tray: app {at * 1000:.0f} ms, bare tray {bt * 1000:.0f} ms, "
          f"ratio {at / bt:.2f} (target ≤ 1.25)")
    print(f"peak RSS: app {am:.1f} MiB, bare tray {bm:.1f} MiB, ratio {am / bm:.2f} "
          "(target ≤ 1.3)")


if __name__ == "__main__":
    main()
