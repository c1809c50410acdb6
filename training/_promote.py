"""Promotion: the challenger replaces the champion only when it is better on the same test
window (or when forced), and the reason is written down.

Both models re-score the challenger's test snapshots (stored with its run). Better means a
higher PR-AUC (what the nightly top lists depend on) with a Brier score no more than 5%
worse. The decision is logged as a run in the ``riskwarn-promotions`` experiment and as tags
on the challenger's model version; the old champion keeps the alias ``previous-champion``.
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


@dataclass(frozen=True)
class PromotionDecision:
    """What ``promote`` did and why."""

    promoted: bool
    reason: str
    challenger: str
    champion: str | None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


def compare(
    challenger: RiskModel, champion: RiskModel, test: pd.DataFrame
) -> dict[str, dict[str, float]]:
    """Test metrics (point values) of both models on the same snapshots."""
    missing = [n for n in champion.feature_names if n not in test.columns]
    if missing:
        raise ModelMismatchError(
            f"expected the challenger's test snapshots to carry every feature the champion uses, "
            f"got {len(missing)} missing (e.g. {missing[:3]}); the models cannot be compared on "
            "the same window, use --force to promote anyway."
        )
    if champion.registry_version != challenger.registry_version:
        raise ModelMismatchError(
            f"expected both models on one feature registry version, got challenger "
            f"{challenger.registry_version} and champion {champion.registry_version}; use --force "
            "to promote the challenger anyway."
        )
    y = test["label"].to_numpy()
    groups = test["time"].to_numpy() if challenger.registry_version != "table" else None
    out = {}
    for name, model in (("challenger", challenger), ("champion", champion)):
        m = evaluate(y, model.predict_risk(test), groups=groups, n_boot=0)
        out[name] = {k: v["value"] for k, v in m.items()}
    return out


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
    if champion is None:
        promoted, reason = True, "no champion yet"
    elif champion.version == challenger.version:
        promoted, reason = False, f"version {challenger.version} is already the champion"
    else:
        try:
            metrics = compare(
                challenger, champion, download_test_frame(challenger.metadata["run_id"])
            )
            promoted, reason = is_better(metrics)
        except ModelMismatchError as exc:
            promoted, reason = False, str(exc)
        if force and not promoted:
            promoted, reason = True, f"forced (--force); without it: {reason}"
    if promoted:
        if champion is not None:
            client.set_registered_model_alias(model_name, "previous-champion", champion.version)
        client.set_registered_model_alias(model_name, "champion", challenger.version)
    decision = PromotionDecision(
        promoted, reason, challenger.version, champion.version if champion else None, metrics
    )
    _log(decision, model_name, client)
    return decision


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
            }
        )
        for who, values in decision.metrics.items():
            mlflow.log_metrics({f"{who}_{k}": v for k, v in values.items() if np.isfinite(v)})
