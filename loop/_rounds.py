"""Scoring rounds for an evaluation: from the simulator's truth, or a model re-scoring the
dataset at regular dates from what was known on each (``training.score_open``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn._progress import Progress, report
from riskwarn.errors import ConfigError

TRUTH_WARNINGS = Path("_truth") / "warnings.parquet"


def truth_rounds(warnings: pd.DataFrame) -> pd.DataFrame:
    """The simulator's ``_truth/warnings.parquet`` as scoring rounds (its transparent score
    and the orange threshold; the township starts it records)."""
    tier = warnings["tier_by_score"].where(warnings["tier_by_score"].notna(), None)
    return pd.DataFrame(
        {
            "dispute_id": warnings["dispute_id"].astype(str),
            "as_of": warnings["as_of"],
            "township": warnings["township"],
            "tier": tier,
            "score": warnings["score"],
            "threshold": warnings["orange_threshold"],
            "rollout_at": warnings["rollout_at"],
        }
    )


def model_rounds(
    dataset: Dataset,
    model,
    *,
    every_days: int = 28,
    min_tier: str = "orange",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Every open dispute scored by ``model`` every ``every_days`` from the first dispute to
    the data's end (each round from the data known that day), with its township; the
    model's ``min_tier`` threshold is the discontinuity's."""
    from riskwarn.training import score_open

    from ._evaluate import townships

    disputes = dataset.table("disputes")
    if disputes.empty:
        raise ConfigError("expected disputes to score, got an empty disputes table")
    start = pd.Timestamp(disputes["reported_at"].min()).normalize() + pd.Timedelta(days=every_days)
    dates = pd.date_range(start, dataset.end, freq=f"{every_days}D")
    place = townships(dataset)
    threshold = float(model.thresholds.get(min_tier, float("nan")))
    parts = []
    for i, t in enumerate(dates):
        report(progress, i, len(dates), f"scoring {t:%Y-%m-%d}")
        scored = score_open(dataset, t, model)
        if scored.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "dispute_id": scored["dispute_id"].astype(str),
                    "as_of": t,
                    "township": scored["dispute_id"].astype(str).map(place),
                    "tier": scored["tier"],
                    "score": scored["risk"],
                    "threshold": threshold,
                }
            )
        )
    report(progress, len(dates), len(dates), "scored")
    if not parts:
        raise ConfigError("no open disputes on any scoring date; nothing to evaluate")
    return pd.concat(parts, ignore_index=True)


def evaluate_warnings(
    path: str | Path,
    *,
    as_of: str | pd.Timestamp | None = None,
    model_uri: str | None = None,
    tracking_uri: str | None = None,
    warnings: str | Path | None = None,
    min_tier: str = "orange",
    horizon_days: int = 90,
    every_days: int = 28,
    bootstrap: int = 400,
    progress: Progress | None = None,
):
    """Evaluate the loop on the dataset in ``path`` (what ``riskwarn evaluate-warnings``
    runs): rounds from ``model_uri`` when given, else from the simulator's
    ``_truth/warnings.parquet``; ``warnings``: the store's warning records (CSV or Parquet)
    for the process measures."""
    from riskwarn import load_dataset
    from riskwarn.clock import parse_date
    from riskwarn.vocab import TIERS

    from ._evaluate import evaluate_rounds

    if min_tier not in TIERS:
        raise ConfigError(f"expected --min-tier as one of {', '.join(TIERS)}, got {min_tier!r}")
    dataset = load_dataset(path)
    if dataset.table("interventions") is None or dataset.table("interventions").empty:
        raise ConfigError(
            f"{path} has no interventions table, so nothing says which warnings were handled; "
            "add interventions.csv (docs/contract.md) or simulate with --interventions"
        )
    truth = Path(path) / TRUTH_WARNINGS
    if model_uri is not None:
        from riskwarn.training import load_model

        rounds = model_rounds(
            dataset,
            load_model(model_uri, tracking_uri),
            every_days=every_days,
            min_tier=min_tier,
            progress=progress,
        )
    elif truth.is_file():
        rounds = truth_rounds(pd.read_parquet(truth))
    else:
        raise ConfigError(
            f"expected --model URI to score {path} with, or the simulator's {TRUTH_WARNINGS} "
            "in it; pass --model models:/riskwarn@champion"
        )
    records = None
    if warnings is not None:
        from riskwarn.training import read_table

        records = read_table(warnings)
    when = parse_date(as_of, "--as-of") if as_of is not None else None
    return evaluate_rounds(
        dataset,
        rounds,
        min_tier=min_tier,
        horizon_days=horizon_days,
        as_of=when,
        warnings=records,
        bootstrap=bootstrap,
    )
