#!/usr/bin/env python3
"""How long `infobank demo` takes to seed a bank, against the bare commit rate of the same disk
measured in the same run (docs/performance.md).

    cargo build --release -p infobank
    python3 crates/cli/examples/demo_seed.py [--citizens 50,200,800] [--runs 3]

For each size, seeds `--runs` fresh SQLite data directories (in the system's temporary
directory) with `infobank demo --citizens N` and reads the seeding time it prints and the log's
size (`infobank audit sth`: every write of the demo is one transaction with at least one leaf,
so leaves per second bound its commits per second from below). The baseline: single-row
autocommitted inserts into a SQLite file beside them with the server's pragmas (WAL,
synchronous=FULL), for 3 s. Prints medians and ratios. Standard library only.
"""
import argparse
import json
import os
import pathlib
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
BINARY = ROOT / "target" / "release" / "infobank"


def bare_commit_rate(directory, seconds=3.0):
    db = sqlite3.connect(os.path.join(directory, "bare.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (payload TEXT NOT NULL)")
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        db.execute("INSERT INTO t (payload) VALUES ('x')")
        n += 1
    rate = n / (time.monotonic() - start)
    db.close()
    return rate


def seed(citizens):
    with tempfile.TemporaryDirectory(prefix="infobank-demo-") as data:
        env = {"PATH": os.environ.get("PATH", ""), "INFOBANK_DATA_DIR": data}
        out = subprocess.run(
            [BINARY, "demo", "--citizens", str(citizens)], env=env, capture_output=True, text=True, check=True
        ).stdout
        seconds = float(re.search(r"seeded in ([\d.]+) s", out).group(1))
        head = subprocess.run([BINARY, "audit", "sth"], env=env, capture_output=True, text=True, check=True).stdout
        return seconds, json.loads(head)["tree_size"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", default="50,200,800")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bare = bare_commit_rate(scratch)
    print(f"bare single-row commits on this disk: {bare:.0f}/s")
    print("| citizens | seconds (runs) | median | leaves | leaves/s | / bare commits |")
    print("|---|---|---|---|---|---|")
    for n in [int(x) for x in args.citizens.split(",")]:
        results = [seed(n) for _ in range(args.runs)]
        times = [s for s, _ in results]
        median = statistics.median(times)
        leaves = results[0][1]
        runs = ", ".join(f"{t:.1f}" for t in times)
        print(f"| {n} | {runs} | {median:.1f} s | {leaves:,} | {leaves / median:,.0f} | {leaves / median / bare:.2f} |")


if __name__ == "__main__":
    main()
