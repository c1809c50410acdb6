"""Benchmark of the simulator: a county and a province, wall time, peak memory, rows.

    .venv/bin/python benchmarks/simulate_bench.py               # every case below
    .venv/bin/python benchmarks/simulate_bench.py --persons 20000 --years 2 --counties 3

Targets: 100,000 persons over 3 years in about a second or two; a province of 1,000,000
persons in 10 counties over 3 years well under a minute, on this 2-core machine, printed
beside one county of 1,000,000 and beside the cost of the options (the oracle and the
warning loop; a drift, which simulates the none world too). Each case runs in its own
process, so its peak memory (``ru_maxrss``, interpreter and imports included) is its own.
For the plain county the positive share of monthly snapshots is printed too
(docs/contract.md: snapshots every 30 days of disputes open then, labelled 1 when an
incident follows within 90 days).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

# persons, counties, options (none: the plain county whose snapshot share is printed)
CASES = (
    (100_000, 1, "none"),
    (100_000, 1, "truth+loop"),
    (100_000, 1, "drift"),
    (1_000_000, 1, "none"),
    (1_000_000, 10, "none"),
)
OPTIONS = {
    "none": {},
    "truth+loop": {"oracle": True, "interventions": True},  # --truth --interventions
    "drift": {"drift": "concept"},  # --drift concept: the none world is simulated too
}


def one(persons: int, years: float, seed: int, start: str, counties: int, options: str) -> dict:
    """Simulate one case in this process and measure it."""
    import pandas as pd

    from riskwarn import simulate_with_truth

    kwargs = {"oracle": False, **OPTIONS[options]}
    began = time.perf_counter()
    sim = simulate_with_truth(
        persons=persons, years=years, seed=seed, start=start, counties=counties, **kwargs
    )
    wall = time.perf_counter() - began
    ds = sim.dataset
    out = {
        "persons": persons,
        "counties": counties,
        "options": options,
        "wall_s": wall,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "rows": ds.summary(),
        "disputes_per_100_year": len(ds.disputes) / persons / years * 100,
    }
    if options == "none" and counties == 1 and persons <= 300_000:
        from riskwarn.features import build_snapshots

        s = build_snapshots(ds, start=pd.Timestamp(start), every=30, horizon=90)
        known = s[s["label_known"]]
        out["snapshots"] = len(known)
        out["positive"] = float(known["label"].astype(int).mean()) if len(known) else 0.0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, help="One case of this many persons.")
    parser.add_argument("--counties", type=int, default=1)
    parser.add_argument("--options", choices=sorted(OPTIONS), default="none")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default="2022-01-01")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.json:  # a child process: one case, as JSON
        print(json.dumps(one(args.persons, args.years, args.seed, args.start, args.counties,
                             args.options)))  # fmt: skip
        return 0
    cases = [(args.persons, args.counties, args.options)] if args.persons else CASES
    machine = platform.processor() or platform.machine()
    print(f"riskwarn simulate: {args.years:g} years, seed {args.seed}")
    print(f"  machine  {machine}, {os.cpu_count()} cores, python {sys.version.split()[0]}, "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    results = []
    for persons, counties, options in cases:
        cmd = [sys.executable, __file__, "--json", "--persons", str(persons), "--counties",
               str(counties), "--options", options, "--years", str(args.years), "--seed",
               str(args.seed), "--start", args.start]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"  {'persons':>10} {'counties':>8} {'options':>10} {'wall s':>7} {'peak MB':>8} "
          f"{'disputes':>9} {'events':>9} {'incidents':>9}")  # fmt: skip
    for r in results:
        rows = r["rows"]
        print(f"  {r['persons']:>10,} {r['counties']:>8} {r['options']:>10} {r['wall_s']:>7.1f} "
              f"{r['peak_mb']:>8.0f} {rows['disputes']:>9,} {rows['dispute_events']:>9,} "
              f"{rows['incidents']:>9,}")  # fmt: skip
    for r in results:
        if "positive" in r:
            print(f"  {r['persons']:,} persons: {r['disputes_per_100_year']:.2f} disputes per 100 "
                  f"a year; {r['snapshots']:,} monthly snapshots, {100 * r['positive']:.2f}% "
                  "positive (90 days)")  # fmt: skip
    print("  options: truth+loop = --truth --interventions; drift = --drift concept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
