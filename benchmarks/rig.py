"""Shared set-up for the benchmarks: the emulated Microsoft cloud (tests/fakecloud), an
encrypted rclone config with OneDrive remotes on it, and the app's rclone engine pieces.

Run benchmarks from the repository root with the venv's Python, e.g.
``.venv/bin/python -m benchmarks.mount_latency``. Only loopback traffic.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onedrive_gui.core.rclone import remotes
from onedrive_gui.core.rclone.binary import RcloneBinary, locate_rclone
from onedrive_gui.core.rclone.process import Rcd
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.state import AccessToken, RefreshToken

PASSWORD = "benchmark-config-password"


@dataclass
class Rig:
    tmp: Path
    cloud: FakeCloud
    defaults: Defaults
    rclone: RcloneBinary
    config: Path

    def new_rcd(self, name: str = "work", limits: dict[str, Any] | None = None,
                log_level: str = "INFO") -> Rcd:
        """A MountManager's rcd_factory: account *name*'s rclone with its *limits* (its own
        config file, as the app's engine gives each account)."""
        return Rcd(self.rclone, config_path=self.config_of(name), config_password=PASSWORD,
                   cache_dir=self.tmp / "cache", log_file=self.tmp / f"rclone-{name}.log",
                   log_level=log_level, limits=limits)

    def config_of(self, name: str) -> Path:
        return self.tmp / "configs" / f"{name}.conf"

    def mount_point(self, name: str) -> Path:
        p = self.tmp / "mnt" / name
        p.mkdir(parents=True, exist_ok=True)
        return p


def _token(cloud: FakeCloud, d: Defaults) -> str:
    now = time.time()
    access, refresh = "EwB" + secrets.token_urlsafe(900), "M.C5" + secrets.token_urlsafe(200)
    cloud.state.access_tokens[access] = AccessToken(access, d.user_upn, d.client_id,
                                                    ["Files.ReadWrite.All"], now + 3600)
    cloud.state.refresh_tokens[refresh] = RefreshToken(refresh, d.user_upn, d.client_id,
                                                       ["offline_access"], now)
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
    return json.dumps({"access_token": access, "token_type": "Bearer",
                       "refresh_token": refresh, "expiry": expiry})


@contextmanager
def rig(remote_names: tuple[str, ...] = ("work",)) -> Iterator[Rig]:
    tmp = Path(tempfile.mkdtemp(prefix="odg-bench-"))
    cloud = FakeCloud(tmp / "cloud").start()
    saved = dict(os.environ)
    try:
        d = cloud.setup_default()
        os.environ.update(cloud.env())
        binary = locate_rclone()
        r = Rig(tmp, cloud, d, binary, tmp / "configs")
        for name in remote_names:  # one config per account, as the app keeps them
            remotes.encrypt_config(binary, r.config_of(name), PASSWORD)
            rcd = r.new_rcd(name)
            rc = rcd.start()
            remotes.create_onedrive_remote(
                rc, name, client_id=d.client_id, client_secret=d.secret,
                token_json=_token(cloud, d), drive_id=d.drive_id, drive_type="personal",
                tenant="common",
            )
            rcd.stop()
        yield r
    finally:
        for line in open("/proc/self/mountinfo", encoding="utf-8"):
            mp = line.split()[4]
            if mp.startswith(str(tmp)):
                subprocess.run(["fusermount3", "-u", "-z", mp], check=False)
        os.environ.clear()
        os.environ.update(saved)
        cloud.stop()


def wait_listing(path: Path, expect: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if expect in os.listdir(path):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not list {expect!r} within {timeout} s")
        time.sleep(0.01)


def median_ratio(ours: list[float], base: list[float]) -> float:
    return statistics.median(ours) / statistics.median(base)


def timed(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
