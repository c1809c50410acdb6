"""Benchmark: monthly snapshots and features of a simulated county; the graph sweep against
rebuilding the graphs for every date.

    .venv/bin/python benchmarks/features_bench.py                 # 100,000 persons, 3 years
    .venv/bin/python benchmarks/features_bench.py --persons 20000 --years 2
    .venv/bin/python benchmarks/features_bench.py --data DIR      # an existing dataset

The county is simulated to disk in a subprocess (``riskwarn simulate``) and read back with
``riskwarn.load_dataset``, so the simulator's memory is not counted. After loading, the
peak resident set is reset (Linux ``/proc/self/clear_refs``) and snapshots + features run
as shipped: the wall time and peak memory printed are the features stage's own (the loaded
dataset, its input, is resident throughout and counted).

Then the graph stage (the links of the relationship and co-involvement graphs, and the
component size, core number and PageRank of those two graphs and their union, plus hops
to recent incidents, on every snapshot date) is timed three ways on the same dates:

- **swept**: as the library runs it, links advanced forward in time;
- **rebuilt per date**: the links rebuilt from the tables for every date, then the *same*
  measure code; the headline ratio, "sweep vs rebuild per date", is what the sweep saves;
- **networkx per date**: networkx graphs rebuilt from the tables with networkx's
  ``connected_components``, ``core_number`` and ``pagerank`` (the plain alternative the
  issue names), timed on ``--nx-dates`` dates spread over the range and scaled to all.

On the last date every person's component size, core number and PageRank in all three
graphs must agree: swept and rebuilt exactly, networkx's within 0.001 (PageRank; sizes and
cores exactly). Target: under 2 minutes and under 4 GiB on this 2-core machine.

Figures (2026-11-27, the 2-core box shared with other jobs, load average ~2.5), 100,000
persons, 3 years, seed 7: 36 monthly dates, 15,159 snapshot rows x 136 features.
Snapshots + features 11.7 s wall, peak 866 MiB (since loading; 993 MiB for the whole run).
Graph stage: swept 7.1 s; rebuilt per date with the same measures 17.1 s (sweep vs rebuild
per date 2.4x); networkx rebuilt per date 322 s (6 of 36 dates timed, scaled; 45x).
Swept and rebuilt identical on the last date; networkx's sizes and cores identical, its
PageRank within 5e-05.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from riskwarn import Dataset, load_dataset
from riskwarn.features import FeatureBuilder, build_snapshots
from riskwarn.features._features import recent_incidents
from riskwarn.features._graph import (
    GRAPHS,
    PAGERANK_TOL,
    GraphDay,
    PeopleGraph,
    co_involvement_pairs,
    graph_day,
)
from riskwarn.features._index import Index
from riskwarn.features._specs import HOPS_CAP

TARGET_S, TARGET_MIB = 120, 4096


# memory ---------------------------------------------------------------------------------
def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset the process's peak resident set (Linux); False when the system cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def peak_mib() -> float:
    """Peak resident memory since the last reset (else since the start), in MiB."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib / 1024


# the graph stage, three ways ---------------------------------------------------------------
def _day_graph(index: Index, day: int, tie_u, tie_v, co_u, co_v) -> GraphDay:
    sources = np.array(sorted(recent_incidents(index, day)), dtype=np.int64)
    return graph_day(day, index.n_persons, tie_u, tie_v, co_u, co_v, sources, HOPS_CAP)


def swept(index: Index, days: list[int]) -> GraphDay:
    """The library's way: one sweep forward over the dates."""
    graph = PeopleGraph(index)
    out = None
    for day in days:
        out = _day_graph(index, day, *graph.links(day))
    assert out is not None
    return out


def _pairs(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keep = (lo >= 0) & (lo != hi)
    key = np.unique(lo[keep] * n + hi[keep])
    return key // n, key % n


def links_from_tables(ds: Dataset, index: Index, t: pd.Timestamp):
    """The day's relationship and co-involvement links, rebuilt from the tables."""
    n = index.n_persons
    r = ds.relationships
    live = (r["since"].isna() | (r["since"] <= t)) & (r["until"].isna() | (r["until"] > t))
    a = index.person_pos.get_indexer(pd.Index(r.loc[live, "person_a"].astype("object")))
    b = index.person_pos.get_indexer(pd.Index(r.loc[live, "person_b"].astype("object")))
    tie_u, tie_v = _pairs(n, a, b)
    known = ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"]
    dp = ds.dispute_parties[ds.dispute_parties["dispute_id"].isin(known)]
    person = index.person_pos.get_indexer(pd.Index(dp["person_id"].astype("object")))
    groups = pd.Series(person).groupby(dp["dispute_id"].to_numpy(), sort=True)
    cu, cv, _ = co_involvement_pairs([g.to_numpy(np.int64) for _, g in groups])
    co_u, co_v = _pairs(n, cu, cv)
    return tie_u, tie_v, co_u, co_v


def rebuilt(ds: Dataset, index: Index, dates: list[pd.Timestamp]) -> GraphDay:
    """No sweep: every date's links rebuilt from the tables, then the same measures."""
    out = None
    for t in dates:
        out = _day_graph(index, int(t.value), *links_from_tables(ds, index, t))
    assert out is not None
    return out


def networkx_graphs(ds: Dataset, t: pd.Timestamp) -> dict[str, nx.Graph]:
    """The three graphs at ``t`` rebuilt from the tables as networkx graphs."""
    ties, co = nx.Graph(), nx.Graph()
    for g in (ties, co):
        g.add_nodes_from(ds.persons["person_id"])
    r = ds.relationships
    live = (r["since"].isna() | (r["since"] <= t)) & (r["until"].isna() | (r["until"] > t))
    ties.add_edges_from(
        (a, b)
        for a, b in zip(r.loc[live, "person_a"], r.loc[live, "person_b"], strict=True)
        if a != b
    )
    known = ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"]
    parties = ds.dispute_parties[ds.dispute_parties["dispute_id"].isin(known)]
    for _, people in parties.groupby("dispute_id")["person_id"]:
        co.add_edges_from(itertools.combinations(sorted(set(people)), 2))
    return {"all": nx.compose(ties, co), "ties": ties, "co": co}


def networkx_measures(g: nx.Graph) -> dict[str, dict]:
    """networkx's component size, core number and PageRank (scaled: 1 = average linked)."""
    sizes = {p: len(comp) for comp in nx.connected_components(g) for p in comp}
    linked = g.subgraph([p for p, d in g.degree() if d > 0])
    m = len(linked)
    # networkx stops when the L1 change is below N * tol; ours stops below PAGERANK_TOL
    rank = nx.pagerank(linked, tol=PAGERANK_TOL / max(m, 1), max_iter=300) if m else {}
    return {
        "component_size": sizes,
        "core": nx.core_number(g),
        "pagerank": {p: x * m for p, x in rank.items()},
    }


def with_networkx(ds: Dataset, t: pd.Timestamp) -> dict[str, dict[str, dict]]:
    return {name: networkx_measures(g) for name, g in networkx_graphs(ds, t).items()}


# checks -----------------------------------------------------------------------------------
def same_exactly(a: GraphDay, b: GraphDay) -> bool:
    ok = np.array_equal(a.incident_hops, b.incident_hops)
    for name in GRAPHS:
        x, y = a.measures[name], b.measures[name]
        for field in ("component_size", "core", "pagerank"):
            ok = ok and np.array_equal(getattr(x, field), getattr(y, field))
    return bool(ok)


def against_networkx(day: GraphDay, ref: dict[str, dict[str, dict]], ids: np.ndarray):
    """(sizes and cores identical, largest PageRank difference) over all three graphs."""
    same, worst = True, 0.0
    for name in GRAPHS:
        m = day.measures[name]
        for field in ("component_size", "core"):
            want = np.array([ref[name][field][p] for p in ids])
            same = same and np.array_equal(want, getattr(m, field))
        rank = np.array([ref[name]["pagerank"].get(p, 0.0) for p in ids])
        worst = max(worst, float(np.abs(rank - m.pagerank).max()))
    return same, worst


def timed(fn: Callable, *args):
    began = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - began


# main ---------------------------------------------------------------------------------------
def simulate_to_disk(out: Path, persons: int, years: float, seed: int) -> None:
    """``riskwarn simulate`` in a subprocess, so its memory never counts here."""
    cmd = [sys.executable, "-m", "riskwarn.cli", "simulate", str(out), "--persons", str(persons)]
    cmd += ["--years", str(years), "--seed", str(seed), "--format", "parquet"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"riskwarn simulate failed:\n{done.stderr}")


def spread(dates: list[pd.Timestamp], k: int) -> list[pd.Timestamp]:
    """``k`` dates spread evenly over ``dates``, the last included (all when k <= 0)."""
    if k <= 0 or k >= len(dates):
        return dates
    at = np.unique(np.linspace(len(dates) - 1, 0, k).round().astype(int))
    return [dates[i] for i in at]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--years", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--every", type=int, default=30)
    ap.add_argument("--data", type=Path, help="an existing dataset instead of simulating")
    ap.add_argument("--nx-dates", type=int, default=6, help="dates networkx is timed on (0: all)")
    ap.add_argument("--no-nx", action="store_true", help="skip the networkx comparison")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        where = args.data
        if where is None:
            where = Path(tmp) / "county"
            _, took = timed(simulate_to_disk, where, args.persons, args.years, args.seed)
            what = f"{args.persons:,} persons, {args.years:g} years, seed {args.seed}"
            print(f"simulated {what} to disk in {took:.1f}s (subprocess)")
        else:
            what = str(where)
        ds, loaded = timed(load_dataset, where)
    print(f"loaded in {loaded:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in ds.summary().items()))

    exact_peak = reset_peak()
    began = time.perf_counter()
    snaps = build_snapshots(ds, every=args.every)
    table = FeatureBuilder(ds).transform(snaps)
    wall = time.perf_counter() - began
    peak = peak_mib()
    rows, n_features = len(table), table.shape[1] - 2
    dates = sorted(set(snaps["as_of"]))
    days = [int(t.value) for t in dates]
    how = "since loading" if exact_peak else "whole process, simulation excluded"
    print(
        f"snapshots + features: {wall:.1f}s wall, peak memory {peak:,.0f} MiB ({how}); "
        f"{rows:,} rows x {n_features} features on {len(dates)} dates, "
        f"{int(snaps['label'].sum()):,} positives"
    )

    index = Index(ds)
    last_swept, t_swept = timed(swept, index, days)
    last_rebuilt, t_rebuilt = timed(rebuilt, ds, index, dates)
    same = same_exactly(last_swept, last_rebuilt)
    print(f"graph stage, swept:              {t_swept:7.1f}s for {len(dates)} dates")
    print(
        f"graph stage, rebuilt per date:   {t_rebuilt:7.1f}s (links from the tables, same measures)"
    )
    print(f"  sweep vs rebuild per date: {t_rebuilt / t_swept:.1f}x; identical results: {same}")

    nx_lines: list[str] = []
    nx_same, worst = True, 0.0
    if not args.no_nx:
        sample = spread(dates, args.nx_dates)
        ref = None
        began = time.perf_counter()
        for t in sample:
            ref = with_networkx(ds, t)
        t_nx = (time.perf_counter() - began) / len(sample) * len(dates)
        scaled = f", {len(sample)} of {len(dates)} dates timed, scaled" * (len(sample) < len(dates))
        nx_same, worst = against_networkx(last_swept, ref, index.person_ids)
        print(f"graph stage, networkx per date:  {t_nx:7.1f}s (networkx's own measures{scaled})")
        print(
            f"  sweep vs networkx per date: {t_nx / t_swept:.0f}x; sizes and cores identical: "
            f"{nx_same}; largest PageRank difference {worst:.1e}"
        )
        nx_lines = [
            f"| graph stage, networkx rebuilt per date | {t_nx:,.0f} s{scaled}; "
            f"sweep vs networkx per date {t_nx / t_swept:.0f}x |",
            f"| results on the last date | swept and rebuilt identical: {same}; networkx's sizes "
            f"and cores identical: {nx_same}, PageRank within {worst:.0e} |",
        ]
    print(f"peak memory overall {peak_mib():,.0f} MiB")

    print("\nFor the README:\n")
    print("| features benchmark | figure |")
    print("|---|---|")
    print(f"| data | {what}; {len(dates)} dates; {rows:,} snapshots x {n_features} features |")
    print(f"| snapshots + features, wall | {wall:.1f} s (target < {TARGET_S} s) |")
    print(f"| snapshots + features, peak memory | {peak:,.0f} MiB (target < 4 GiB) |")
    print(f"| graph stage, swept | {t_swept:.1f} s |")
    print(
        f"| graph stage, rebuilt per date (same measures) | {t_rebuilt:.1f} s; "
        f"sweep vs rebuild per date {t_rebuilt / t_swept:.1f}x |"
    )
    for line in nx_lines:
        print(line)
    if not same or (nx_lines and (not nx_same or worst >= 1e-3)):
        raise SystemExit("the graph stage's results disagree on the last date")


if __name__ == "__main__":
    main()
