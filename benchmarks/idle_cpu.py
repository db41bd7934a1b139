"""CPU used while one mount sits idle: the app's way vs a bare ``rclone mount``.

Ours: a MountManager (1 s status polling, rclone's log passing through the app) with one
mount of the emulated OneDrive, the app's defaults; CPU seconds of this process (all threads)
plus its ``rclone rcd`` (from /proc/<pid>/stat) over ``--seconds``. Baseline: a direct
``rclone mount`` of the same remote, idle for the same time. Target: ours ≤ 1 % of one core.
Then the cost of one rclone per account: CPU and the rclones' RSS with 1 and with
``--accounts`` accounts mounted (target: ≤ 1 % of a core with 3).

    .venv/bin/python -m benchmarks.idle_cpu [--seconds 60] [--accounts 3]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import time

from benchmarks.mount_latency import cpu_of
from benchmarks.rig import PASSWORD, Rig, rig, wait_listing
from onedrive_gui.core.drives.mounts import MountManager
from onedrive_gui.core.rclone.binary import child_env
from onedrive_gui.core.settings import MountOptions

SETTLE = 3.0  # seconds after the mount before measuring


def ours(r: Rig, seconds: float) -> float:
    mp = r.mount_point("idle-app")
    opts = MountOptions()
    mount_opt, vfs_opt = opts.to_rc()
    manager = MountManager(r.new_rcd)
    try:
        manager.mount("work", "work:", str(mp), mount_opt, vfs_opt, opts.global_flags())
        wait_listing(mp, "Documents")
        rcd = manager.rcd
        assert rcd is not None and rcd.pid is not None
        time.sleep(SETTLE)
        self0, rcd0 = time.process_time(), cpu_of(rcd.pid)
        time.sleep(seconds)
        return (time.process_time() - self0) + (cpu_of(rcd.pid) - rcd0)
    finally:
        manager.shutdown()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def ours_accounts(r: Rig, names: tuple[str, ...], seconds: float) -> tuple[float, float]:
    """(CPU seconds of this process + every account's rclone over *seconds*, RSS MiB of
    those rclones) with one mount per account of *names* (one rclone each)."""
    opts = MountOptions()
    mount_opt, vfs_opt = opts.to_rc()
    manager = MountManager(r.new_rcd)
    try:
        for name in names:
            mp = r.mount_point(f"idle-{len(names)}-{name}")
            manager.mount(name, f"{name}:", str(mp), mount_opt, vfs_opt, opts.global_flags())
            wait_listing(mp, "Documents")
        pids = [rcd.pid for n in names
                if (rcd := manager.rcd_of(n)) is not None and rcd.pid is not None]
        assert len(pids) == len(names)
        time.sleep(SETTLE)
        self0, rcd0 = time.process_time(), sum(map(cpu_of, pids))
        time.sleep(seconds)
        cpu = (time.process_time() - self0) + (sum(map(cpu_of, pids)) - rcd0)
        return cpu, sum(map(rss_mib, pids))
    finally:
        manager.shutdown()


def direct(r: Rig, seconds: float) -> float:
    mp = r.mount_point("idle-direct")
    proc = subprocess.Popen(
        [str(r.rclone.path), "mount", "work:", str(mp), "--config", str(r.config_of("work")),
         "--cache-dir", str(r.tmp / "cache-direct"), "--vfs-cache-mode", "writes",
         "--ask-password=false"],
        env=child_env({"RCLONE_CONFIG_PASS": PASSWORD}), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listing(mp, "Documents")
        time.sleep(SETTLE)
        c0 = cpu_of(proc.pid)
        time.sleep(seconds)
        return cpu_of(proc.pid) - c0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0, help="measured idle time")
    ap.add_argument("--accounts", type=int, default=3,
                    help="also measure this many accounts mounted at once (0: skip)")
    args = ap.parse_args()
    many = tuple(f"acc{i}" for i in range(args.accounts))
    with rig(("work", *many)) as r:
        app = ours(r, args.seconds)
        base = direct(r, args.seconds)
        if many:
            one_cpu, one_rss = ours_accounts(r, many[:1], args.seconds)
            n_cpu, n_rss = ours_accounts(r, many, args.seconds)
            print(f"{len(many)} accounts mounted (one rclone each), idle {args.seconds:.0f} s: "
                  f"CPU 1 account {one_cpu:.2f} s ({one_cpu / args.seconds * 100:.2f} % of a "
                  f"core), {len(many)} accounts {n_cpu:.2f} s ({n_cpu / args.seconds * 100:.2f}"
                  f" % of a core; target ≤ 1 %); rclone RSS 1 account {one_rss:.0f} MiB, "
                  f"{len(many)} accounts {n_rss:.0f} MiB", flush=True)
    pct = app / args.seconds * 100
    ratio = f"{app / base:.2f}" if base > 0 else "inf"
    print(f"idle CPU over {args.seconds:.0f} s, one mount: ours {app:.2f} s ({pct:.2f} % of a "
          f"core), direct rclone mount {base:.2f} s, ratio {ratio} (target: ours ≤ 1 % of a "
          "core)")


if __name__ == "__main__":
    main()
