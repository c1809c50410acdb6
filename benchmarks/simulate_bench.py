"""Benchmark of the county simulator: wall time, peak memory, rows, positive snapshot share.

    .venv/bin/python benchmarks/simulate_bench.py                 # 100,000 persons, 3 years
    .venv/bin/python benchmarks/simulate_bench.py --persons 20000 --years 2 --seed 3

The issue asks for 100,000 persons over 3 years in under a minute on a 2-core machine.
Peak memory is the process's peak resident set (``ru_maxrss``), interpreter and imports
included. The positive share follows docs/contract.md: snapshots every 30 days from the
first day, of disputes open then, labelled 1 when an incident follows within 90 days.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

import pandas as pd

from riskwarn import simulate
from riskwarn.features import build_snapshots


def snapshot_share(ds, start: pd.Timestamp) -> tuple[int, float]:
    """(count, positive share) of monthly snapshots with a known 90-day label (docs/contract.md)."""
    snaps = build_snapshots(ds, start=start, every=30, horizon=90)
    known = snaps[snaps["label_known"]]
    return len(known), float(known["label"].astype(int).mean()) if len(known) else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default="2022-01-01")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    ds = simulate(persons=args.persons, years=args.years, seed=args.seed, start=args.start)
    wall = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    start = pd.Timestamp(args.start)
    n_snap, share = snapshot_share(ds, start)
    print(f"riskwarn simulate: {args.persons:,} persons, {args.years:g} years, seed {args.seed}")
    machine = platform.processor() or platform.machine()
    print(f"  machine          {machine}, {os.cpu_count()} cores, python {sys.version.split()[0]}")
    print(f"  wall time        {wall:.2f} s")
    print(f"  peak memory      {peak_mb:.0f} MB (process peak RSS)")
    for name, n in ds.summary().items():
        print(f"  {name:<17}{n:>10,} rows")
    per_year = len(ds.disputes) / args.persons / args.years * 100
    print(f"  disputes per 100 persons per year  {per_year:.2f}")
    print(f"  monthly snapshots of open disputes {n_snap:,}, positive (90 days) {100 * share:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
