"""A small stand-in for the Azure CLI's ``az rest`` (the real ``az`` is not available here).

It sends the request the way ``az rest`` does — the signed-in user's token as a Bearer header,
the body as given, JSON answers — through HTTPS_PROXY to the emulated cloud, and supports the
output options the Cloud Shell command uses: ``--query "[a,b]" -o tsv`` prints each value of
the list on its own line, as the real one does (knack/output.py, ``_TsvOutput.dump``).
On an HTTP error it prints the answer to stderr (as ``az`` does: ``Bad Request({...})``)
and exits 1. The token comes from FAKE_AZ_TOKEN (Cloud Shell signs
``az`` in by itself).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import requests


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "rest":
        print(f"az stand-in: only 'az rest' is emulated, not {argv[:1]}", file=sys.stderr)
        return 2
    p = argparse.ArgumentParser(prog="az rest")
    p.add_argument("--method", "-m", default="get")
    p.add_argument("--url", "--uri", "-u", required=True)
    p.add_argument("--headers", nargs="*", default=[])
    p.add_argument("--body", "-b")
    p.add_argument("--query")
    p.add_argument("--output", "-o", default="json")
    args = p.parse_args(argv[1:])
    headers = {"Authorization": f"Bearer {os.environ['FAKE_AZ_TOKEN']}"}
    for h in args.headers:
        k, _, v = h.partition("=")
        headers[k] = v
    resp = requests.request(args.method.upper(), args.url, headers=headers,
                            data=args.body.encode() if args.body is not None else None,
                            timeout=30)
    if resp.status_code >= 400:
        print(f"{resp.reason}({resp.text})", file=sys.stderr)
        return 1
    data = resp.json() if resp.content else None
    if args.query:
        q = args.query.strip()
        if not (q.startswith("[") and q.endswith("]")):
            print("az stand-in: only --query \"[field,...]\" is emulated", file=sys.stderr)
            return 2
        data = [data.get(f.strip()) for f in q[1:-1].split(",")]
    if args.output == "tsv":
        for v in data if isinstance(data, list) else [data]:
            print("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
    else:
        print(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
