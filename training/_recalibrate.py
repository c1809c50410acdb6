"""Recalibration that must earn its registration.

On the latest matured window (``window_days``, default 180, of snapshot dates before the
newest ``validation_days``, default 30) three maps from the model's risk to a new risk are
fitted, in order of increasing freedom:

- ``intercept``: ``logit p' = logit p + a`` (the calibration-in-the-large fix);
- ``logistic``: ``logit p' = a + b logit p`` (intercept and slope);
- ``isotonic``: a monotone step function of the raw score, only when the window holds at
  least :data:`MIN_ISOTONIC_EVENTS` events (with fewer, its steps follow the noise).

Each is judged on the newest ``validation_days`` of matured snapshots, which none was
fitted on. The one with the lowest validation log loss (the simpler one on a tie) is
registered as a new version of the model, alias ``challenger``, only when it beats the
current model's log loss there **and** worsens no group's calibration beyond its interval
(its observed/expected for a group level lies further from 1 than the current model's and
outside the current model's 95% interval). It is never promoted here: ``riskwarn
promote`` decides as for any challenger.

The new version keeps the estimator; its calibrator is the old one composed with the map
(exactly, as a sigmoid or as isotonic knots), so it saves and loads as any model, and
capacity tiers keep their cases (their thresholds go through the same map).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.metrics import log_loss

from riskwarn._dataset import Dataset
from riskwarn._progress import Progress
from riskwarn.errors import ConfigError
from riskwarn.training._calibrate import Calibrator
from riskwarn.training._config import parse_date
from riskwarn.training._metadata import RecalibrationInfo, Window
from riskwarn.training._model import RiskModel, check_registry
from riskwarn.training._monitor import Scored, reference_window, score_snapshots
from riskwarn.training._realised import (
    calibration_intercept,
    calibration_line,
    calibration_measures,
    logit,
)

log = logging.getLogger("riskwarn.training")

MIN_ISOTONIC_EVENTS = 100
METHODS = ("intercept", "logistic", "isotonic")
RECALIBRATIONS = "riskwarn-recalibrations"


@dataclass(frozen=True)
class Candidate:
    """One fitted recalibration: its calibrator (on the raw score) and validation loss."""

    method: str
    calibrator: Calibrator
    parameters: dict[str, float]
    validation_logloss: float
    validation: dict[str, dict[str, float]]  # O/E and slope on the validation window


@dataclass(frozen=True)
class GroupCheck:
    group: str
    level: str
    events: int
    current: dict[str, float]  # O/E with interval
    candidate: float
    worse: bool


@dataclass
class Recalibration:
    """What ``riskwarn recalibrate`` found and did."""

    model_uri: str
    model_version: str
    as_of: pd.Timestamp
    fit_window: Window
    validation_window: Window
    current_logloss: float
    current_validation: dict[str, dict[str, float]]
    candidates: list[Candidate]
    skipped: dict[str, str]
    chosen: Candidate | None
    groups: list[GroupCheck]
    registered: bool
    reason: str
    next_step: str
    validation: Scored | None = field(default=None, repr=False)
    version: str | None = None
    run_id: str | None = None
    model: RiskModel | None = field(default=None, repr=False)


def compose(base: Calibrator, a: float, b: float) -> Calibrator:
    """The calibrator ``p' = expit(a + b logit(base(raw)))`` in the base's own form: a
    sigmoid stays a sigmoid (exactly), isotonic knots move through the map."""
    if base.method == "sigmoid":
        out = Calibrator("sigmoid")
        out.a_, out.b_ = b * base.a_, b * base.b_ + a
        return out
    out = Calibrator("isotonic")
    out.x_ = base.x_.copy()
    out.y_ = expit(a + b * logit(base.y_))
    return out


def _invert(cal: Calibrator, target: float) -> float:
    """The raw score at which ``cal`` reaches ``target`` (it is strictly increasing)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if cal.predict(np.array([mid]))[0] < target:
            lo = mid
        else:
            hi = mid
    return hi


def moved_thresholds(model: RiskModel, new: Calibrator) -> dict[str, float]:
    """Capacity tiers keep their cases: each threshold goes to the new risk of the raw
    score where the old one was; probability tiers keep their values."""
    if model.metadata.tier_policy.mode != "capacity":
        return dict(model.thresholds)
    out = {}
    for tier, value in model.thresholds.items():
        if value >= 1.0:
            out[tier] = value
            continue
        out[tier] = float(new.predict(np.array([_invert(model.calibrator, value)]))[0])
    return out


def _loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(log_loss(y, np.clip(p, 1e-12, 1 - 1e-12), labels=[0, 1]))


def _check(y: np.ndarray, p: np.ndarray, s: Scored, seed: int) -> dict[str, dict[str, float]]:
    m = calibration_measures(y, p, s.tier, s.ids, n_boot=200, seed=seed)
    return {k: m[k] for k in ("observed_expected", "calibration_slope")}


def candidates(
    model: RiskModel, fit: Scored, validation: Scored, *, seed: int = 0
) -> tuple[list[Candidate], dict[str, str]]:
    """The three recalibrations fitted on ``fit`` and judged on ``validation``; and why any
    was skipped."""
    y, z = fit.label, logit(fit.risk)
    raw_fit = model.estimator.raw(fit.x)
    raw_val = model.estimator.raw(validation.x)
    yv = validation.label
    out, skipped = [], {}
    ones = np.ones((1, len(y)))
    a0 = float(calibration_intercept(y, z, ones)[0])
    a1, b1 = (float(v[0]) for v in calibration_line(y, z, ones))
    maps = {"intercept": (a0, 1.0), "logistic": (a1, b1)}
    for method, (a, b) in maps.items():
        if not np.isfinite(a) or not np.isfinite(b):
            skipped[method] = "the fit did not settle (no events, or separated data)"
            continue
        cal = compose(model.calibrator, a, b)
        p = cal.predict(raw_val)
        check = _check(yv, p, validation, seed)
        out.append(Candidate(method, cal, {"a": a, "b": b}, _loss(yv, p), check))
    events = int(y.sum())
    if events >= MIN_ISOTONIC_EVENTS:
        cal = Calibrator("isotonic").fit(raw_fit, y)
        p = cal.predict(raw_val)
        out.append(Candidate("isotonic", cal, {}, _loss(yv, p), _check(yv, p, validation, seed)))
    else:
        skipped["isotonic"] = (
            f"{events} events in the fit window, fewer than the {MIN_ISOTONIC_EVENTS} "
            "isotonic needs"
        )
    return out, skipped


def group_checks(
    validation: Scored, current: np.ndarray, new: np.ndarray, *, seed: int = 0
) -> list[GroupCheck]:
    """For each group level of the validation window: the current observed/expected with
    its interval, the candidate's, and whether the candidate is worse beyond it."""
    y = validation.label
    out = []
    for col in validation.groups.columns:
        values = validation.groups[col].astype("object").fillna("(missing)").astype(str)
        for level in sorted(set(values)):
            held = (values == level).to_numpy()
            m = calibration_measures(
                y[held], current[held], validation.tier[held], validation.ids[held], seed=seed
            )["observed_expected"]
            candidate = float(y[held].sum() / new[held].sum())
            outside = (m["lo"] == m["lo"] and candidate < m["lo"]) or (
                m["hi"] == m["hi"] and candidate > m["hi"]
            )
            worse = bool(abs(candidate - 1) > abs(m["value"] - 1) and outside)
            out.append(GroupCheck(str(col), level, int(y[held].sum()), m, candidate, worse))
    return out


def _excludes_one(d: dict[str, float]) -> bool:
    return (d["lo"] == d["lo"] and d["lo"] > 1) or (d["hi"] == d["hi"] and d["hi"] < 1)


def _window(s: Scored) -> Window:
    t = s.snapshots["as_of"]
    return Window(start=t.min(), end=t.max(), rows=len(t), events=int(s.label.sum()))


def windows(
    known: Dataset,
    model: RiskModel,
    *,
    window_days: int,
    validation_days: int,
    every_days: int,
    progress: Progress | None = None,
) -> tuple[Scored, Scored]:
    """The fit and validation snapshots: matured, after the model's training data, the
    newest ``validation_days`` of them to validate and the ``window_days`` before to fit."""
    after = pd.Timestamp(reference_window(model.metadata).end)
    rec = model.metadata.recalibration
    if rec is not None:
        after = max(after, pd.Timestamp(rec.validation_window.end))
    start = after + pd.Timedelta(seconds=1)
    scored = score_snapshots(
        known, model, start=start, end=known.end, every_days=every_days, progress=progress
    )
    matured = scored.rows(scored.snapshots["label_known"].to_numpy(dtype=bool))
    if matured.snapshots.empty:
        raise ConfigError(
            f"expected matured snapshots after the model's training data (last labelled "
            f"snapshot {after:%Y-%m-%d}), got none by {known.end}; labels mature "
            f"{model.metadata.horizon_days} days after a snapshot: recalibrate later or on "
            "newer data."
        )
    when = matured.snapshots["as_of"]
    last = when.max()
    cut = last - pd.Timedelta(days=validation_days)
    validation = matured.rows((when > cut).to_numpy())
    fit = matured.rows(((when <= cut) & (when > cut - pd.Timedelta(days=window_days))).to_numpy())
    for name, part, option in (
        ("fit", fit, "--window"),
        ("validation", validation, "--validation"),
    ):
        y = part.label
        if len(y) == 0 or y.sum() == 0 or y.sum() == len(y):
            raise ConfigError(
                f"expected both outcomes in the {name} window of matured snapshots after "
                f"{after:%Y-%m-%d}, got {int(y.sum())} events in {len(y)} snapshots; "
                f"recalibrate later (more labels) or with a longer {option}."
            )
    return fit, validation


def recalibrate_model(
    dataset: Dataset,
    model: RiskModel,
    as_of: str | pd.Timestamp | None = None,
    *,
    window_days: int = 180,
    validation_days: int = 30,
    every_days: int = 30,
    seed: int = 0,
    progress: Progress | None = None,
) -> Recalibration:
    """Fit, judge and choose a recalibration of ``model`` on ``dataset`` as known at
    ``as_of``; the recalibrated model (when one earns it) is in ``.model``, unregistered."""
    check_registry(model)
    t = dataset.end if as_of is None else parse_date(as_of, "--as-of")
    known = dataset.cut(t)
    fit, validation = windows(
        known,
        model,
        window_days=window_days,
        validation_days=validation_days,
        every_days=every_days,
        progress=progress,
    )
    yv = validation.label
    current_loss = _loss(yv, validation.risk)
    current_check = _check(yv, validation.risk, validation, seed)
    found, skipped = candidates(model, fit, validation, seed=seed)
    chosen = min(found, key=lambda c: (c.validation_logloss, METHODS.index(c.method)), default=None)
    groups: list[GroupCheck] = []
    registered, reason = False, "no recalibration could be fitted"
    if chosen is not None:
        new = chosen.calibrator.predict(model.estimator.raw(validation.x))
        groups = group_checks(validation, validation.risk, new, seed=seed)
        worse = [g for g in groups if g.worse]
        if chosen.validation_logloss >= current_loss:
            reason = (
                f"the best recalibration ({chosen.method}, log loss "
                f"{chosen.validation_logloss:.5f}) does not beat the current model "
                f"({current_loss:.5f}) on the validation window"
            )
        elif worse:
            names = ", ".join(f"{g.group}={g.level}" for g in worse[:5])
            reason = (
                f"{chosen.method} beats the current log loss ({chosen.validation_logloss:.5f} "
                f"vs {current_loss:.5f}) but worsens calibration beyond its interval for {names}"
            )
        else:
            registered = True
            reason = (
                f"{chosen.method} beats the current model on validation log loss "
                f"({chosen.validation_logloss:.5f} vs {current_loss:.5f}) and worsens no "
                "group's calibration beyond its interval"
            )
    outcome = Recalibration(
        model_uri=model.uri,
        model_version=model.version,
        as_of=t,
        fit_window=_window(fit),
        validation_window=_window(validation),
        current_logloss=current_loss,
        current_validation=current_check,
        candidates=found,
        skipped=skipped,
        chosen=chosen,
        groups=groups,
        registered=registered,
        reason=reason,
        next_step=_next_step(registered, chosen, current_check),
        validation=validation,
    )
    if registered and chosen is not None:
        outcome.model = recalibrated(model, chosen, outcome)
    return outcome


def _next_step(
    registered: bool, chosen: Candidate | None, current: dict[str, dict[str, float]]
) -> str:
    if not registered:
        if chosen is not None and not any(_excludes_one(v) for v in current.values()):
            return (
                "The current model's calibration holds on the validation window (its "
                "observed/expected and slope intervals include 1): nothing to do."
            )
        return (
            "Recalibration is not enough: a full retrain (`riskwarn train` on data through "
            "the newest matured labels) is the next step."
        )
    assert chosen is not None
    if any(_excludes_one(v) for v in chosen.validation.values()):
        return (
            f"Registered, but even after {chosen.method} recalibration the validation "
            "window's observed/expected or slope interval excludes 1: a full retrain is the "
            "next step; run `riskwarn promote` only as a stopgap."
        )
    return (
        "Run `riskwarn promote` to let it judge the challenger; if the monitor's alarms "
        "persist on the next matured months, retrain."
    )


def recalibrated(model: RiskModel, chosen: Candidate, outcome: Recalibration) -> RiskModel:
    """The new model: the same estimator, the chosen calibrator, moved tier thresholds and
    the metadata saying what was done (``labels_end`` moves to the newest label it saw)."""
    meta = model.metadata
    horizon = pd.Timedelta(days=meta.horizon_days or 90)
    seen_until = (pd.Timestamp(outcome.validation_window.end) + horizon).to_pydatetime()
    info = RecalibrationInfo(
        parent_version=model.version or model.uri,
        method=chosen.method,  # type: ignore[arg-type]
        parameters=chosen.parameters,
        fit_window=outcome.fit_window,
        validation_window=outcome.validation_window,
        validation_logloss={"current": outcome.current_logloss}
        | {c.method: c.validation_logloss for c in outcome.candidates},
        as_of=outcome.as_of.to_pydatetime(),
    )
    card = meta.model_card + (
        f"\n\n## Recalibration\n\nRecalibrated from version {info.parent_version} "
        f"({chosen.method}) on matured snapshots {outcome.fit_window.start:%Y-%m-%d} to "
        f"{outcome.fit_window.end:%Y-%m-%d}, judged on {outcome.validation_window.start:%Y-%m-%d}"
        f" to {outcome.validation_window.end:%Y-%m-%d}: {outcome.reason}. The estimator and "
        "the figures above are the parent's.\n"
    )
    new_meta = meta.with_(
        thresholds=moved_thresholds(model, chosen.calibrator),
        labels_end=max(meta.labels_end, seen_until) if meta.labels_end else seen_until,
        recalibration=info,
        model_card=card,
    )
    return RiskModel(model.estimator, chosen.calibrator, new_meta)


def register_recalibration(
    outcome: Recalibration,
    validation: pd.DataFrame,
    *,
    tracking_uri: str | None = None,
    model_name: str = "riskwarn",
) -> Recalibration:
    """Log the recalibrated model as an MLflow run (its validation snapshots stored as the
    run's test frame, as ``riskwarn promote`` reads them) and register it as a new version
    of ``model_name`` with alias ``challenger``. Never moves ``champion``."""
    import mlflow

    from riskwarn.training._metadata import mlmodel_metadata
    from riskwarn.training._model import BUNDLE
    from riskwarn.training._pyfunc import CODE as PYFUNC_CODE
    from riskwarn.training._pyfunc import requirement_note
    from riskwarn.training._tracking import (
        LoggedRun,
        _example,
        _signature,
        connect,
        ensure_experiment,
        pip_requirements,
        register_run,
    )

    model = outcome.model
    assert model is not None and outcome.chosen is not None
    uri = connect(tracking_uri)
    experiment_id = ensure_experiment(uri, RECALIBRATIONS)
    name = f"recalibrate {outcome.model_version or 'unregistered'} {outcome.chosen.method}"
    with (
        tempfile.TemporaryDirectory() as tmp,
        mlflow.start_run(experiment_id=experiment_id, run_name=name) as run,
    ):
        work = Path(tmp)
        mlflow.set_tags(
            {
                "riskwarn.recalibrated_from": outcome.model_version,
                "riskwarn.recalibration": outcome.chosen.method,
                "riskwarn.registry_version": model.registry_version,
                "riskwarn.model_kind": model.kind,
            }
        )
        mlflow.log_metrics(
            {"validation_logloss_current": outcome.current_logloss}
            | {f"validation_logloss_{c.method}": c.validation_logloss for c in outcome.candidates}
        )
        (work / "evaluation").mkdir()
        validation.to_parquet(work / "evaluation" / "test.parquet", index=False)
        mlflow.log_artifact(str(work / "evaluation" / "test.parquet"), "evaluation")
        mlflow.log_text(model.metadata.model_card, "model_card.md")
        bundle = model.save(work / BUNDLE)
        example = _example(validation.head(5), model)
        mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_CODE),
            metadata=mlmodel_metadata(model.metadata, requirement_note()),
            artifacts={BUNDLE: str(bundle)},
            signature=_signature(example, _infer()),
            input_example=example,
            pip_requirements=pip_requirements(),
        )
    logged = LoggedRun(run.info.run_id, experiment_id, uri, None, f"runs:/{run.info.run_id}/model")
    config = f"{model.metadata.config_name} recalibrated"
    done = register_run(logged, model, config, model_name=model_name)
    mlflow.MlflowClient().set_model_version_tag(
        model_name, str(done.model_version), "recalibrated_from", outcome.model_version
    )
    outcome.version, outcome.run_id = done.model_version, done.run_id
    return outcome


def _infer():  # type: ignore[no-untyped-def]
    from mlflow.models import infer_signature

    return infer_signature


def validation_frame(outcome: Recalibration) -> pd.DataFrame:
    """The validation snapshots as ``riskwarn promote`` reads a run's test frame: id, time,
    label, the new model's risk as ``evaluated_risk``, ``group_*`` and every feature."""
    validation = outcome.validation
    assert outcome.model is not None and validation is not None
    frame = pd.DataFrame(
        {
            "id": validation.ids,
            "time": validation.snapshots["as_of"].to_numpy(),
            "label": validation.label.astype(int),
            "evaluated_risk": outcome.model.calibrator.predict(
                outcome.model.estimator.raw(validation.x)
            ),
        }
    )
    return pd.concat([frame, validation.groups.add_prefix("group_"), validation.features], axis=1)


def recalibrate(
    path: str | Path | Dataset,
    *,
    model_uri: str = "models:/riskwarn@champion",
    tracking_uri: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    window_days: int = 180,
    validation_days: int = 30,
    every_days: int = 30,
    progress: Progress | None = None,
) -> Recalibration:
    """``riskwarn recalibrate``: load the model and the dataset, fit and judge the
    recalibrations, and register the chosen one as ``challenger`` when it earns it."""
    from riskwarn import load_dataset
    from riskwarn.training._tracking import MODEL_NAME, load_model, resolve_version

    model = load_model(model_uri, tracking_uri)
    dataset = path if isinstance(path, Dataset) else load_dataset(path)
    outcome = recalibrate_model(
        dataset,
        model,
        as_of,
        window_days=window_days,
        validation_days=validation_days,
        every_days=every_days,
        progress=progress,
    )
    if outcome.registered:
        name = resolve_version(model_uri)[0] if model.version else MODEL_NAME
        register_recalibration(
            outcome, validation_frame(outcome), tracking_uri=tracking_uri, model_name=name
        )
    return outcome
