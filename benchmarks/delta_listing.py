"""Browsing a cold drive: the app (the whole tree read ahead through the drive's delta after
the mount) vs rclone's defaults (one listing per folder), in the same run, under Microsoft's
documented throttling (tests/fakecloud/throttling.py: 1,250 resource units per app per
minute, 2 per listing or delta without a token, 1 per later delta page).

Each side mounts a fresh drive holding ``--files`` files in folders of ``--per-folder``:

- ours: the app's MountManager and ``MountOptions()`` (its rclone with the account's
  limits); the remote has ``delta = true`` as the app writes it; the clock runs from the
  mount call until the read-ahead is done and a walk of the whole tree (folder after
  folder, as ``find``) has finished;
- rclone's defaults: a plain rc ``mount/mount`` with rclone's VFS defaults on the same kind
  of rclone without limits, the remote without delta (rclone's default); from the mount call
  to the end of the same walk.

Prints time, Graph requests, 429s and the ratios (targets: ≥ 1.5× faster, ≤ 20 % of the
requests). ``--memory-files N`` also measures the account's rclone at N files (RSS after the
read-ahead minus before it, per 100,000 items) and how long that first delta listing took.

    .venv/bin/python -m benchmarks.delta_listing [--files 5000] [--per-folder 20]
        [--memory-files 100000]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.rig import Rig, rig
from benchmarks.throttling import RCLONE_VFS, PlainMount, _counts, _new_drive
from onedrive_gui.core.drives.indexing import READY
from onedrive_gui.core.drives.mounts import MountManager
from onedrive_gui.core.settings import MountOptions
from tests.fakecloud.throttling import ThrottlingModel


@dataclass
class Result:
    seconds: float
    requests: int
    throttled: int
    rss_before: float = 0.0  # MiB, the account's rclone once mounted
    rss_after: float = 0.0  # ... once read ahead
    index_seconds: float = 0.0  # mount call -> read ahead


def make_files(r: Rig, drive: str, files: int, per_folder: int) -> int:
    """*files* files in folders of *per_folder*; the number of entries a walk sees."""
    state = r.cloud.state
    folders = max(1, files // per_folder)
    for f in range(folders):
        for i in range(per_folder):
            state.put_file(drive, f"/tree/d{f:04d}/x{i:03d}.txt", b"x")
    return folders * (per_folder + 1)


def walk_find(root: Path) -> int:
    """Every entry under *root*, one folder after the other, as ``find`` does."""
    seen = 0
    todo = [root]
    while todo:
        with os.scandir(todo.pop()) as it:
            for entry in it:
                seen += 1
                if entry.is_dir(follow_symlinks=False):
                    todo.append(Path(entry.path))
    return seen


def rss_mib(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def run_ours(r: Rig, model: ThrottlingModel | None, files: int, per_folder: int,
             walk: bool = True) -> Result:
    drive = _new_drive(r, "ours")
    expected = make_files(r, drive, files, per_folder)
    opts = MountOptions()
    mount_opt, vfs_opt = opts.to_rc()
    mp = r.mount_point(f"ours-{time.monotonic_ns()}")
    manager = MountManager(r.new_rcd)
    since = len(r.cloud.state.requests)
    r.cloud.set_throttling(model.scaled(1.0) if model is not None else None)
    try:
        t0 = time.perf_counter()
        manager.mount("ours", "ours:", str(mp), mount_opt, vfs_opt, opts.global_flags(),
                      prefill_max_items=opts.prefill_max_items)
        rcd = manager.rcd_of("ours")
        rss_before = rss_mib(rcd.pid if rcd else None)
        while (status := manager.indexer.status("ours")).state != READY:
            if status.state not in ("", "indexing"):
                raise SystemExit(f"ours: read-ahead ended as {status}")
            time.sleep(0.02)
        indexed = time.perf_counter() - t0
        rss_after = rss_mib(rcd.pid if rcd else None)
        if walk:
            seen = walk_find(mp / "tree")
            if seen != expected:
                raise SystemExit(f"ours: saw {seen} entries, expected {expected}")
        elapsed = time.perf_counter() - t0
        requests, throttled = _counts(r, since)
    finally:
        r.cloud.set_throttling(None)
        manager.shutdown(upload_timeout=0)
    return Result(elapsed, requests, throttled, rss_before, rss_after, indexed)


def run_rclone(r: Rig, model: ThrottlingModel, files: int, per_folder: int) -> Result:
    drive = _new_drive(r, "rclone")
    expected = make_files(r, drive, files, per_folder)
    plain = PlainMount(r, "rclone", dict(RCLONE_VFS))
    since = len(r.cloud.state.requests)
    r.cloud.set_throttling(model.scaled(1.0))
    try:
        t0 = time.perf_counter()
        seen = walk_find(plain.mount() / "tree")
        elapsed = time.perf_counter() - t0
        if seen != expected:
            raise SystemExit(f"rclone: saw {seen} entries, expected {expected}")
        requests, throttled = _counts(r, since)
    finally:
        r.cloud.set_throttling(None)
        plain.close()
    return Result(elapsed, requests, throttled)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, nargs="*", default=[5000])
    ap.add_argument("--per-folder", type=int, default=20)
    ap.add_argument("--licences", type=int, default=1000, help="tenant size (budget band)")
    ap.add_argument("--memory-files", type=int, default=0,
                    help="also measure the account's rclone at this many files")
    args = ap.parse_args()
    model = ThrottlingModel.for_tenant(args.licences)
    print(f"model: {model.app_ru_per_window} RU per {model.app_window:.0f} s per app",
          flush=True)
    with rig(("ours", "rclone")) as r:
        for files in args.files:
            ours = run_ours(r, model, files, args.per_folder)
            base = run_rclone(r, model, files, args.per_folder)
            folders = files // args.per_folder
            print(f"cold walk of {files} files in {folders} folders, mount to end of walk: "
                  f"ours {ours.seconds:.1f} s ({ours.index_seconds:.1f} s reading ahead), "
                  f"{ours.requests} requests, {ours.throttled} × 429; rclone defaults "
                  f"{base.seconds:.1f} s, {base.requests} requests, {base.throttled} × 429; "
                  f"speed-up {base.seconds / ours.seconds:.2f}× (target ≥ 1.5), requests "
                  f"{ours.requests / base.requests * 100:.0f} % of rclone's (target ≤ 20 %)",
                  flush=True)
        if args.memory_files:
            n = args.memory_files
            m = run_ours(r, model, n, args.per_folder, walk=False)
            items = n + n // args.per_folder
            per = (m.rss_after - m.rss_before) / items * 100_000
            print(f"memory: the account's rclone {m.rss_before:.0f} MiB mounted, "
                  f"{m.rss_after:.0f} MiB after reading ahead {items} items: {per:.0f} MiB "
                  f"per 100,000 items; first delta listing {m.index_seconds:.1f} s "
                  f"({m.requests} requests, {m.throttled} × 429)", flush=True)


if __name__ == "__main__":
    main()
