"""Fixtures for the mount tests: real rclone rcd, real FUSE, a local backing folder."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from onedrive_gui.core.drives.mountpoints import fuse_mount_points
from onedrive_gui.core.drives.mounts import MountManager, MountState, MountStatus
from onedrive_gui.core.errors import AppError
from onedrive_gui.core.rclone.binary import RcloneBinary, locate_rclone
from onedrive_gui.core.rclone.process import Rcd
from tests.fakecloud.cloud import Defaults, FakeCloud
from tests.fakecloud.test_fakecloud import rclone_token, write_rclone_conf

log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def rclone_binary() -> RcloneBinary:
    return locate_rclone()


@pytest.fixture
def fuse() -> None:
    """Mount tests need FUSE: its absence is a failure (CI must provide it), never a skip."""
    assert Path("/dev/fuse").exists(), "/dev/fuse is missing: FUSE tests cannot run"
    assert shutil.which("fusermount3"), "fusermount3 is missing: install fuse3"


def wait_for(cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Recorder:
    """What the callbacks received, in order (they run on the monitor thread)."""

    changes: list[MountStatus] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_change(self, st: MountStatus) -> None:
        with self.lock:
            self.changes.append(st)

    def on_event(self, kind: str, text: str) -> None:
        with self.lock:
            self.events.append((kind, text))

    def states(self, name: str) -> list[MountState]:
        """The sequence of states of *name* (stats-only changes collapsed)."""
        out: list[MountState] = []
        with self.lock:
            for st in self.changes:
                if st.name == name and (not out or out[-1] is not st.state):
                    out.append(st.state)
        return out

    def wait_states(self, name: str, expected: list[MountState], timeout: float = 10.0) -> None:
        """The callbacks run on the monitor thread, a moment after the state changed."""
        try:
            wait_for(lambda: self.states(name) == expected, timeout, what=f"states {expected}")
        except AssertionError:
            assert self.states(name) == expected  # shows the difference
            raise

    def saw(self, pred: Callable[[MountStatus], bool]) -> bool:
        with self.lock:
            return any(pred(st) for st in self.changes)


@dataclass
class MountRig:
    tmp: Path
    backing: Path
    binary: RcloneBinary
    log_file: Path
    rcds: list[Rcd] = field(default_factory=list)
    managers: list[MountManager] = field(default_factory=list)
    recorder: Recorder = field(default_factory=Recorder)
    extra_args: list[str] = field(default_factory=list)

    def new_rcd(self, name: str = "acct", limits: dict[str, Any] | None = None) -> Rcd:
        """The MountManager's rcd_factory: one rcd per account, as the app's engine."""
        rcd = Rcd(
            self.binary,
            config_path=self.tmp / "rclone.conf",
            config_password=None,
            cache_dir=self.tmp / "cache",
            # one log per account, as the app's engine ("acct" writes rig.log_file)
            log_file=self.log_file if name == "acct" else self.log_file.with_name(
                f"rclone-{name}.log"),
            log_level="INFO",  # the app's: what reaches the log is what the app reads
            extra_args=self.extra_args,
            limits=limits,
        )
        self.rcds.append(rcd)
        return rcd

    def manager(self, **kw: Any) -> MountManager:
        kw.setdefault("on_change", self.recorder.on_change)
        kw.setdefault("on_event", self.recorder.on_event)
        kw.setdefault("poll_interval", 0.5)
        mgr = MountManager(self.new_rcd, **kw)
        self.managers.append(mgr)
        return mgr

    def mount_point(self, name: str = "mnt") -> Path:
        mp = self.tmp / name
        mp.mkdir(exist_ok=True)
        return mp


def is_mounted(path: Path) -> bool:
    return str(path) in fuse_mount_points()


@pytest.fixture
def rig(fuse: None, rclone_binary: RcloneBinary, tmp_path: Path) -> Iterator[MountRig]:
    """A backing folder behind an alias remote 'acct:' and a manager factory.

    Teardown removes every mount (lazy fusermount3) and every rcd, even after a failure.
    """
    backing = tmp_path / "backing"
    backing.mkdir()
    (backing / "hello.txt").write_text("hello from the remote\n")
    (tmp_path / "rclone.conf").write_text(f"[acct]\ntype = alias\nremote = {backing}\n")
    r = MountRig(tmp_path, backing, rclone_binary, tmp_path / "logs" / "rclone.log")
    try:
        yield r
    finally:
        for mgr in r.managers:
            for name, st in mgr.statuses().items():
                if st.state in (MountState.MOUNTED, MountState.THROTTLED):
                    try:
                        mgr.unmount(name, force=True)
                    except AppError as exc:  # reported, cleanup goes on
                        log.error("teardown: %s", exc)
            try:
                mgr.shutdown(upload_timeout=0)
            except AppError as exc:  # reported, cleanup goes on
                log.error("teardown: %s", exc)
        for rcd in r.rcds:
            if rcd.alive():
                rcd.stop(timeout=5)
        for mp in fuse_mount_points():
            if mp.startswith(str(tmp_path)):
                subprocess.run(["fusermount3", "-u", "-z", mp], check=False)


CloudRig = tuple[MountRig, FakeCloud, Defaults]


@pytest.fixture
def cloud_rig(rig: MountRig, fakecloud: FakeCloud,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudRig]:
    """The mount rig against the emulated cloud: remote ``od:`` is the default user's
    OneDrive, signed in; rclone reaches the cloud through its proxy (HTTPS_PROXY and the CA
    bundle in this process's environment, which the rcds inherit)."""
    d = fakecloud.setup_default()
    fakecloud.apply_env(monkeypatch)
    write_rclone_conf(rig.tmp / "rclone.conf", d, rclone_token(fakecloud, d))
    yield rig, fakecloud, d
