"""Each account's limits, counted where they matter: at the emulated cloud's door.

The app's own engine (one encrypted config and one ``rclone rcd`` per account) and
MountManager, real rclone and FUSE, against the emulated Microsoft cloud. Requests are told
apart by the access token they carry (each account has its own).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from onedrive_gui.core.drives.mountpoints import fuse_mount_points
from onedrive_gui.core.drives.mounts import MountManager, MountState
from onedrive_gui.core.rclone import remotes
from onedrive_gui.core.rclone.engine import RcloneEngine
from onedrive_gui.core.system.paths import AppPaths
from onedrive_gui.core.system.secrets import SecretStore
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.test_fakecloud import rclone_token

from .conftest import wait_for

VFS = {"CacheMode": "writes"}
FOLDERS = 40


@dataclass
class App:
    cloud: FakeCloud
    paths: AppPaths
    store: SecretStore
    tmp: Path
    users: dict[str, Defaults] = field(default_factory=dict)
    engines: list[RcloneEngine] = field(default_factory=list)
    managers: list[MountManager] = field(default_factory=list)

    def engine(self) -> RcloneEngine:
        """A fresh start of the app's engine (as after a restart of the app)."""
        eng = RcloneEngine(self.paths, self.store)
        self.engines.append(eng)
        return eng

    def manager(self, engine: RcloneEngine) -> MountManager:
        mgr = MountManager(engine.rcd, poll_interval=0.5)
        self.managers.append(mgr)
        return mgr

    def add(self, engine: RcloneEngine, name: str, limits: dict[str, Any]) -> Defaults:
        """Account *name*: its own user and drive in the cloud, with FOLDERS folders."""
        base = next(iter(self.users.values()), None) or self.cloud.setup_default()
        upn = f"{name}@outlook.com"
        self.cloud.add_user(upn, name.title())
        drive = self.cloud.add_drive(upn)
        for i in range(FOLDERS):
            self.cloud.make_folder(drive, f"/folder{i:02d}")
        d = replace(base, user_upn=upn, drive_id=drive)
        self.users[name] = d
        rc = engine.client(name, limits)
        remotes.create_onedrive_remote(
            rc, name, client_id=d.client_id, client_secret=d.secret,
            token_json=json.dumps(rclone_token(self.cloud, d)), drive_id=d.drive_id,
            drive_type="personal", tenant="common")
        return d

    def mount(self, mgr: MountManager, name: str, limits: dict[str, Any]) -> Path:
        mp = self.tmp / "mnt" / name
        mp.mkdir(parents=True, exist_ok=True)
        # read-ahead off (Settings → Performance, 0): every folder is listed when opened,
        # which is what these tests count against the account's request limit
        assert mgr.mount(name, f"{name}:", str(mp), {}, VFS, limits,
                         prefill_max_items=0).state is MountState.MOUNTED
        return mp

    def graph_times(self, upn: str, since: float) -> list[float]:
        """When the cloud received Graph requests carrying one of *upn*'s access tokens."""
        st = self.cloud.state
        with st.lock:
            mine = {t for t, tok in st.access_tokens.items() if tok.upn == upn}
            return sorted(r.time for r in st.requests
                          if r.host == "graph.microsoft.com" and r.time >= since
                          and r.headers.get("authorization", "")[7:] in mine)


@pytest.fixture
def app(fuse: None, fakecloud: FakeCloud, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> Iterator[App]:
    fakecloud.apply_env(monkeypatch)  # rclone reaches the emulated cloud through its proxy
    root = tmp_path / "app"
    paths = AppPaths(root / "config", root / "data", root / "cache", root / "logs")
    store = SecretStore(f"onedrive-gui-test-{uuid.uuid4().hex}")
    a = App(fakecloud, paths, store, tmp_path)
    try:
        yield a
    finally:
        for mgr in a.managers:
            mgr.shutdown(upload_timeout=0)
        for eng in a.engines:
            eng.stop()
        store.delete_config_password()
        for mp in fuse_mount_points():
            if mp.startswith(str(tmp_path)):
                subprocess.run(["fusermount3", "-u", "-z", mp], check=False)


def list_all(mp: Path) -> None:
    """List every folder at once (40 threads), as a file manager opening a big tree."""
    assert len(os.listdir(mp)) == FOLDERS
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            os.listdir(mp / f"folder{i:02d}")
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(FOLDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def busiest_second(times: list[float]) -> int:
    """The most requests received within any one second."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_an_accounts_request_rate_is_honoured(app: App) -> None:
    limits = {"TPSLimit": 2.0, "TPSLimitBurst": 1}
    engine = app.engine()
    d = app.add(engine, "slow", limits)
    mp = app.mount(app.manager(engine), "slow", limits)
    t0 = time.time()
    list_all(mp)
    times = app.graph_times(d.user_upn, t0)
    assert len(times) >= FOLDERS  # each folder listed from the cloud
    # rclone's token bucket: 1 at once, then 2 a second -> never more than 3 in a second
    # (without the account's own rclone, 40 listings arrived within half a second)
    assert busiest_second(times) <= 3, times


def test_two_accounts_are_each_held_to_their_own_limit_at_once(app: App) -> None:
    slow, fast = {"TPSLimit": 2.0, "TPSLimitBurst": 1}, {"TPSLimit": 10.0, "TPSLimitBurst": 1}
    engine = app.engine()
    ds, df = app.add(engine, "slow", slow), app.add(engine, "fast", fast)
    mgr = app.manager(engine)
    mps, mpf = app.mount(mgr, "slow", slow), app.mount(mgr, "fast", fast)
    assert mgr.rcd_of("slow") is not mgr.rcd_of("fast")  # one rclone each
    t0 = time.time()
    both = [threading.Thread(target=list_all, args=(mp,)) for mp in (mps, mpf)]
    for t in both:
        t.start()
    for t in both:
        t.join(180)
    slow_times, fast_times = app.graph_times(ds.user_upn, t0), app.graph_times(df.user_upn, t0)
    assert len(slow_times) >= FOLDERS and len(fast_times) >= FOLDERS
    assert busiest_second(slow_times) <= 3, slow_times
    assert busiest_second(fast_times) <= 11, fast_times
    # the fast account was not held to the slow one's limit (no shared limiter)
    assert busiest_second(fast_times) > 3, fast_times


def test_two_accounts_renewing_their_sign_in_at_once_keep_working_after_a_restart(
        app: App) -> None:
    """rclone rewrites its whole config file when it saves a renewed token: with one file
    per account neither loses the other's. The emulated identity platform accepts each
    refresh token once, so a lost one would sign that account out for good."""
    app.cloud.access_token_lifetime = 13  # rclone renews ~10 s before expiry: at once
    app.cloud.state.single_use_refresh_tokens = True
    limits: dict[str, Any] = {}
    engine = app.engine()
    users = {name: app.add(engine, name, limits) for name in ("anna", "ben")}
    first = {name: json.loads(remotes.get_remote(engine.client(name), name)["token"])
             for name in users}
    mgr = app.manager(engine)
    mps = {name: app.mount(mgr, name, limits) for name in users}

    def renewed() -> bool:
        for mp in mps.values():
            (mp / f"touch-{time.monotonic_ns()}").mkdir()  # a Graph request: may renew
        return all(json.loads(remotes.get_remote(engine.client(n), n)["token"])
                   ["refresh_token"] != first[n]["refresh_token"] for n in users)

    wait_for(renewed, timeout=60, what="both accounts renewing their sign-in")
    mgr.shutdown()
    engine.stop()

    engine = app.engine()  # the app started again: each rclone reads its own config
    mgr = app.manager(engine)
    mps = {name: app.mount(mgr, name, limits) for name in users}
    before = {n: json.loads(remotes.get_remote(engine.client(n), n)["token"])["refresh_token"]
              for n in users}
    t_end = time.monotonic() + 20  # long enough for both to renew again
    while time.monotonic() < t_end:
        for mp in mps.values():
            (mp / f"again-{time.monotonic_ns()}").mkdir()
        time.sleep(0.5)
    for name in users:
        st = mgr.status(name)
        assert st.state is MountState.MOUNTED, st
        now = json.loads(remotes.get_remote(engine.client(name), name)["token"])
        assert now["refresh_token"] != before[name]  # renewed again with the saved token
    for d in users.values():
        assert any(p.startswith("/again-") for p in app.cloud.list_paths(d.drive_id))
