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


def snapshot_share(ds, start: pd.Timestamp, days: int, every: int = 30, horizon: int = 90):
    """(count, positive share) of monthly snapshots of open disputes, labelled per the contract."""
    times = pd.date_range(start, start + pd.Timedelta(days=days - horizon), freq=f"{every}D")
    snap = ds.disputes[["dispute_id", "reported_at"]].merge(
        pd.DataFrame({"as_of": times.astype("datetime64[ns]")}), how="cross"
    )
    snap = snap[snap["reported_at"] <= snap["as_of"]].sort_values("as_of")
    ev = ds.dispute_events
    ends = ev[ev["kind"].isin(["closed", "reopened"])].sort_values("at")
    snap = pd.merge_asof(
        snap, ends[["dispute_id", "at", "kind"]], left_on="as_of", right_on="at",
        by="dispute_id", direction="backward",
    )  # fmt: skip
    snap = snap[snap["kind"].ne("closed")][["dispute_id", "as_of"]]
    inc = ds.incidents
    linked = pd.concat([
        inc.dropna(subset=["dispute_id"])[["dispute_id", "occurred_at"]],
        ds.incident_persons.merge(inc[["incident_id", "occurred_at"]], on="incident_id")
        .merge(ds.dispute_parties[["dispute_id", "person_id"]], on="person_id")
        [["dispute_id", "occurred_at"]],
    ])  # fmt: skip
    hits = snap.merge(linked, on="dispute_id")
    hits = hits[(hits["occurred_at"] > hits["as_of"])
                & (hits["occurred_at"] <= hits["as_of"] + pd.Timedelta(days=horizon))]  # fmt: skip
    positive = len(hits[["dispute_id", "as_of"]].drop_duplicates())
    return len(snap), positive / max(len(snap), 1)


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
    days = round(args.years * 365.25)
    n_snap, share = snapshot_share(ds, start, days)
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
