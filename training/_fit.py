"""The training pipeline on a labelled table, free of files and tracking.

split by time -> (search) -> LightGBM with early stopping -> calibrate on validation ->
tier thresholds -> baselines on the same windows -> test metrics with intervals -> group
report -> explanations. :func:`fit_evaluate` returns everything a run logs.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskwarn._progress import Progress, report
from riskwarn.errors import ConfigError
from riskwarn.training._baselines import ChecklistBaseline, LogisticBaseline, has_checklist
from riskwarn.training._calibrate import choose_calibrator
from riskwarn.training._config import LGBMConfig, TrainConfig
from riskwarn.training._explain import global_importance, importance_by_group
from riskwarn.training._groups import group_report
from riskwarn.training._lgbm import fit_booster
from riskwarn.training._matrix import FeatureLayout, infer_layout, to_matrix
from riskwarn.training._metrics import calibration_points, evaluate
from riskwarn.training._model import RiskModel
from riskwarn.training._split import Split, time_split
from riskwarn.training._tiers import empty_tiers, tier_shares, tier_thresholds

log = logging.getLogger("riskwarn.training")


@dataclass
class TrainingData:
    """A labelled table ready for training.

    ``features`` are the model inputs only; ``time`` is the snapshot time (as_of),
    ``ids`` the case id (bootstrap clusters), ``groups`` the report-only columns, and
    ``extra`` any columns kept beside the test rows (e.g. features a later champion needs).
    """

    features: pd.DataFrame
    label: np.ndarray
    time: np.ndarray
    ids: np.ndarray
    groups: pd.DataFrame
    registry_version: str = "table"
    extra: pd.DataFrame | None = None
    topk_by_time: bool = True


@dataclass
class TrainResult:
    """What a training run produced: the model, its windows and every evaluation."""

    model: RiskModel
    split: Split
    windows: dict
    metrics: dict[str, dict[str, dict[str, float]]]
    groups: list[dict]
    importance: list[dict]
    importance_by_group: list[dict]
    calibration: dict
    params: dict
    search: list[dict] = field(default_factory=list)
    test_frame: pd.DataFrame | None = None
    test_risk: dict[str, np.ndarray] = field(default_factory=dict)
    test_contrib: np.ndarray | None = None


def _check(data: TrainingData) -> np.ndarray:
    y = pd.to_numeric(pd.Series(np.asarray(data.label, dtype=object)), errors="coerce")
    if y.isna().any() or not y.isin([0, 1]).all():
        bad = y[y.isna() | ~y.isin([0, 1])].head(3).tolist()
        raise ConfigError(
            f"expected a label of 0/1 on every row, got values such as {bad}; drop unlabelled "
            "rows (label unknown) or recode the label column."
        )
    if len(data.features.columns) == 0:
        raise ConfigError(
            "expected at least one feature column, got none; check --drop and --group."
        )
    _check_names(data)
    return y.to_numpy(dtype=np.int64)


RESERVED = ("id", "time", "label")  # the test frame's own columns; groups come as group_<g>


def _check_names(data: TrainingData) -> None:
    """Refuse, before any training, a feature named like a column the stored test frame
    adds itself (``id``, ``time``, ``label``, ``group_<g>``): the two would clash there."""
    kept = data.extra.columns if data.extra is not None else data.features.columns
    reserved = {*RESERVED, *(f"group_{g}" for g in data.groups.columns)}
    clash = [str(c) for c in kept if c in reserved]
    if clash:
        name = clash[0]
        raise ConfigError(
            f"expected no feature column named {name!r}: id, time, label and group_<name> "
            f"are the names the stored test snapshots give the case id, time, label and "
            f"--group columns, got {', '.join(repr(c) for c in clash)} among the features; "
            f"rename {name!r} in the table (e.g. to '{name}_value'), or leave it out with "
            f"--drop {name}."
        )


def _fit_lgbm(
    x: np.ndarray,
    y: np.ndarray,
    split: Split,
    layout: FeatureLayout,
    cfg: LGBMConfig,
    balanced: bool,
) -> tuple:
    return fit_booster(
        x[split.train],
        y[split.train],
        x[split.validation],
        y[split.validation],
        feature_names=layout.names,
        categorical_index=layout.categorical_index,
        cfg=cfg,
        balanced=balanced,
    )


def search_lgbm(
    x: np.ndarray, y: np.ndarray, split: Split, layout: FeatureLayout, config: TrainConfig
) -> tuple[LGBMConfig, list[dict]]:
    """Grid search on the validation window by log loss; returns the best config and trials."""
    if config.search is None or not config.search.grid:
        return config.lgbm, []
    keys = list(config.search.grid)
    trials: list[dict] = []
    best_cfg, best_loss = config.lgbm, np.inf
    for values in itertools.islice(
        itertools.product(*config.search.grid.values()), config.search.max_trials
    ):
        cfg = config.lgbm.model_copy(update=dict(zip(keys, values, strict=True)))
        booster, loss = _fit_lgbm(x, y, split, layout, cfg, config.imbalance == "balanced")
        trials.append(
            {
                **dict(zip(keys, values, strict=True)),
                "val_logloss": loss,
                "rounds": booster.num_trees(),
            }
        )
        if loss < best_loss:
            best_cfg, best_loss = cfg, loss
    return best_cfg, trials


def fit_evaluate(
    data: TrainingData, config: TrainConfig, progress: Progress | None = None
) -> TrainResult:
    """Train, calibrate, set tiers and evaluate against baselines on one labelled table."""
    y = _check(data)
    steps = 7
    report(progress, 0, steps, "split")
    split = time_split(
        data.time,
        horizon_days=config.horizon_days,
        validation_share=config.validation_share,
        test_share=config.test_share,
    )
    for part in ("train", "validation"):
        yy = y[getattr(split, part)]
        if yy.min() == yy.max():
            raise ConfigError(
                f"expected both outcomes in the {part} window, got only {int(yy[0])}s "
                f"({len(yy)} rows); use more data or larger window shares."
            )
    layout = infer_layout(data.features.loc[split.train])
    x = to_matrix(data.features, layout)
    report(progress, 1, steps, "search" if config.search else "LightGBM")
    lgbm_cfg, trials = search_lgbm(x, y, split, layout, config)
    report(progress, 2, steps, "LightGBM")
    booster, val_loss = _fit_lgbm(x, y, split, layout, lgbm_cfg, config.imbalance == "balanced")
    report(progress, 3, steps, "calibration")
    raw_val = booster.predict(x[split.validation])
    calibrator, cal_scores = choose_calibrator(
        raw_val,
        y[split.validation],
        config.calibration,
        seed=lgbm_cfg.seed,
        groups=np.asarray(data.ids)[split.validation],
    )
    risk_val = calibrator.predict(raw_val)
    thresholds = tier_thresholds(risk_val, config.tiers)
    model = RiskModel(booster, calibrator, layout, thresholds, data.registry_version)

    report(progress, 4, steps, "baselines")
    test_rows = data.features.loc[split.test].reset_index(drop=True)
    y_test = y[split.test]
    risks: dict[str, np.ndarray] = {"lightgbm": model.predict_risk(x[split.test])}
    extra_params: dict[str, float] = {}
    if config.baselines:
        train_rows = data.features.loc[split.train]
        logit = LogisticBaseline(layout).fit(
            train_rows,
            y[split.train],
            data.features.loc[split.validation],
            y[split.validation],
        )
        risks["logistic"] = logit.predict_risk(test_rows)
        extra_params["logistic_C"] = logit.C_
        if has_checklist(data.features):
            risks["checklist"] = (
                ChecklistBaseline().fit(train_rows, y[split.train]).predict_risk(test_rows)
            )

    report(progress, 5, steps, "metrics")
    t_test = np.asarray(data.time)[split.test]
    t_val = np.asarray(data.time)[split.validation]
    topk_groups = t_test if data.topk_by_time else None
    ids_test = np.asarray(data.ids)[split.test]
    metrics = {
        name: evaluate(
            y_test,
            r,
            groups=topk_groups,
            clusters=ids_test,
            n_boot=config.bootstrap,
            seed=lgbm_cfg.seed,
        )
        for name, r in risks.items()
    }
    test_tiers = model.tiers(risks["lightgbm"])
    shares = {
        "validation": tier_shares(risk_val, thresholds),
        "test": tier_shares(risks["lightgbm"], thresholds),
    }
    if config.tiers.mode == "capacity":
        t = config.tiers
        shares["target"] = {
            "red": t.red,
            "orange": t.orange - t.red,
            "yellow": t.yellow - t.orange,
            "blue": 1 - t.yellow,
        }
    tier_warnings = empty_tiers(shares["validation"], "validation", config.tiers)
    for message in tier_warnings:
        log.warning(message)
    groups_test = data.groups.loc[split.test].reset_index(drop=True)
    report(progress, 6, steps, "explanations")
    contrib, _ = model.contributions(x[split.test])
    windows = split.windows(data.time)
    for part in ("train", "validation", "test"):
        windows[part]["events"] = int(y[getattr(split, part)].sum())
    calibration = {
        "method": calibrator.method,
        "cv_brier": cal_scores,
        "validation_points": calibration_points(y[split.validation], risk_val),
        "test_points": calibration_points(y_test, risks["lightgbm"]),
    }
    params = {
        **lgbm_cfg.model_dump(),
        "best_iteration": booster.num_trees(),
        "validation_logloss": val_loss,
        "imbalance": config.imbalance,
        "horizon_days": config.horizon_days,
        "n_features": len(layout.names),
        **extra_params,
    }
    test_frame = pd.DataFrame({"id": ids_test, "time": t_test, "label": y_test})
    extra = (
        data.extra.loc[split.test].reset_index(drop=True) if data.extra is not None else test_rows
    )
    model.metadata.update(
        {
            "windows": windows,
            "metrics": metrics,
            "groups": group_report(y_test, risks["lightgbm"], test_tiers, groups_test),
            "calibration": calibration,
            "thresholds_mode": config.tiers.model_dump(),
            "horizon_days": config.horizon_days,
            # the last moment any label used in fitting, early stopping, calibration or
            # tiers can see: the validation window's last snapshot plus one horizon
            "labels_end": (pd.Timestamp(t_val.max()) + split.gap).isoformat(),
            "tier_shares": shares,
            "tier_warnings": tier_warnings,
            "config_name": config.name,
            "base_rate": {"train": float(y[split.train].mean()), "test": float(y_test.mean())},
        }
    )
    report(progress, 7, steps, "done")
    return TrainResult(
        model=model,
        split=split,
        windows=windows,
        metrics=metrics,
        groups=model.metadata["groups"],
        importance=global_importance(contrib, layout.names),
        importance_by_group=importance_by_group(contrib, layout.names, groups_test),
        calibration=calibration,
        params=params,
        search=trials,
        test_frame=pd.concat([test_frame, groups_test.add_prefix("group_"), extra], axis=1),
        test_risk=risks,
        test_contrib=contrib,
    )
