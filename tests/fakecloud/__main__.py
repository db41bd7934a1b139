"""``python -m tests.fakecloud serve [--port N] [--dir D]``: run the emulated cloud with
setup_default() until killed; prints one JSON line describing it."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path

from .cloud import FakeCloud


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakecloud")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="serve the emulated cloud until killed")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--dir", type=Path, default=None, help="work dir (default: a temp dir)")
    serve.add_argument("--token-lifetime", type=int, default=3600)
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(asctime)s %(message)s")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="fakecloud-"))
    cloud = FakeCloud(workdir, port=args.port)
    cloud.access_token_lifetime = args.token_lifetime
    d = cloud.setup_default()
    cloud.start()
    print(json.dumps({"proxy_url": cloud.proxy_url, "ca_pem": str(cloud.ca_pem),
                      "client_id": d.client_id, "secret": d.secret, "user_upn": d.user_upn,
                      "drive_id": d.drive_id, "browser": str(cloud.browser),
                      "browser_log": str(cloud.browser_log), "env": cloud.env()}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
