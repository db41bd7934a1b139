"""Under Microsoft's documented throttling: the app's defaults vs rclone's, in the same run.

The emulated cloud throttles as Microsoft documents it for SharePoint/OneDrive
(tests/fakecloud/throttling.py: resource units per app per tenant per minute by tenant size,
3,000 requests per user per 5 minutes, costs 1/2/5 RU, Retry-After, refused requests count).
Two workloads, each run twice on a fresh mount of a fresh drive — the app's way (its
MountManager, its own rclone started with the account's limits, ``MountOptions()``: uploads
held, checked against the cloud and paced by its upload scheduler) and plain rclone (an rc
``mount/mount`` of rclone's defaults on an rclone without limits: no scheduler, no
read-ahead; cache mode "writes" in both, needed to write through a mount):

- ``write``: ``--files`` small files written through the mount until all are in the cloud;
- ``list``: a cold listing (``os.walk`` with 8 walkers at once, as a file manager or a search
  indexer) of a tree of ``--items`` items (folders of ``--per-folder`` files).

Prints, per workload: completion time, requests, 429s, and the ratios rclone/ours (time:
target ≥ 1.5) and 429s saved (target ≥ 90 %); for the writes also issue 23's ratios ours /
plain rclone: requests (≤ 1.05), time (≤ 1.1), 429s (≤ 30 %). ``--scale`` shrinks the
model's windows and budgets together (the documented rate stays; shorter runs while
developing — but a pacer tuned to Microsoft's minute meets a shorter window differently).

    .venv/bin/python -m benchmarks.throttling [--files 1000] [--items 5000] [--only write]
        [--second-session]
"""

from __future__ import annotations

import argparse
import os
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.rig import Rig, rig
from onedrive_gui.core.drives.mounts import MountManager
from onedrive_gui.core.drives.pacing import RateMemory, pacing_key
from onedrive_gui.core.settings import MountOptions
from tests.fakecloud import graph
from tests.fakecloud.throttling import ThrottlingModel

# rclone's own VFS defaults (rclone mount --help), cache mode "writes" as both need it
RCLONE_VFS = {"CacheMode": "writes", "DirCacheTime": "5m", "PollInterval": "1m",
              "WriteBack": "5s", "CacheMaxAge": "1h", "CacheMaxSize": "off"}


@dataclass
class Result:
    seconds: float
    requests: int
    throttled: int


KINDS = False  # --kinds: print what the requests of each run were for
TPSLIMIT: float | None = None  # --tpslimit: the app's request limit instead of its default


def _setups(label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(vfsOpt, limits) of one side."""
    if label == "ours":
        opts = MountOptions() if TPSLIMIT is None else MountOptions(tpslimit=TPSLIMIT)
        return opts.to_rc()[1], opts.global_flags()
    return dict(RCLONE_VFS), {}


def _kind(q: Any) -> str:
    """What one Graph request was for (the breakdown printed with --kinds)."""
    if q.host == graph.UPLOAD_HOST:
        return "fragment"
    if q.path.endswith("/createUploadSession"):
        return "upload session"
    if q.path.endswith("/children") or "/delta" in q.path:
        return "listing"
    if q.path.endswith("/copy"):
        return "copy"
    return f"{q.method} item"


def _counts(r: Rig, since: int) -> tuple[int, int]:
    hosts = (graph.HOST, graph.UPLOAD_HOST, graph.DOWNLOAD_HOST)
    with r.cloud.state.lock:
        new = [q for q in r.cloud.state.requests[since:] if q.host in hosts]
    if KINDS:
        kinds = Counter(_kind(q) for q in new)
        print("  requests: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()),
              flush=True)
        if new:
            t0 = new[0].time
            refused = [f"{q.time - t0:.0f}s {_kind(q)}" for q in new if q.status in (429, 503)]
            print("  refused at: " + (", ".join(refused) or "none"), flush=True)
    return len(new), sum(1 for q in new if q.status in (429, 503))


def _new_drive(r: Rig, name: str) -> str:
    """A fresh drive for *name*'s user (each run starts cold) — the remote points at it."""
    from onedrive_gui.core.rclone import remotes

    drive = r.cloud.add_drive(r.defaults.user_upn, name=name, default=False)
    rcd = r.new_rcd(name)
    try:
        remotes.update_backend_options(rcd.start(), name, {"drive_id": drive})
    finally:
        rcd.stop()
    return drive


def run_write(r: Rig, label: str, model: ThrottlingModel, files: int, size: int,
              max_seconds: float) -> Result:
    vfs_opt, limits = _setups(label)
    drive = _new_drive(r, label)
    if label == "rclone":  # plain rclone: no upload scheduler, no read-ahead
        plain = PlainMount(r, label, vfs_opt)
        mp, close = plain.mount(), plain.close
    else:
        mp = r.mount_point(f"write-{label}-{time.monotonic_ns()}")
        # as the app: the rate learnt is remembered per app registration and tenant
        manager = MountManager(r.new_rcd, rates=RateMemory(r.tmp / "upload-rates.json"))
        manager.mount(label, f"{label}:", str(mp), {}, vfs_opt, limits,
                      pacing_key=pacing_key(r.defaults.client_id, "common"))
        close = lambda: manager.shutdown(upload_timeout=0)  # noqa: E731
    payloads = {f"f{i:04d}.bin": os.urandom(size) for i in range(files)}
    try:
        os.listdir(mp)
        since = len(r.cloud.state.requests)
        r.cloud.set_throttling(model.scaled(1.0))  # a fresh model: nothing spent yet
        t0 = time.perf_counter()
        (mp / "batch").mkdir()
        for name, data in payloads.items():
            (mp / "batch" / name).write_bytes(data)
        deadline = time.monotonic() + max_seconds
        while True:
            have = {p for p in r.cloud.list_paths(drive) if p.startswith("/batch/")}
            if len(have) >= files and all(
                    r.cloud.get_file(drive, f"/batch/{n}") == d for n, d in payloads.items()):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"write/{label}: {files - len(have)} of {files} files not "
                                 f"in the cloud after {max_seconds:.0f} s")
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        requests, throttled = _counts(r, since)
    finally:
        r.cloud.set_throttling(None)
        close()
    return Result(elapsed, requests, throttled)


def make_tree(r: Rig, drive: str, items: int, per_folder: int) -> int:
    """Folders of *per_folder* files, *items* items in all; returns the number of files."""
    state = r.cloud.state
    folders = max(1, items // (per_folder + 1))
    files = 0
    for f in range(folders):
        state.make_folder(drive, f"/tree/d{f:04d}")
        for i in range(per_folder):
            state.put_file(drive, f"/tree/d{f:04d}/x{i:03d}.txt", b"x")
            files += 1
    return files


def walk_parallel(root: Path, walkers: int = 8) -> int:
    """Every entry under *root*, listing up to *walkers* folders at once."""
    todo: queue.Queue[Path | None] = queue.Queue()
    todo.put(root)
    seen = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        nonlocal seen
        while True:
            folder = todo.get()
            if folder is None:
                return
            try:
                with os.scandir(folder) as it:
                    for entry in it:
                        with lock:
                            seen += 1
                        if entry.is_dir(follow_symlinks=False):
                            todo.put(Path(entry.path))
            except OSError as exc:
                errors.append(exc)
            finally:
                todo.task_done()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(walkers)]
    for t in threads:
        t.start()
    todo.join()
    for _ in threads:
        todo.put(None)
    if errors:
        raise SystemExit(f"listing failed: {errors[0]}")
    return seen


class PlainMount:
    """rclone's defaults: a plain rc ``mount/mount`` of *label*'s remote, delta off (rclone's
    default), on an rclone without limits — no MountManager (which reads drives ahead)."""

    def __init__(self, r: Rig, label: str, vfs_opt: dict[str, Any]) -> None:
        self.rcd = r.new_rcd(label)
        self.client = self.rcd.start()
        self.client.config_update(label, {"delta": "false", "config_refresh_token": "false"},
                                  {"nonInteractive": True})
        self.label, self.vfs_opt = label, vfs_opt
        self.mp = r.mount_point(f"plain-{label}-{time.monotonic_ns()}")

    def mount(self) -> Path:
        self.client.mount(f"{self.label}:", str(self.mp), mount_opt={}, vfs_opt=self.vfs_opt,
                          timeout=120)
        return self.mp

    def close(self) -> None:
        try:
            self.client.unmount(str(self.mp), timeout=60)
        finally:
            self.rcd.stop()


def run_list(r: Rig, label: str, model: ThrottlingModel, items: int, per_folder: int) -> Result:
    vfs_opt, limits = _setups(label)
    drive = _new_drive(r, label)
    make_tree(r, drive, items, per_folder)
    if label == "rclone":
        plain = PlainMount(r, label, vfs_opt)
        mp, close = plain.mount(), plain.close
    else:
        mp = r.mount_point(f"list-{label}-{time.monotonic_ns()}")
        manager = MountManager(r.new_rcd)
        manager.mount(label, f"{label}:", str(mp), {}, vfs_opt, limits)
        while manager.indexer.status(label).indexing or not manager.indexer.status(
                label).state:  # the read-ahead after the mount (core/drives/indexing.py)
            time.sleep(0.02)
        close = lambda: manager.shutdown(upload_timeout=0)  # noqa: E731
    try:
        since = len(r.cloud.state.requests)
        r.cloud.set_throttling(model.scaled(1.0))
        t0 = time.perf_counter()
        seen = walk_parallel(mp / "tree")
        elapsed = time.perf_counter() - t0
        requests, throttled = _counts(r, since)
        expected = items // (per_folder + 1) * (per_folder + 1)
        if seen != expected:
            raise SystemExit(f"list/{label}: saw {seen} entries, expected {expected}")
    finally:
        r.cloud.set_throttling(None)
        close()
    return Result(elapsed, requests, throttled)


def report(what: str, ours: Result, base: Result) -> str:
    speed = base.seconds / ours.seconds if ours.seconds else float("inf")
    saved = (1 - ours.throttled / base.throttled) * 100 if base.throttled else 0.0
    return (f"{what}: ours {ours.seconds:.1f} s, {ours.requests} requests, "
            f"{ours.throttled} × 429; rclone defaults {base.seconds:.1f} s, {base.requests} "
            f"requests, {base.throttled} × 429; speed-up {speed:.2f}× (target ≥ 1.5), "
            f"429s saved {saved:.0f} % (target ≥ 90 %)")


def report_uploads(ours: Result, base: Result) -> str:
    """Issue 23's targets for uploads through the app's scheduler vs plain rclone."""
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×" if b else ("1.00×" if a == b else "∞")
    share = f"{ours.throttled / base.throttled * 100:.0f} %" if base.throttled else (
        "0 %" if not ours.throttled else "∞")
    return (f"uploads vs plain rclone: time {ratio(ours.seconds, base.seconds)} (target ≤ 1.1), "
            f"requests {ours.requests} / {base.requests} = "
            f"{ratio(ours.requests, base.requests)} (target ≤ 1.05), "
            f"429s {ours.throttled} / {base.throttled} = {share} of rclone's (target ≤ 30 %)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--size", type=int, default=4096, help="bytes per file")
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--per-folder", type=int, default=19, help="files per folder")
    ap.add_argument("--licences", type=int, default=1000, help="tenant size (budget band)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="model windows and budgets × this (rate unchanged)")
    ap.add_argument("--ru-per-minute", type=int, default=None,
                    help="the app's budget per minute instead of the tenant band's")
    ap.add_argument("--fragment-cost", type=int, default=2,
                    help="RU of an upload-session fragment (Microsoft does not document it)")
    ap.add_argument("--only", choices=("write", "list"), default=None)
    ap.add_argument("--max-seconds", type=float, default=900.0, help="bound for one run")
    ap.add_argument("--tpslimit", type=float, default=None,
                    help="the app's requests a second (default: MountOptions' default)")
    ap.add_argument("--second-session", action="store_true",
                    help="write again through the app after plain rclone: a new session "
                         "that starts under the rate the first one learnt")
    ap.add_argument("--kinds", action="store_true",
                    help="print what each run's requests were for")
    args = ap.parse_args()
    global TPSLIMIT, KINDS
    TPSLIMIT, KINDS = args.tpslimit, args.kinds
    model = ThrottlingModel.for_tenant(args.licences)
    if args.ru_per_minute:
        model = replace(model, app_ru_per_window=args.ru_per_minute)
    model = replace(model, fragment_cost=args.fragment_cost).scaled(args.scale)
    print(f"model: {model.app_ru_per_window} RU per {model.app_window:.0f} s per app, "
          f"{model.user_requests_per_window} requests per {model.user_window:.0f} s per user "
          f"(tenant of ≤ {args.licences} licences, scale {args.scale:g}), fragments "
          f"{model.fragment_cost} RU", flush=True)
    with rig(("ours", "rclone")) as r:
        if args.only in (None, "write"):
            ours = run_write(r, "ours", model, args.files, args.size, args.max_seconds)
            base = run_write(r, "rclone", model, args.files, args.size, args.max_seconds)
            print(report(f"write {args.files} × {args.size // 1024} KiB until in the cloud",
                         ours, base), flush=True)
            print(report_uploads(ours, base), flush=True)
            if args.second_session:  # the app again: it starts under the rate it learnt
                again = run_write(r, "ours", model, args.files, args.size, args.max_seconds)
                print(f"second session of the app (the rate remembered from the first): "
                      f"{again.seconds:.1f} s, {again.requests} requests, {again.throttled} × "
                      f"429; time {again.seconds / base.seconds:.2f}× plain rclone's",
                      flush=True)
        if args.only in (None, "list"):
            ours = run_list(r, "ours", model, args.items, args.per_folder)
            base = run_list(r, "rclone", model, args.items, args.per_folder)
            print(report(f"cold listing of {args.items} items", ours, base), flush=True)


if __name__ == "__main__":
    main()
