"""A 429 storm while a user's files upload through ``onedrive-gui mount``: the terminal says
the cloud slowed us down, nothing is lost, the uploads finish by themselves."""

from __future__ import annotations

import os
import signal

from tests.e2e.cli_helpers import cli_env, force_unmount, run_cli, wait_for
from tests.e2e.test_accounts_cli import Proc, cloud  # noqa: F401 - fixture


def test_429_storm_during_uploads(fakecloud, cloud, app_home, tmp_path):  # noqa: F811
    env = cli_env(fakecloud.env())
    mnt = tmp_path / "mnt" / "work"
    r = run_cli(["add", "work", "--client-id", cloud.client_id, "--mount-point", str(mnt)],
                env=env, stdin=cloud.secret + "\n")
    assert r.returncode == 0, r.stderr
    mount = Proc(["mount", "work"], env)
    try:
        wait_for(lambda: "Mounted 'work'" in mount.text() or mount.p.poll() is not None, 60)
        assert mount.p.poll() is None, mount.text()
        files = {f"photo-{i:02d}.jpg": os.urandom(20_000 + i) for i in range(20)}
        (mnt / "Photos" / "Trip").mkdir()
        for name, data in files.items():
            (mnt / "Photos" / "Trip" / name).write_bytes(data)
        # the next 12 Graph requests get 429 Too Many Requests, Retry-After: 2
        fakecloud.throttle(12, retry_after=2)
        wait_for(lambda: "[work] throttled" in mount.text(), 60)
        assert "(the cloud asked to wait 2 s)" in mount.text()

        mount.p.send_signal(signal.SIGINT)  # waits for the uploads, then unmounts
        assert mount.p.wait(180) == 0, mount.text()
    finally:
        if mount.p.poll() is None:
            mount.p.kill()
        force_unmount(mnt)
    text = mount.text()
    throttled_at = text.index("[work] throttled")
    assert "[work] mounted" in text[throttled_at:], text  # back to normal after the storm
    assert "Unmounted 'work'" in text
    throttled = [q for q in fakecloud.requests if q.status == 429]
    assert len(throttled) == 12
    for name, data in files.items():
        assert fakecloud.get_file(cloud.drive_id, f"/Photos/Trip/{name}") == data, name
