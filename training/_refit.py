"""The deployed model, fit on all the evidence.

After the time split has given the reported figures, the registered model is refit on every
labelled snapshot with the settings chosen on validation (LightGBM: the validated number of
rounds, scaled by the ratio of rows to the training window's rows). Its calibrator is fit on
**out-of-time folds**: the labelled snapshots are cut by date into ``folds`` blocks of about
equal rows (a date is never split); each block is scored by a model of the same settings
fitted on the other blocks' snapshots whose label window cannot overlap the block's: those
with ``as_of + horizon <= block start`` and those with ``as_of >= block end + horizon``.
So every calibration row is scored by a model that never saw it nor any label of its time,
and the calibrator (isotonic or sigmoid, chosen by cross-validated Brier) and the capacity
tier thresholds come from those scores.

Why not only earlier blocks (forward chaining)? When the event rate drifts over the years,
a model fitted only on the past under-predicts each later block by that drift, the
calibrator learns to inflate by it, and the deployed model, which already learned the
recent rate from the recent blocks, gets inflated twice (in the simulated county: mean
risk 46% above the observed rate of the next year). Folds fitted on both sides learn the
model's own over- or under-confidence, not the drift.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwarn.training._calibrate import Calibrator, choose_calibrator
from riskwarn.training._config import TrainConfig
from riskwarn.training._lgbm import TreeModel
from riskwarn.training._linear import LinearModel
from riskwarn.training._metadata import RefitInfo
from riskwarn.training._metrics import calibration_points
from riskwarn.training._model import RiskModel
from riskwarn.training._tiers import tier_shares, tier_thresholds

log = logging.getLogger("riskwarn.training")

Fit = Callable[..., "TreeModel | LinearModel"]
"""Fit an estimator of the chosen kind and settings on (x, y); LightGBM's also takes
``rounds`` (boosting rounds; None: the validated rounds scaled to the rows)."""

ROUNDS = (25, 35, 50, 70, 100, 140, 200, 280, 400, 560, 800)
"""Candidate boosting rounds the out-of-time folds choose among (``refit_rounds =
"folds"``), up to the config's ``n_estimators``."""


@dataclass(frozen=True)
class Refit:
    """The refit's outcome: the estimator on all rows, its calibrator, the out-of-time
    scores behind it, and a record of the folds."""

    estimator: TreeModel | LinearModel
    calibrator: Calibrator
    cv_brier: dict[str, float]
    oot_risk: np.ndarray
    oot_label: np.ndarray
    folds: list[dict]
    rounds: int | None = None
    """LightGBM: the rounds of the deployed model, when the folds chose them."""
    fold_logloss: dict[int, float] | None = None
    """LightGBM: the pooled out-of-time log loss of each candidate number of rounds."""


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
    fit: Fit,
    horizon_days: int,
    folds: int,
    calibration: str,
    seed: int,
    rounds: Sequence[int] | None = None,
) -> Refit | str:
    """Refit on all rows and calibrate on out-of-time folds; a sentence instead when the
    data leave no usable fold (too few rows or events around a block).

    ``rounds`` (LightGBM): candidate numbers of boosting rounds. Each fold's model is then
    grown to the largest and its held-out block scored at every candidate; the candidate
    with the lowest log loss pooled over all blocks is kept, scaled by the ratio of all
    rows to a fold model's mean rows, for the deployed model, and the calibrator is fit on
    the blocks' scores at that candidate. The blocks together hold every labelled event,
    several times the validation window's, so the number of rounds rests on more evidence
    than one early-stopping window (and no longer on the guess that rounds grow in
    proportion to rows)."""
    t = pd.to_datetime(pd.Series(np.asarray(time))).to_numpy()
    block = blocks(t, folds)
    gap = np.timedelta64(horizon_days, "D")
    grid = sorted(set(rounds)) if rounds else []
    raw_parts: list[np.ndarray] = []
    at_rounds: list[dict[int, np.ndarray]] = []
    y_parts, id_parts, records = [], [], []
    for k in range(folds):
        held = block == k
        if not held.any():
            continue
        start, end = t[held].min(), t[held].max()
        before, after = t + gap <= start, t >= end + gap
        seen = before | after
        if y[seen].min(initial=1) == y[seen].max(initial=0) or y[held].sum() == 0:
            continue  # one class only around the block, or no event in it
        if grid:
            model = fit(x[seen], y[seen], rounds=grid[-1])
            at_rounds.append({k: model.raw(x[held], rounds=k) for k in grid})
        else:
            model = fit(x[seen], y[seen])
            raw_parts.append(model.raw(x[held]))
        y_parts.append(y[held])
        id_parts.append(np.asarray(ids)[held])
        records.append(
            {
                "start": pd.Timestamp(start).isoformat(),
                "end": pd.Timestamp(end).isoformat(),
                "rows": int(held.sum()),
                "events": int(y[held].sum()),
                "fit_rows": int(seen.sum()),
                "fit_before": pd.Timestamp(t[before].max()).isoformat() if before.any() else None,
                "fit_after": pd.Timestamp(t[after].min()).isoformat() if after.any() else None,
            }
        )
    if not records:
        return (
            "refit skipped: no out-of-time fold had both outcomes around it and an event in "
            "it; the deployed model is the evaluated one"
        )
    labels = np.concatenate(y_parts)
    chosen: int | None = None
    losses: dict[int, float] | None = None
    if grid:
        losses = {
            k: _logloss(labels, np.concatenate([part[k] for part in at_rounds])) for k in grid
        }
        best = min(grid, key=lambda k: (losses[k], k))
        raw = np.concatenate([part[best] for part in at_rounds])
        fit_rows = float(np.mean([r["fit_rows"] for r in records]))
        chosen = max(1, round(best * len(y) / fit_rows))
    else:
        raw = np.concatenate(raw_parts)
    calibrator, scores = choose_calibrator(
        raw, labels, calibration, seed=seed, groups=np.concatenate(id_parts)
    )  # type: ignore[arg-type]
    estimator = fit(x, y, rounds=chosen) if chosen is not None else fit(x, y)
    return Refit(
        estimator, calibrator, scores, calibrator.predict(raw), labels, records, chosen, losses
    )


def _logloss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def candidate_rounds(config: TrainConfig) -> list[int] | None:
    """The rounds the folds choose among (``refit_rounds = "folds"``), or None to keep the
    validated rounds scaled to the rows (``"scaled"``)."""
    if config.refit_rounds != "folds":
        return None
    cap = config.lgbm.n_estimators
    return [k for k in ROUNDS if k < cap] + [cap]


def deploy(
    evaluated: RiskModel,
    fit: Fit,
    x: np.ndarray,
    y: np.ndarray,
    time: np.ndarray,
    ids: np.ndarray,
    config: TrainConfig,
    *,
    rounds: int | None,
    seed: int,
) -> RiskModel:
    """The model to register: ``evaluated``'s kind and settings refit on every row (see the
    module), with its calibrator, thresholds and record; the evaluated model itself, with a
    warning, when no out-of-time fold can be made."""
    done = refit(
        x,
        y,
        time,
        ids,
        fit=fit,
        horizon_days=config.horizon_days,
        folds=config.refit_folds,
        calibration=config.calibration,
        seed=seed,
        rounds=candidate_rounds(config) if rounds is not None else None,
    )
    meta = evaluated.metadata
    if not isinstance(done, Refit):
        log.warning(done)
        skipped = meta.with_(
            refit=RefitInfo(refit=False, note=done), tier_warnings=[*meta.tier_warnings, done]
        )
        return RiskModel(evaluated.estimator, evaluated.calibrator, skipped)
    thresholds = tier_thresholds(done.oot_risk, config.tiers)
    t = pd.to_datetime(pd.Series(np.asarray(time)))
    window = {"start": t.min(), "end": t.max(), "rows": len(y), "events": int(y.sum())}
    calibration = meta.calibration.model_dump() | {
        "method": done.calibrator.method,
        "cv_brier": done.cv_brier,
        "fitted_on": f"{len(done.folds)} out-of-time folds ({len(done.oot_label)} rows)",
        "validation_points": calibration_points(done.oot_label, done.oot_risk),
    }
    deployed = meta.with_(
        thresholds=thresholds,
        labels_end=(t.max() + pd.Timedelta(days=config.horizon_days)).to_pydatetime(),
        calibration=calibration,
        tier_shares={**meta.tier_shares, "refit folds": tier_shares(done.oot_risk, thresholds)},
        refit=RefitInfo(
            refit=True,
            window=window,
            rounds=done.rounds if done.rounds is not None else rounds,
            folds=done.folds,
        ),
    )
    return RiskModel(done.estimator, done.calibrator, deployed)
