"""Mount latency and polling cost, against the emulated cloud, with the real rclone and FUSE.

1. Time from the mount request to the first successful directory listing through the
   mount: the app's path (MountManager starting its rcd, rc ``mount/mount``) vs a direct
   ``rclone mount`` of the same encrypted remote, alternated, repeated. Target ratio ≤ 1.2.
2. Polling cost: CPU seconds (our process + rcd) per minute of monitoring with 1 and with
   10 mounts (one rc round per tick). Printed as a ratio 10 vs 1.

    .venv/bin/python -m benchmarks.mount_latency [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import time

from benchmarks.rig import PASSWORD, Rig, median_ratio, rig, wait_listing
from onedrive_gui.core.drives.mounts import MountManager
from onedrive_gui.core.rclone.binary import child_env
from onedrive_gui.core.settings import MountOptions


def app_mount(r: Rig, name: str = "work") -> float:
    mp = r.mount_point(f"app-{time.monotonic_ns()}")
    opts = MountOptions()
    mount_opt, vfs_opt = opts.to_rc()
    manager = MountManager(r.new_rcd)
    t0 = time.perf_counter()
    manager.mount(name, f"{name}:", str(mp), mount_opt, vfs_opt, opts.global_flags())
    wait_listing(mp, "Documents")
    elapsed = time.perf_counter() - t0
    manager.shutdown()
    return elapsed


def direct_mount(r: Rig, name: str = "work") -> float:
    mp = r.mount_point(f"direct-{time.monotonic_ns()}")
    env = child_env({"RCLONE_CONFIG_PASS": PASSWORD})
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(r.rclone.path), "mount", f"{name}:", str(mp), "--config", str(r.config_of(name)),
         "--cache-dir", str(r.tmp / "cache-direct"), "--vfs-cache-mode", "writes",
         "--ask-password=false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_listing(mp, "Documents")
    elapsed = time.perf_counter() - t0
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    return elapsed


def cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def polling_cost(r: Rig, mounts: int, seconds: float) -> float:
    """CPU seconds per minute spent by our process + the accounts' rclones while monitoring
    *mounts* mounts (one account each)."""
    manager = MountManager(r.new_rcd, poll_interval=1.0)
    opts = MountOptions()
    mount_opt, vfs_opt = opts.to_rc()
    for i in range(mounts):
        name = f"acc{i}"
        manager.mount(name, f"{name}:", str(r.mount_point(f"poll-{mounts}-{i}")), mount_opt,
                      vfs_opt, opts.global_flags())
    pids = [rcd.pid for i in range(mounts)  # one rclone per account
            if (rcd := manager.rcd_of(f"acc{i}")) is not None and rcd.pid is not None]
    assert len(pids) == mounts
    time.sleep(2)  # let mounting settle
    ours0, rcd0 = time.process_time(), sum(map(cpu_of, pids))
    time.sleep(seconds)
    used = (time.process_time() - ours0) + (sum(map(cpu_of, pids)) - rcd0)
    manager.shutdown()
    return used * 60.0 / seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--poll-seconds", type=float, default=20.0)
    args = ap.parse_args()
    names = ("work", *(f"acc{i}" for i in range(10)))
    with rig(names) as r:
        app_mount(r)  # warm-up: page cache, rclone binary
        direct_mount(r)
        ours, base = [], []
        for _ in range(args.runs):
            ours.append(app_mount(r))
            base.append(direct_mount(r))
        print(f"mount → first listing, app (rcd + rc mount/mount): median "
              f"{statistics.median(ours) * 1000:.0f} ms  {[round(x * 1000) for x in ours]}")
        print(f"mount → first listing, direct rclone mount:        median "
              f"{statistics.median(base) * 1000:.0f} ms  {[round(x * 1000) for x in base]}")
        print(f"ratio app/direct: {median_ratio(ours, base):.2f}  (target ≤ 1.2)")
        one = polling_cost(r, 1, args.poll_seconds)
        ten = polling_cost(r, 10, args.poll_seconds)
        print(f"polling CPU per minute: 1 mount {one:.2f} s, 10 mounts {ten:.2f} s, "
              f"ratio 10/1: {ten / one:.2f}")


if __name__ == "__main__":
    main()
