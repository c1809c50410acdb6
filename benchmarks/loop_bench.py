"""Benchmark of the closed loop's evaluation and of training that knows about interventions.

    .venv/bin/python benchmarks/loop_bench.py                      # 1,000,000 persons
    .venv/bin/python benchmarks/loop_bench.py --persons 300000 --skip-training

A simulated county with a planted 30% hazard reduction for handled red and orange cases
and a stepped rollout (``riskwarn simulate --interventions``). Targets (issue 14):

1. The stepped-rollout estimate of the effect of handling covers the planted 30% within
   its 95% interval; printed beside the planted effect, the regression discontinuity and
   the naive handled-vs-unhandled comparison (biased: handled cases looked riskier).
2. Trained with ``interventions = "feature"`` or ``"exclude"``, the model's calibration
   on unhandled cases stays within ECE 0.01, while ``"ignore"`` under-rates them: the
   three printed side by side (ECE, and predicted against observed among the unhandled
   cases the loop would have warned), on snapshots after the training period.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def simulate(out: Path, persons: int, seed: int, share: float, effect: float) -> float:
    from riskwarn import WarningLoop, simulate_with_truth

    t0 = time.perf_counter()
    loop = WarningLoop(handled_share=share, effect=effect, rollout="stepped")
    sim = simulate_with_truth(persons, 3.0, seed, interventions=loop, oracle=False)
    sim.write(out, "parquet")
    return time.perf_counter() - t0


def evaluation(out: Path, effect: float, share: float) -> None:
    from riskwarn.loop import evaluate_warnings

    t0 = time.perf_counter()
    ev = evaluate_warnings(out)
    took = time.perf_counter() - t0
    print(f"\n== Effect of handling (planted: {effect:.0%} fewer incidents when handled; "
          f"{share:.0%} of new warnings handled) ==")  # fmt: skip
    print(f"warnings {len(ev.warnings):,}; evaluation {took:.1f} s")
    for est in (ev.stepped, ev.discontinuity, ev.naive):
        covers = (
            "" if not est.allowed
            else ("  covers the planted effect" if est.low <= effect <= est.high
                  else "  MISSES the planted effect")
        )  # fmt: skip
        print(f"  {est.line()}{covers}")
    print(f"  ({ev.stepped.detail})")


def training(out: Path, cutoff: str, holdout_end: str) -> None:
    """Fit one model per policy on snapshots before ``cutoff`` (labels ending by then) and
    score the unhandled snapshots from ``cutoff`` to ``holdout_end``."""
    from riskwarn import load_dataset
    from riskwarn.training import (
        INTERVENTION_FEATURES,
        SnapshotTable,
        TrainConfig,
        build_table,
        ece,
        fit_evaluate,
        training_data,
    )

    t0 = time.perf_counter()
    ds = load_dataset(out)
    table = build_table(ds)
    built = time.perf_counter() - t0
    cut = pd.Timestamp(cutoff)
    as_of = table.snapshots["as_of"]
    horizon = pd.Timedelta(days=90)
    train_rows = (as_of + horizon <= cut).to_numpy()
    hold = ((as_of >= cut) & (as_of <= pd.Timestamp(holdout_end))).to_numpy()
    acted = table.interventions["intervention_in_horizon"].to_numpy(bool)
    unhandled = hold & ~acted
    # of those, the cases the loop had warned by then (the ones a naive retrain under-rates)
    truth = pd.read_parquet(out / "_truth" / "warnings.parquet")
    first_warned = truth[truth["warned"]].groupby("dispute_id")["as_of"].min()
    warned_at = table.snapshots["dispute_id"].map(first_warned)
    warned = (warned_at <= as_of).fillna(False).to_numpy(bool)

    def part(mask: np.ndarray) -> SnapshotTable:
        def rows(f: pd.DataFrame) -> pd.DataFrame:
            return f.loc[mask].reset_index(drop=True)

        return SnapshotTable(
            snapshots=rows(table.snapshots), features=rows(table.features),
            groups=rows(table.groups), registry_version=table.registry_version,
            digest=table.digest, train_until=cut, interventions=rows(table.interventions),
        )  # fmt: skip

    train, test = part(train_rows), part(unhandled)
    y = test.snapshots["label"].to_numpy(int)
    was_warned = warned[unhandled]
    print(f"\n== Calibration on unhandled cases (snapshots {cutoff} .. {holdout_end}) ==")
    n_train, n_acted = int(train_rows.sum()), int((train_rows & acted).sum())
    print(
        f"table {built:.0f} s: {n_train:,} training snapshots ({n_acted:,} acted on in their "
        f"horizon); {int(unhandled.sum()):,} unhandled holdout snapshots, {int(y.sum())} events"
    )
    print(f"({int(was_warned.sum()):,} of them warned and not handled, "
          f"{int(y[was_warned].sum())} events)")  # fmt: skip
    print(f"{'policy':>8} {'ECE':>7} {'mean risk':>10} {'observed':>9} "
          f"{'top-5% risk':>12} {'top-5% obs':>11} {'warned risk':>12} {'warned obs':>11} "
          f"{'fit s':>6}")  # fmt: skip
    for policy in ("feature", "exclude", "ignore"):
        t1 = time.perf_counter()
        cfg = TrainConfig(
            name=policy, interventions=policy, baselines=False, model="lightgbm",
            refit=False, bootstrap=0, search={"grid": {}},
        )  # fmt: skip
        result = fit_evaluate(training_data(train, cfg), cfg)
        x = test.features
        if policy == "feature":
            x = pd.concat([x, test.interventions[list(INTERVENTION_FEATURES)]], axis=1)
        risk = result.model.predict_risk(x)
        top = risk >= np.quantile(risk, 0.95)
        took = time.perf_counter() - t1
        print(
            f"{policy:>8} {ece(y, risk):7.4f} {risk.mean():10.4f} {y.mean():9.4f} "
            f"{risk[top].mean():12.4f} {y[top].mean():11.4f} {risk[was_warned].mean():12.4f} "
            f"{y[was_warned].mean():11.4f} {took:6.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--handled-share", type=float, default=0.8)
    parser.add_argument("--effect", type=float, default=0.3)
    parser.add_argument("--data", type=Path, help="Reuse (or keep) the simulated county here.")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument(
        "--cutoff", default="2024-04-01",
        help="Training labels end by this day: a year after the loop's first townships "
        "started, so the training data hold handled cases (the retrain after the loop "
        "works that the issue warns of).",
    )  # fmt: skip
    parser.add_argument("--holdout-end", default="2024-10-02")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.data or Path(tmp) / "county"
        if not (out / "_truth" / "warnings.parquet").is_file():
            took = simulate(out, args.persons, args.seed, args.handled_share, args.effect)
            print(f"simulated {args.persons:,} persons, 3 years, seed {args.seed}: {took:.1f} s")
        evaluation(out, args.effect, args.handled_share)
        if not args.skip_training:
            training(out, args.cutoff, args.holdout_end)


if __name__ == "__main__":
    main()
