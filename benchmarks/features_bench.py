"""Benchmark: snapshots and features of simulated counties at several sizes, the fitted
exponent of time against persons, the graph stage against rebuilding it per date and
against networkx, and a new case's features.

    .venv/bin/python benchmarks/features_bench.py                  # 100k, 300k, 1M persons
    .venv/bin/python benchmarks/features_bench.py --persons 20000 50000 --years 2
    .venv/bin/python benchmarks/features_bench.py --data DIR       # one existing dataset

Each county is simulated to disk (``riskwarn simulate``, a subprocess) and measured in a
fresh subprocess of this script, so no size inherits another's memory or caches. There,
after loading, the peak resident set is reset (Linux ``/proc/self/clear_refs``) and
monthly snapshots + features run as shipped (``build_snapshots`` then
``FeatureBuilder.transform``): the wall time, CPU time and peak memory printed are that
stage's own (the loaded dataset, its input, is resident throughout and counted). The
exponent is the slope of log(time) against log(persons) over the sizes, for the wall time
and for the CPU time (on a machine shared with other work the wall time also counts the
waits for a core: the load average at each measurement is printed with it).

Then, at each size, a new case's features (``FeatureBuilder.features_for_case``, no
service): the builder holds the data up to a week before the scoring day; the cases are
the disputes reported since, scored on the last day of the data. Those reported that day
are what the case platform sends when it registers a dispute; those reported on the days
before join the scoring day's graphs (their co-involvement links change their parties'
components, whose core numbers and PageRank are recomputed).

At the smallest size (``--compare-at``), the graph stage (the three graphs' links; component
size, core number and PageRank; hops to recent incidents) is timed on the same dates three
ways, each line saying what it compares:

- **as the library runs it**: links swept forward, measures only for the components that
  hold the day's parties, carried over from the previous date where no link changed;
- **rebuilt per date**: links rebuilt from the tables for every date and the measures of
  everyone computed whole, by the same solvers (the whole-graph computation);
- **networkx per date**: networkx graphs rebuilt from the tables with networkx's
  ``connected_components``, ``core_number`` and ``pagerank`` of everyone, timed on
  ``--nx-dates`` dates spread over the range and scaled to all.

On the last date the parties' measures must agree: the library's and the rebuilt ones
exactly, networkx's sizes and cores exactly and its PageRank to the rounding (the library
keeps 4 decimals of the exact value).

At the largest size the three commands a user runs are also timed whole, each a
subprocess: ``riskwarn simulate`` (timed above), ``riskwarn features --out`` and
``riskwarn train --features`` (a throwaway SQLite MLflow store), ``--no-pipeline`` to skip.

Targets (issue 17): at 1,000,000 persons over 3 years, snapshots + features in at most
90 s and 4 GiB; simulate + features + train in at most 5 minutes; the exponent at most
1.15.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TARGET_S, TARGET_MIB, TARGET_EXPONENT = 90, 4096, 1.15
TARGET_PIPELINE_S = 300  # simulate + features + train at 1,000,000 persons
ROUNDED = 0.5e-4 + 1e-8  # a value rounded to 4 decimals is within half a step


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


def cpu_s() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


# one size, in its own process -------------------------------------------------------------
def features_stage(ds, every: int) -> dict:  # type: ignore[no-untyped-def]
    from riskwarn.features import FeatureBuilder, build_snapshots

    exact_peak = reset_peak()
    cpu, began = cpu_s(), time.perf_counter()
    snaps = build_snapshots(ds, every=every)
    table = FeatureBuilder(ds).transform(snaps)
    wall = time.perf_counter() - began
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu_s() - cpu, 2),
        "peak_mib": round(peak_mib()),
        "peak_since_loading": exact_peak,
        "rows": len(table),
        "features": table.shape[1] - 2,
        "dates": int(snaps["as_of"].nunique()),
        "positives": int(snaps["label"].sum()),
        "load_average": os.getloadavg()[0],
    }


def _case_rows(ds, did: str) -> tuple[dict, list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    dispute = ds.disputes.loc[ds.disputes["dispute_id"] == did].iloc[0].to_dict()
    parties = ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == did].to_dict("records")
    events = ds.dispute_events.loc[ds.dispute_events["dispute_id"] == did].to_dict("records")
    return dispute, parties, events


def _latency(call, items: list, n: int, limit_s: float = 60) -> dict:  # type: ignore[no-untyped-def]
    """p50/p99 of ``n`` calls over ``items`` in turn (fewer if ``limit_s`` runs out)."""
    ms: list[float] = []
    stop = time.monotonic() + limit_s
    for item in itertools.islice(itertools.cycle(items), n):
        began = time.perf_counter()
        call(item)
        ms.append((time.perf_counter() - began) * 1000)
        if time.monotonic() > stop:
            break
    a = np.asarray(ms)
    return {
        "cases": len(items),
        "calls": len(a),
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
    }


def new_case_stage(ds, calls: int) -> dict:  # type: ignore[no-untyped-def]
    """features_for_case on the last day of the data, the builder holding the data up to
    a week before; cases reported that day and on the days before."""
    from riskwarn.features import FeatureBuilder, open_disputes

    as_of = pd.Timestamp(ds.disputes["reported_at"].max())
    day = as_of.normalize()
    held_until = day - pd.Timedelta(days=7)
    builder = FeatureBuilder(ds.cut(held_until))
    reported = ds.disputes.set_index("dispute_id")["reported_at"]
    fresh = reported[(reported > held_until) & (reported <= as_of)]
    today = sorted(fresh[fresh >= day].index)
    before = sorted(fresh[fresh < day].index)
    stored = open_disputes(ds.cut(held_until), held_until)[:200]
    began = time.perf_counter()
    builder.features_for(stored[0], as_of)  # the scoring day's graphs, built once
    first = time.perf_counter() - began

    rows = {did: _case_rows(ds, did) for did in today + before}
    return {
        "day_built_s": round(first, 2),
        "stored": _latency(lambda d: builder.features_for(d, as_of), stored, calls),
        "registered_that_day": _latency(
            lambda d: builder.features_for_case(*rows[d], as_of), today, calls
        ),
        "reported_days_before": _latency(
            lambda d: builder.features_for_case(*rows[d], as_of), before, calls
        ),
    }


def graph_comparison(ds, every: int, nx_dates: int) -> dict:  # type: ignore[no-untyped-def]
    from riskwarn.features import build_snapshots
    from riskwarn.features._features import Case, Parties, RecentIncidents
    from riskwarn.features._graph import GRAPHS, PeopleGraph, graph_day
    from riskwarn.features._index import Index
    from riskwarn.features._specs import HOPS_CAP

    index = Index.of(ds)
    snaps = build_snapshots(ds, every=every)
    dates = sorted(set(snaps["as_of"]))
    days = [int(t.value) for t in dates]
    held = index.dispute_pos.get_indexer(pd.Index(snaps["dispute_id"].astype(object)))
    stamps = snaps["as_of"].astype("datetime64[ns]").to_numpy().view("i8")
    parties = {}
    for day in days:
        cases = [Case.held_by(index, int(d)) for d in np.unique(held[stamps == day])]
        parties[day] = Parties.of(cases).nodes

    def swept():  # type: ignore[no-untyped-def]
        graph = PeopleGraph(index)
        out = None
        for day in days:
            out = graph.day(day, RecentIncidents.of(index, day).people(), HOPS_CAP)
            for name in GRAPHS:
                out.measures(name, parties[day])
        return graph, out

    began = time.perf_counter()
    graph, last = swept()
    t_swept = time.perf_counter() - began

    began = time.perf_counter()
    for day, t in zip(days, dates, strict=True):
        rebuilt = graph_day(
            day,
            index.n_persons,
            *links_from_tables(ds, index, t),
            RecentIncidents.of(index, day).people(),
            HOPS_CAP,
            order=(graph.order, graph.rank),
        )
    t_rebuilt = time.perf_counter() - began

    who = parties[days[-1]]
    same = bool(np.array_equal(last.incident_hops[who], rebuilt.incident_hops[who]))
    for name in GRAPHS:
        a, b = last.measures(name, who), rebuilt.measures(name, who)
        for field in ("component_size", "core", "pagerank"):
            same = same and bool(np.array_equal(getattr(a, field), getattr(b, field)))
    out = {"dates": len(dates), "swept_s": round(t_swept, 2), "rebuilt_s": round(t_rebuilt, 2)}
    out["swept_equals_rebuilt"] = same
    if nx_dates:
        sample = spread(dates, nx_dates)
        began = time.perf_counter()
        for t in sample:
            ref = with_networkx(ds, t)
        out["networkx_s"] = round((time.perf_counter() - began) / len(sample) * len(dates), 2)
        out["networkx_dates_timed"] = len(sample)
        ids = index.person_ids[who]
        out["networkx_sizes_cores_equal"], out["networkx_pagerank_max_diff"] = against_networkx(
            last, who, ref, ids
        )
    return out


# the whole-graph alternatives ---------------------------------------------------------------
def _pairs(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keep = (lo >= 0) & (lo != hi)
    key = np.unique(lo[keep] * n + hi[keep])
    return key // n, key % n


def links_from_tables(ds, index, t: pd.Timestamp):  # type: ignore[no-untyped-def]
    """The day's relationship and co-involvement links, rebuilt from the tables."""
    from riskwarn.features._graph import co_involvement_pairs

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


def networkx_graphs(ds, t: pd.Timestamp) -> dict:  # type: ignore[no-untyped-def]
    """The three graphs at ``t`` rebuilt from the tables as networkx graphs."""
    import networkx as nx

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


def networkx_measures(g) -> dict:  # type: ignore[no-untyped-def]
    """networkx's component size, core number and PageRank (scaled: 1 = average linked)."""
    import networkx as nx

    sizes = {p: len(comp) for comp in nx.connected_components(g) for p in comp}
    linked = g.subgraph([p for p, d in g.degree() if d > 0])
    m = len(linked)
    rank = nx.pagerank(linked, tol=1e-15, max_iter=10_000) if m else {}
    return {
        "component_size": sizes,
        "core": nx.core_number(g),
        "pagerank": {p: x * m for p, x in rank.items()},
    }


def with_networkx(ds, t: pd.Timestamp) -> dict:  # type: ignore[no-untyped-def]
    return {name: networkx_measures(g) for name, g in networkx_graphs(ds, t).items()}


def against_networkx(day, who: np.ndarray, ref: dict, ids: np.ndarray) -> tuple[bool, float]:  # type: ignore[no-untyped-def]
    """(sizes and cores identical, largest PageRank difference) at ``who``, all graphs."""
    same, worst = True, 0.0
    for name, values in ref.items():
        m = day.measures(name, who)
        for field in ("component_size", "core"):
            want = np.array([values[field][p] for p in ids])
            same = same and bool(np.array_equal(want, getattr(m, field)))
        rank = np.array([values["pagerank"].get(p, 0.0) for p in ids])
        worst = max(worst, float(np.abs(rank - m.pagerank).max()))
    return same, worst


def spread(dates: list, k: int) -> list:
    """``k`` dates spread evenly over ``dates``, the last included (all when k <= 0)."""
    if k <= 0 or k >= len(dates):
        return dates
    at = np.unique(np.linspace(len(dates) - 1, 0, k).round().astype(int))
    return [dates[i] for i in at]


def one(args: argparse.Namespace) -> None:
    """Measure one dataset; print the figures as JSON (run in a subprocess per size)."""
    from riskwarn import load_dataset

    began = time.perf_counter()
    ds = load_dataset(args.one)
    out = {"load_s": round(time.perf_counter() - began, 1), "persons": len(ds.persons)}
    out["features"] = features_stage(ds, args.every)
    out["new_case"] = new_case_stage(ds, args.calls)
    if args.compare:
        out["graph"] = graph_comparison(ds, args.every, args.nx_dates)
    print(json.dumps(out))


# driver ----------------------------------------------------------------------------------
def simulate_to_disk(out: Path, persons: int, years: float, seed: int) -> None:
    """``riskwarn simulate`` in a subprocess, so its memory never counts here."""
    cmd = [sys.executable, "-m", "riskwarn.cli", "simulate", str(out), "--persons", str(persons)]
    cmd += ["--years", str(years), "--seed", str(seed), "--format", "parquet"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"riskwarn simulate failed:\n{done.stderr}")


def pipeline(where: Path, simulate_s: float) -> dict:
    """``riskwarn features`` then ``riskwarn train --features`` (a throwaway SQLite MLflow
    store) on a simulated county, as a user runs them: each a subprocess, timed whole."""
    out: dict = {"simulate_s": round(simulate_s, 1)}
    table = where.with_name(f"{where.name}-features.parquet")  # beside the dataset
    store = f"sqlite:///{where.with_name(f'{where.name}-mlflow.db')}"
    steps = {
        "features_s": ["features", str(where), "--out", str(table)],
        "train_s": ["train", str(where), "--features", str(table), "--tracking-uri", store],
    }
    for key, step in steps.items():
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "riskwarn.cli", *step], capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(f"riskwarn {step[0]} failed:\n{done.stderr}")
        out[key] = round(time.perf_counter() - began, 1)
    out["total_s"] = round(sum(out.values()), 1)
    return out


def measure(where: Path, args: argparse.Namespace, compare: bool) -> dict:
    cmd = [sys.executable, __file__, "--one", str(where), "--every", str(args.every)]
    cmd += ["--calls", str(args.calls), "--nx-dates", str(0 if args.no_nx else args.nx_dates)]
    done = subprocess.run([*cmd, *(["--compare"] if compare else [])], capture_output=True)
    if done.returncode:
        raise SystemExit(f"measuring {where} failed:\n{done.stderr.decode()}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def report(results: list[dict], years: float) -> list[str]:
    lines = [
        "| persons | snapshot rows x features | snapshots + features, wall | CPU | peak memory "
        "| new case registered that day, p50 / p99 | reported days before, p50 / p99 "
        "| stored case, p50 / p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        f, c = r["features"], r["new_case"]
        lines.append(
            f"| {r['persons']:,} | {f['rows']:,} x {f['features']} on {f['dates']} dates "
            f"| {f['wall_s']:.1f} s | {f['cpu_s']:.1f} s | {f['peak_mib']:,} MiB "
            f"| {c['registered_that_day']['p50_ms']} / {c['registered_that_day']['p99_ms']} ms "
            f"| {c['reported_days_before']['p50_ms']} / {c['reported_days_before']['p99_ms']} ms "
            f"| {c['stored']['p50_ms']} / {c['stored']['p99_ms']} ms |"
        )
    if len(results) >= 2:
        x = np.log([r["persons"] for r in results])
        lines.append("")
        for what, key in (("wall time", "wall_s"), ("CPU time", "cpu_s")):
            slope = float(np.polyfit(x, np.log([r["features"][key] for r in results]), 1)[0])
            verdict = "met" if slope <= TARGET_EXPONENT else "missed"
            lines.append(
                f"exponent of {what} against persons ({years:g} years): {slope:.2f} "
                f"(target at most {TARGET_EXPONENT}: {verdict})"
            )
    biggest = max(results, key=lambda r: r["persons"])
    p = biggest.get("pipeline")
    if p:
        verdict = "met" if p["total_s"] <= TARGET_PIPELINE_S else "missed"
        verdict = verdict if biggest["persons"] >= 1_000_000 else "for 1,000,000"
        lines.append(
            f"simulate + features + train at {biggest['persons']:,} persons, each a "
            f"`riskwarn` command: {p['simulate_s']:.0f} + {p['features_s']:.0f} + "
            f"{p['train_s']:.0f} = {p['total_s']:.0f} s (target {TARGET_PIPELINE_S} s at "
            f"1,000,000 persons: {verdict})"
        )
    f = biggest["features"]
    ok = f["wall_s"] <= TARGET_S and f["peak_mib"] <= TARGET_MIB
    verdict = ("met" if ok else "missed") if biggest["persons"] >= 1_000_000 else "for 1,000,000"
    lines.append(
        f"at {biggest['persons']:,} persons: {f['wall_s']:.1f} s, {f['peak_mib']:,} MiB "
        f"(targets {TARGET_S} s and {TARGET_MIB:,} MiB at 1,000,000 persons: {verdict}); "
        f"load average when measured {f['load_average']:.1f}"
    )
    for r in results:
        g = r.get("graph")
        if not g:
            continue
        lines += [
            "",
            f"graph stage at {r['persons']:,} persons, {g['dates']} dates:",
            f"- as the library runs it (links swept, measures of the parties' components, "
            f"carried over where unchanged): {g['swept_s']:.1f} s",
            f"- rebuilt per date (links from the tables, measures of everyone, whole graphs): "
            f"{g['rebuilt_s']:.1f} s; the library is {g['rebuilt_s'] / g['swept_s']:.1f}x "
            f"faster; same values at the last date's parties: {g['swept_equals_rebuilt']}",
        ]
        if "networkx_s" in g:
            lines.append(
                f"- networkx per date (graphs from the tables; connected_components, "
                f"core_number, pagerank of everyone; {g['networkx_dates_timed']} of "
                f"{g['dates']} dates timed, scaled): {g['networkx_s']:.0f} s; the library is "
                f"{g['networkx_s'] / g['swept_s']:.0f}x faster; sizes and cores identical: "
                f"{g['networkx_sizes_cores_equal']}, largest PageRank difference "
                f"{g['networkx_pagerank_max_diff']:.1e} (4 decimals kept)"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--years", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--every", type=int, default=30)
    ap.add_argument("--data", type=Path, help="an existing dataset instead of simulating")
    ap.add_argument("--calls", type=int, default=300, help="timed new-case calls per kind")
    ap.add_argument("--compare-at", type=int, help="persons for the graph comparison")
    ap.add_argument("--nx-dates", type=int, default=4, help="dates networkx is timed on (0: all)")
    ap.add_argument("--no-nx", action="store_true", help="skip the networkx comparison")
    ap.add_argument(
        "--no-pipeline",
        action="store_true",
        help="skip timing simulate + features + train at the largest size",
    )
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--compare", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args)
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sizes = [None] if args.data else sorted(args.persons)
        compare_at = args.compare_at or (sizes[0] if sizes[0] else None)
        for persons in sizes:
            where = args.data
            if where is None:
                where = Path(tmp) / f"county-{persons}"
                began = time.perf_counter()
                simulate_to_disk(where, persons, args.years, args.seed)
                simulated_s = time.perf_counter() - began
                print(
                    f"simulated {persons:,} persons, {args.years:g} years, seed {args.seed} "
                    f"in {time.perf_counter() - began:.0f} s",
                    flush=True,
                )
            result = measure(where, args, compare=args.data is not None or persons == compare_at)
            if persons is not None and persons == sizes[-1] and not args.no_pipeline:
                result["pipeline"] = pipeline(where, simulated_s)
            print(json.dumps(result), flush=True)
            results.append(result)
            if where != args.data:
                shutil.rmtree(where)
    print("\n" + "\n".join(report(results, args.years)))
    g = [r["graph"] for r in results if r.get("graph")]
    if any(not x["swept_equals_rebuilt"] for x in g) or any(
        "networkx_s" in x
        and (not x["networkx_sizes_cores_equal"] or x["networkx_pagerank_max_diff"] > ROUNDED)
        for x in g
    ):
        raise SystemExit("the graph stage's results disagree on the last date")


if __name__ == "__main__":
    main()
