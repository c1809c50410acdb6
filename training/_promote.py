"""Promotion: the challenger replaces the champion only when it is better on the same test
window (or when forced), and the reason is written down.

Both models are compared on the challenger's test snapshots (stored with its run), but only
those the champion never learned from: snapshots dated on or after the champion's
``labels_end`` (the last moment any label it was fitted, early-stopped or calibrated on can
see; for a model refit on all its data, that data's end). The champion re-scores them; the
challenger's figures are its evaluated model's risks stored with them (fitted without the
test window), since a refit challenger has seen those labels. A
champion trained on newer data than the challenger's test window would otherwise be graded
on its own training labels. Models on another horizon or feature registry version are not
compared at all. Better means a higher PR-AUC (what the nightly top lists depend on) with a
Brier score no more than 5% worse. The decision is logged as a run in the
``riskwarn-promotions`` experiment and as tags on the challenger's model version; the old
champion keeps the alias ``previous-champion``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskwarn.errors import ModelMismatchError, ModelNotFoundError
from riskwarn.training._metrics import evaluate
from riskwarn.training._model import RiskModel
from riskwarn.training._tracking import (
    MODEL_NAME,
    connect,
    download_test_frame,
    ensure_experiment,
    load_model,
)

BRIER_TOLERANCE = 1.05
PROMOTIONS = "riskwarn-promotions"
MIN_COMPARE_EVENTS = 10  # fewer events than this on the shared rows decide nothing


@dataclass(frozen=True)
class PromotionDecision:
    """What ``promote`` did and why; ``window`` says which test snapshots were compared."""

    promoted: bool
    reason: str
    challenger: str
    champion: str | None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    window: dict[str, str | int] = field(default_factory=dict)


def _labels_end(model: RiskModel) -> pd.Timestamp | None:
    value = model.metadata.labels_end
    return pd.Timestamp(value) if value else None


def comparable(
    challenger: RiskModel, champion: RiskModel, test: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str | int]]:
    """The challenger's test snapshots both models may fairly be scored on, and a summary.

    Raises :class:`ModelMismatchError` (only ``--force`` promotes then) when the models use
    another horizon or feature registry version, when the champion lacks a feature, or when
    too few snapshots postdate the labels the champion was trained on.
    """
    if champion.registry_version != challenger.registry_version:
        raise ModelMismatchError(
            f"expected both models on one feature registry version, got challenger "
            f"{challenger.registry_version} and champion {champion.registry_version}; use --force "
            "to promote the challenger anyway."
        )
    horizons = (challenger.metadata.horizon_days, champion.metadata.horizon_days)
    if None in horizons or horizons[0] != horizons[1]:
        shown = ["unknown" if h is None else f"{h} days" for h in horizons]
        raise ModelMismatchError(
            f"expected both models to predict over the same horizon, got challenger "
            f"{shown[0]} and champion {shown[1]}; their risks answer different questions. "
            "Retrain one with the other's horizon_days, or use --force to promote anyway."
        )
    missing = [n for n in champion.feature_names if n not in test.columns]
    if missing:
        raise ModelMismatchError(
            f"expected the challenger's test snapshots to carry every feature the champion uses, "
            f"got {len(missing)} missing (e.g. {missing[:3]}); the models cannot be compared on "
            "the same window, use --force to promote anyway."
        )
    time = pd.to_datetime(test["time"])
    since = _labels_end(champion)
    if since is None:
        raise ModelMismatchError(
            f"expected the champion (version {champion.version}) to record where its training "
            "labels end, got a model saved without it; it cannot be compared without risking "
            "scoring it on its own training labels. Use --force to promote anyway."
        )
    keep = (time >= since).to_numpy()
    rows = test.loc[keep].reset_index(drop=True)
    events = int(rows["label"].sum())
    window: dict[str, str | int] = {
        "since": since.isoformat(),
        "rows": len(rows),
        "events": events,
        "test_rows": len(test),
    }
    if events < MIN_COMPARE_EVENTS or rows["label"].nunique() < 2:
        raise ModelMismatchError(
            f"expected at least {MIN_COMPARE_EVENTS} events among the challenger's test "
            f"snapshots dated on or after {since:%Y-%m-%d %H:%M:%S}, where the champion's "
            f"training labels end, got {len(rows)} of {len(test)} snapshots with {events} "
            f"events (the challenger's test window is {time.min():%Y-%m-%d} to "
            f"{time.max():%Y-%m-%d}); the champion has seen the rest. Train the challenger "
            "on data reaching further past the champion's, or use --force to promote anyway."
        )
    return rows, window


def _scores(
    challenger: RiskModel, champion: RiskModel, rows: pd.DataFrame
) -> dict[str, dict[str, float]]:
    y = rows["label"].to_numpy()
    groups = rows["time"].to_numpy() if challenger.registry_version != "table" else None
    # the challenger's own test snapshots: its evaluated model's risk (fitted without them);
    # a refit challenger has seen their labels, and would be graded on its training data
    own = (
        rows["evaluated_risk"].to_numpy(dtype=float)
        if "evaluated_risk" in rows.columns
        else challenger.predict_risk(rows)
    )
    out = {}
    for name, risk in (("challenger", own), ("champion", champion.predict_risk(rows))):
        m = evaluate(y, risk, groups=groups, n_boot=0)
        out[name] = {k: v["value"] for k, v in m.items()}
    return out


def compare(
    challenger: RiskModel, champion: RiskModel, test: pd.DataFrame
) -> dict[str, dict[str, float]]:
    """Test metrics (point values) of both models on the snapshots :func:`comparable` keeps."""
    rows, _ = comparable(challenger, champion, test)
    return _scores(challenger, champion, rows)


def is_better(metrics: dict[str, dict[str, float]]) -> tuple[bool, str]:
    ch, cp = metrics["challenger"], metrics["champion"]
    pr = f"PR-AUC {ch['pr_auc']:.4f} vs {cp['pr_auc']:.4f}"
    br = f"Brier {ch['brier']:.5f} vs {cp['brier']:.5f}"
    if not np.isfinite(ch["pr_auc"]):
        return False, "the test window has no events to compare on"
    if ch["brier"] > cp["brier"] * BRIER_TOLERANCE:
        return False, f"challenger's Brier is more than 5% worse ({br}; {pr})"
    if ch["pr_auc"] > cp["pr_auc"]:
        return True, f"challenger is better: {pr}, {br}"
    return False, f"challenger is not better: {pr}, {br}"


def promote(
    tracking_uri: str | None = None, *, force: bool = False, model_name: str = MODEL_NAME
) -> PromotionDecision:
    """Compare ``challenger`` with ``champion`` and move ``champion`` when better (or forced)."""
    import mlflow

    connect(tracking_uri)
    client = mlflow.MlflowClient()
    challenger = load_model(f"models:/{model_name}@challenger", tracking_uri)
    try:
        champion: RiskModel | None = load_model(f"models:/{model_name}@champion", tracking_uri)
    except ModelNotFoundError:
        champion = None
    metrics: dict[str, dict[str, float]] = {}
    window: dict[str, str | int] = {}
    if champion is None:
        promoted, reason = True, "no champion yet"
    elif champion.version == challenger.version:
        promoted, reason = False, f"version {challenger.version} is already the champion"
    else:
        try:
            for model in (challenger, champion):
                _backfill(model, client)
            rows, window = comparable(
                challenger, champion, download_test_frame(challenger.metadata.run_id)
            )
            metrics = _scores(challenger, champion, rows)
            promoted, reason = is_better(metrics)
            reason += (
                f" (on {window['rows']} of the challenger's {window['test_rows']} test "
                f"snapshots, {window['events']} events, dated from {window['since'][:19]} "
                "when the champion's training labels end)"
            )
        except ModelMismatchError as exc:
            promoted, reason = False, str(exc)
        if force and not promoted:
            promoted, reason = True, f"forced (--force); without it: {reason}"
    if promoted:
        if champion is not None:
            client.set_registered_model_alias(model_name, "previous-champion", champion.version)
        client.set_registered_model_alias(model_name, "champion", challenger.version)
    decision = PromotionDecision(
        promoted,
        reason,
        challenger.version,
        champion.version if champion else None,
        metrics,
        window,
    )
    _log(decision, model_name, client)
    return decision


def _backfill(model: RiskModel, client) -> None:  # type: ignore[no-untyped-def]
    """Horizon and label end of a model saved before they were recorded, from its run's
    parameters and its validation window (the same rule :func:`fit_evaluate` uses)."""
    meta = model.metadata
    horizon = meta.horizon_days
    if horizon is None and meta.run_id:
        value = client.get_run(meta.run_id).data.params.get("horizon_days")
        horizon = int(value) if value is not None else None
    labels_end = meta.labels_end
    validation = meta.windows.get("validation")
    if labels_end is None and validation is not None and horizon is not None:
        labels_end = validation.end + pd.Timedelta(days=horizon)
    if (horizon, labels_end) != (meta.horizon_days, meta.labels_end):
        model.metadata = meta.with_(horizon_days=horizon, labels_end=labels_end)


def _log(decision: PromotionDecision, model_name: str, client) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    uri = mlflow.get_tracking_uri()
    verdict = "promoted" if decision.promoted else "kept champion"
    client.set_model_version_tag(
        model_name, decision.challenger, "promotion", f"{verdict}: {decision.reason}"
    )
    with mlflow.start_run(
        experiment_id=ensure_experiment(uri, PROMOTIONS), run_name=f"promote v{decision.challenger}"
    ):
        mlflow.set_tags(
            {
                "model": model_name,
                "challenger_version": decision.challenger,
                "champion_version": decision.champion or "",
                "promoted": str(decision.promoted).lower(),
                "reason": decision.reason[:5000],
                **{f"compared_{k}": str(v) for k, v in decision.window.items()},
            }
        )
        for who, values in decision.metrics.items():
            mlflow.log_metrics({f"{who}_{k}": v for k, v in values.items() if np.isfinite(v)})
