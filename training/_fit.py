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

import itertools
import logging
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from riskwarn._progress import Progress, report
from riskwarn.errors import ConfigError
from riskwarn.training._baselines import ChecklistBaseline, LogisticBaseline, has_checklist
from riskwarn.training._calibrate import Calibrator, choose_calibrator
from riskwarn.training._config import LGBMConfig, TrainConfig
from riskwarn.training._explain import global_importance, importance_by_group
from riskwarn.training._groups import group_report
from riskwarn.training._lgbm import TreeModel, fit_booster, fit_rounds
from riskwarn.training._linear import LinearModel
from riskwarn.training._matrix import FeatureLayout, infer_layout, to_matrix
from riskwarn.training._metadata import ModelChoice, ModelMetadata, RefitInfo
from riskwarn.training._metrics import auc_ap, calibration_points, evaluate
from riskwarn.training._model import RiskModel
from riskwarn.training._refit import Refit, refit
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


def _check_informative(x: np.ndarray, layout: FeatureLayout) -> None:
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


def _better_than_chance(
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


def _directions(layout: FeatureLayout, config: TrainConfig) -> list[int]:
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
        monotone=monotone,
    )


def search_lgbm(
    x: np.ndarray,
    y: np.ndarray,
    split: Split,
    layout: FeatureLayout,
    config: TrainConfig,
    monotone: list[int],
) -> tuple[LGBMConfig, list[dict], object, float]:
    """Grid search on the validation window by log loss (time-aware: fit on the training
    window, stop early and score on the later validation window). Returns the best
    settings, every trial, and the best booster with its validation loss."""
    balanced = config.imbalance == "balanced"
    grid = config.search.grid
    keys = list(grid)
    points = itertools.islice(itertools.product(*grid.values()), config.search.max_trials)
    trials: list[dict] = []
    best: tuple[LGBMConfig, object, float] | None = None
    for values in points if grid else [()]:
        cfg = config.lgbm.model_copy(update=dict(zip(keys, values, strict=True)))
        booster, loss = _fit_lgbm(x, y, split, layout, cfg, balanced, monotone)
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


def _riskwarn_version() -> str:
    try:
        return version("riskwarn")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def fit_evaluate(
    data: TrainingData, config: TrainConfig, progress: Progress | None = None
) -> TrainResult:
    """Train, choose, calibrate, set tiers, evaluate against baselines, and refit."""
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
    _check_informative(x[split.train], layout)
    monotone = _directions(layout, config)
    ids = np.asarray(data.ids)
    report(progress, 1, steps, "LightGBM grid")
    lgbm_cfg, trials, booster, lgbm_loss = search_lgbm(x, y, split, layout, config, monotone)
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
    val_auc, chance = _better_than_chance(
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
        model = _refit(
            x,
            y,
            t_all,
            ids,
            data,
            config,
            layout,
            monotone,
            kind,
            lgbm_cfg,
            booster,
            logit,
            split,
            evaluated,
            base,
            calibration,
            shares,
            tier_warnings,
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


def _refit(
    x,
    y,
    t_all,
    ids,
    data,
    config,
    layout,
    monotone,
    kind,
    lgbm_cfg,
    booster,
    logit,
    split,
    evaluated,
    base,
    calibration,
    shares,
    tier_warnings,
) -> RiskModel:  # type: ignore[no-untyped-def]
    """The registered model refit on every labelled snapshot (see ``_refit.py``)."""
    n_train = int(split.train.sum())
    rounds = booster.num_trees()
    balanced = config.imbalance == "balanced"

    def fit(xp: np.ndarray, yp: np.ndarray, share: float) -> TreeModel | LinearModel:
        if kind == "logistic":
            assert logit is not None
            return LinearModel(layout, monotone, C=logit.C_).fit(xp, yp)
        scaled = max(1, round(rounds * len(yp) / n_train))
        return TreeModel(
            fit_rounds(
                xp,
                yp,
                rounds=scaled,
                feature_names=layout.names,
                categorical_index=layout.categorical_index,
                cfg=lgbm_cfg,
                balanced=balanced,
                monotone=monotone,
            )
        )

    done = refit(
        x,
        y,
        t_all,
        ids,
        fit=fit,
        horizon_days=config.horizon_days,
        folds=config.refit_folds,
        calibration=config.calibration,
        seed=lgbm_cfg.seed,
    )
    if not isinstance(done, Refit):
        log.warning(done)
        meta = evaluated.metadata.with_(
            refit=RefitInfo(refit=False, note=done), tier_warnings=[*tier_warnings, done]
        )
        return RiskModel(evaluated.estimator, evaluated.calibrator, meta)
    thresholds = tier_thresholds(done.oot_risk, config.tiers)
    t = pd.to_datetime(pd.Series(t_all))
    window = {"start": t.min(), "end": t.max(), "rows": len(y), "events": int(y.sum())}
    scaled = round(rounds * len(y) / n_train) if kind == "lightgbm" else None
    refit_cal = {
        **calibration,
        "method": done.calibrator.method,
        "cv_brier": done.cv_brier,
        "fitted_on": f"{len(done.folds)} out-of-time folds ({len(done.oot_label)} rows)",
        "validation_points": calibration_points(done.oot_label, done.oot_risk),
    }
    meta = ModelMetadata(
        **base,
        thresholds=thresholds,
        labels_end=(t.max() + pd.Timedelta(days=config.horizon_days)).to_pydatetime(),
        calibration=refit_cal,
        tier_shares={**shares, "refit folds": tier_shares(done.oot_risk, thresholds)},
        tier_warnings=tier_warnings,
        refit=RefitInfo(refit=True, window=window, rounds=scaled, folds=done.folds),
    )
    return RiskModel(done.estimator, done.calibrator, meta)  # type: ignore[arg-type]
