"""What a case page shows about a dispute, read from the history as known at ``as_of``.

Pure functions over a :class:`riskwarn.Dataset`. About people they return pseudonymous
ids, roles, an age band, gender and special-population flags, nothing else. The dispute's
summary and its event notes are shown to the supervisors who work the case (signed in,
every view audited): they are what happened, and a page without them hides the story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskwarn import Dataset

RECENT_INCIDENT_DAYS = 180
MAX_NETWORK_NODES = 40


def _ts(value: Any) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def dispute_facts(ds: Dataset, dispute_id: str) -> dict[str, Any] | None:
    """The dispute's registration facts with its township and county, or None if unknown."""
    rows = ds.disputes.loc[ds.disputes["dispute_id"] == dispute_id]
    if rows.empty:
        return None
    d = rows.iloc[0]
    grid = ds.grids.loc[ds.grids["grid_id"] == d["grid_id"]]
    amount = d["amount_involved"]
    return {
        "dispute_id": dispute_id,
        "reported_at": pd.Timestamp(d["reported_at"]),
        "grid_id": str(d["grid_id"]),
        "township": None
        if grid.empty or pd.isna(grid.iloc[0]["township"])
        else grid.iloc[0]["township"],
        "county": None if grid.empty or pd.isna(grid.iloc[0]["county"]) else grid.iloc[0]["county"],
        "category": str(d["category"]),
        "source": str(d["source"]),
        "threat": bool(d["threat_reported"]),
        "violence": bool(d["violence_reported"]),
        "weapon": bool(d["weapon_mentioned"]),
        "amount": None if pd.isna(amount) else float(amount),
        "summary": None if pd.isna(d.get("summary")) else str(d.get("summary")),
    }


def status(ds: Dataset, dispute_id: str, as_of: pd.Timestamp) -> dict[str, Any]:
    """Open or closed at ``as_of``, and since when: the latest closing or reopening event
    (else the registration)."""
    ev = ds.dispute_events
    ev = ev.loc[
        (ev["dispute_id"] == dispute_id)
        & (ev["at"] <= as_of)
        & ev["kind"].isin(["closed", "reopened"])
    ].sort_values("at", kind="stable")
    if ev.empty:
        facts = dispute_facts(ds, dispute_id)
        return {"closed": False, "since": facts["reported_at"] if facts else None}
    last = ev.iloc[-1]
    return {"closed": last["kind"] == "closed", "since": pd.Timestamp(last["at"])}


def parties(ds: Dataset, dispute_id: str) -> list[tuple[str, str]]:
    """``(person_id, role)`` of the dispute's parties, claimants first."""
    rows = ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == dispute_id]
    order = {"claimant": 0, "respondent": 1}
    pairs = [(str(p), str(r)) for p, r in zip(rows["person_id"], rows["role"], strict=True)]
    return sorted(pairs, key=lambda pr: (order.get(pr[1], 2), pr[0]))


def age_band(birth_year: Any, as_of: pd.Timestamp) -> str | None:
    """A ten-year band ("30–39"), "<18" or "70+"; None when the birth year is unknown."""
    if birth_year is None or pd.isna(birth_year):
        return None
    age = as_of.year - int(birth_year)
    if age < 18:
        return "<18"
    if age >= 70:
        return "70+"
    if age < 20:
        return "18–19"
    low = age // 10 * 10
    return f"{low}–{low + 9}"


def active_flags(ds: Dataset, person_ids: list[str], as_of: pd.Timestamp) -> dict[str, list[dict]]:
    """Special-population flags known at ``as_of`` and not yet ended, per person."""
    f = ds.person_flags
    day = as_of.normalize()
    rows = f.loc[
        f["person_id"].isin(person_ids)
        & (f["start_date"] <= as_of)
        & (f["end_date"].isna() | (f["end_date"] >= day))
    ]
    out: dict[str, list[dict]] = {p: [] for p in person_ids}
    for r in rows.itertuples(index=False):
        level = None if pd.isna(r.level) else int(r.level)
        out[str(r.person_id)].append({"flag": str(r.flag), "level": level})
    return out


def people(ds: Dataset, dispute_id: str, as_of: pd.Timestamp) -> list[dict[str, Any]]:
    """The parties: pseudonymous id, role, age band, gender and active flags."""
    pairs = parties(ds, dispute_id)
    ids = [p for p, _ in pairs]
    persons = ds.persons.set_index("person_id")
    flags = active_flags(ds, ids, as_of)
    out = []
    for pid, role in pairs:
        known = pid in persons.index
        row = persons.loc[pid] if known else None
        out.append(
            {
                "person_id": pid,
                "role": role,
                "age_band": age_band(row["birth_year"], as_of) if known else None,
                "gender": str(row["gender"]) if known else "unknown",
                "flags": flags[pid],
            }
        )
    return out


def recent_incident_people(ds: Dataset, as_of: pd.Timestamp, days: int) -> set[str]:
    """People in an incident within ``days`` before ``as_of`` (inclusive of as_of)."""
    inc = ds.incidents
    window = inc.loc[
        (inc["occurred_at"] <= as_of) & (inc["occurred_at"] > as_of - pd.Timedelta(days=days))
    ]
    ip = ds.incident_persons
    return set(ip.loc[ip["incident_id"].isin(window["incident_id"]), "person_id"].astype(str))


def timeline(ds: Dataset, dispute_id: str, as_of: pd.Timestamp) -> list[dict[str, Any]]:
    """Registration, events, petitions and incidents of the case and its parties up to ``as_of``.

    Each entry: ``at``, ``kind`` (registration, event, petition, incident), ``what`` (the
    enum value), and ``who`` (a party's id for petitions and incidents of a party).
    """
    facts = dispute_facts(ds, dispute_id)
    if facts is None:
        return []
    ids = [p for p, _ in parties(ds, dispute_id)]
    out: list[dict[str, Any]] = [
        {"at": facts["reported_at"], "kind": "registration", "what": facts["source"], "who": None}
    ]
    ev = ds.dispute_events
    ev = ev.loc[(ev["dispute_id"] == dispute_id) & (ev["at"] <= as_of)]
    notes = ev["note"] if "note" in ev.columns else pd.Series([None] * len(ev), index=ev.index)
    out += [
        {
            "at": pd.Timestamp(at),
            "kind": "event",
            "what": str(kind),
            "who": None,
            "note": None if pd.isna(note) else str(note),
        }
        for at, kind, note in zip(ev["at"], ev["kind"], notes, strict=True)
    ]
    pt = ds.petitions
    pt = pt.loc[
        ((pt["dispute_id"] == dispute_id) | pt["person_id"].isin(ids)) & (pt["filed_at"] <= as_of)
    ]
    out += [
        {
            "at": pd.Timestamp(r.filed_at),
            "kind": "petition",
            "what": str(r.level),
            "channel": str(r.channel),
            "repeat": bool(r.repeat),
            "collective": bool(r.collective),
            "who": str(r.person_id),
            "this_case": r.dispute_id == dispute_id,
        }
        for r in pt.itertuples(index=False)
    ]
    ip = ds.incident_persons
    inc = ds.incidents
    mine = set(ip.loc[ip["person_id"].isin(ids), "incident_id"])
    inc = inc.loc[
        (inc["incident_id"].isin(mine) | (inc["dispute_id"] == dispute_id))
        & (inc["occurred_at"] <= as_of)
    ]
    for r in inc.itertuples(index=False):
        who = sorted(
            set(ip.loc[ip["incident_id"] == r.incident_id, "person_id"].astype(str)) & set(ids)
        )
        out.append(
            {
                "at": pd.Timestamp(r.occurred_at),
                "kind": "incident",
                "what": str(r.kind),
                "who": ", ".join(who) or None,
            }
        )
    order = {"registration": 0, "event": 1, "petition": 2, "incident": 3}
    return sorted(out, key=lambda e: (e["at"], order[e["kind"]]))


FOLD_AFTER = 20
"""The timeline shows the latest 20 entries open; older ones fold away, by month."""


def by_month(entries: list[dict[str, Any]], shown: int = FOLD_AFTER) -> dict[str, list]:
    """The timeline newest first, grouped by month: ``{"open": [(month, entries)],
    "folded": [(month, entries)], "folded_count": n}``; the latest ``shown`` entries open."""
    newest = list(reversed(entries))

    def months(part: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
        out: list[tuple[str, list[dict[str, Any]]]] = []
        for e in part:
            key = f"{e['at']:%Y-%m}"
            if not out or out[-1][0] != key:
                out.append((key, []))
            out[-1][1].append(e)
        return out

    return {
        "open": months(newest[:shown]),
        "folded": months(newest[shown:]),
        "folded_count": max(0, len(newest) - shown),
    }


@dataclass
class Network:
    """The ego network of a dispute's parties as known at ``as_of``."""

    nodes: list[dict[str, Any]] = field(default_factory=list)  # person_id, party, incident, flagged
    edges: list[dict[str, Any]] = field(default_factory=list)  # a, b, kinds
    hidden: int = 0  # neighbours left out to keep the drawing readable


def ego_network(
    ds: Dataset,
    dispute_id: str,
    as_of: pd.Timestamp,
    max_nodes: int = MAX_NETWORK_NODES,
    recent_days: int = RECENT_INCIDENT_DAYS,
) -> Network:
    """Parties, their direct ties active at ``as_of``, and who had a recent incident."""
    party_ids = [p for p, _ in parties(ds, dispute_id)]
    rel = ds.relationships
    live = rel.loc[
        (rel["since"].isna() | (rel["since"] <= as_of))
        & (rel["until"].isna() | (rel["until"] > as_of))
    ]
    touching = live.loc[live["person_a"].isin(party_ids) | live["person_b"].isin(party_ids)]
    recent = recent_incident_people(ds, as_of, recent_days)
    neighbours: dict[str, int] = {}
    for a, b in zip(
        touching["person_a"].astype(str), touching["person_b"].astype(str), strict=True
    ):
        for p in (a, b):
            if p not in party_ids:
                neighbours[p] = neighbours.get(p, 0) + 1
    # Keep people with recent incidents first, then the most connected, then by id.
    ranked = sorted(neighbours, key=lambda p: (p not in recent, -neighbours[p], p))
    room = max(0, max_nodes - len(party_ids))
    kept = party_ids + ranked[:room]
    keep = set(kept)
    inner = live.loc[live["person_a"].isin(keep) & live["person_b"].isin(keep)]
    kinds: dict[tuple[str, str], list[str]] = {}
    for a, b, k in zip(
        inner["person_a"].astype(str),
        inner["person_b"].astype(str),
        inner["kind"].astype(str),
        strict=True,
    ):
        pair = (a, b) if a < b else (b, a)
        if k not in kinds.setdefault(pair, []):
            kinds[pair].append(k)
    flags = active_flags(ds, kept, as_of)
    flagged = {p for p, found in flags.items() if found}
    nodes = [
        {"person_id": p, "party": p in party_ids, "incident": p in recent, "flagged": p in flagged}
        for p in kept
    ]
    edges = [{"a": a, "b": b, "kinds": sorted(k)} for (a, b), k in sorted(kinds.items())]
    return Network(nodes=nodes, edges=edges, hidden=max(0, len(ranked) - room))
