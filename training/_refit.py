"""The deployed model, fit on all the evidence.

After the time split has given the reported figures, the registered model is refit on every
labelled snapshot with the settings chosen on validation (LightGBM: the validated number of
rounds, scaled by the ratio of rows to the training window's rows). Its calibrator is fit on
**out-of-time folds**: the labelled snapshots are cut by date into ``folds + 2`` blocks of
about equal rows (a date is never split); each of the last ``folds`` blocks is scored by a
model of the same settings fitted only on snapshots whose label window ends before the
block starts (``as_of + horizon <= block start``), so every calibration row is scored by a
model that never saw it, as the deployed model will score the next month. The calibrator
(isotonic or sigmoid, chosen by cross-validated Brier) and capacity tier thresholds come
from those out-of-time scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwarn.training._calibrate import Calibrator, choose_calibrator

Fit = Callable[[np.ndarray, np.ndarray], object]
"""Fit an estimator of the chosen kind and settings on (x, y); it has ``raw(x)``."""


@dataclass(frozen=True)
class Refit:
    """The refit's outcome: the estimator on all rows, its calibrator, the out-of-time
    scores behind it, and a record of the folds."""

    estimator: object
    calibrator: Calibrator
    cv_brier: dict[str, float]
    oot_risk: np.ndarray
    oot_label: np.ndarray
    folds: list[dict]


def blocks(time: np.ndarray, parts: int) -> np.ndarray:
    """Block number (0..parts-1) of each row: consecutive dates, about equal rows each."""
    t = pd.to_datetime(pd.Series(np.asarray(time))).to_numpy()
    dates, counts = np.unique(t, return_counts=True)
    share = np.cumsum(counts) / counts.sum()
    of_date = np.minimum((share - counts / counts.sum() / 2) * parts, parts - 1).astype(int)
    return of_date[np.searchsorted(dates, t)]


def refit(
    x: np.ndarray,
    y: np.ndarray,
    time: np.ndarray,
    ids: np.ndarray,
    *,
    fit: Callable[[np.ndarray, np.ndarray, float], object],
    horizon_days: int,
    folds: int,
    calibration: str,
    seed: int,
) -> Refit | str:
    """Refit on all rows and calibrate on out-of-time folds; a sentence instead when the
    data leave no usable fold (too few rows or events before a block)."""
    t = pd.to_datetime(pd.Series(np.asarray(time))).to_numpy()
    block = blocks(t, folds + 2)
    gap = np.timedelta64(horizon_days, "D")
    raw_parts, y_parts, id_parts, records = [], [], [], []
    for k in range(2, folds + 2):
        held = block == k
        if not held.any():
            continue
        start = t[held].min()
        seen = t + gap <= start
        if y[seen].min(initial=1) == y[seen].max(initial=0) or y[held].sum() == 0:
            continue  # one class only before the block, or no event in it
        model = fit(x[seen], y[seen], seen.sum() / len(y))
        raw_parts.append(model.raw(x[held]))  # type: ignore[attr-defined]
        y_parts.append(y[held])
        id_parts.append(np.asarray(ids)[held])
        records.append(
            {
                "start": pd.Timestamp(start).isoformat(),
                "end": pd.Timestamp(t[held].max()).isoformat(),
                "rows": int(held.sum()),
                "events": int(y[held].sum()),
                "fit_rows": int(seen.sum()),
                "fit_until": pd.Timestamp(t[seen].max()).isoformat(),
            }
        )
    if not records:
        return (
            "refit skipped: no out-of-time fold had both outcomes before it and an event in "
            "it; the deployed model is the evaluated one"
        )
    raw = np.concatenate(raw_parts)
    labels = np.concatenate(y_parts)
    calibrator, scores = choose_calibrator(
        raw, labels, calibration, seed=seed, groups=np.concatenate(id_parts)
    )  # type: ignore[arg-type]
    estimator = fit(x, y, 1.0)
    return Refit(estimator, calibrator, scores, calibrator.predict(raw), labels, records)
