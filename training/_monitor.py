"""Monitoring a model after it was trained: drift, performance before labels, realised
performance once they mature, and alarms, from a contract dataset as known at ``as_of``.

The dataset is cut at ``as_of`` first (``Dataset.cut``), so nothing dated later is read:
features are point in time, and a snapshot's label counts only when its whole horizon
has passed by the cut's end. Snapshots follow the training's grid (every ``every_days``
from the data's first dispute). The reference is the latest stretch of the model's
training data, its evaluation (test) window: where the figures the alarms compare with
were measured, and close to the model's present (the whole training window would start
with the platform's first months, when every history was short). Every snapshot date
after the training data is a monitored "month". Each goes through :meth:`RiskModel.score`
with its key facts, so tiers are the ones supervisors saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn._progress import Progress, report
from riskwarn.errors import ConfigError
from riskwarn.training._alarms import TOP_FEATURES, advice, find_alarms
from riskwarn.training._config import parse_date
from riskwarn.training._drift import drift_table, reference, score_drift
from riskwarn.training._estimate import expected_performance
from riskwarn.training._groups import group_report
from riskwarn.training._metadata import Interval, ModelMetadata, Window
from riskwarn.training._metrics import calibration_points, evaluate
from riskwarn.training._model import RiskModel, check_registry
from riskwarn.training._monitor_result import FeatureDrift, GroupResult, MonitorResult, Month
from riskwarn.training._realised import calibration_measures, realised_performance

KEYS = ["dispute_id", "as_of"]
WINDOW_DAYS = 180
"""The latest matured window (days of snapshot dates): groups are reported over it and
``riskwarn recalibrate`` fits on it."""
MIN_GROUP_ROWS = 20
PSI_ROWS = 300
"""Below this many rows a month, sampling alone gives PSI values near the 0.25 rule."""

LIMITS = [
    "The pre-label estimate trusts the model's risks: it follows shifts in who comes in "
    "(the mix of cases), not changes in how risk works (a signal that matters less than it "
    "did); only matured labels show those.",
    "A month is one snapshot date; with under 30 events its realised figures are noisy and "
    "their intervals wide, which is why calibration alarms need two months in a row.",
    "Drift is measured on the features as the model reads them: a category level the model "
    "never saw counts as missing.",
    "The area features (a grid's or township's dispute and incident rates over the last "
    "year) are ranked by drift but raise no PSI alarm: each is one number per area and "
    "date, and any growth of an area's disputes moves all of its rows at once.",
    "Months are not independent: consecutive months' 90-day horizons overlap by 60 days, "
    "and one incident marks every open dispute of its people, so a burst of incidents can "
    "push two months in a row outside intervals that treat events as independent.",
]


def reference_window(meta: ModelMetadata) -> Window:
    """The reference snapshots: the training's evaluation (test) window, the latest
    labelled stretch of the data the model was built from (for a refit model, the end of
    its training window too)."""
    for found in (meta.windows.get("test"), meta.refit.window, meta.windows.get("train")):
        if found is not None:
            return found
    raise ConfigError(
        "expected the model's metadata to record its training windows, got none; monitor a "
        "model trained by `riskwarn train`."
    )


@dataclass(frozen=True)
class Scored:
    """Snapshots with their features, scores, labels (where matured) and groups."""

    snapshots: pd.DataFrame  # dispute_id, as_of, label, label_known
    features: pd.DataFrame  # every registry feature, in wire types
    x: np.ndarray  # the model's matrix
    risk: np.ndarray
    tier: np.ndarray
    contributions: np.ndarray
    groups: pd.DataFrame  # gender, age_band, township, category

    def rows(self, mask: np.ndarray) -> Scored:
        return Scored(
            self.snapshots.loc[mask].reset_index(drop=True),
            self.features.loc[mask].reset_index(drop=True),
            self.x[mask],
            self.risk[mask],
            self.tier[mask],
            self.contributions[mask],
            self.groups.loc[mask].reset_index(drop=True),
        )

    @property
    def label(self) -> np.ndarray:
        return self.snapshots["label"].to_numpy(dtype=np.float64, na_value=np.nan)

    @property
    def ids(self) -> np.ndarray:
        return self.snapshots["dispute_id"].astype(str).to_numpy()


def score_snapshots(
    known: Dataset,
    model: RiskModel,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    every_days: int,
    progress: Progress | None = None,
) -> Scored:
    """Every snapshot of the training grid dated in ``[start, end]`` of ``known`` (a
    dataset already cut), scored through :meth:`RiskModel.score` with its key facts."""
    from riskwarn.features import FeatureBuilder, build_snapshots, snapshot_groups

    horizon = model.metadata.horizon_days or 90
    snaps = build_snapshots(known, end=end, every=every_days, horizon=horizon)
    snaps = snaps.loc[(snaps["as_of"] >= start).to_numpy()].reset_index(drop=True)
    if snaps.empty:
        return Scored(
            snaps,
            pd.DataFrame(columns=model.feature_names),
            np.zeros((0, len(model.feature_names))),
            np.zeros(0),
            np.array([], dtype="<U6"),
            np.zeros((0, len(model.feature_names))),
            pd.DataFrame(columns=["gender", "age_band", "township", "category"]),
        )
    builder = FeatureBuilder(known)
    feats = builder.transform(snaps[KEYS], progress=progress)
    scores = model.score(feats, builder.facts(snaps[KEYS]), top_k=0)
    groups = snapshot_groups(known, snaps[KEYS]).drop(columns=KEYS)
    return Scored(
        snaps,
        feats.drop(columns=KEYS),
        model.matrix(feats),
        scores.risk,
        scores.tier,
        scores.contributions,
        groups,
    )


def _month(t: pd.Timestamp, s: Scored, ref_risk: np.ndarray, n_boot: int, seed: int) -> Month:
    matured = bool(s.snapshots["label_known"].all())
    realised: dict[str, Interval] = {}
    points: list[dict[str, float]] = []
    events = None
    if matured:
        y = s.label
        events = int(y.sum())
        found = realised_performance(y, s.risk, s.tier, s.ids, n_boot=n_boot, seed=seed)
        realised = {k: Interval(**v) for k, v in found.items()}
        points = calibration_points(y, s.risk)
    drift = score_drift(ref_risk, s.risk)
    return Month(
        as_of=t.to_pydatetime(),
        rows=len(s.risk),
        matured=matured,
        events=events,
        estimated=expected_performance(s.risk, s.tier),
        realised=realised,
        score_psi=drift["psi"],
        score_ks=drift["ks"],
        calibration=points,
    )


def group_results(s: Scored, *, n_boot: int, seed: int) -> list[GroupResult]:
    """Training's group report (:func:`group_report`) over the rows of ``s``, with the
    ROC-AUC and observed/expected of each level and their intervals."""
    y = s.label
    base = group_report(y, s.risk, s.tier, s.groups)
    out = []
    for row in base:
        col = s.groups[row["group"]].astype("object").where(s.groups[row["group"]].notna())
        held = (col.fillna("(missing)").astype(str) == row["level"]).to_numpy()
        yy, pp, ids = y[held], s.risk[held], s.ids[held]
        auc = Interval(value=None)
        if row["auc"] is not None and held.sum() >= MIN_GROUP_ROWS:
            auc = Interval(**evaluate(yy, pp, clusters=ids, n_boot=n_boot, seed=seed)["roc_auc"])
        oe = calibration_measures(yy, pp, s.tier[held], ids, n_boot=n_boot, seed=seed)
        out.append(
            GroupResult(
                **{k: v for k, v in row.items() if k != "auc"},
                auc=auc,
                observed_expected=Interval(**oe["observed_expected"]),
            )
        )
    return out


def _window(s: Scored) -> Window:
    t = s.snapshots["as_of"]
    events = int(np.nansum(s.label)) if s.snapshots["label_known"].all() else None
    return Window(start=t.min(), end=t.max(), rows=len(t), events=events)


def monitor(
    dataset: Dataset,
    model: RiskModel,
    as_of: str | pd.Timestamp | None = None,
    *,
    every_days: int = 30,
    window_days: int = WINDOW_DAYS,
    n_boot: int = 200,
    seed: int = 0,
    progress: Progress | None = None,
) -> MonitorResult:
    """Compare each snapshot date after the model's training data, up to ``as_of``
    (default: the data's last record), with the reference window; read nothing later.

    >>> result = monitor(load_dataset("county"), load_model(), "2024-12-31")  # doctest: +SKIP
    >>> [a.message for a in result.alarms]                                   # doctest: +SKIP
    """
    check_registry(model)
    t = dataset.end if as_of is None else parse_date(as_of, "--as-of")
    known = dataset.cut(t)
    window = reference_window(model.metadata)
    ref_start, ref_end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    if t <= ref_end:
        raise ConfigError(
            f"expected an as_of after the model's training data (last labelled snapshot "
            f"{ref_end:%Y-%m-%d}), got {t}; pass a later --as-of, or data newer than the model."
        )
    scored = score_snapshots(
        known, model, start=ref_start, end=t, every_days=every_days, progress=progress
    )
    when = scored.snapshots["as_of"]
    in_ref = (when <= ref_end).to_numpy()
    if not in_ref.any():
        raise ConfigError(
            f"expected snapshots in the model's reference window ({ref_start:%Y-%m-%d} to "
            f"{ref_end:%Y-%m-%d}), got none from this data; monitor with the data the model "
            "was trained on and what came after."
        )
    watch = _watch_from(model.metadata)
    watched = (when > watch).to_numpy()
    if not watched.any():
        raise ConfigError(
            f"expected open disputes after the model's training data (last labelled snapshot "
            f"{watch:%Y-%m-%d}) up to {t}, got none; pass a later "
            "--as-of or newer data."
        )
    ref = scored.rows(in_ref)
    importance = np.abs(ref.contributions).mean(axis=0)
    names = model.feature_names
    baseline = reference(ref.x, names, set(model.layout.categories), importance)
    order = [names[i] for i in np.argsort(-importance, kind="stable")]
    top = order[:TOP_FEATURES]
    context = area_context(names)
    alarmed = [n for n in order if n not in context][:TOP_FEATURES]
    later = scored.rows(watched)
    dates = sorted(later.snapshots["as_of"].unique())
    months: list[Month] = []
    drift: list[FeatureDrift] = []
    for i, d in enumerate(dates):
        report(progress, i, len(dates), f"month {pd.Timestamp(d):%Y-%m-%d}")
        s = later.rows((later.snapshots["as_of"] == d).to_numpy())
        months.append(_month(pd.Timestamp(d), s, ref.risk, n_boot, seed))
        table = drift_table(baseline, s.x)
        drift += [
            FeatureDrift(as_of=pd.Timestamp(d).to_pydatetime(), **r)
            for r in table.to_dict("records")
        ]
    report(progress, len(dates), len(dates), "groups")
    matured_dates = [m.as_of for m in months if m.matured]
    groups: list[GroupResult] = []
    group_window = None
    if matured_dates:
        last = pd.Timestamp(matured_dates[-1])
        held = (
            (later.snapshots["as_of"] > last - pd.Timedelta(days=window_days))
            & (later.snapshots["as_of"] <= last)
        ).to_numpy()
        recent = later.rows(held)
        groups = group_results(recent, n_boot=n_boot, seed=seed)
        group_window = _window(recent)
    training_auc = _training_auc(model.metadata)
    found = find_alarms(months, drift, training_auc_lo=training_auc.lo, top_features=alarmed)
    return MonitorResult(
        model_uri=model.uri,
        model_version=model.version,
        model_kind=model.kind,
        as_of=t.to_pydatetime(),
        reference=_window(ref),
        horizon_days=model.metadata.horizon_days or 90,
        every_days=every_days,
        training_auc=training_auc,
        top_features=top,
        months=months,
        drift=drift,
        groups=groups,
        group_window=group_window,
        alarms=found,
        advice=advice(found, len(matured_dates)),
        limits=_limits(months),
    )


def area_context(names: list[str]) -> set[str]:
    """The features that describe a dispute's area, not the dispute or its people (the
    registry's ``area`` group: a grid's or township's dispute and incident rates). Their
    drift is measured and ranked like any feature's, but raises no PSI alarm: each is one
    number per area and date, so a month's rows are not a sample of a population but a
    handful of area-level series, and a county whose disputes grow a few percent a year
    moves every row of them at once (PSI far above 0.25 in a world the model still fits,
    every month). A feature of another table (``train-table``) is never context."""
    from riskwarn.features import REGISTRY

    return set(REGISTRY.names("area")) & set(names)


def _limits(months: list[Month]) -> list[str]:
    rows = float(np.mean([m.rows for m in months]))
    if rows >= PSI_ROWS:
        return list(LIMITS)
    return [
        *LIMITS,
        f"Months hold {rows:.0f} open disputes on average: with under {PSI_ROWS}, sampling "
        "alone moves a feature's PSI near the 0.25 rule, so single PSI alarms mean little.",
    ]


def _watch_from(meta: ModelMetadata) -> pd.Timestamp:
    """Months are watched after this: the last snapshot the model's labels came from (the
    training data's, or a recalibration's validation window's)."""
    end = pd.Timestamp(reference_window(meta).end)
    if meta.recalibration is not None:
        end = max(end, pd.Timestamp(meta.recalibration.validation_window.end))
    return end


def _training_auc(meta: ModelMetadata) -> Interval:
    found = meta.metrics.get(meta.kind, {}).get("roc_auc")
    return found if found is not None else Interval(value=None)
