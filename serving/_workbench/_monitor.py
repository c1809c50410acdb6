"""The latest ``riskwarn monitor`` run on the model page: the features that drifted most
(weighted by their importance), estimated and realised performance per month, the alarms
by kind, when it ran and on which data.

The service reads the run once per model (when it starts or loads another model):
:func:`monitor_summary` turns the run's result into plain values the service keeps (beside
the figures ``/metrics`` reads), and :func:`monitor_view` words them for a page language.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from riskwarn.features import REGISTRY
from riskwarn.training import MonitorResult, latest_monitor_run

TOP_DRIFT = 5

ALARM_WORDS: dict[str, tuple[str, str]] = {
    "observed_expected": ("实际与预期事件数之比偏离 1", "observed/expected away from 1"),
    "calibration_slope": ("校准斜率偏离 1", "calibration slope away from 1"),
    "auc_below_training": ("区分能力低于训练评估下限", "AUC below the training's lower bound"),
    "feature_psi": ("重要特征分布明显漂移", "a top feature drifted (PSI > 0.25)"),
}
"""Each alarm kind as a supervisor reads it, Chinese first."""


def latest_run(model_version: str, tracking_uri: str | None = None) -> dict[str, Any] | None:
    """When the newest monitor run of ``model_version`` ran and on which data (its MLflow
    run's start and ``riskwarn.dataset`` tag); None when there is none."""
    run = latest_monitor_run(model_version, tracking_uri)
    if run is None:
        return None
    info = run.info
    return {
        "run_id": info.run_id,
        "ran_at": dt.datetime.fromtimestamp(info.start_time / 1000, dt.UTC).isoformat(),
        "source": shown_source(run.data.tags.get("riskwarn.dataset", "")),
    }


def shown_source(source: str) -> str:
    """The data a run read, as the page shows it: a dataset folder by its name, the
    service's store as ``store`` (paths and URLs are server details)."""
    if source.startswith("store"):
        return "store"
    return re.split(r"[/\\]", source.rstrip("/\\"))[-1] or source


def _interval(value: Any) -> dict[str, float | None] | None:
    if value is None:
        return None
    return {"value": value.value, "lo": value.lo, "hi": value.hi}


def monitor_summary(result: MonitorResult, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the service keeps of a monitor run: :meth:`MonitorResult.summary` (read by
    ``/metrics``) and, for the model page, the run (when, on which data), the reference
    window, the top drifted features, each month's estimated and realised figures, and the
    alarms with their kind."""
    ranking = result.ranking(TOP_DRIFT)
    return {
        **result.summary(),
        "run": run,
        "reference": result.reference.model_dump(mode="json"),
        "top_drift": [
            {
                "feature": r["feature"],
                "as_of": r["as_of"].date().isoformat(),
                "psi": r["psi"],
                "importance": r["importance"],
                "weighted": r["weighted"],
                "test": r["test"],
                "statistic": r["statistic"],
                "missing": r["missing_current"],
            }
            for r in ranking.to_dict("records")
        ],
        "periods": [
            {
                "as_of": m.as_of.date().isoformat(),
                "rows": m.rows,
                "matured": m.matured,
                "events": m.events,
                "predicted": m.estimated.get("event_rate"),
                "observed": (m.events / m.rows) if m.events is not None and m.rows else None,
                "estimated_auc": m.estimated.get("roc_auc"),
                "auc": _interval(m.realised.get("roc_auc")),
                "observed_expected": _interval(m.realised.get("observed_expected")),
                "score_psi": m.score_psi,
            }
            for m in result.months
        ],
        "alarm_list": [
            {
                "kind": a.kind,
                "as_of": a.as_of.date().isoformat(),
                "message": a.message,
                "feature": a.feature,
            }
            for a in result.alarms
        ],
    }


def _feature_words(name: str, lang: str) -> str:
    if name not in REGISTRY:
        return name
    spec = REGISTRY.get(name)
    return spec.description_zh if lang == "zh" else spec.description_en


def monitor_view(summary: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """The summary worded for the page (features and alarm kinds in ``lang``); None when
    the served model was never monitored."""
    if not summary or "periods" not in summary:
        return None
    run = summary.get("run") or {}
    ran_at = run.get("ran_at")
    return {
        **summary,
        "ran_at": dt.datetime.fromisoformat(ran_at).replace(tzinfo=None) if ran_at else None,
        "source": run.get("source"),
        "data_as_of": summary["as_of"][:10],
        "top_drift": [
            {**d, "words": _feature_words(d["feature"], lang)} for d in summary["top_drift"]
        ],
        "alarm_list": [
            {
                **a,
                "words": ALARM_WORDS.get(a["kind"], (a["kind"], a["kind"]))[lang != "zh"],
                "feature_words": _feature_words(a["feature"], lang) if a["feature"] else None,
            }
            for a in summary["alarm_list"]
        ],
        "alarm_kinds": [
            {"kind": k, "count": n, "words": ALARM_WORDS.get(k, (k, k))[lang != "zh"]}
            for k, n in summary["alarms"].items()
        ],
    }
