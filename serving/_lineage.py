"""Lineage and recomputation: which scores a corrected or expired record influenced, and
the current ones taken again the same day with the reason on each row and in the audit log.

A record influenced the scores of its own disputes (the disputes it belongs to, or whose
parties it is about) and of the disputes with a party within two links of those people in
the people graph (ties and shared disputes), whose graph features (exposure, neighbours,
components) it may have entered; only scores taken at or after the moment the record was
known from count. :func:`recompute` scores again every such dispute that is open now and
has a stored score, and stores the new scores with the reason.

Used by ``riskwarn records correct|expire`` and by the admin API (``POST
/v1/records/correct``), both through :func:`correct_and_recompute`.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from riskwarn import Dataset
from riskwarn.serving import _rights
from riskwarn.serving._scorer import Scorer, Target
from riskwarn.serving._store import Store
from riskwarn.training import RiskModel

HOPS = 2
"""How far a record reaches through the people graph: the graph features look two links
out (``ego_incidents_2hop_*``)."""

KNOWN_FROM = {
    "disputes": "reported_at",
    "dispute_events": "at",
    "petitions": "filed_at",
    "incidents": "occurred_at",
    "person_flags": "start_date",
    "relationships": "since",
    "interventions": "at",
}
"""The column a row is known from (point in time); rows of other tables are known always."""


@dataclass(frozen=True)
class Lineage:
    """The scores one record influenced: its own disputes, those within two links, and the
    stored scores of both taken at or after the record was known."""

    table: str
    key: str
    own: frozenset[str]
    nearby: frozenset[str]
    scores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def disputes(self) -> frozenset[str]:
        return self.own | self.nearby

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "own_disputes": sorted(self.own),
            "nearby_disputes": sorted(self.nearby),
            "scores": [
                {
                    "dispute_id": s["dispute_id"],
                    "as_of": s["as_of"].isoformat(),
                    "risk": s["risk"],
                    "tier": s["tier"],
                    "model_version": s["model_version"],
                    "own": s["dispute_id"] in self.own,
                }
                for s in self.scores
            ],
        }


def known_from(table: str, rows: Iterable[Mapping[str, Any]]) -> dt.datetime | None:
    """The earliest moment any of ``rows`` was known (None: always)."""
    column = KNOWN_FROM.get(table)
    stamps = [pd.Timestamp(r[column]) for r in rows if column and r.get(column) is not None]
    return min(stamps).to_pydatetime() if stamps else None


def lineage(
    store: Store, dataset: Dataset, table: str, key: str, rows: list[Mapping[str, Any]]
) -> Lineage:
    """What ``rows`` of ``table`` (a record's versions: old and new for a correction; or
    the rows that expired) influenced, read in ``dataset`` (a history holding them) and
    the store's score snapshots."""
    own, near = _rights.influenced_disputes([(table, r) for r in rows], dataset, HOPS)
    scores = store.snapshots_of(own | near, since=known_from(table, rows))
    return Lineage(table, key, frozenset(own), frozenset(near), scores)


def influenced_by(
    dataset: Dataset, expired: Mapping[str, pd.DataFrame]
) -> tuple[set[str], set[str]]:
    """(own, nearby) disputes of every row in ``expired`` (table -> rows), read in
    ``dataset``, the history that still held them."""
    records = [
        (name, row)
        for name, frame in expired.items()
        for row in frame.drop(columns=["expires_at"], errors="ignore").to_dict("records")
    ]
    return _rights.influenced_disputes(records, dataset, HOPS)


@dataclass(frozen=True)
class Recomputed:
    """What :func:`recompute` stored: one row per dispute, and how long it took."""

    rows: list[dict[str, Any]]
    seconds: float

    def changes(self, before: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Each recomputed dispute with its previous (``before``: latest score per dispute)
        and new risk and tier."""
        return [
            {
                "dispute_id": r["dispute_id"],
                "risk_before": before.get(r["dispute_id"], {}).get("risk"),
                "tier_before": before.get(r["dispute_id"], {}).get("tier"),
                "risk": r["risk"],
                "tier": r["tier"],
            }
            for r in self.rows
        ]


def current_disputes(
    store: Store, scorer: Scorer, disputes: Iterable[str], now: pd.Timestamp
) -> list[str]:
    """Of ``disputes``, those open at ``now`` (in ``scorer``'s history) that have a stored
    score: the current scores."""
    scored = {s["dispute_id"] for s in store.snapshots_of(disputes)}
    return sorted(scored & set(scorer.builder_.open_disputes(now)))


def recompute(
    store: Store,
    scorer: Scorer,
    disputes: Iterable[str],
    *,
    now: pd.Timestamp,
    reason: str,
    by: str,
    request_id: str,
) -> Recomputed:
    """Score ``disputes`` (open now, with a current score) again at ``now`` with ``scorer``
    (over the history as it is now) and store the scores with ``reason``."""
    began = time.perf_counter()
    as_of = pd.Timestamp(now).floor("s")
    ids = current_disputes(store, scorer, disputes, as_of)
    targets = [Target(d, as_of, "dispute_id") for d in ids]
    rows: list[dict[str, Any]] = []
    version = str(scorer.model.version)
    if targets:
        scores = scorer.score(targets, top_k=3)
        rows = [
            {
                "dispute_id": t.dispute_id,
                "as_of": as_of.to_pydatetime(),
                "model_version": version,
                "risk": float(scores.risk[i]),
                "tier": str(scores.tier[i]),
                "reasons": [r.to_dict() for r in scores.reasons[i]],
            }
            for i, t in enumerate(targets)
        ]
        store.add_recomputed(rows, reason=reason, by=by, request_id=request_id)
    return Recomputed(rows, time.perf_counter() - began)


def correction_reason(version: int, table: str, key: str) -> str:
    """What a recomputed score says: which correction (structured, no free text)."""
    return f"recomputed after correction #{version} of {table} {key}"


_CORRECTION_REASON = re.compile(r"recomputed after correction #(\d+) of (\S+) (.*)", re.DOTALL)


def correction_of(reason: str | None) -> tuple[int, str, str] | None:
    """(version, table, key) of the correction a :func:`correction_reason` names; None for
    another reason (an expiry's)."""
    found = _CORRECTION_REASON.fullmatch(reason or "")
    return (int(found[1]), found[2], found[3]) if found else None


EXPIRY_REASON = "recomputed after records expired under the retention policy"


@dataclass(frozen=True)
class Corrected:
    """A correction, the scores its record influenced, and those recomputed."""

    correction: dict[str, Any]
    lineage: Lineage
    recomputed: Recomputed | None
    scorer: Scorer | None
    """A scorer over the corrected history (None without a model)."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of each step: correct, history, lineage, scorer, recompute."""


def correct_and_recompute(
    store: Store,
    table: str,
    key: str,
    changes: Mapping[str, str],
    *,
    reason: str,
    by: str,
    request_id: str,
    model: RiskModel | None,
    now: pd.Timestamp,
    history: Dataset | None = None,
) -> Corrected:
    """Correct one record (:meth:`Store.correct`), list the scores its old and new rows
    influenced, and, given a ``model``, score the current ones again over the corrected
    history (the returned scorer holds it). ``history``: the history before the correction
    as a worker holds it, corrected in memory instead of read from the store again."""
    clock = _Stopwatch()
    done = store.correct(table, key, changes, reason=reason, by=by, request_id=request_id)
    clock.lap("correct")
    if history is None:
        dataset = store.read_dataset()
    else:
        dataset = _rights.replaced(history, table, done["old"], done["new"])
    clock.lap("history")
    found = lineage(store, dataset, table, key, [done["old"], done["new"]])
    clock.lap("lineage")
    if model is None:
        return Corrected(done, found, None, None, clock.laps)
    fresh = Scorer(model, dataset)
    clock.lap("scorer")
    again = recompute(
        store,
        fresh,
        found.disputes,
        now=now,
        reason=correction_reason(done["version"], table, key),
        by=by,
        request_id=request_id,
    )
    clock.lap("recompute")
    return Corrected(done, found, again, fresh, clock.laps)


class _Stopwatch:
    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.last = now


# the admin API's request and answer ----------------------------------------------------

_STRICT = ConfigDict(extra="forbid")


class CorrectionRequest(BaseModel):
    """One record to correct: its table and key, the columns to set, and why."""

    model_config = _STRICT

    table: str = Field(..., description="Contract table, e.g. persons or person_flags.")
    key: str = Field(
        ...,
        description="The record key: its id, or its natural key joined by | "
        "(person_flags: person_id|flag|start_date). The person report lists them.",
        max_length=1024,
    )
    set: dict[str, str] = Field(
        ..., description="Column -> new value, as a CSV cell would hold it ('' for empty)."
    )
    reason: str = Field(..., description="Why (kept with the superseded record).", min_length=1)


class RecomputedScore(BaseModel):
    dispute_id: str
    risk_before: float | None
    tier_before: str | None
    risk: float
    tier: str


class CorrectionResponse(BaseModel):
    """The correction made, the scores its record influenced, those recomputed."""

    request_id: str
    version: int = Field(..., description="The correction's number in record_versions.")
    supersedes: int | None = Field(None, description="The correction it corrects, if any.")
    key: str
    new_key: str
    columns: list[str] = Field(..., description="Columns changed.")
    own_disputes: list[str]
    nearby_disputes: list[str]
    influenced_scores: int = Field(..., description="Stored scores the record influenced.")
    recomputed: list[RecomputedScore]


def correct_on_service(
    service: Any, request: CorrectionRequest, by: str, request_id: str
) -> CorrectionResponse:
    """A correction through a running service: the store's, then the worker's history and
    scorer replaced by the corrected ones (as ingest replaces them)."""
    from riskwarn.clock import get_clock
    from riskwarn.serving._service import Served

    service._single_worker("POST /v1/records/correct")
    service.refresh_records()  # correct the history as the store holds it now
    before = {s["dispute_id"]: s for s in service.store.latest_snapshots()}
    done = correct_and_recompute(
        service.store,
        request.table,
        request.key,
        request.set,
        reason=request.reason,
        by=by,
        request_id=request_id,
        model=service.served.scorer.model,
        now=pd.Timestamp(get_clock().local_now()),
        history=service.served.scorer.dataset,
    )
    assert done.scorer is not None and done.recomputed is not None
    service.took_correction(Served.of(done.scorer), done.correction["version"])
    c = done.correction
    return CorrectionResponse(
        request_id=request_id,
        version=c["version"],
        supersedes=c["supersedes"],
        key=c["key"],
        new_key=c["new_key"],
        columns=c["columns"],
        own_disputes=sorted(done.lineage.own),
        nearby_disputes=sorted(done.lineage.nearby),
        influenced_scores=len(done.lineage.scores),
        recomputed=[RecomputedScore(**x) for x in done.recomputed.changes(before)],
    )
