"""Training on any labelled table (CSV or Parquet) a data scientist brings.

The same split, training, calibration, logistic baseline, evaluation, group report, model
card and MLflow logging as ``riskwarn train``; the id, time and ``--group`` columns are
never features.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskwarn._progress import Progress
from riskwarn.errors import ConfigError, DatasetNotFoundError
from riskwarn.training._config import TrainConfig
from riskwarn.training._fit import TrainingData, TrainResult, fit_evaluate
from riskwarn.training._tracking import LoggedRun, log_training

TABLE_MODEL_NAME = "riskwarn-table"


@dataclass(frozen=True)
class TrainOutcome:
    """A finished training run: its results and where MLflow holds them."""

    result: TrainResult
    run: LoggedRun


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame."""
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(
            f"expected a CSV or Parquet file, got {str(p)!r} which does not exist."
        )
    if p.suffix.lower() == ".parquet":
        return pd.read_parquet(p)
    if p.suffix.lower() == ".csv":
        return pd.read_csv(p)
    raise ConfigError(
        f"expected a .csv or .parquet file, got {p.name!r}; convert the table to one of them."
    )


def _column(frame: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in frame.columns:
        close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"expected a {role} column {name!r} in the table, got none.{hint}")
    return frame[name]


def table_data(
    frame: pd.DataFrame,
    *,
    label: str,
    time: str,
    id: str | None = None,
    drop: tuple[str, ...] | list[str] = (),
    group: tuple[str, ...] | list[str] = (),
) -> TrainingData:
    """Split a flat table into features, label, time, ids and report-only groups."""
    y = _column(frame, label, "label")
    t = pd.to_datetime(_column(frame, time, "time"), errors="coerce")
    ids = (
        _column(frame, id, "id").astype(str).to_numpy() if id else np.arange(len(frame)).astype(str)
    )
    for name in (*drop, *group):
        _column(frame, name, "--drop/--group")
    known = y.notna().to_numpy()
    not_features = {label, time, *drop, *group} | ({id} if id else set())
    features = frame.loc[known, [c for c in frame.columns if c not in not_features]]
    for col in features.columns:
        if features[col].dtype == bool:
            features[col] = features[col].astype("float64")
    return TrainingData(
        features=features.reset_index(drop=True),
        label=y[known].to_numpy(),
        time=t[known].to_numpy(),
        ids=ids[known],
        groups=frame.loc[known, list(group)].reset_index(drop=True),
        registry_version="table",
        topk_by_time=False,
        require_signal=True,
    )


def metrics_json(outcome: TrainOutcome) -> dict:
    """What ``--metrics-out`` writes: test metrics per model, groups, windows, the run.

    Undefined figures (no bootstrap interval, a group without events) are ``null``."""
    return {
        "run_id": outcome.run.run_id,
        "model_uri": outcome.run.model_uri,
        "windows": outcome.result.windows,
        "metrics": outcome.result.metrics,
        "groups": outcome.result.groups,
        "calibration": outcome.result.model.calibrator.method,
        "thresholds": outcome.result.model.thresholds,
        "model": outcome.result.model.kind,
        "validation_logloss": outcome.result.model.metadata.choice.validation_logloss,
        "lightgbm_worse_than_logistic": (
            outcome.result.model.metadata.choice.lightgbm_worse_than_logistic
        ),
        "refit": outcome.result.model.metadata.refit.refit,
    }


def _plain_json(value: object) -> object:
    """``value`` with NaN and infinities as null and numpy scalars as Python numbers, so that
    strict JSON readers (not only Python's) accept the file."""
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _writable(path: str | Path) -> Path:
    """Check (and make the folder of) an output file before the run, so a bad path fails
    before anything is trained or registered."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(
            f"expected a file for --metrics-out, got the folder {str(p)!r}; "
            "give a file name such as metrics.json."
        )
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"expected --metrics-out in a folder that exists or can be made, got {str(p)!r} "
            f"({exc.strerror}); choose another path."
        ) from exc
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ConfigError(
            f"expected a writable --metrics-out, got {str(p)!r} which cannot be written; "
            "choose another path."
        )
    return p


def train_table(
    path: str | Path,
    *,
    label: str,
    time: str,
    id: str | None = None,
    drop: tuple[str, ...] | list[str] = (),
    group: tuple[str, ...] | list[str] = (),
    config: TrainConfig | None = None,
    tracking_uri: str | None = None,
    metrics_out: str | Path | None = None,
    model_name: str = TABLE_MODEL_NAME,
    progress: Progress | None = None,
) -> TrainOutcome:
    """Train, evaluate and log a model on a flat labelled table."""
    cfg = config or TrainConfig()
    out = _writable(metrics_out) if metrics_out is not None else None
    frame = read_table(path)
    data = table_data(frame, label=label, time=time, id=id, drop=drop, group=group)
    result = fit_evaluate(data, cfg, progress)
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    ).hexdigest()[:16]
    run = log_training(
        result,
        cfg,
        dataset=str(path),
        digest=digest,
        tracking_uri=tracking_uri,
        model_name=model_name,
    )
    outcome = TrainOutcome(result, run)
    if out is not None:
        text = json.dumps(
            _plain_json(metrics_json(outcome)), indent=1, ensure_ascii=False, allow_nan=False
        )
        out.write_text(text, encoding="utf-8")
    return outcome
