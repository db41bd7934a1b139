"""Paced uploads (issue 23, "Paced"): the upload scheduler releases files at a rate that
follows the cloud's throttling, and the rate it learned is remembered per app registration
and tenant, so the next session starts under the budget.

Real rclone, real FUSE, the emulated cloud throttling as Microsoft documents it
(tests/fakecloud/throttling.py). The pacer's logic itself: tests/core/test_pacing.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from onedrive_gui.core.drives.pacing import RateMemory, pacing_key
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.graph import HOST, UPLOAD_HOST
from tests.fakecloud.test_fakecloud import rclone_token, write_rclone_conf
from tests.fakecloud.throttling import ThrottlingModel

from .conftest import MountRig, wait_for

VFS = {"CacheMode": "writes", "WriteBack": "1s", "PollInterval": "10m"}
LIMITS = {"TPSLimit": 8.0, "TPSLimitBurst": 100, "Transfers": 4}  # a limit set by the user
FILES = 40
# a small budget: 100 resource units per 10 s (a small file costs about 4)
BUDGET = ThrottlingModel(app_ru_per_window=100, app_window=10.0, app_ru_per_day=10**9)


@pytest.fixture
def cloud_rig(rig: MountRig, fakecloud: FakeCloud,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MountRig, FakeCloud, Defaults]]:
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    write_rclone_conf(rig.tmp / "rclone.conf", d, rclone_token(fakecloud, d))
    yield rig, fakecloud, d


def _session(rig: MountRig, cloud: FakeCloud, d: Defaults, rates: RateMemory, key: str,
             folder: str) -> int:
    """Mount, write FILES small files under a fresh budget until all are in the cloud,
    shut down; the number of throttled answers."""
    mgr = rig.manager(rates=rates)
    mp = rig.mount_point(f"mnt-{folder}")
    mgr.mount("od", "od:", str(mp), {}, dict(VFS), dict(LIMITS), pacing_key=key)
    payloads = {f"f{i:03d}.bin": os.urandom(4096) for i in range(FILES)}
    since = len(cloud.state.requests)
    cloud.set_throttling(BUDGET.scaled(1.0))  # a fresh budget: nothing spent yet
    try:
        (mp / folder).mkdir()
        for name, data in payloads.items():
            (mp / folder / name).write_bytes(data)
        wait_for(lambda: all(cloud.get_file(d.drive_id, f"/{folder}/{n}") == data
                             for n, data in payloads.items()),
                 timeout=240, what=f"{FILES} files in the cloud")
    finally:
        cloud.set_throttling(None)
        mgr.shutdown(upload_timeout=0)
    with cloud.state.lock:
        return sum(1 for q in cloud.state.requests[since:]
                   if q.host in (HOST, UPLOAD_HOST) and q.status in (429, 503))


def test_the_learned_rate_starts_the_next_session_under_the_budget(
    cloud_rig: tuple[MountRig, FakeCloud, Defaults],
) -> None:
    """The first session meets the budget (429s), slows down and remembers; the second,
    with the same app registration and tenant, starts under it: no 429."""
    rig, cloud, d = cloud_rig
    rates = RateMemory(rig.tmp / "upload-rates.json")
    key = pacing_key(d.client_id, "common")
    first = _session(rig, cloud, d, rates, key, "first")
    assert first > 0
    learned, _ = rates.load(key)
    assert learned is not None
    second = _session(rig, cloud, d, rates, key, "second")
    assert second == 0
