"""Experiments: several configs trained on one dataset, compared in one table.

Snapshots and features are built once per (every, horizon) and shared (or read from a
features file, ``--features``), so an ablation differs from the full model only in what
its config says. Runs land in the MLflow experiment ``riskwarn-experiments``, each model
loadable as ``runs:/RUN_ID/model``. When asked to register, only the config with the best
validation score is registered (alias ``challenger``); the test window plays no part in
that choice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from riskwarn._progress import Progress
from riskwarn.training._config import TrainConfig
from riskwarn.training._table import TrainOutcome
from riskwarn.training._tracking import MODEL_NAME, register_run
from riskwarn.training._train import SnapshotTable, build_table, load, train

EXPERIMENTS = "riskwarn-experiments"


@dataclass(frozen=True)
class ExperimentRun:
    """One config's finished run."""

    config: TrainConfig
    outcome: TrainOutcome


def run_experiments(
    configs: list[TrainConfig],
    path: str | Path,
    *,
    train_until: str | pd.Timestamp | None = None,
    tracking_uri: str | None = None,
    register: bool = False,
    progress: Progress | None = None,
    features: str | Path | None = None,
) -> list[ExperimentRun]:
    """Train every config on the dataset in ``path``; one MLflow run each.

    ``register``: register the one model with the lowest :func:`validation_brier` as
    ``riskwarn`` (alias ``challenger``), not one version per config. ``features``: a
    features file of this dataset (``riskwarn features``) every config reads."""
    dataset = load(path)
    tables: dict[tuple[int, int], SnapshotTable] = {}
    runs = []
    for cfg in configs:
        key = (cfg.every_days, cfg.horizon_days)
        if key not in tables:
            tables[key] = build_table(
                dataset,
                every_days=cfg.every_days,
                horizon_days=cfg.horizon_days,
                train_until=train_until,
                progress=progress,
                features=features,
            )
        outcome = train(
            path,
            cfg,
            tracking_uri=tracking_uri,
            register=False,
            experiment=EXPERIMENTS,
            table=tables[key],
            progress=progress,
        )
        runs.append(ExperimentRun(cfg, outcome))
    if register and runs:
        i = min(range(len(runs)), key=lambda k: validation_brier(runs[k]))
        best = runs[i]
        logged = register_run(
            best.outcome.run, best.outcome.result.model, best.config.name, model_name=MODEL_NAME
        )
        runs[i] = ExperimentRun(best.config, replace(best.outcome, run=logged))
    return runs


def validation_brier(run: ExperimentRun) -> float:
    """Brier score of the calibrated model on its validation window, cross-validated over
    the calibrator (the figure calibration was chosen by); comparable across configs that
    re-weight classes differently, and blind to the test window."""
    cal = run.outcome.result.calibration
    return float(cal["cv_brier"][cal["method"]])


def _ci(d: dict[str, float]) -> str:
    return f"{d['value']:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"


def comparison(runs: list[ExperimentRun]) -> pd.DataFrame:
    """One row per config: LightGBM test metrics with intervals, the baselines' AUC, run."""
    rows = []
    for r in runs:
        m = r.outcome.result.metrics
        lg = m["lightgbm"]
        rows.append(
            {
                "config": r.config.name,
                "registered": r.outcome.result.model.kind,
                "features": r.outcome.result.params["n_features"],
                "trees": r.outcome.result.params["best_iteration"],
                "val Brier": f"{validation_brier(r):.5f}",
                "test events": r.outcome.result.windows["test"].get("events", 0),
                "ROC-AUC": _ci(lg["roc_auc"]),
                "PR-AUC": _ci(lg["pr_auc"]),
                "Brier": f"{lg['brier']['value']:.4f}",
                "ECE": f"{lg['ece']['value']:.4f}",
                "recall@5%": _ci(lg["recall_top5"]),
                "logistic AUC": f"{m['logistic']['roc_auc']['value']:.3f}"
                if "logistic" in m
                else "–",
                "checklist AUC": f"{m['checklist']['roc_auc']['value']:.3f}"
                if "checklist" in m
                else "–",
                "run": r.outcome.run.run_id[:8],
                "version": r.outcome.run.model_version or "",
            }
        )
    return pd.DataFrame(rows)
