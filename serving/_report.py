"""The person report: what riskwarn holds about one person, for the person concerned
(PIPL art. 24 and 45), produced by an admin and audited.

:func:`person_report` assembles it from the history and the stored scores: the person's
row, every record about them by table (each with its record key, so an admin can correct
it), the special-population flags, the disputes they are party to with their current tier
and main reasons, and for each open dispute how much of its score comes from other people's
records (association: features the registry marks ``association``) rather than the case's
own. ``GET /v1/records/person/{id}`` answers it as JSON; the workbench prints it in Chinese
at ``/ui/person/{id}``. Each export writes an audit row (``report:person``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from riskwarn import Dataset
from riskwarn.clock import get_clock
from riskwarn.errors import UnknownRecordError
from riskwarn.features import REGISTRY
from riskwarn.serving import _rights
from riskwarn.serving._scorer import Scorer, Target
from riskwarn.serving._store import Store
from riskwarn.vocab import label

TABLE_ZH = {
    "persons": "基本信息",
    "person_flags": "重点人群记录",
    "relationships": "社会关系",
    "dispute_parties": "涉及纠纷",
    "petitions": "信访记录",
    "incident_persons": "极端事件",
}


class ReportRecord(BaseModel):
    """One record about the person."""

    table: str
    key: str = Field(..., description="The record key (for `riskwarn records correct`).")
    values: dict[str, Any]


class ReportReason(BaseModel):
    text_zh: str
    text_en: str
    contribution: float
    association: bool = Field(..., description="Read from other people's records.")


class ReportDispute(BaseModel):
    """A dispute the person is party to, with its current score."""

    dispute_id: str
    role: str
    category: str
    reported_at: str
    open: bool
    tier: str | None = Field(None, description="Latest stored tier (None: never scored).")
    risk: float | None = None
    scored_as_of: str | None = None
    recomputed_reason: str | None = None
    reasons: list[ReportReason] = Field(default_factory=list)
    association_share: float | None = Field(
        None,
        description="Share of the score's contributions (absolute SHAP, open disputes) that "
        "comes from other people's records rather than the case's own.",
    )


class PersonReport(BaseModel):
    """What riskwarn holds about one person."""

    request_id: str = ""
    person_id: str
    produced_at: str = Field(..., description="When (local time).")
    records: list[ReportRecord]
    flags: list[dict[str, Any]]
    disputes: list[ReportDispute]
    corrections: int = Field(..., description="Corrections made to this person's records.")


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def person_records(dataset: Dataset, person_id: str) -> list[ReportRecord]:
    """Every row about ``person_id``, table by table, with its record key."""
    out = []
    for table, columns in _rights.PERSON_COLUMNS.items():
        frame = dataset.table(table)
        mask = np.zeros(len(frame), dtype=bool)
        for c in columns:
            mask |= (frame[c].astype(str) == person_id).to_numpy()
        rows = frame.loc[mask]
        keys = _rights.frame_keys(table, rows)
        for key, row in zip(keys, rows.to_dict("records"), strict=True):
            out.append(
                ReportRecord(table=table, key=key, values={k: _plain(v) for k, v in row.items()})
            )
    return out


def association_share(names: list[str], contributions: np.ndarray) -> float:
    """Share of the absolute contributions that come from association features."""
    weights = np.abs(np.asarray(contributions, dtype=float))
    total = float(weights.sum())
    if total == 0:
        return 0.0
    mask = np.array([REGISTRY.get(n).association if n in REGISTRY else False for n in names])
    return float(weights[mask].sum() / total)


def person_report(
    store: Store, scorer: Scorer, person_id: str, *, request_id: str = ""
) -> PersonReport:
    """The report on ``person_id`` from the history ``scorer`` holds and the store's scores
    (UnknownRecordError when the store holds no such person)."""
    dataset = scorer.dataset
    if person_id not in set(dataset.persons["person_id"].astype(str)):
        raise UnknownRecordError(f"person_id: expected a person the store holds, got {person_id!r}")
    now = pd.Timestamp(get_clock().local_now())
    records = person_records(dataset, person_id)
    parties = dataset.dispute_parties
    mine = parties.loc[parties["person_id"].astype(str) == person_id]
    latest = {s["dispute_id"]: s for s in store.latest_snapshots()}
    from riskwarn.features import open_disputes

    open_now = set(open_disputes(dataset, now))
    disputes = dataset.disputes.set_index(dataset.disputes["dispute_id"].astype(str))
    ids = sorted(set(mine["dispute_id"].astype(str)))
    live = [d for d in ids if d in open_now]
    scores = scorer.score([Target(d, now.floor("s"), "dispute_id") for d in live]) if live else None
    out = []
    for d in ids:
        row = disputes.loc[d]
        snap = latest.get(d)
        role = str(mine.loc[mine["dispute_id"].astype(str) == d, "role"].iloc[0])
        item = ReportDispute(
            dispute_id=d,
            role=role,
            category=str(row["category"]),
            reported_at=pd.Timestamp(row["reported_at"]).isoformat(),
            open=d in open_now,
            tier=snap["tier"] if snap else None,
            risk=snap["risk"] if snap else None,
            scored_as_of=snap["as_of"].isoformat() if snap else None,
            recomputed_reason=snap.get("recomputed_reason") if snap else None,
        )
        if scores is not None and d in live:
            i = live.index(d)
            names = list(scores.feature_names)
            item.association_share = round(association_share(names, scores.contributions[i]), 4)
            item.reasons = [
                ReportReason(
                    text_zh=r.text("zh"),
                    text_en=r.text("en"),
                    contribution=float(r.contribution),
                    association=bool(REGISTRY.get(r.feature).association)
                    if r.feature in REGISTRY
                    else False,
                )
                for r in scores.reasons[i]
            ]
        out.append(item)
    flags = [r.values for r in records if r.table == "person_flags"]
    keys = {r.key for r in records}
    corrections = sum(
        1 for v in store.record_versions() if v["kind"] == "correction" and v["new_key"] in keys
    )
    return PersonReport(
        request_id=request_id,
        person_id=person_id,
        produced_at=now.isoformat(),
        records=records,
        flags=flags,
        disputes=out,
        corrections=corrections,
    )


def audited_report(service: Any, person_id: str, by: str, request_id: str) -> PersonReport:
    """The report from a running service's history, with its audit row."""
    report = person_report(service.store, service.scorer, person_id, request_id=request_id)
    service.store.audit(
        [
            {
                "key_name": by,
                "action": "report:person",
                "request_id": request_id,
                "detail": {
                    "person_id": person_id,
                    "records": len(report.records),
                    "disputes": len(report.disputes),
                },
            }
        ]
    )
    return report


def label_zh(vocabulary: str, value: str | None) -> str:
    """A vocabulary value in Chinese ("—" when empty)."""
    return "—" if value is None else label(vocabulary, value)
