"""Deterministic LightGBM training with early stopping on the validation window, monotone
where the feature registry declares a direction, and the fitted booster as a model."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np

from riskwarn.training._config import LGBMConfig

MODEL_FILE = "model.txt"


class TreeModel:
    """A fitted LightGBM booster: raw probability and exact TreeSHAP contributions (log-odds)."""

    kind = "lightgbm"

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster

    def raw(self, x: np.ndarray, rounds: int | None = None) -> np.ndarray:
        """Probabilities of the booster (of its first ``rounds`` trees when given)."""
        threads = {"num_threads": 1} if len(x) == 1 else {}
        return self.booster.predict(x, num_iteration=rounds, **threads)

    def contributions(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions (n, n_features) and the base value (n,)."""
        threads = {"num_threads": 1} if len(x) == 1 else {}
        out = self.booster.predict(x, pred_contrib=True, **threads)
        return out[:, :-1], out[:, -1]

    def save(self, directory: Path) -> None:
        self.booster.save_model(str(directory / MODEL_FILE))

    @classmethod
    def load(cls, directory: Path) -> TreeModel:
        return cls(lgb.Booster(model_file=str(directory / MODEL_FILE)))


def lgbm_params(
    cfg: LGBMConfig, *, scale_pos_weight: float = 1.0, monotone: list[int] | None = None
) -> dict:
    """LightGBM parameters for a binary model that gives the same trees on every run.

    ``monotone``: one direction per feature (+1, -1, 0), passed as ``monotone_constraints``
    (method ``advanced``, the least restrictive of LightGBM's exact methods)."""
    constraints = (
        {"monotone_constraints": list(monotone), "monotone_constraints_method": "advanced"}
        if monotone and any(monotone)
        else {}
    )
    return {
        **constraints,
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.num_leaves,
        "max_depth": cfg.max_depth,
        "min_data_in_leaf": cfg.min_child_samples,
        "feature_fraction": cfg.feature_fraction,
        "bagging_fraction": cfg.bagging_fraction,
        "bagging_freq": cfg.bagging_freq,
        "lambda_l2": cfg.reg_lambda,
        "extra_trees": cfg.extra_trees,
        "scale_pos_weight": scale_pos_weight,
        "seed": cfg.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": cfg.num_threads,
        "verbosity": -1,
        "max_cat_to_onehot": 16,
        "cat_smooth": 10.0,
    }


def fit_booster(
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
) -> tuple[lgb.Booster, float]:
    """Train with early stopping; return the booster cut at its best round and that
    round's validation log loss."""
    pos = float(np.sum(y_train))
    spw = (len(y_train) - pos) / pos if balanced and pos > 0 else 1.0
    params = lgbm_params(cfg, scale_pos_weight=spw, monotone=monotone)
    common = {"feature_name": feature_names, "categorical_feature": categorical_index}
    dtrain = lgb.Dataset(
        x_train, label=y_train, free_raw_data=False, params={"verbosity": -1}, **common
    )
    dval = lgb.Dataset(x_val, label=y_val, reference=dtrain, **common)
    booster = lgb.train(
        params,
        dtrain,
        num_boost_round=cfg.n_estimators,
        valid_sets=[dval],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
    )
    best = booster.best_iteration or booster.current_iteration()
    loss = float(booster.best_score["validation"]["binary_logloss"])
    final = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return final, loss


def fit_rounds(
    x: np.ndarray,
    y: np.ndarray,
    *,
    rounds: int,
    feature_names: list[str],
    categorical_index: list[int],
    cfg: LGBMConfig,
    balanced: bool = False,
    monotone: list[int] | None = None,
) -> lgb.Booster:
    """Train a fixed number of rounds on all of ``x`` (no validation window: the refit)."""
    pos = float(np.sum(y))
    spw = (len(y) - pos) / pos if balanced and pos > 0 else 1.0
    params = lgbm_params(cfg, scale_pos_weight=spw, monotone=monotone)
    data = lgb.Dataset(
        x,
        label=y,
        feature_name=feature_names,
        categorical_feature=categorical_index,
        params={"verbosity": -1},
    )
    return lgb.train(params, data, num_boost_round=max(1, rounds))
