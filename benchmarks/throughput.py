"""Upload throughput of many small files through the mount, against a throttling cloud.

200 small files (4 KiB each) are written through a FUSE mount of the emulated OneDrive, and
we time from the first write until every file has landed in the cloud (``get_file``), once
with the app's defaults (``MountOptions().global_flags()``: tpslimit, burst, transfers,
checkers, flags of the account's own rclone) and once with rclone's defaults (no limits); the
VFS options are the same for both. For Microsoft's documented throttling model see
``benchmarks/throttling.py``. The emulated Microsoft Graph throttles while the runs go:

- ``rate`` (default): like the real service, a client that sends more than ``--limit``
  Graph requests in one second gets 429 with Retry-After 1 on every Graph request for 1 s;
- ``every``: every ``--every``-th Graph request gets 429 with Retry-After 1.

Each run is bounded (``--max-seconds``). Prints both times, the 429s each run got, and the
ratio ours/rclone defaults (target ≤ 1.1: our request pacing must not cost time).

    .venv/bin/python -m benchmarks.throughput [--files 200] [--pattern rate|every]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import deque
from typing import Any

from benchmarks.rig import Rig, rig
from onedrive_gui.core.drives.mounts import MountManager
from onedrive_gui.core.settings import MountOptions
from tests.fakecloud import graph
from tests.fakecloud.cloud import FakeCloud
from tests.fakecloud.state import ThrottleRule


class Throttler:
    """Drives the emulated cloud's throttling from the Graph requests it has seen."""

    def __init__(self, cloud: FakeCloud, pattern: str, limit: int, every: int) -> None:
        self.cloud = cloud
        self.pattern = pattern
        self.limit = limit
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._seen = len(cloud.state.requests)
        self._graph_count = 0
        self._recent: deque[float] = deque()
        self._rule: ThrottleRule | None = None
        self._penalty_until = 0.0

    def __enter__(self) -> Throttler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        with self.cloud.state.lock:
            self.cloud.state.throttles.clear()

    def _new_graph_requests(self) -> list[float]:
        st = self.cloud.state
        with st.lock:
            new = st.requests[self._seen:]
            self._seen = len(st.requests)
        return [r.time for r in new if r.host == graph.HOST]

    def _loop(self) -> None:
        st = self.cloud.state
        while not self._stop.wait(0.005):
            times = self._new_graph_requests()
            now = time.time()
            if self.pattern == "every":
                for _ in times:
                    self._graph_count += 1
                    if self._graph_count % self.every == self.every - 1:
                        self.cloud.throttle(1, retry_after=1)  # the next one gets a 429
                continue
            if self._rule is not None and now >= self._penalty_until:
                with st.lock:
                    st.throttles = [r for r in st.throttles if r is not self._rule]
                self._rule = None
            self._recent.extend(times)
            while self._recent and self._recent[0] < now - 1.0:
                self._recent.popleft()
            if self._rule is None and len(self._recent) > self.limit:
                self._rule = ThrottleRule(10**9, 429, 1, graph.HOST, "/v1.0/")
                self._penalty_until = now + 1.0
                with st.lock:
                    st.throttles.append(self._rule)


def throttled_count(cloud: FakeCloud, since: int) -> int:
    with cloud.state.lock:
        return sum(1 for r in cloud.state.requests[since:] if r.status == 429)


def one_run(r: Rig, label: str, config: dict[str, Any] | None, files: int, size: int,
            max_seconds: float, throttler_args: tuple[str, int, int]) -> tuple[float, int]:
    """Seconds from the first write until all files are in the cloud, and the 429s served."""
    folder = f"bench-{label}-{time.monotonic_ns()}"
    mp = r.mount_point(folder)
    opts = MountOptions()
    mount_opt, vfs_opt = opts.to_rc()
    manager = MountManager(r.new_rcd)
    manager.mount("work", "work:", str(mp), mount_opt, vfs_opt, config)
    payloads = {f"f{i:03d}.bin": os.urandom(size) for i in range(files)}
    first_request = len(r.cloud.state.requests)
    try:
        with Throttler(r.cloud, *throttler_args):
            t0 = time.perf_counter()
            (mp / folder).mkdir()
            for name, data in payloads.items():
                (mp / folder / name).write_bytes(data)
            pending = dict(payloads)
            deadline = time.monotonic() + max_seconds
            while pending:
                for name in list(pending):
                    if r.cloud.get_file(r.defaults.drive_id, f"/{folder}/{name}") == \
                            pending[name]:
                        del pending[name]
                if not pending:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{label}: {len(pending)} of {files} files not in the "
                                     f"cloud after {max_seconds:.0f} s")
                time.sleep(0.1)
            elapsed = time.perf_counter() - t0
    finally:
        manager.shutdown()
    return elapsed, throttled_count(r.cloud, first_request)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--size", type=int, default=4096, help="bytes per file")
    ap.add_argument("--pattern", choices=("rate", "every"), default="rate")
    ap.add_argument("--limit", type=int, default=10,
                    help="rate pattern: Graph requests per second before 429s")
    ap.add_argument("--every", type=int, default=20, help="every pattern: every N-th request")
    ap.add_argument("--max-seconds", type=float, default=150.0, help="bound for one run")
    args = ap.parse_args()
    throttler_args = (args.pattern, args.limit, args.every)
    desc = (f"> {args.limit} Graph requests/s → 429 Retry-After 1 for 1 s"
            if args.pattern == "rate" else f"every {args.every}th Graph request → 429 "
            "Retry-After 1")
    with rig(("work",)) as r:
        ours, ours_429 = one_run(r, "ours", MountOptions().global_flags(), args.files,
                                 args.size, args.max_seconds, throttler_args)
        base, base_429 = one_run(r, "rclone", None, args.files, args.size, args.max_seconds,
                                 throttler_args)
    print(f"throttling: {desc}")
    print(f"throughput, {args.files} × {args.size // 1024} KiB written → all in the cloud "
          f"({args.pattern}): ours {ours:.1f} s ({ours_429} × 429), rclone defaults "
          f"{base:.1f} s ({base_429} × 429), ratio {ours / base:.2f} (target ≤ 1.1)")


if __name__ == "__main__":
    main()
