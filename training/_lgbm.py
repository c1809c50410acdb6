"""Deterministic LightGBM training with early stopping on the validation window."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from riskwarn.training._config import LGBMConfig


def lgbm_params(cfg: LGBMConfig, *, scale_pos_weight: float = 1.0) -> dict:
    """LightGBM parameters for a binary model that gives the same trees on every run."""
    return {
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
) -> tuple[lgb.Booster, float]:
    """Train with early stopping; return the booster cut at its best round and that
    round's validation log loss."""
    pos = float(np.sum(y_train))
    spw = (len(y_train) - pos) / pos if balanced and pos > 0 else 1.0
    params = lgbm_params(cfg, scale_pos_weight=spw)
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
