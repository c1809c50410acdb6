"""The queue: open disputes of the latest snapshot, ranked by risk, filtered and paged in SQL.

A query the store owns (:meth:`riskwarn.serving.Store.queue` runs it); the pages pass a
:class:`QueueFilter` and get a :class:`QueuePage` of plain values back.

The latest snapshot run (the newest ``as_of`` in ``score_snapshots``) is the list of
disputes open at that moment, each with its model tier. A supervisor's raise lifts the
tier shown (and filtered on) above the model's, never below it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from riskwarn.serving._schema import HISTORY, actions, score_snapshots
from riskwarn.vocab import TIER_ORDER, tier_rank

PER_PAGE = 50
MAX_QUERY = 128


@dataclass(frozen=True)
class QueueFilter:
    """What the supervisor asked for; empty strings mean no filter."""

    tier: str = ""
    township: str = ""
    grid: str = ""
    category: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Any) -> QueueFilter:
        """From query parameters; unknown tiers and bad pages fall back to no filter / page 1."""

        def text(name: str) -> str:
            return str(params.get(name) or "").strip()[:MAX_QUERY]

        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        tier = text("tier")
        return cls(
            tier=tier if tier in TIER_ORDER else "",
            township=text("township"),
            grid=text("grid"),
            category=text("category"),
            q=text("q"),
            page=page,
        )

    def params(self, **change: object) -> dict[str, str]:
        """Non-empty parameters, with ``change`` applied (for links to other pages)."""
        values = {
            "tier": self.tier,
            "township": self.township,
            "grid": self.grid,
            "category": self.category,
            "q": self.q,
            "page": str(self.page),
            **{k: str(v) for k, v in change.items()},
        }
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    per_page: int
    as_of: dt.datetime | None
    tier_counts: dict[str, int] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)


def _tier_case(column: Any) -> Any:
    return sa.case({t: i for i, t in enumerate(TIER_ORDER)}, value=column, else_=-1)


def latest_as_of(conn: sa.Connection) -> dt.datetime | None:
    return conn.execute(sa.select(sa.func.max(score_snapshots.c.as_of))).scalar()


def _current(as_of: dt.datetime) -> sa.Subquery:
    """One row per dispute in the latest run: risk, tiers, place and category.

    Only the run's own rows are read (through the ``as_of`` index); the change since the
    previous snapshot is looked up for the shown page alone (:func:`_previous`).
    """
    s = score_snapshots
    newest = (
        sa.select(sa.func.max(s.c.id).label("id"))
        .where(s.c.as_of == as_of)
        .group_by(s.c.dispute_id)
        .subquery("newest")
    )
    raised = (
        sa.select(actions.c.dispute_id, sa.func.max(_tier_case(actions.c.tier)).label("raised"))
        .where(actions.c.kind == "raise_tier")
        .group_by(actions.c.dispute_id)
        .subquery("raised")
    )
    disputes, grids = HISTORY["disputes"], HISTORY["grids"]
    model_rank = _tier_case(s.c.tier)
    raised_rank = sa.func.coalesce(raised.c.raised, -1)
    effective = sa.case((raised_rank > model_rank, raised_rank), else_=model_rank)
    return (
        sa.select(
            s.c.dispute_id,
            s.c.as_of,
            s.c.risk,
            s.c.tier.label("model_tier"),
            s.c.model_version,
            effective.label("tier_rank"),
            disputes.c.reported_at,
            disputes.c.grid_id,
            disputes.c.category,
            grids.c.township,
        )
        .select_from(newest)
        .join(s, s.c.id == newest.c.id)
        .outerjoin(raised, raised.c.dispute_id == s.c.dispute_id)
        .outerjoin(disputes, disputes.c.dispute_id == s.c.dispute_id)
        .outerjoin(grids, grids.c.grid_id == disputes.c.grid_id)
        .subquery("queue")
    )


def _previous(conn: sa.Connection, ids: list[str], as_of: dt.datetime) -> dict[str, float]:
    """Per dispute, the risk of its snapshot before ``as_of`` (the newest such one)."""
    s = score_snapshots
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(s.c.dispute_id, s.c.risk)
        .where(s.c.dispute_id.in_(ids), s.c.as_of < as_of)
        .order_by(s.c.as_of, s.c.id)
    )
    return {d: r for d, r in rows}  # the newest wins


def _where(q: sa.Subquery, f: QueueFilter) -> list[Any]:
    conds: list[Any] = []
    if f.tier:
        conds.append(q.c.tier_rank == tier_rank(f.tier))
    if f.township:
        conds.append(q.c.township == f.township)
    if f.grid:
        conds.append(q.c.grid_id == f.grid)
    if f.category:
        conds.append(q.c.category == f.category)
    if f.q:
        escaped = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(q.c.dispute_id.ilike(f"%{escaped}%", escape="\\"))
    return conds


def _latest_actions(conn: sa.Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per dispute: the current assignee, the last acknowledgement, the number of notes
    and the latest one."""
    out: dict[str, dict[str, Any]] = {
        d: {"assignee": None, "ack": None, "notes": 0, "last_note": None} for d in ids
    }
    if not ids:
        return out
    rows = conn.execute(
        sa.select(actions).where(actions.c.dispute_id.in_(ids)).order_by(actions.c.at, actions.c.id)
    ).mappings()
    for r in rows:
        entry = out[r["dispute_id"]]
        if r["kind"] == "assign":
            entry["assignee"] = r["assignee"]
        elif r["kind"] == "acknowledge":
            entry["ack"] = {"at": r["at"], "by": r["key_name"]}
        elif r["kind"] == "note":
            entry["notes"] += 1
            entry["last_note"] = {"at": r["at"], "by": r["key_name"], "note": r["note"]}
    return out


def days_open(reported_at: dt.datetime | None, as_of: dt.datetime) -> int | None:
    if reported_at is None:
        return None
    return max(0, (as_of - reported_at).days)


def queue_page(conn: sa.Connection, f: QueueFilter, per_page: int = PER_PAGE) -> QueuePage:
    """One page of the queue under filter ``f``, with tier counts and filter options."""
    as_of = latest_as_of(conn)
    if as_of is None:
        return QueuePage([], 0, 1, 1, per_page, None)
    q = _current(as_of)
    conds = _where(q, f)
    total = conn.execute(sa.select(sa.func.count()).select_from(q).where(*conds)).scalar()
    total = int(total or 0)
    pages = max(1, math.ceil(total / per_page))
    page = min(f.page, pages)
    rows = [
        dict(r)
        for r in conn.execute(
            sa.select(q)
            .where(*conds)
            .order_by(q.c.risk.desc(), q.c.dispute_id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).mappings()
    ]
    acted = _latest_actions(conn, [r["dispute_id"] for r in rows])
    previous = _previous(conn, [r["dispute_id"] for r in rows], as_of)
    counts = dict(
        conn.execute(sa.select(q.c.tier_rank, sa.func.count()).group_by(q.c.tier_rank)).all()
    )
    options = {
        name: sorted(
            str(v) for v in conn.execute(sa.select(q.c[name]).distinct()).scalars() if v is not None
        )
        for name in ("township", "grid_id", "category")
    }
    start = (page - 1) * per_page
    for i, r in enumerate(rows):
        r["position"] = start + i + 1
        r["tier"] = TIER_ORDER[r["tier_rank"]] if 0 <= r["tier_rank"] < 4 else r["model_tier"]
        r["raised"] = r["tier"] != r["model_tier"]
        r["previous_risk"] = previous.get(r["dispute_id"])
        r["change"] = None if r["previous_risk"] is None else r["risk"] - r["previous_risk"]
        r["days_open"] = days_open(r["reported_at"], as_of)
        r.update(acted[r["dispute_id"]])
    return QueuePage(
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        as_of=as_of,
        tier_counts={t: int(counts.get(i, 0)) for i, t in enumerate(TIER_ORDER)},
        options=options,
    )
