"""LightGBM boosters fitted on a Dask cluster (``lightgbm.dask.DaskLGBMClassifier``).

``riskwarn train DIR --dask SCHEDULER`` (or ``--dask local:N``) runs the one pipeline
(``_fit.py``) with these fits in place of the in-process ones; each returns a plain
``lightgbm.Booster``, so calibration, tiers, the card, MLflow logging and the registered
model the service loads are unchanged.

How fits stay close to each other: the rows are shuffled with the config's seed (time-sorted or
label-sorted parts would give each worker a different slice of the world, a known failure
of data-parallel boosting), cut into one part per worker and placed on the workers in the
order of their addresses, so every fit sees the same rows on the same machine rank; the
parameters are the in-process ones (``deterministic``, ``force_row_wise``, one seed), but
the threads are each worker's own (``--nthreads`` of ``dask worker``; one in ``local:N``).
Even so, repeats are close, not bit-identical. Measured (2026-12-02, LocalCluster of 2,
the same parts on the same workers every time): lightgbm.dask numbers the workers
(LightGBM's machine ranks) in the order ``client.who_has`` lists the parts, and that order
changes between fits; each rank finds the bins of its share of the features from its own
rows, so a swapped order gives other bins and another model, while every fit with the same
order gave the same model (6 fits: 2 orders, 2 models). Passing ``machines`` pins the ranks
only where each host runs one worker (lightgbm.dask maps machines to workers by host name),
so it would not help a LocalCluster; work stealing off (``local:N`` turns it off; a
standing scheduler takes ``DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING=False``) keeps the
parts where they were placed. Each part is scattered under its own key (``hash=False``):
under a content hash, a fit on the same rows as the one before could reuse a key the
scheduler was still releasing and fail with "lost dependencies" (seen here).
LightGBM's Dask interface has no early stopping, so a search fit trains every round and
the best round is found afterwards on the validation window, on the driver, by the rule
LightGBM's ``early_stopping`` applies (stop after ``early_stopping_rounds`` rounds without
a lower log loss; keep the best).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from riskwarn.training._boosters import Boosters
from riskwarn.training._config import LGBMConfig
from riskwarn.training._lgbm import lgbm_params

EPSILON = 1e-15  # LightGBM's clip of probabilities in binary_logloss


def dask_boosters(client: Any) -> Boosters:
    """Fits on ``client``'s cluster, for ``fit_evaluate(..., boosters=...)``."""
    return Boosters(
        fit_booster=lambda *a, **k: fit_booster_dask(client, *a, **k),
        fit_rounds=lambda *a, **k: fit_rounds_dask(client, *a, **k),
        where=f"dask ({len(client.nthreads())} workers)",
    )


def _parts(client: Any, x: np.ndarray, y: np.ndarray, seed: int) -> tuple[Any, Any]:
    """``x`` and ``y`` shuffled, one part per worker, each part placed on its worker."""
    import dask.array as da
    from dask import delayed

    workers = sorted(client.nthreads())
    order = np.random.default_rng(seed).permutation(len(y))
    cuts = np.linspace(0, len(y), len(workers) + 1).round().astype(int)
    xs, ys = [], []
    for w, a, b in zip(workers, cuts[:-1], cuts[1:], strict=True):
        rows = order[a:b]
        xf = client.scatter(np.ascontiguousarray(x[rows]), workers=[w], direct=True, hash=False)
        yf = client.scatter(np.ascontiguousarray(y[rows]), workers=[w], direct=True, hash=False)
        xs.append(da.from_delayed(delayed(xf), shape=(b - a, x.shape[1]), dtype=x.dtype))
        ys.append(da.from_delayed(delayed(yf), shape=(b - a,), dtype=y.dtype))
    return da.concatenate(xs), da.concatenate(ys)


def _fit(
    client: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    rounds: int,
    feature_names: list[str],
    categorical_index: list[int],
    cfg: LGBMConfig,
    balanced: bool,
    monotone: list[int] | None,
) -> Any:
    from lightgbm import Booster
    from lightgbm.dask import DaskLGBMClassifier

    pos = float(np.sum(y))
    spw = (len(y) - pos) / pos if balanced and pos > 0 else 1.0
    params = lgbm_params(cfg, scale_pos_weight=spw, monotone=monotone)
    params.pop("metric", None)  # the best round is scored on the driver (best_round)
    params.pop("num_threads", None)  # a Dask worker trains with its own threads
    model = DaskLGBMClassifier(client=client, n_estimators=rounds, **params)
    dx, dy = _parts(client, x, y.astype(np.int64), cfg.seed)
    with warnings.catch_warnings():
        # DaskLGBMClassifier always passes its n_jobs on and lightgbm.dask always drops it
        # (each worker uses its own threads), with a warning that is not about our settings
        warnings.filterwarnings(
            "ignore", message="Parameter n_jobs will be ignored", category=UserWarning
        )
        model.fit(dx, dy, feature_name=feature_names, categorical_feature=categorical_index)
    return Booster(model_str=model.booster_.model_to_string())


def fit_booster_dask(
    client: Any,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    feature_names: list[str],
    categorical_index: list[int],
    cfg: LGBMConfig,
    balanced: bool = False,
    monotone: list[int] | None = None,
) -> tuple[Any, float]:
    """:func:`riskwarn.training._lgbm.fit_booster` on the cluster: every round trained,
    then cut at the round early stopping would have kept; that round's validation log
    loss."""
    from lightgbm import Booster

    booster = _fit(
        client,
        x_train,
        y_train,
        rounds=cfg.n_estimators,
        feature_names=feature_names,
        categorical_index=categorical_index,
        cfg=cfg,
        balanced=balanced,
        monotone=monotone,
    )
    best, loss = best_round(booster, x_val, y_val, cfg.early_stopping_rounds)
    return Booster(model_str=booster.model_to_string(num_iteration=best)), loss


def fit_rounds_dask(
    client: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    rounds: int,
    feature_names: list[str],
    categorical_index: list[int],
    cfg: LGBMConfig,
    balanced: bool = False,
    monotone: list[int] | None = None,
) -> Any:
    """:func:`riskwarn.training._lgbm.fit_rounds` on the cluster."""
    return _fit(
        client,
        x,
        y,
        rounds=max(1, rounds),
        feature_names=feature_names,
        categorical_index=categorical_index,
        cfg=cfg,
        balanced=balanced,
        monotone=monotone,
    )


def validation_losses(booster: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary log loss on ``(x, y)`` after each round (LightGBM's ``binary_logloss``)."""
    raw = np.zeros(len(y))
    out = np.empty(booster.num_trees())
    for i in range(len(out)):
        raw += booster.predict(x, raw_score=True, start_iteration=i, num_iteration=1)
        p = 1.0 / (1.0 + np.exp(-raw))
        out[i] = -np.mean(
            np.where(y > 0, np.log(np.maximum(p, EPSILON)), np.log(np.maximum(1 - p, EPSILON)))
        )
    return out


def best_round(booster: Any, x: np.ndarray, y: np.ndarray, patience: int) -> tuple[int, float]:
    """(rounds to keep, their validation log loss) by LightGBM's early-stopping rule."""
    losses = validation_losses(booster, x, y)
    best, at = np.inf, 0
    for i, loss in enumerate(losses.tolist()):
        if loss < best:
            best, at = loss, i
        elif i - at >= patience:
            break
    return at + 1, float(best)
