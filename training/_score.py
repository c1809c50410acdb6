"""Batch scoring: every dispute open at a date, from what was known on that date only.

This is how the nightly list for supervisors is made, through :meth:`RiskModel.score` (the
one pipeline from features and key facts to risk, tiers and reasons): the output carries
the model version, the tier before and after the key facts' floors, three readable reasons
and the key facts of each case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn._progress import Progress, report
from riskwarn._retention import RetentionPolicy, expiry
from riskwarn.training._config import parse_date
from riskwarn.training._interventions import INTERVENTION_FEATURES, intervention_columns
from riskwarn.training._model import RiskModel, check_registry

COLUMNS = [
    "dispute_id",
    "as_of",
    "risk",
    "tier",
    "tier_model",
    "tier_floor_reason",
    "model_version",
    "reason_1",
    "reason_2",
    "reason_3",
    "key_fact_codes",
    "key_facts",
]
"""The nightly CSV: ``tier`` after the key facts' floors, ``tier_model`` before them,
``tier_floor_reason`` the fact that raised it (empty when none); ``key_fact_codes`` joined
by ``;``, ``key_facts`` as a JSON list of ``{code, text_zh, text_en, at}``."""


def score_open(
    dataset: Dataset,
    as_of: str | pd.Timestamp,
    model: RiskModel,
    *,
    lang: str = "zh",
    progress: Progress | None = None,
    retention: RetentionPolicy | None = None,
) -> pd.DataFrame:
    """Risk, tier and reasons for every dispute open at ``as_of``, using ``dataset.cut(as_of)``
    only, so rows dated later (whatever the directory holds) change nothing; with
    ``retention``, without the rows expired by ``as_of`` either.

    A bare date (``"2024-06-30"``) means the end of that day (23:59:59): rows dated during
    it count; a timestamp is taken as the exact moment."""
    from riskwarn.features import FeatureBuilder, open_disputes

    check_registry(model)
    t = parse_date(as_of, "--as-of")
    known = dataset.cut(t)
    if retention is not None:
        known = expiry(known, retention).retained(t)
    ids = open_disputes(known, t)
    if not ids:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in COLUMNS})
    snaps = pd.DataFrame(
        {
            "dispute_id": pd.array(ids, dtype="str"),
            "as_of": pd.Series([t] * len(ids), dtype="datetime64[ns]"),
        }
    )
    builder = FeatureBuilder(known)
    feats = builder.transform(snaps, progress=progress)
    if model.metadata.interventions == "feature":  # the model reads what was done so far
        acted = intervention_columns(known, snaps, model.metadata.horizon_days or 90)
        feats = pd.concat([feats, acted[list(INTERVENTION_FEATURES)]], axis=1)
    report(progress, 0, 1, "scoring")
    scores = model.score(feats, builder.facts(snaps), top_k=3)
    out = pd.DataFrame(
        {
            "dispute_id": ids,
            "as_of": _moment(t),
            "risk": scores.risk,
            "tier": scores.tier,
            "tier_model": scores.tier_model,
            "tier_floor_reason": [r or "" for r in scores.tier_floor_reason],
            "model_version": model.version or model.uri,  # runs:/... when unregistered
        }
    )
    for k in range(3):
        out[f"reason_{k + 1}"] = [r[k].text(lang) if len(r) > k else "" for r in scores.reasons]
    out["key_fact_codes"] = [";".join(f.code for f in fs) for fs in scores.key_facts]
    out["key_facts"] = [
        json.dumps([f.to_dict() for f in fs], ensure_ascii=False) for fs in scores.key_facts
    ]
    report(progress, 1, 1, "scoring")
    return out.sort_values(["risk", "dispute_id"], ascending=[False, True]).reset_index(drop=True)


def _moment(t: pd.Timestamp) -> str:
    """The moment scored, as the service writes it (``YYYY-MM-DDTHH:MM:SS``): a bare date
    was read as the end of its day, so the column says 23:59:59 rather than a date that
    could be mistaken for midnight."""
    return t.isoformat(timespec="seconds") if t == t.floor("s") else t.isoformat()


def score(
    path: str | Path,
    *,
    as_of: str | pd.Timestamp,
    out: str | Path,
    model_uri: str = "models:/riskwarn@champion",
    tracking_uri: str | None = None,
    lang: str = "zh",
    progress: Progress | None = None,
    retention: RetentionPolicy | None = None,
) -> pd.DataFrame:
    """Score the dataset in ``path`` at ``as_of`` with the model behind ``model_uri``; write CSV."""
    from riskwarn import load_dataset
    from riskwarn.training._tracking import load_model

    model = load_model(model_uri, tracking_uri)
    frame = score_open(
        load_dataset(path), as_of, model, lang=lang, progress=progress, retention=retention
    )
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, encoding="utf-8")
    return frame
