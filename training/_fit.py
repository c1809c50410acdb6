"""The training pipeline on a labelled table, free of files and tracking.

split by time -> LightGBM grid on validation (monotone where the registry knows the
direction) and the sign-constrained logistic regression -> choose the model to register by
validation log loss (``model = "best"``) -> calibrate on validation -> tier thresholds ->
baselines on the same windows -> test metrics with intervals -> group report ->
explanations -> refit the chosen model on every labelled snapshot, calibrated on
out-of-time folds (``refit = true``). :func:`fit_evaluate` returns everything a run logs;
the reported figures are always the evaluated model's, on the test window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from riskwarn._progress import Progress, report
from riskwarn.errors import ConfigError
from riskwarn.training._baselines import ChecklistBaseline, LogisticBaseline, has_checklist
from riskwarn.training._boosters import LOCAL, Boosters
from riskwarn.training._calibrate import Calibrator, choose_calibrator
from riskwarn.training._choose import (
    better_than_chance,
    check_informative,
    choose,
    directions,
    search_lgbm,
)
from riskwarn.training._config import LGBMConfig, TrainConfig
from riskwarn.training._explain import global_importance, importance_by_group
from riskwarn.training._groups import group_report
from riskwarn.training._lgbm import TreeModel
from riskwarn.training._linear import LinearModel
from riskwarn.training._matrix import FeatureLayout, infer_layout, to_matrix
from riskwarn.training._metadata import ModelChoice, ModelMetadata, RefitInfo
from riskwarn.training._metrics import calibration_points, evaluate
from riskwarn.training._model import RiskModel
from riskwarn.training._refit import deploy
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
    require_signal: bool = False
    """Refuse (rather than warn about) a model no better than chance on validation."""
    interventions: str = "ignore"
    """The intervention policy the rows were chosen by (``TrainConfig.interventions``)."""


@dataclass
class TrainResult:
    """What a training run produced: the model to register (refit on all labelled snapshots
    unless the config says not), the evaluated model behind the reported figures, its
    windows and every evaluation."""

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
    evaluation_model: RiskModel | None = None


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


RESERVED = ("id", "time", "label", "evaluated_risk")
"""The stored test frame's own columns (groups come as ``group_<g>``)."""


def _check_names(data: TrainingData) -> None:
    """Refuse, before any training, a feature named like a column the stored test frame
    adds itself (``id``, ``time``, ``label``, ``group_<g>``): the two would clash there."""
    kept = data.extra.columns if data.extra is not None else data.features.columns
    reserved = {*RESERVED, *(f"group_{g}" for g in data.groups.columns)}
    clash = [str(c) for c in kept if c in reserved]
    if clash:
        name = clash[0]
        raise ConfigError(
            f"expected no feature column named {name!r}: id, time, label, evaluated_risk and "
            f"group_<name> are the names the stored test snapshots give the case id, time, "
            f"label, the evaluated model's risk and --group columns, got "
            f"{', '.join(repr(c) for c in clash)} among the features; "
            f"rename {name!r} in the table (e.g. to '{name}_value'), or leave it out with "
            f"--drop {name}."
        )


def _riskwarn_version() -> str:
    try:
        return version("riskwarn")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def fit_evaluate(
    data: TrainingData,
    config: TrainConfig,
    progress: Progress | None = None,
    *,
    boosters: Boosters = LOCAL,
) -> TrainResult:
    """Train, choose, calibrate, set tiers, evaluate against baselines, and refit.
    ``boosters``: where the LightGBM boosters are fitted (default this process; see
    :func:`riskwarn.training.dask_boosters`)."""
    y = _check(data)
    steps = 8
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
    if config.model == "logistic" and not config.baselines:
        log.info("model = 'logistic': training the logistic regression although baselines = false")
    layout = infer_layout(data.features.loc[split.train])
    x = to_matrix(data.features, layout)
    check_informative(x[split.train], layout)
    monotone = directions(layout, config)
    ids = np.asarray(data.ids)
    report(progress, 1, steps, "LightGBM grid")
    lgbm_cfg, trials, booster, lgbm_loss = search_lgbm(
        x, y, split, layout, config, monotone, boosters.fit_booster
    )
    candidates: dict[str, TreeModel | LinearModel] = {"lightgbm": TreeModel(booster)}
    losses = {"lightgbm": float(lgbm_loss)}
    report(progress, 2, steps, "logistic regression")
    logit: LogisticBaseline | None = None
    if config.baselines or config.model == "logistic":
        logit = LogisticBaseline(layout, monotone).fit(
            x[split.train], y[split.train], x[split.validation], y[split.validation]
        )
        candidates["logistic"] = logit.model_
        losses["logistic"] = logit.validation_logloss_
    kind = choose(config.model, losses)

    report(progress, 3, steps, "calibration")
    y_val = y[split.validation]
    calibrated: dict[str, tuple[Calibrator, dict[str, float], np.ndarray]] = {}
    for name, est in candidates.items():
        raw_val = est.raw(x[split.validation])
        cal, scores = choose_calibrator(
            raw_val, y_val, config.calibration, seed=lgbm_cfg.seed, groups=ids[split.validation]
        )
        calibrated[name] = (cal, scores, cal.predict(raw_val))
    calibrator, cal_scores, risk_val = calibrated[kind]
    val_auc, chance = better_than_chance(
        y_val, risk_val, ids[split.validation], kind, refuse=data.require_signal
    )
    thresholds = tier_thresholds(risk_val, config.tiers)

    report(progress, 4, steps, "baselines")
    test_rows = data.features.loc[split.test].reset_index(drop=True)
    y_test = y[split.test]
    risks: dict[str, np.ndarray] = {
        name: calibrated[name][0].predict(est.raw(x[split.test]))
        for name, est in candidates.items()
    }
    if config.baselines and has_checklist(data.features):
        train_rows = data.features.loc[split.train]
        risks["checklist"] = (
            ChecklistBaseline().fit(train_rows, y[split.train]).predict_risk(test_rows)
        )

    report(progress, 5, steps, "metrics")
    t_all = np.asarray(data.time)
    t_test, t_val = t_all[split.test], t_all[split.validation]
    ids_test = ids[split.test]
    metrics = {
        name: evaluate(
            y_test,
            r,
            groups=t_test if data.topk_by_time else None,
            clusters=ids_test,
            n_boot=config.bootstrap,
            seed=lgbm_cfg.seed,
        )
        for name, r in risks.items()
    }
    chosen = candidates[kind]
    shares = {
        "validation": tier_shares(risk_val, thresholds),
        "test": tier_shares(risks[kind], thresholds),
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
    tier_warnings += [chance] if chance else []
    if kind == "lightgbm" and losses.get("logistic", np.inf) < losses["lightgbm"]:
        tier_warnings.append(
            f"LightGBM is worse than the logistic regression on validation log loss "
            f"({losses['lightgbm']:.5f} vs {losses['logistic']:.5f}); registering LightGBM "
            f'because the config says model = "lightgbm".'
        )
    for message in tier_warnings:
        log.warning(message)
    groups_test = data.groups.loc[split.test].reset_index(drop=True)
    report(progress, 6, steps, "explanations")
    contrib, _ = chosen.contributions(x[split.test])
    windows = split.windows(data.time)
    for part in ("train", "validation", "test"):
        windows[part]["events"] = int(y[getattr(split, part)].sum())
    calibration = {
        "method": calibrator.method,
        "cv_brier": cal_scores,
        "fitted_on": "validation",
        "validation_points": calibration_points(y_val, risk_val),
        "test_points": calibration_points(y_test, risks[kind]),
    }
    params = {
        **lgbm_cfg.model_dump(),
        "best_iteration": booster.num_trees(),
        "validation_logloss": losses[kind],
        "lightgbm_validation_logloss": losses["lightgbm"],
        "validation_roc_auc": val_auc,
        "imbalance": config.imbalance,
        "horizon_days": config.horizon_days,
        "n_features": len(layout.names),
        "model": kind,
        "monotone": config.monotone,
        **(
            {"logistic_C": logit.C_, "logistic_validation_logloss": losses["logistic"]}
            if logit
            else {}
        ),
    }
    eval_labels_end = pd.Timestamp(t_val.max()) + split.gap
    choice = ModelChoice(
        rule=config.model,
        validation_logloss=losses,
        lightgbm_worse_than_logistic=(
            losses["lightgbm"] > losses["logistic"] if "logistic" in losses else None
        ),
        lightgbm=lgbm_cfg.model_dump() | {"rounds": booster.num_trees()},
        trials=trials,
        logistic_C=logit.C_ if logit else None,
        monotone=config.monotone,
    )
    groups = group_report(y_test, risks[kind], assign(risks[kind], thresholds), groups_test)
    base = dict(
        kind=kind,
        riskwarn_version=_riskwarn_version(),
        registry_version=data.registry_version,
        features=list(layout.names),
        categories=dict(layout.categories),
        directions={n: d for n, d in zip(layout.names, monotone, strict=True) if d},
        tier_policy=config.tiers,
        interventions=data.interventions,
        horizon_days=config.horizon_days,
        config_name=config.name,
        evaluation_labels_end=eval_labels_end.to_pydatetime(),
        windows=windows,
        metrics=metrics,
        groups=groups,
        base_rate={"train": float(y[split.train].mean()), "test": float(y_test.mean())},
        choice=choice,
        params=params,
    )
    evaluated = RiskModel(
        chosen,
        calibrator,
        ModelMetadata(
            **base,
            thresholds=thresholds,
            labels_end=eval_labels_end.to_pydatetime(),
            calibration=calibration,
            tier_shares=shares,
            tier_warnings=tier_warnings,
            refit=RefitInfo(refit=False),
        ),
    )

    report(progress, 7, steps, "refit" if config.refit else "done")
    model = evaluated
    if config.refit:
        fit = _refitter(
            kind,
            layout,
            monotone,
            lgbm_cfg,
            booster.num_trees(),
            int(split.train.sum()),
            logit,
            config.imbalance == "balanced",
            boosters.fit_rounds,
        )
        rounds = round(booster.num_trees() * len(y) / split.train.sum())
        model = deploy(
            evaluated,
            fit,
            x,
            y,
            t_all,
            ids,
            config,
            rounds=rounds if kind == "lightgbm" else None,
            seed=lgbm_cfg.seed,
        )
    test_frame = pd.DataFrame(
        {"id": ids_test, "time": t_test, "label": y_test, "evaluated_risk": risks[kind]}
    )
    extra = (
        data.extra.loc[split.test].reset_index(drop=True) if data.extra is not None else test_rows
    )
    report(progress, 8, steps, "done")
    return TrainResult(
        model=model,
        split=split,
        windows=windows,
        metrics=metrics,
        groups=groups,
        importance=global_importance(contrib, layout.names),
        importance_by_group=importance_by_group(contrib, layout.names, groups_test),
        calibration=calibration,
        params=params,
        search=trials,
        test_frame=pd.concat([test_frame, groups_test.add_prefix("group_"), extra], axis=1),
        test_risk=risks,
        test_contrib=contrib,
        evaluation_model=evaluated,
    )


def assign(risk: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    from riskwarn.training._tiers import assign_tiers

    return assign_tiers(risk, thresholds)


def _refitter(
    kind: str,
    layout: FeatureLayout,
    monotone: list[int],
    cfg: LGBMConfig,
    validated: int,
    n_train: int,
    logit: LogisticBaseline | None,
    balanced: bool,
    fit_rounds: Callable[..., object],
) -> Callable[..., TreeModel | LinearModel]:
    """Fit the chosen kind with the chosen settings on any rows: the logistic regression
    with its C; LightGBM for ``rounds`` rounds, by default the validated rounds scaled by
    rows / training-window rows."""

    def fit(x: np.ndarray, y: np.ndarray, rounds: int | None = None) -> TreeModel | LinearModel:
        if kind == "logistic":
            assert logit is not None
            return LinearModel(layout, monotone, C=logit.C_).fit(x, y)
        booster = fit_rounds(
            x,
            y,
            rounds=rounds or max(1, round(validated * len(y) / n_train)),
            feature_names=layout.names,
            categorical_index=layout.categorical_index,
            cfg=cfg,
            balanced=balanced,
            monotone=monotone,
        )
        return TreeModel(booster)  # type: ignore[arg-type]

    return fit
