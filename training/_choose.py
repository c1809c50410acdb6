"""Choosing the model honestly, on the validation window only.

A fixed, time-aware grid of LightGBM settings (fit on the training window, early-stopped
and scored on the later validation window), monotone where the feature registry declares a
direction; the kind to register by validation log loss; and the checks that refuse a table
with nothing to learn from, or warn about (``train-table``: refuse) a model no better than
chance.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from riskwarn.errors import ConfigError
from riskwarn.training._config import LGBMConfig, TrainConfig
from riskwarn.training._lgbm import fit_booster
from riskwarn.training._matrix import FeatureLayout
from riskwarn.training._metrics import auc_ap
from riskwarn.training._split import Split


def check_informative(x: np.ndarray, layout: FeatureLayout) -> None:
    """Refuse a table none of whose features varies on the training rows (all empty, or
    one value throughout): no model could learn anything from it."""
    for j in range(x.shape[1]):
        col = x[:, j]
        known = col[np.isfinite(col)]
        if len(np.unique(known)) > 1 or 0 < len(known) < len(col):
            return
    raise ConfigError(
        f"expected at least one feature that varies on the training rows, got none of "
        f"{len(layout.names)} ({', '.join(layout.names[:5])}"
        f"{'...' if len(layout.names) > 5 else ''}) with more than one value; nothing would "
        "be learned, so nothing is trained or registered. Check the table's columns and --drop."
    )


def better_than_chance(
    y: np.ndarray, risk: np.ndarray, clusters: np.ndarray, kind: str, *, refuse: bool
) -> tuple[float, str]:
    """The validation ROC-AUC, and a warning when its 95% interval (a bootstrap over cases)
    reaches down to 0.5, i.e. the model is no better than chance; with ``refuse``, an error
    instead, so nothing is registered."""
    draws = 200
    order = np.argsort(-risk, kind="stable")
    ends = np.concatenate([np.flatnonzero(np.diff(risk[order]) != 0), [len(risk) - 1]])
    auc, _ = auc_ap(y.astype(np.float64), np.ones(len(y)), order, ends)
    codes = np.unique(clusters, return_inverse=True)[1]
    n = int(codes.max()) + 1
    rng = np.random.default_rng(0)
    sample = []
    for _ in range(draws):
        w = np.bincount(rng.integers(0, n, n), minlength=n)[codes].astype(np.float64)
        sample.append(auc_ap(y.astype(np.float64), w, order, ends)[0])
    lo = float(np.nanquantile(sample, 0.025))
    if auc > 0.5 and lo > 0.5:
        return auc, ""
    if refuse:
        raise ConfigError(
            f"expected a model better than chance on the validation window, got {kind} with "
            f"ROC-AUC {auc:.3f} (95% interval down to {lo:.3f}); its scores would rank cases "
            "no better than a coin, so nothing is registered. Check that the label and the "
            "features are the intended columns, or bring more data."
        )
    return auc, (
        f"{kind} is not clearly better than chance on the validation window (ROC-AUC "
        f"{auc:.3f}, 95% interval down to {lo:.3f}); more data is needed before relying on it."
    )


def directions(layout: FeatureLayout, config: TrainConfig) -> list[int]:
    """Each feature's declared direction (0 for categories, other tables' columns, or when
    the config turns constraints off)."""
    if not config.monotone:
        return [0] * len(layout.names)
    from riskwarn.features import REGISTRY

    signs = REGISTRY.directions(layout.names)
    return [0 if n in layout.categories else d for n, d in zip(layout.names, signs, strict=True)]


def _fit_lgbm(
    x: np.ndarray,
    y: np.ndarray,
    split: Split,
    layout: FeatureLayout,
    cfg: LGBMConfig,
    balanced: bool,
    monotone: list[int],
    fit: Callable[..., tuple] = fit_booster,
) -> tuple:
    return fit(
        x[split.train],
        y[split.train],
        x[split.validation],
        y[split.validation],
        feature_names=layout.names,
        categorical_index=layout.categorical_index,
        cfg=cfg,
        balanced=balanced,
        monotone=monotone,
    )


def search_lgbm(
    x: np.ndarray,
    y: np.ndarray,
    split: Split,
    layout: FeatureLayout,
    config: TrainConfig,
    monotone: list[int],
    fit: Callable[..., tuple] = fit_booster,
) -> tuple[LGBMConfig, list[dict], object, float]:
    """Grid search on the validation window by log loss (time-aware: fit on the training
    window, stop early and score on the later validation window). Returns the best
    settings, every trial, and the best booster with its validation loss. ``fit``: where
    each booster is fitted (:class:`riskwarn.training._boosters.Boosters`)."""
    balanced = config.imbalance == "balanced"
    grid = config.search.grid
    keys = list(grid)
    points = itertools.islice(itertools.product(*grid.values()), config.search.max_trials)
    trials: list[dict] = []
    best: tuple[LGBMConfig, object, float] | None = None
    for values in points if grid else [()]:
        cfg = config.lgbm.model_copy(update=dict(zip(keys, values, strict=True)))
        booster, loss = _fit_lgbm(x, y, split, layout, cfg, balanced, monotone, fit)
        trials.append(
            {
                **dict(zip(keys, values, strict=True)),
                "val_logloss": loss,
                "rounds": booster.num_trees(),
            }
        )
        if best is None or loss < best[2]:
            best = (cfg, booster, loss)
    assert best is not None
    return best[0], trials if grid else [], best[1], best[2]


def choose(rule: str, losses: dict[str, float]) -> str:
    """The kind to register: the config's choice, or with ``best`` the lower validation log
    loss (LightGBM when the logistic regression was not trained)."""
    if rule != "best":
        return rule
    if "logistic" in losses and losses["logistic"] < losses["lightgbm"]:
        return "logistic"
    return "lightgbm"
