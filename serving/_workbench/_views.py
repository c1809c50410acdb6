"""What each page shows, as plain dicts: the queue rows, the case, the model.

These functions read the store and the scorer and shape values for the templates and the
JSON routes; they know nothing of HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np
import pandas as pd

from riskwarn import vocab
from riskwarn.clock import get_clock
from riskwarn.features import REGISTRY, fact_spec
from riskwarn.serving._scorer import Scorer, Target
from riskwarn.serving._store import Store
from riskwarn.serving._warnings import policy_in_force
from riskwarn.training import ModelMetadata
from riskwarn.vocab import higher_tier

from ._actions import effective_tier
from ._card import card, group_marks, incidents_by_dispute, level_name, model_name, monthly_drift
from ._case import by_month, dispute_facts, ego_network, people, status, timeline
from ._charts import calibration, network, sparkline, waterfall
from ._corrections import recomputed_notes
from ._i18n import label
from ._loop import case_warning
from ._monitor import monitor_view

TOP_REASONS = 5
WATERFALL_STEPS = 10
LABEL_CHARS = {"zh": 24, "en": 46}  # what fits the waterfall's label column


def _short(words: str, limit: int) -> str:
    return words if len(words) <= limit else words[: limit - 1] + "…"


def reason_text(reason: Any, lang: str) -> str:
    return reason.text_zh if lang == "zh" else reason.text_en


def case_as_of(snapshots: list[dict[str, Any]], reported_at: pd.Timestamp) -> pd.Timestamp:
    """The moment a case page explains: its latest snapshot's, else now in the county's
    local time (not before it began)."""
    if snapshots:
        return pd.Timestamp(snapshots[-1]["as_of"])
    return max(pd.Timestamp(get_clock().local_now()), reported_at)


def explain(scorer: Scorer, dispute_id: str, as_of: pd.Timestamp) -> dict[str, Any]:
    """Risk, tier, base value and every feature's contribution for one held dispute."""
    scores = scorer.score([Target(dispute_id, as_of, "dispute_id")], top_k=TOP_REASONS)
    contrib = np.asarray(scores.contributions[0], dtype=np.float64)
    return {
        "risk": float(scores.risk[0]),
        "tier": str(scores.tier[0]),
        "tier_model": str(scores.tier_model[0]),
        "tier_floor_reason": scores.tier_floor_reason[0],
        "key_facts": list(scores.key_facts[0]),
        "model_version": str(scorer.model.version),
        "base_value": float(scores.base_value[0]),
        "margin": float(scores.base_value[0] + contrib.sum()),
        "top": list(scores.reasons[0]),
        "all": scores.explain(0),
    }


UP_REASONS, DOWN_REASONS = 5, 3


def _absent(r: Any) -> bool:
    return r.feature in REGISTRY and REGISTRY.absent(r.feature, r.value)


def factors(all_reasons: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """What raises and what lowers the risk, in words, for supervisors (no log-odds): the
    largest contributions each way, each with a bar scaled to the largest shown. An absence
    (a zero count, a flag not set) is never offered as raising the risk."""
    up = [r for r in all_reasons if r.contribution > 0 and not _absent(r)][:UP_REASONS]
    down = [r for r in all_reasons if r.contribution < 0][:DOWN_REASONS]
    top = max((abs(r.contribution) for r in up + down), default=0.0) or 1.0
    return {
        side: [{"reason": r, "width": round(60 * abs(r.contribution) / top, 1)} for r in rows]
        for side, rows in (("up", up), ("down", down))
    }


def waterfall_items(all_reasons: list[Any], lang: str, n: int = WATERFALL_STEPS) -> list:
    """The ``n`` largest contributions by size, then the rest folded into one item."""
    limit = LABEL_CHARS.get(lang, 24)
    shown = [(_short(reason_text(r, lang), limit), r.contribution) for r in all_reasons[:n]]
    rest = all_reasons[n:]
    if rest:
        shown.append(
            (label("other_features", lang, n=len(rest)), sum(r.contribution for r in rest))
        )
    return shown


def tiers_of(
    store: Store, scorer: Scorer, dispute_id: str
) -> tuple[pd.Timestamp, dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], str] | None:
    """What a case's tier rests on: ``(as_of, explanation, snapshots, actions, tier)``.

    The tier is the highest of the live model's, the latest snapshot's and every raise:
    the page never shows less caution than the queue did.
    """
    facts = dispute_facts(scorer.dataset, dispute_id)
    if facts is None:
        return None
    snaps = store.snapshots_for(dispute_id)
    as_of = case_as_of(snaps, facts["reported_at"])
    ex = explain(scorer, dispute_id, as_of)
    recorded = store.actions_for(dispute_id)
    snapshot_tier = snaps[-1]["tier"] if snaps else None
    base_tier = effective_tier(ex["tier"], [{"kind": "raise_tier", "tier": snapshot_tier}])
    return as_of, ex, snaps, recorded, str(effective_tier(base_tier, recorded))


def case_view(store: Store, scorer: Scorer, dispute_id: str, lang: str) -> dict[str, Any] | None:
    """Everything the case page shows; None when the history has no such dispute."""
    ds = scorer.dataset
    found = tiers_of(store, scorer, dispute_id)
    if found is None:
        return None
    as_of, ex, snaps, recorded, tier = found
    facts = dispute_facts(ds, dispute_id)
    model_tier = ex["tier_model"]
    net = ego_network(ds, dispute_id, as_of)
    tie_words = vocab.labels("tie_kind", lang)
    marks = {
        "party": label("party", lang),
        "incident": label("recent_incident", lang),
        "flagged": label("flags", lang),
    }
    points = [(f"{s['as_of']:%Y-%m-%d}", float(s["risk"]), str(s["tier"])) for s in snaps]
    state = status(ds, dispute_id, as_of)
    warning = case_warning(store, dispute_id, policy_in_force(store), get_clock().utc_now())
    ack = next((a for a in recorded if a["kind"] == "acknowledge"), None)
    if ack is None and warning and warning["w"].is_open:
        ack = warning["acknowledged"]  # acknowledged through the API
    return {
        "facts": facts,
        "as_of": as_of,
        **ex,
        "factors": factors(ex["all"]),
        "status": state,
        "ack": ack,
        "mediators": [
            m.name
            for m in store.roster().serving(facts["county"], facts["township"], facts["grid_id"])
        ],
        "warning": warning,
        "raise_above": higher_tier(tier, warning["w"].tier)
        if warning and warning["w"].is_open
        else tier,
        "months": by_month(timeline(ds, dispute_id, as_of)),
        "model_tier": model_tier,
        "tier": tier,
        "raised": any(a["kind"] == "raise_tier" and a["tier"] == tier for a in recorded),
        "actions": list(reversed(recorded)),
        "assignee": next(
            (a["assignee"] for a in reversed(recorded) if a["kind"] == "assign"), None
        ),
        "snapshots": snaps,
        "recomputed": recomputed_notes(store, snaps),
        "people": people(ds, dispute_id, as_of),
        "timeline": timeline(ds, dispute_id, as_of),
        "network": net,
        "charts": {
            "sparkline": sparkline(points, scorer.model.thresholds, label("risk_over_time", lang)),
            "waterfall": waterfall(
                ex["base_value"],
                waterfall_items(ex["all"], lang),
                {"base": label("base_value", lang), "score": label("model_score", lang)},
                label("waterfall", lang),
            ),
            "network": network(net.nodes, net.edges, tie_words, marks, label("network", lang)),
        },
    }


def case_json(view: dict[str, Any]) -> dict[str, Any]:
    """The case view as JSON (the data route): the same facts, no markup."""

    def reason(r: Any) -> dict[str, Any]:
        return r.to_dict()

    return json.loads(
        json.dumps(
            {
                "dispute_id": view["facts"]["dispute_id"],
                "township": view["facts"]["township"],
                "grid_id": view["facts"]["grid_id"],
                "status": view["status"],
                "acknowledged": view["ack"]
                and {
                    "by": view["ack"]["key_name"],
                    "at": view["ack"]["at"],
                },
                "as_of": view["as_of"].isoformat(),
                "risk": view["risk"],
                "tier": view["tier"],
                "model_tier": view["model_tier"],
                "tier_floor_reason": view["tier_floor_reason"],
                "key_facts": [f.to_dict() for f in view["key_facts"]],
                "model_version": view["model_version"],
                "base_value": view["base_value"],
                "reasons": [reason(r) for r in view["top"]],
                "contributions": [reason(r) for r in view["all"]],
                "snapshots": [
                    {"as_of": s["as_of"], "risk": s["risk"], "tier": s["tier"]}
                    for s in view["snapshots"]
                ],
                "actions": view["actions"],
                "warning": view["warning"]
                and {
                    "warning_id": view["warning"]["w"].warning_id,
                    "tier": view["warning"]["w"].tier,
                    "state": view["warning"]["w"].state,
                    "owner_level": view["warning"]["w"].owner_level,
                    "owner": view["warning"]["w"].owner,
                    "due_step": view["warning"]["w"].due_step,
                    "due_at": view["warning"]["w"].due_at,
                    "overdue": view["warning"]["overdue"],
                },
                "people": view["people"],
                "timeline": view["timeline"],
                "network": {"nodes": view["network"].nodes, "edges": view["network"].edges},
            },
            default=_plain,
            ensure_ascii=False,
        )
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def metric_table(
    metrics: dict[str, Any], served: str = "lightgbm"
) -> tuple[list[str], list[dict[str, Any]]]:
    """``{model: {metric: {value, lo, hi}}}`` as one row per metric with a cell per model;
    the served model's kind is the first column."""
    models = sorted(metrics, key=lambda m: (m != served, m))
    names: list[str] = []
    for m in models:
        names += [
            n for n, v in (metrics[m] or {}).items() if isinstance(v, dict) and n not in names
        ]
    rows = [
        {"metric": n, "cells": [_interval((metrics[m] or {}).get(n)) for m in models]}
        for n in names
    ]
    return models, rows


def _interval(v: Any) -> dict[str, float | None] | None:
    if not isinstance(v, dict) or "value" not in v:
        return None

    def num(x: Any) -> float | None:
        return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)

    return {"value": num(v["value"]), "lo": num(v.get("lo")), "hi": num(v.get("hi"))}


def metric_label(name: str, lang: str) -> str:
    """``recall_top5`` as "前5%召回率" / "Recall in the top 5%"; other names as they are."""
    for prefix, zh, en in (("recall_top", "前{k}%召回率", "Recall, top {k}%"),
                           ("precision_top", "前{k}%精确率", "Precision, top {k}%")):  # fmt: skip
        if name.startswith(prefix):
            k = name.removeprefix(prefix)
            return (zh if lang == "zh" else en).format(k=k)
    words = METRIC_WORDS.get(name)
    return name if words is None else words[0 if lang == "zh" else 1]


METRIC_WORDS = {
    "roc_auc": ("ROC AUC（区分能力）", "ROC AUC (ranking)"),
    "pr_auc": ("PR AUC（少数类排序）", "PR AUC (rare-class ranking)"),
    "brier": ("Brier 分数（越低越好）", "Brier score (lower is better)"),
    "ece": ("校准误差 ECE（越低越好）", "Calibration error ECE (lower is better)"),
    "log_loss": ("对数损失（越低越好）", "Log loss (lower is better)"),
}
GROUP_ENUMS = {"category": "category", "gender": "gender", "source": "source"}


def group_rows(groups: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Group results with enum levels in the page language."""
    out = []
    for g in groups:
        kind = GROUP_ENUMS.get(str(g.get("group")))
        level = vocab.label(kind, g.get("level"), lang) if kind else g.get("level")
        out.append({**g, "level": level})
    return out


def shown_card(meta: ModelMetadata) -> str:
    """The model card as supervisors read it: the training data named by its folder, not by
    its path on the training machine (a server detail, and a temporary folder in tests).
    The card logged with the run keeps the full path."""
    card, dataset = meta.model_card, meta.dataset
    folder = re.split(r"[/\\]", dataset.rstrip("/\\"))[-1]
    if folder and folder != dataset:
        card = card.replace(f"`{dataset}`", f"`{folder}`")
    return card


def _fact_description(code: str, lang: str) -> str:
    spec = fact_spec(code)
    return spec.description_zh if lang == "zh" else spec.description_en


def _drift(scorer: Scorer, history: list[dict[str, Any]], horizon: int) -> list[dict[str, Any]]:
    ds = getattr(scorer, "dataset", None)  # a model without its history has no drift to show
    if ds is None or not history:
        return []
    return monthly_drift(history, incidents_by_dispute(ds), ds.end, horizon)


def model_view(
    scorer: Scorer,
    lang: str,
    history: list[dict[str, Any]] | None = None,
    monitor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The model page: version, kind, windows, thresholds and floors, metrics, calibration,
    groups, card, and the latest monitor run (``monitor``: the service's summary of it)."""
    m = scorer.model
    meta = m.metadata
    plain = meta.model_dump(mode="json")
    models, rows = metric_table(plain["metrics"], served=meta.kind)
    cal = meta.calibration
    return {
        "version": str(m.version),
        "uri": str(m.uri),
        "kind": meta.kind,
        "registry_version": str(m.registry_version),
        "thresholds": dict(m.thresholds),
        "floors": [
            {"code": code, "tier": tier, "text": _fact_description(code, lang)}
            for code, tier in meta.tier_policy.floors.items()
        ],
        "windows": plain["windows"],
        "models": models,
        "has_intervals": any(c and c["lo"] is not None for r in rows for c in r["cells"]),
        "metrics": [{**r, "label": metric_label(r["metric"], lang)} for r in rows],
        "calibration_method": cal.method,
        "calibration": calibration(
            cal.test_points or cal.validation_points,
            {"x": label("predicted", lang), "y": label("observed", lang)},
            label("calibration", lang),
        ),
        "groups": [
            {**g, "level": level_name(str(g["level"]), lang)}
            for g in group_rows(group_marks(meta), lang)
        ],
        "card": shown_card(meta),
        "sections": card(meta, lang),
        "model_names": [model_name(k, lang) for k in models],
        "drift": _drift(scorer, history or [], meta.horizon_days or 90),
        "base_rate": dict(meta.base_rate),
        "monitor": monitor_view(monitor, lang),
    }
