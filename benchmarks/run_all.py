"""Run every benchmark, one after the other, and print one markdown table.

Each benchmark runs as its own process (start-up under ``xvfb-run -a`` when there is no
DISPLAY); their own output goes to stderr as they run, the table (metric | ours | baseline |
ratio | target | met?) and the machine it ran on go to stdout. A benchmark that fails gets a
row saying so and the others still run; the exit code is then 1.

    .venv/bin/python -m benchmarks.run_all [--idle-seconds 60] [--only startup,idle,...]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = ("startup", "idle", "latency", "throughput-rate", "throughput-every",
              "throttling", "delta")


@dataclass
class Row:
    metric: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: str


def _ok(value: float, limit: float) -> str:
    return "yes" if value <= limit else "no"


def run(name: str, cmd: list[str], timeout: float) -> tuple[str, int]:
    """Run one benchmark; echo its output to stderr; return (stdout, exit code)."""
    print(f"\n=== {name}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        print(out + f"\n{name}: timed out after {timeout:.0f} s", file=sys.stderr, flush=True)
        return out, 124
    sys.stderr.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
    print(f"=== {name}: exit {done.returncode} after {time.monotonic() - t0:.0f} s",
          file=sys.stderr, flush=True)
    return done.stdout, done.returncode


def _num(pattern: str, text: str) -> tuple[str, ...]:
    m = re.search(pattern, text)
    if m is None:
        raise ValueError(f"output has no line matching {pattern!r}")
    return m.groups()


def parse_startup(out: str) -> list[Row]:
    at, bt, tr = _num(r"start-up to icon in the tray: app (\d+) ms, bare tray (\d+) ms, "
                      r"ratio ([\d.]+)", out)
    am, bm, mr = _num(r"peak RSS: app ([\d.]+) MiB, bare tray ([\d.]+) MiB, ratio ([\d.]+)",
                      out)
    return [
        Row("start-up to icon in the tray (one account)", f"{at} ms", f"bare PySide6 tray: {bt} ms",
            tr, "≤ 1.25", _ok(float(tr), 1.25)),
        Row("peak RSS at start-up", f"{am} MiB", f"bare PySide6 tray: {bm} MiB", mr, "≤ 1.3",
            _ok(float(mr), 1.3)),
    ]


def parse_idle(out: str) -> list[Row]:
    secs, ours, pct, base, ratio = _num(
        r"idle CPU over (\d+) s, one mount: ours ([\d.]+) s \(([\d.]+) % of a core\), "
        r"direct rclone mount ([\d.]+) s, ratio (\S+)", out)
    rows = [Row(f"idle CPU, one mount, {secs} s (app + rcd)", f"{ours} s ({pct} %)",
                f"direct `rclone mount`: {base} s", ratio, "ours ≤ 1 % of a core",
                _ok(float(pct), 1.0))]
    n, secs, one, one_pct, many, many_pct, one_rss, many_rss = _num(
        r"(\d+) accounts mounted \(one rclone each\), idle (\d+) s: CPU 1 account "
        r"([\d.]+) s \(([\d.]+) % of a core\), \d+ accounts ([\d.]+) s \(([\d.]+) % of a "
        r"core; target ≤ 1 %\); rclone RSS 1 account (\d+) MiB, \d+ accounts (\d+) MiB", out)
    rows += [
        Row(f"idle CPU, {n} accounts mounted, {secs} s (app + {n} rclones)",
            f"{many} s ({many_pct} %)", f"1 account: {one} s ({one_pct} %)",
            f"{float(many) / float(one):.2f}" if float(one) else "inf",
            "ours ≤ 1 % of a core", _ok(float(many_pct), 1.0)),
        Row(f"RSS of the rclones, {n} accounts vs 1", f"{many_rss} MiB", f"{one_rss} MiB",
            f"{float(many_rss) / float(one_rss):.2f}", f"≤ {n} (one rclone per account)",
            _ok(float(many_rss) / float(one_rss), float(n))),
    ]
    return rows


def parse_throttling(out: str) -> list[Row]:
    (model,) = _num(r"model: (.*)", out)
    rows = []
    for what, ours, o429, base, b429, speed, saved in re.findall(
            r"(write .*?|cold listing .*?): ours ([\d.]+) s, \d+ requests, (\d+) × 429; "
            r"rclone defaults ([\d.]+) s, \d+ requests, (\d+) × 429; speed-up ([\d.]+)×.*?"
            r"429s saved (\d+) %", out):
        met = float(speed) >= 1.5 and (int(b429) == 0 or int(saved) >= 90)
        rows.append(Row(f"{what}, Microsoft's documented throttling ({model})",
                        f"{ours} s ({o429} × 429)", f"rclone defaults: {base} s ({b429} × 429)",
                        f"{speed}× faster, {saved} % fewer 429s", "≥ 1.5×, ≥ 90 % fewer 429s",
                        "yes" if met else "no"))
    if not rows:
        raise ValueError("no throttling result")
    return rows


def parse_delta(out: str) -> list[Row]:
    rows = []
    for files, folders, ours, oreq, base, breq, speed, share in re.findall(
            r"cold walk of (\d+) files in (\d+) folders, mount to end of walk: ours ([\d.]+) s "
            r".*?, (\d+) requests, \d+ × 429; rclone defaults ([\d.]+) s, (\d+) requests, "
            r"\d+ × 429; speed-up ([\d.]+)×.*?requests (\d+) % of rclone's", out):
        met = float(speed) >= 1.5 and int(share) <= 20
        rows.append(Row(f"cold walk (`find`) of {files} files in {folders} folders, mount to "
                        "end, Microsoft's RU model", f"{ours} s, {oreq} requests",
                        f"rclone defaults: {base} s, {breq} requests",
                        f"{speed}× faster, {share} % of the requests", "≥ 1.5×, ≤ 20 %",
                        "yes" if met else "no"))
    m = re.search(r"memory: .*?([\d.]+) MiB per 100,000 items; first delta listing ([\d.]+) s",
                  out)
    if m:
        rows.append(Row("the account's rclone after reading ahead, per 100,000 items",
                        f"{m.group(1)} MiB (first delta listing {m.group(2)} s)", "", "",
                        "sets the read-ahead limit", "—"))
    if not rows:
        raise ValueError("no delta listing result")
    return rows


def parse_latency(out: str) -> list[Row]:
    (ours,) = _num(r"app \(rcd \+ rc mount/mount\): median (\d+) ms", out)
    (base,) = _num(r"direct rclone mount: +median (\d+) ms", out)
    (ratio,) = _num(r"ratio app/direct: ([\d.]+)", out)
    one, ten, pr = _num(r"polling CPU per minute: 1 mount ([\d.]+) s, 10 mounts ([\d.]+) s, "
                        r"ratio 10/1: ([\d.]+)", out)
    return [
        Row("mount request → first listing", f"{ours} ms", f"direct `rclone mount`: {base} ms",
            ratio, "≤ 1.2", _ok(float(ratio), 1.2)),
        Row("polling CPU per minute, 10 mounts vs 1", f"10 mounts: {ten} s",
            f"1 mount: {one} s", pr, "≤ 1.5", _ok(float(pr), 1.5)),
    ]


def parse_throughput(label: str) -> Callable[[str], list[Row]]:
    def parse(out: str) -> list[Row]:
        (desc,) = _num(r"throttling: (.*)", out)
        files, kib, ours, o429, base, b429, ratio = _num(
            r"throughput, (\d+) × (\d+) KiB written → all in the cloud \(\w+\): ours "
            r"([\d.]+) s \((\d+) × 429\), rclone defaults ([\d.]+) s \((\d+) × 429\), "
            r"ratio ([\d.]+)", out)
        return [Row(f"{files} × {kib} KiB files → all in the cloud, throttling {label} "
                    f"({desc})", f"{ours} s ({o429} × 429)",
                    f"rclone defaults: {base} s ({b429} × 429)", ratio, "≤ 1.1",
                    _ok(float(ratio), 1.1))]
    return parse


def machine() -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    from onedrive_gui.core.rclone.binary import locate_rclone

    rclone = locate_rclone()
    return [
        f"- CPUs: {os.cpu_count()} × {cpu}",
        f"- RAM: {mem_kib / 2**20:.1f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()}",
        f"- rclone: {'.'.join(map(str, rclone.version))}",
    ]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle-seconds", type=float, default=60.0)
    ap.add_argument("--startup-runs", type=int, default=15)
    ap.add_argument("--latency-runs", type=int, default=5)
    ap.add_argument("--only", default=",".join(BENCHMARKS),
                    help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    args = ap.parse_args()
    py = sys.executable
    startup = [py, "-m", "benchmarks.startup", "--runs", str(args.startup_runs)]
    if not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            print("xvfb-run is missing (apt-get install xvfb) and DISPLAY is unset",
                  file=sys.stderr)
        startup = ["xvfb-run", "-a", *startup]
    plan: dict[str, tuple[list[str], float, Callable[[str], list[Row]]]] = {
        "startup": (startup, 600, parse_startup),
        "idle": ([py, "-m", "benchmarks.idle_cpu", "--seconds", str(args.idle_seconds)],
                 4 * args.idle_seconds + 300, parse_idle),
        "latency": ([py, "-m", "benchmarks.mount_latency", "--runs", str(args.latency_runs)],
                    600, parse_latency),
        "throughput-rate": ([py, "-m", "benchmarks.throughput", "--pattern", "rate"], 600,
                            parse_throughput("by rate")),
        "throughput-every": ([py, "-m", "benchmarks.throughput", "--pattern", "every"], 600,
                             parse_throughput("every Nth request")),
        "throttling": ([py, "-m", "benchmarks.throttling"], 2400, parse_throttling),
        "delta": ([py, "-m", "benchmarks.delta_listing", "--files", "5000", "50000",
                   "--memory-files", "100000"], 3600, parse_delta),
    }
    wanted = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = [b for b in wanted if b not in plan]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}")
    rows: list[Row] = []
    failed = False
    for name in wanted:
        cmd, timeout, parse = plan[name]
        out, code = run(name, cmd, timeout)
        try:
            if code != 0:
                raise ValueError(f"exit code {code}")
            rows.extend(parse(out))
        except ValueError as exc:
            failed = True
            rows.append(Row(name, "failed", "", "", "", f"no ({exc})"))
    print("| metric | ours | baseline | ratio | target | met? |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.metric} | {r.ours} | {r.baseline} | {r.ratio} | {r.target} | {r.met} |")
    print()
    print("Machine:")
    print("\n".join(machine()))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
