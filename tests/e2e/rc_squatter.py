"""Another local user trying to get between the app and its rclone (run by
tests/e2e/test_security.py as a second uid, standard library only, ``python -I``).

What any user of the machine can do: read every process's command line in /proc, and for
each ``rclone rcd --rc-addr HOST:PORT`` bind that port before rclone does, then answer every
rc call with ``{}`` (which makes the app believe rclone is there). Everything it receives
(path, headers, body) and everything it sees is printed on stdout, one JSON object a line,
for the test to judge. Runs until killed.

Only the rclone processes whose command line contains the argument (the test's own
temporary folder) are attacked: other rclone processes on the machine — other test runs —
are left alone.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_out_lock = threading.Lock()


def report(**event: object) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


class Answer(BaseHTTPRequestHandler):
    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        report(event="request", port=getattr(self.server, "server_port", 0), path=self.path,
               headers=dict(self.headers.items()), body=body.decode("utf-8", "replace"))
        data = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET = do_HEAD = _any

    def log_message(self, format: str, *args: object) -> None:
        pass


def rc_addrs(mark: bytes) -> list[tuple[int, str]]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"rcd" in argv and b"--rc-addr" in argv and any(mark in a for a in argv):
            i = argv.index(b"--rc-addr")
            if i + 1 < len(argv):
                found.append((int(name), argv[i + 1].decode(errors="replace")))
    return found


def main() -> None:
    mark = sys.argv[1].encode()
    report(event="ready", uid=os.getuid(), euid=os.geteuid(), gid=os.getgid(),
           groups=os.getgroups())
    seen: set[tuple[int, str]] = set()
    while True:
        for pid, addr in rc_addrs(mark):
            if (pid, addr) in seen:
                continue
            seen.add((pid, addr))
            report(event="rcd", pid=pid, rc_addr=addr)
            host, _, port = addr.rpartition(":")
            if not port.isdigit() or int(port) == 0:
                continue  # nothing named to take
            try:
                server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Answer)
            except OSError as exc:
                report(event="bind_failed", port=int(port), errno=exc.errno)
                continue
            threading.Thread(target=server.serve_forever, daemon=True).start()
            report(event="bound", port=int(port))
        time.sleep(0.001)


if __name__ == "__main__":
    main()
