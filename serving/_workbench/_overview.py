"""The county at a glance: where the warnings are, how they move, what nobody has seen yet.

Pure functions over the store's rows (:meth:`Store.latest_cases`, :meth:`Store.tier_history`)
and the history's grids and persons; the overview page, its Excel export and the monthly
briefing read the same values from here.

Small numbers are suppressed: a cell of 1 to 4 cases reads "<5" (and its rate is not
shown), so a table handed upward never points at a handful of households.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskwarn import Dataset
from riskwarn.vocab import TIERS

SMALL = 5
"""Counts below this (and above 0) are shown as "<5"."""
OVERDUE_HOURS = (24, 72)
"""Red and orange cases not acknowledged this long after the warning are counted."""
WARNED = ("red", "orange")
RUNS = 12
TOP_CATEGORIES = 8
HOT_GRIDS = 20
HEAT_STEPS = 5


def shown(n: int) -> str:
    """A count as a table shows it: "0", "<5", or the number."""
    return "<5" if 0 < n < SMALL else str(n)


def heat(value: float, top: float, count: int | None = None) -> int:
    """A colour step 0..HEAT_STEPS for ``value`` against the table's largest ``top``; a
    suppressed ``count`` (1 to 4) gets the lightest step, so its colour tells no more than
    its "<5"."""
    if value <= 0 or top <= 0:
        return 0
    if count is not None and 0 < count < SMALL:
        return 1
    return max(1, min(HEAT_STEPS, round(HEAT_STEPS * value / top)))


def residents(ds: Dataset) -> dict[str, int]:
    """Residents per grid: ``grids.population`` where given, else people living there."""
    counted = ds.persons["grid_id"].astype(str).value_counts().to_dict()
    out: dict[str, int] = {}
    for grid, pop in zip(ds.grids["grid_id"].astype(str), ds.grids["population"], strict=True):
        out[grid] = int(pop) if pd.notna(pop) else int(counted.get(grid, 0))
    return out


def townships_of(ds: Dataset) -> dict[str, str]:
    """Grid id -> township name (grids without one are "—")."""
    return {
        str(g): (str(t) if pd.notna(t) else "—")
        for g, t in zip(ds.grids["grid_id"], ds.grids["township"], strict=True)
    }


@dataclass
class AreaRow:
    """One township or grid of the heat table."""

    name: str
    township: str
    grid: str | None
    counts: dict[str, int]
    total: int
    residents: int
    heat: dict[str, int] = field(default_factory=dict)

    @property
    def warned(self) -> int:
        return sum(self.counts[t] for t in WARNED)

    @property
    def rate(self) -> float | None:
        """Cases per 1,000 residents; None when suppressed or no residents are known."""
        if self.total < SMALL or self.residents <= 0:
            return None
        return 1000 * self.total / self.residents

    def cells(self) -> dict[str, str]:
        return {t: shown(self.counts[t]) for t in TIERS} | {"total": shown(self.total)}


def area_rows(
    cases: Iterable[Mapping[str, Any]],
    ds: Dataset,
    by: str,
    township: str | None = None,
) -> list[AreaRow]:
    """Tier counts per township (``by="township"``) or grid (``by="grid"``), heat steps
    by count (per tier column) and by rate (``heat["rate"]``); riskiest first."""
    people = residents(ds)
    town_of = townships_of(ds)
    rows: dict[str, AreaRow] = {}
    if by == "township":
        for grid, town in town_of.items():
            if township and town != township:
                continue
            row = rows.setdefault(town, AreaRow(town, town, None, dict.fromkeys(TIERS, 0), 0, 0))
            row.residents += people.get(grid, 0)
    for c in cases:
        grid = str(c.get("grid_id") or "")
        town = town_of.get(grid, str(c.get("township") or "—"))
        if township and town != township:
            continue
        key = town if by == "township" else grid
        if key not in rows:
            rows[key] = AreaRow(
                key,
                town,
                None if by == "township" else grid,
                dict.fromkeys(TIERS, 0),
                0,
                0 if by == "township" else people.get(grid, 0),
            )
        row = rows[key]
        row.counts[str(c["tier"])] = row.counts.get(str(c["tier"]), 0) + 1
        row.total += 1
    ordered = sorted(
        rows.values(),
        key=lambda r: (-r.counts["red"], -r.counts["orange"], -r.total, r.name),
    )
    tops = {t: max((r.counts[t] for r in ordered), default=0) for t in TIERS}
    top_rate = max((r.rate or 0.0 for r in ordered), default=0.0)
    for r in ordered:
        r.heat = {t: heat(r.counts[t], tops[t], r.counts[t]) for t in TIERS}
        r.heat["rate"] = heat(r.rate or 0.0, top_rate)
    return ordered


def tier_trend(history: Sequence[Mapping[str, Any]], cases_in: set[str] | None = None) -> list:
    """``[(as_of, {tier: count})]`` for each snapshot run, oldest first; only the cases in
    ``cases_in`` when given (a township's)."""
    runs: dict[dt.datetime, Counter] = {}
    for h in history:
        if cases_in is not None and h["dispute_id"] not in cases_in:
            continue
        runs.setdefault(h["as_of"], Counter())[str(h["tier"])] += 1
    return [(at, {t: runs[at].get(t, 0) for t in TIERS}) for at in sorted(runs)]


def warned_at(history: Sequence[Mapping[str, Any]]) -> dict[str, dt.datetime]:
    """When each case was first pushed as red or orange: the time its first such snapshot
    was stored (UTC)."""
    out: dict[str, dt.datetime] = {}
    for h in history:
        if str(h["tier"]) in WARNED and h.get("scored_at") is not None:
            d = h["dispute_id"]
            out[d] = min(out.get(d, h["scored_at"]), h["scored_at"])
    return out


def overdue(
    cases: Iterable[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]],
    now: dt.datetime,
) -> dict[str, dict[int, int]]:
    """Red and orange cases not acknowledged within each of :data:`OVERDUE_HOURS` of
    their warning: ``{tier: {hours: count}}``. A case acknowledged late counts as overdue
    only while it was not yet acknowledged, so a late acknowledgement clears it."""
    first = warned_at(history)
    out = {t: dict.fromkeys(OVERDUE_HOURS, 0) for t in WARNED}
    for c in cases:
        tier = str(c["tier"])
        if tier not in WARNED or c.get("acknowledged_at") is not None:
            continue
        since = first.get(c["dispute_id"])
        if since is None:
            continue
        waited = (now - since).total_seconds() / 3600
        for hours in OVERDUE_HOURS:
            if waited >= hours:
                out[tier][hours] += 1
    return out


def top_categories(cases: Iterable[Mapping[str, Any]], n: int = TOP_CATEGORIES) -> list[dict]:
    """The commonest categories among the cases, with how many are red or orange."""
    total: Counter = Counter()
    warned: Counter = Counter()
    for c in cases:
        cat = str(c.get("category") or "other")
        total[cat] += 1
        warned[cat] += str(c["tier"]) in WARNED
    return [
        {
            "category": cat,
            "total": k,
            "warned": warned[cat],
            "shown": shown(k),
            "warned_shown": shown(warned[cat]),
        }
        for cat, k in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    ]


def overview(
    cases: list[dict[str, Any]],
    history: list[dict[str, Any]],
    ds: Dataset,
    township: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Everything the overview page, its export and the briefing show, for the county or
    one township."""
    town_of = townships_of(ds)
    mine = [
        c
        for c in cases
        if not township or town_of.get(str(c.get("grid_id")), c.get("township")) == township
    ]
    if township:
        d = ds.disputes
        place = dict(zip(d["dispute_id"].astype(str), d["grid_id"].astype(str), strict=True))
        ids = {
            h["dispute_id"]
            for h in history
            if town_of.get(place.get(h["dispute_id"], "")) == township
        }
    grids = area_rows(mine, ds, "grid", township)
    return {
        "as_of": max((c["as_of"] for c in cases), default=None),
        "township": township or "",
        "townships": sorted(set(town_of.values())),
        "total": len(mine),
        "counts": {t: sum(1 for c in mine if c["tier"] == t) for t in TIERS},
        "by_township": area_rows(mine, ds, "township", township),
        "by_grid": grids if township else grids[:HOT_GRIDS],
        "grids_total": len(grids),
        "trend": tier_trend(history, ids if township else None),
        "overdue": overdue(mine, history, now),
        "categories": top_categories(mine),
    }
