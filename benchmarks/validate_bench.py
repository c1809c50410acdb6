"""How fast, and in how much memory, `riskwarn validate` checks a 10-million-row table.

Writes a contract dataset whose dispute_events table has ``--rows`` rows (default 10M),
validates it column-wise, and prints wall time and peak memory. For comparison, the same
checks written the plain way (a Python loop over csv.DictReader rows, one dict per row) run
on the first ``--plain-rows`` rows, and their time is scaled to the full table.

    .venv/bin/python benchmarks/validate_bench.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from riskwarn import CONTRACT_TABLES, validate_dataset

EVENT_KINDS = CONTRACT_TABLES["dispute_events"].column("kind").enum


def write_dataset(root: Path, rows: int, disputes: int = 100_000) -> None:
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "birth_year": [1980, 1990],
            "gender": ["male", "female"],
            "grid_id": ["G1", "G1"],
            "household_id": ["H1", "H2"],
        }
    ).to_csv(root / "persons.csv", index=False)
    ids = np.char.add("D", np.arange(disputes).astype(str))
    pd.DataFrame(
        {
            "dispute_id": ids,
            "reported_at": "2024-01-01T08:00:00",
            "grid_id": "G1",
            "category": "neighbor",
            "source": "hotline",
            "threat_reported": "false",
            "violence_reported": "false",
            "weapon_mentioned": "false",
            "amount_involved": "",
            "summary": "",
        }
    ).to_csv(root / "disputes.csv", index=False)
    pd.DataFrame({"dispute_id": ids, "person_id": "P1", "role": "claimant"}).to_csv(
        root / "dispute_parties.csv", index=False
    )
    chunk = 1_000_000
    seconds = np.datetime64("2024-01-02T00:00:00")
    with (root / "dispute_events.csv").open("w", encoding="utf-8") as fh:
        fh.write("dispute_id,at,kind,note\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            at = seconds + rng.integers(0, 3 * 365 * 86400, n).astype("timedelta64[s]")
            frame = pd.DataFrame(
                {
                    "dispute_id": ids[rng.integers(0, disputes, n)],
                    "at": np.datetime_as_string(at),
                    "kind": np.asarray(EVENT_KINDS)[rng.integers(0, len(EVENT_KINDS), n)],
                    "note": "",
                }
            )
            frame.to_csv(fh, header=False, index=False)


def timed_validate(root: Path) -> tuple[bool, float]:
    """Validate in a fresh process, so its peak memory is the validator's alone."""
    began = time.perf_counter()
    report = validate_dataset(root)
    return report.ok, time.perf_counter() - began


def plain_check(path: Path, known: set[str], limit: int) -> float:
    """The per-row way: a dict per row, Python checks per value."""
    began = time.perf_counter()
    problems = 0
    with path.open(encoding="utf-8", newline="") as fh:
        for row in islice(csv.DictReader(fh), limit):
            problems += row["dispute_id"] not in known
            problems += row["kind"] not in EVENT_KINDS
            try:
                datetime.fromisoformat(row["at"])
            except ValueError:
                problems += 1
    assert problems == 0
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--plain-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_dataset(root, args.rows)
        size = (root / "dispute_events.csv").stat().st_size / 2**20
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            ok, took = pool.submit(timed_validate, root).result()
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        assert ok
        known = set(pd.read_csv(root / "disputes.csv", usecols=["dispute_id"])["dispute_id"])
        plain = plain_check(root / "dispute_events.csv", known, args.plain_rows)
        plain_full = plain * args.rows / min(args.plain_rows, args.rows)
    print(f"dispute_events: {args.rows:,} rows ({size:,.0f} MiB CSV)")
    print(
        f"riskwarn validate (column-wise): {took:.1f} s, "
        f"peak memory {peak:.2f} GiB (validating process)"
    )
    print(
        f"plain per-row check: {plain:.1f} s for {min(args.plain_rows, args.rows):,} rows, "
        f"about {plain_full:.0f} s for all ({plain_full / took:.1f}x slower)"
    )


if __name__ == "__main__":
    main()
