"""The one implementation of every feature, for one case at one moment.

A :class:`Case` is a dispute as the feature functions see it, whether the dataset holds it
(:meth:`Case.held`) or a caller describes it (the scoring service's new cases). Each group
function returns ``{name: value}`` for its group of the registry; the builder, the
single-case path and the new-case path all call these same functions. The graph and area
groups take the cases of one graph day together (:func:`day_values`, one array per name;
a single case is a batch of one), since their work is gathers over the day's graphs.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwarn._contract import (
    CATEGORIES,
    EVENT_KINDS,
    FLAGS,
    INCIDENT_KINDS,
    PARTY_ROLES,
    SOURCES,
    TIE_KINDS,
)

from ._area import AreaDay
from ._graph import GraphDay, gather, in_sorted, spans, unique
from ._index import NS_DAY, Index
from ._specs import ALARM_KINDS, BOUNDED_DAYS, EXPOSURE_WINDOWS, GRAPH_PREFIXES, HOPS_CAP

NAN = math.nan
_ALARM = frozenset(EVENT_KINDS.index(k) for k in ALARM_KINDS)
_SUCCESS = EVENT_KINDS.index("mediation_success")
_FAILURE = EVENT_KINDS.index("mediation_failure")
_MALE, _FEMALE = 0, 1
_PERPETRATOR, _VICTIM = 0, 1
_SELF_HARM = INCIDENT_KINDS.index("self_harm")
_BOUNDED = f"{BOUNDED_DAYS}d"  # the name tag of the bounded alternatives to "ever" counts


@dataclass(frozen=True)
class Party:
    """One distinct person among a case's parties."""

    person_id: str
    node: int  # position in the index, -1 for a person the dataset does not hold
    roles: frozenset[int]
    birth_year: float
    gender: int
    household: object
    grid: int = -1  # residence grid of a new person (held people's is in the index)


@dataclass(frozen=True)
class Case:
    """A dispute as the feature functions see it."""

    held: int  # position in the index, -1 when the dataset does not hold it
    reported: int
    grid: int
    category: int
    source: int
    threat: bool
    violence: bool
    weapon: bool
    amount: float
    parties: tuple[Party, ...]  # sorted by person id
    event_time: list[int]  # sorted by (time, kind)
    event_kind: list[int]

    @classmethod
    def held_by(cls, index: Index, d: int) -> Case:
        people = index.parties.col("person", d)
        roles = index.parties.col("role", d)
        by_person: dict[int, set[int]] = {}
        for p, r in zip(people.tolist(), roles.tolist(), strict=True):
            by_person.setdefault(p, set()).add(r)
        parties = tuple(
            Party(
                person_id=str(index.person_ids[p]),
                node=p,
                roles=frozenset(rs),
                birth_year=float(index.birth_year[p]),
                gender=int(index.gender[p]),
                household=index.household[p],
            )
            for p, rs in sorted(by_person.items())
        )
        return cls(
            held=d,
            reported=int(index.reported[d]),
            grid=int(index.dispute_grid[d]),
            category=int(index.category[d]),
            source=int(index.source[d]),
            threat=bool(index.threat[d]),
            violence=bool(index.violence[d]),
            weapon=bool(index.weapon[d]),
            amount=float(index.amount[d]),
            parties=parties,
            event_time=index.events.col("time", d).tolist(),
            event_kind=index.events.col("kind", d).tolist(),
        )


def _days(t: int, then: int) -> float:
    return (t - then) / NS_DAY


# case -----------------------------------------------------------------------------------
def case_values(case: Case, t: int) -> dict[str, object]:
    roles = [p.roles for p in case.parties]
    claimant, respondent, other = (PARTY_ROLES.index(r) for r in PARTY_ROLES)
    amount = case.amount
    return {
        "case_category": CATEGORIES[case.category] if case.category >= 0 else None,
        "case_source": SOURCES[case.source] if case.source >= 0 else None,
        "case_threat_reported": case.threat,
        "case_violence_reported": case.violence,
        "case_weapon_mentioned": case.weapon,
        "case_amount_log": math.log1p(max(amount, 0.0)) if amount == amount else NAN,
        "case_age_days": _days(t, case.reported),
        "case_parties": len(case.parties),
        "case_claimants": sum(claimant in r for r in roles),
        "case_respondents": sum(respondent in r for r in roles),
        "case_other_parties": sum(other in r for r in roles),
    }


# case history ---------------------------------------------------------------------------
def history_values(case: Case, t: int) -> dict[str, object]:
    k = bisect.bisect_right(case.event_time, t)
    times, kinds = case.event_time[:k], case.event_kind[:k]
    n = len(EVENT_KINDS)
    ever, bounded, recent, last = [0] * n, [0] * n, [0] * n, [None] * n
    lo30, lo60, lo_b = t - 30 * NS_DAY, t - 60 * NS_DAY, t - BOUNDED_DAYS * NS_DAY
    all30 = prev30 = alarm30 = alarm_prev = 0
    last_alarm = None
    for time, kind in zip(times, kinds, strict=True):
        ever[kind] += 1
        bounded[kind] += time > lo_b
        last[kind] = time
        alarm = kind in _ALARM
        if alarm:
            last_alarm = time
        if time > lo30:
            recent[kind] += 1
            all30 += 1
            alarm30 += alarm
        elif time > lo60:
            prev30 += 1
            alarm_prev += alarm
    streak = 0
    for kind in reversed(kinds):
        if kind == _FAILURE:
            streak += 1
        elif kind == _SUCCESS:
            break
    out: dict[str, object] = {}
    for i, name in enumerate(EVENT_KINDS):
        out[f"events_{name}_ever"] = ever[i]
        out[f"events_{name}_{_BOUNDED}"] = bounded[i]
        out[f"events_{name}_30d"] = recent[i]
        out[f"events_{name}_days_since"] = _days(t, last[i]) if last[i] is not None else NAN
    out["events_all_30d"] = all30
    out["events_trend_30d"] = all30 - prev30
    out["events_alarm_30d"] = alarm30
    out["events_alarm_trend_30d"] = alarm30 - alarm_prev
    out["events_alarm_days_since"] = _days(t, last_alarm) if last_alarm is not None else NAN
    out["events_days_since"] = _days(t, times[-1]) if times else NAN
    out["events_mediation_failure_streak"] = streak
    return out


# petitions ------------------------------------------------------------------------------
_PET_COLS = ("time", "level", "repeat", "collective")
_NO_PETITIONS = (0, 0, 0, False, 0, 0, NAN, 0)


def _petition_summary(csr, k: int, t: int) -> tuple[int, int, int, bool, int, int, float, int]:
    """(ever, 365d, highest level, climbed, repeat, collective, days since, within the
    bounded window) up to ``t``.

    "Climbed": some petition went to a higher level than one filed strictly earlier.
    """
    a, b = csr.rows(k)
    if a == b:
        return _NO_PETITIONS
    times = csr.lists["time"]
    end = bisect.bisect_right(times, t, a, b)
    if end == a:
        return _NO_PETITIONS
    levels, repeat, collective = (csr.lists[c] for c in _PET_COLS[1:])
    lo, lo_b = t - 365 * NS_DAY, t - BOUNDED_DAYS * NS_DAY
    climbed = False
    lowest_before = None  # lowest level among petitions strictly earlier
    lowest_now, now = None, None
    recent = top = n_repeat = n_collective = n_bounded = 0
    for i in range(a, end):
        level = levels[i]
        if times[i] != now:
            if lowest_now is not None:
                lowest_before = (
                    lowest_now if lowest_before is None else min(lowest_before, lowest_now)
                )
            now, lowest_now = times[i], level
        else:
            lowest_now = min(lowest_now, level)  # type: ignore[type-var]
        if lowest_before is not None and level > lowest_before:
            climbed = True
        recent += times[i] > lo
        n_bounded += times[i] > lo_b
        top = max(top, level)
        n_repeat += repeat[i]
        n_collective += collective[i]
    days = _days(t, times[end - 1])
    return end - a, recent, top, climbed, n_repeat, n_collective, days, n_bounded


def petition_values(index: Index, case: Case, t: int) -> dict[str, object]:
    own = _petition_summary(index.dispute_petitions, case.held, t)
    per = [
        _petition_summary(index.person_petitions, p.node, t) for p in case.parties if p.node >= 0
    ] or [_NO_PETITIONS]
    since = [x[6] for x in per if x[6] == x[6]]
    return {
        "petitions_case_ever": own[0],
        f"petitions_case_{_BOUNDED}": own[7],
        "petitions_case_365d": own[1],
        "petitions_case_level_max": own[2],
        "petitions_case_level_climbed": own[3],
        "petitions_case_repeat": own[4],
        "petitions_case_collective": own[5],
        "petitions_case_days_since": own[6],
        "petitions_party_ever_sum": sum(x[0] for x in per),
        "petitions_party_ever_max": max(x[0] for x in per),
        f"petitions_party_{_BOUNDED}_sum": sum(x[7] for x in per),
        f"petitions_party_{_BOUNDED}_max": max(x[7] for x in per),
        "petitions_party_365d_sum": sum(x[1] for x in per),
        "petitions_party_level_max": max(x[2] for x in per),
        "petitions_party_level_climbed": any(x[3] for x in per),
        "petitions_party_repeat_sum": sum(x[4] for x in per),
        "petitions_party_collective_sum": sum(x[5] for x in per),
        "petitions_party_days_since": min(since) if since else NAN,
    }


# parties --------------------------------------------------------------------------------
def party_values(index: Index, case: Case, t: int) -> dict[str, object]:
    year = pd.Timestamp(t).year
    ages = [year - p.birth_year for p in case.parties if p.birth_year == p.birth_year]
    genders = [p.gender for p in case.parties if p.gender in (_MALE, _FEMALE)]
    households = [p.household for p in case.parties if isinstance(p.household, str)]
    out: dict[str, object] = {
        "party_age_min": float(min(ages)) if ages else NAN,
        "party_age_max": float(max(ages)) if ages else NAN,
        "party_male_share": genders.count(_MALE) / len(genders) if genders else NAN,
        "party_same_household": len(households) != len(set(households)),
    }
    out.update(_flag_values(index, case, t))
    out.update(_dispute_history(index, case, t))
    out.update(_incident_history(index, case, t))
    return out


def _flag_values(index: Index, case: Case, t: int) -> dict[str, object]:
    """Flags active at ``t``: ``start_date`` at or before it and ``end_date`` empty or not
    before its day (the contract: "no longer under management *after* this day", so at
    12:00 on ``end_date`` the person is still under management)."""
    day = t - t % NS_DAY
    active = 0
    kinds: set[int] = set()
    level = NAN
    cols = index.flags.lists
    starts, ends, flags, levels = cols["start"], cols["end"], cols["flag"], cols["level"]
    for p in case.parties:
        a, b = index.flags.rows(p.node)
        for i in range(a, b):
            if starts[i] <= t and ends[i] >= day:
                active += 1
                kinds.add(flags[i])
                lv = levels[i]
                if lv == lv and not (level >= lv):
                    level = float(lv)
    out: dict[str, object] = {"party_flags_active": active, "party_flag_level_max": level}
    for i, flag in enumerate(FLAGS):
        out[f"party_flag_{flag}"] = i in kinds
    return out


def _dispute_history(index: Index, case: Case, t: int) -> dict[str, object]:
    lo, lo_b = t - 365 * NS_DAY, t - BOUNDED_DAYS * NS_DAY
    ever, year, bounded = [0], [0], [0]
    pairs_ever: Counter[int] = Counter()
    pairs_year: Counter[int] = Counter()
    pairs_bounded: Counter[int] = Counter()
    times, ids = index.person_disputes.lists["time"], index.person_disputes.lists["dispute"]
    for p in case.parties:
        a, b = index.person_disputes.rows(p.node)
        end = bisect.bisect_right(times, t, a, b)
        e = y = b5 = 0
        for i in range(a, end):
            d = ids[i]
            if d == case.held:
                continue
            e += 1
            pairs_ever[d] += 1
            if times[i] > lo_b:
                b5 += 1
                pairs_bounded[d] += 1
            if times[i] > lo:
                y += 1
                pairs_year[d] += 1
        ever.append(e)
        year.append(y)
        bounded.append(b5)
    return {
        "party_disputes_365d_max": max(year),
        "party_disputes_365d_sum": sum(year),
        "party_pair_disputes_365d": sum(1 for c in pairs_year.values() if c >= 2),
        "party_disputes_ever_max": max(ever),
        "party_disputes_ever_sum": sum(ever),
        "party_pair_disputes_ever": sum(1 for c in pairs_ever.values() if c >= 2),
        f"party_disputes_{_BOUNDED}_max": max(bounded),
        f"party_disputes_{_BOUNDED}_sum": sum(bounded),
        f"party_pair_disputes_{_BOUNDED}": sum(1 for c in pairs_bounded.values() if c >= 2),
    }


def _incident_history(index: Index, case: Case, t: int) -> dict[str, object]:
    # windows: "ever", the last 365 days, the bounded window
    lows = {"ever": None, "365d": t - 365 * NS_DAY, _BOUNDED: t - BOUNDED_DAYS * NS_DAY}
    sets: dict[tuple[int, str], set[int]] = {
        (r, w): set() for r in (_PERPETRATOR, _VICTIM) for w in lows
    }
    last = None
    pi = index.person_incidents
    times, roles, incidents = pi.lists["time"], pi.lists["role"], pi.lists["incident"]
    people_in: dict[int, set[int]] = {}  # incident: parties involved
    when: dict[int, int] = {}
    for p in case.parties:
        a, b = pi.rows(p.node)
        end = bisect.bisect_right(times, t, a, b)
        for i in range(a, end):
            people_in.setdefault(incidents[i], set()).add(p.node)
            when[incidents[i]] = times[i]
            last = times[i] if last is None else max(last, times[i])
            role = roles[i]
            if role in (_PERPETRATOR, _VICTIM):
                for w, lo in lows.items():
                    if lo is None or times[i] > lo:
                        sets[(role, w)].add(incidents[i])
    out: dict[str, object] = {"party_incidents_days_since": NAN if last is None else _days(t, last)}
    for w, lo in lows.items():
        recent = [i for i in people_in if lo is None or when[i] > lo]
        for role, name in ((_PERPETRATOR, "perpetrator"), (_VICTIM, "victim")):
            out[f"party_incidents_{name}_{w}"] = len(sets[(role, w)])
        if w != "365d":
            out[f"party_pair_incidents_{w}"] = sum(1 for i in recent if len(people_in[i]) >= 2)
            out[f"party_self_harm_{w}"] = sum(
                1 for i in recent if index.incident_kind[i] == _SELF_HARM
            )
    return out


# graph ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecentIncidents:
    """Incidents in the widest exposure window up to a day, one row per person involved,
    sorted by person."""

    node: np.ndarray
    incident: np.ndarray
    time: np.ndarray

    @classmethod
    def of(cls, index: Index, day: int) -> RecentIncidents:
        lo = day - max(EXPOSURE_WINDOWS) * NS_DAY
        pi = index.person_incidents
        time = pi.cols["time"]
        keep = np.flatnonzero((time > lo) & (time <= day))
        node = np.repeat(np.arange(index.n_persons), np.diff(pi.start))[keep]
        return cls(node, pi.cols["incident"][keep], time[keep])

    def people(self) -> np.ndarray:
        return unique(self.node)


@dataclass(frozen=True)
class Day:
    """Everything shared by the cases scored on one graph day."""

    day: int
    graph: GraphDay
    area: AreaDay
    open_disputes: np.ndarray  # bool per held dispute: open on the day
    incidents: RecentIncidents


@dataclass(frozen=True)
class Parties:
    """The parties of several cases as the graphs see them: per case its distinct nodes
    in the day's graphs (sorted; ``nodes[start[c]:start[c + 1]]``) and how many of its
    parties the graphs do not hold (new people, each a component of one)."""

    start: np.ndarray
    nodes: np.ndarray
    absent: np.ndarray
    held: np.ndarray  # the case's position in the index, -1 for a new case
    grid: np.ndarray

    @classmethod
    def of(cls, cases: Sequence[Case], nodes: Sequence[Sequence[int]] | None = None) -> Parties:
        """``nodes``: each case's parties' nodes (-1: not in the graph); default the held
        people's positions."""
        per = [[p.node for p in c.parties] for c in cases] if nodes is None else nodes
        lens = np.array([len(x) for x in per], dtype=np.int64)
        flat = np.fromiter((x for xs in per for x in xs), dtype=np.int64, count=int(lens.sum()))
        case = np.repeat(np.arange(len(cases), dtype=np.int64), lens)
        inside = flat >= 0
        keys = _Keys(int(flat.max()) + 1 if len(flat) else 1, case[inside], flat[inside])
        start = np.zeros(len(cases) + 1, dtype=np.int64)
        np.cumsum(keys.per_case(len(cases)), out=start[1:])
        return cls(
            start=start,
            nodes=keys.node,
            absent=np.bincount(case[~inside], minlength=len(cases)).astype(np.int64),
            held=np.array([c.held for c in cases], dtype=np.int64),
            grid=np.array([c.grid for c in cases], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.held)

    @property
    def case(self) -> np.ndarray:
        """The case of every entry of ``nodes``."""
        return np.repeat(np.arange(len(self)), np.diff(self.start))


class _Keys:
    """(case, node) pairs as sorted unique int64 keys ``case * width + node``."""

    def __init__(self, width: int, case: np.ndarray, node: np.ndarray) -> None:
        self.width = max(width, 1)
        self.key = unique(case * self.width + node)

    @property
    def case(self) -> np.ndarray:
        return self.key // self.width

    @property
    def node(self) -> np.ndarray:
        return self.key % self.width

    def without(self, *others: _Keys) -> _Keys:
        keep = np.ones(len(self.key), dtype=bool)
        for other in others:
            keep &= ~in_sorted(self.key, other.key)
        return self.where(keep)

    def where(self, keep: np.ndarray) -> _Keys:
        out = object.__new__(_Keys)
        out.width, out.key = self.width, self.key[keep]
        return out

    def per_case(self, n_cases: int) -> np.ndarray:
        return np.bincount(self.case, minlength=n_cases).astype(np.int64)


def _ring(graph: GraphDay, name: str, keys: _Keys) -> _Keys:
    """Everyone linked in graph ``name`` to the people of ``keys``, as (case, person) keys."""
    owner, linked = graph.neighbours(name, keys.node)
    return _Keys(keys.width, keys.case[owner], linked)


def _group_max(values: np.ndarray, start: np.ndarray, default: float) -> np.ndarray:
    out = np.full(len(start) - 1, default, dtype=values.dtype)
    filled = np.flatnonzero(np.diff(start) > 0)
    if len(filled):
        out[filled] = np.maximum.reduceat(values, start[filled])
    return out


def tie_values(index: Index, parties: Parties, day: int) -> dict[str, np.ndarray]:
    """Ties of the parties on ``day`` by kind (held, between parties, ended in a year)."""
    n_cases, n_kinds = len(parties), len(TIE_KINDS)
    owner, at = gather(index.ties.start, parties.nodes)
    cols = index.ties.cols
    case = parties.case[owner]
    since, until = cols["since"][at], cols["until"][at]
    width = max(index.n_persons, 1)
    party_keys = parties.case * width + parties.nodes  # sorted: cases ascending, nodes sorted
    inner = in_sorted(case * width + cols["other"][at], party_keys)
    seen = since <= day
    held = seen & (until > day)
    ended = seen & ~held & (until > day - 365 * NS_DAY)
    slot = case * n_kinds + cols["kind"][at]
    count = np.bincount(slot[held], minlength=n_cases * n_kinds).reshape(n_cases, n_kinds)
    between = np.bincount(slot[held & inner], minlength=n_cases * n_kinds)
    between = between.reshape(n_cases, n_kinds) > 0
    out: dict[str, np.ndarray] = {}
    for i, kind in enumerate(TIE_KINDS):
        out[f"ties_{kind}_sum"] = count[:, i].astype(np.int64)
    for i, kind in enumerate(TIE_KINDS):
        out[f"ties_between_{kind}"] = between[:, i]
    out["ties_ended_365d_sum"] = np.bincount(case[ended], minlength=n_cases).astype(np.int64)
    out["ties_between_ended_365d"] = np.bincount(case[ended & inner], minlength=n_cases) > 0
    return out


def graph_values(index: Index, parties: Parties, day: Day) -> dict[str, np.ndarray]:
    """Graph features of several cases on one day, all at once: neighbour counts are
    gathers over the parties' rows, measures are looked up per node."""
    g = day.graph
    n_cases = len(parties)
    out = tie_values(index, parties, day.day)
    party = _Keys(g.n_nodes, parties.case, parties.nodes)
    ring1 = _ring(g, "all", party).without(party)
    out["graph_neighbors"] = ring1.per_case(n_cases)
    out["graph_ties_neighbors"] = _ring(g, "ties", party).without(party).per_case(n_cases)
    out["graph_co_parties"] = _ring(g, "co", party).without(party).per_case(n_cases)
    case = parties.case
    g.ensure(parties.nodes)
    for graph, prefix in GRAPH_PREFIXES.items():
        m = g.measures(graph, parties.nodes)
        first = _first(case * g.n_nodes + m.component)  # each case's distinct components
        size = np.bincount(case[first], weights=m.component_size[first], minlength=n_cases)
        out[f"{prefix}_component_size"] = size.astype(np.int64) + parties.absent
        out[f"{prefix}_core_max"] = _group_max(m.core, parties.start, 0)
        out[f"{prefix}_pagerank_max"] = _group_max(m.pagerank, parties.start, 0.0)
    recent = day.incidents
    near = _incident_rings(g, recent.people(), party, ring1)
    for hops, ring in enumerate(near, start=1):
        lo = np.searchsorted(recent.node, ring.node)
        hi = np.searchsorted(recent.node, ring.node, side="right")
        owner, at = spans(lo, hi)
        seen = _Keys(index.n_incidents, ring.case[owner], recent.incident[at])
        when = index.incident_time[seen.node]
        for w in EXPOSURE_WINDOWS:
            inside = when > day.day - w * NS_DAY
            out[f"ego_incidents_{hops}hop_{w}d"] = np.bincount(
                seen.case[inside], minlength=n_cases
            ).astype(np.int64)
    out["ego_incident_hops_180d"] = _group_min(g.incident_hops[parties.nodes], parties.start)
    out["ego_open_disputes_1hop"] = _open_nearby(index, parties, day, party, ring1)
    return out


def _incident_rings(
    graph: GraphDay, sources: np.ndarray, party: _Keys, ring1: _Keys
) -> tuple[_Keys, _Keys]:
    """The people of ``sources`` one hop (in ``ring1``) and exactly two hops from each
    case's parties. Two hops away are found from the sources' side (the sources are few),
    so the two-hop rings, large around well-linked people, are never listed."""
    hop1 = ring1.where(in_sorted(ring1.node, sources))
    owner, linked = graph.neighbours("all", sources)
    order = np.argsort(linked, kind="stable")
    linked, source = linked[order], sources[owner[order]]
    lo = np.searchsorted(linked, ring1.node)
    hi = np.searchsorted(linked, ring1.node, side="right")
    which, at = spans(lo, hi)
    hop2 = _Keys(ring1.width, ring1.case[which], source[at]).without(party, ring1)
    return hop1, hop2


def _first(key: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct value of ``key``."""
    order = np.argsort(key, kind="stable")
    s = key[order]
    return order[np.concatenate([[True], s[1:] != s[:-1]])] if len(s) else order


def _group_min(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    out = np.full(len(start) - 1, HOPS_CAP, dtype=np.int64)
    filled = np.flatnonzero(np.diff(start) > 0)
    if len(filled):
        out[filled] = np.minimum.reduceat(values, start[filled])
    return out


def _open_nearby(index: Index, parties: Parties, day: Day, *keys: _Keys) -> np.ndarray:
    """Other disputes open on the day that involve the parties or the people one hop away."""
    case = np.concatenate([k.case for k in keys])
    node = np.concatenate([k.node for k in keys])
    pd_ = index.person_disputes
    owner, at = gather(pd_.start, node)
    found = _Keys(index.n_disputes, case[owner], pd_.cols["dispute"][at])
    d, c = found.node, found.case
    keep = day.open_disputes[d] & (d != parties.held[c])
    return np.bincount(c[keep], minlength=len(parties)).astype(np.int64)


def area_values(parties: Parties, area: AreaDay) -> dict[str, np.ndarray]:
    grid = parties.grid
    ok = (grid >= 0) & (grid < len(area.grid_disputes))
    at = np.where(ok, grid, 0)

    def pick(rates: np.ndarray) -> np.ndarray:
        return np.where(ok, rates[at], np.nan) if len(rates) else np.full(len(grid), np.nan)

    return {
        "area_grid_disputes_365d_rate": pick(area.grid_disputes),
        "area_grid_incidents_365d_rate": pick(area.grid_incidents),
        "area_township_disputes_365d_rate": pick(area.township_disputes),
        "area_township_incidents_365d_rate": pick(area.township_incidents),
    }


def day_values(index: Index, parties: Parties, day: Day) -> dict[str, np.ndarray]:
    """Graph and area features of several cases on one graph day, one array per name."""
    out = graph_values(index, parties, day)
    out.update(area_values(parties, day.area))
    return out


def case_row(index: Index, case: Case, t: int) -> dict[str, object]:
    """Every feature of ``case`` at ``t`` (ns) that does not come from the graph day."""
    out = case_values(case, t)
    out.update(history_values(case, t))
    out.update(petition_values(index, case, t))
    out.update(party_values(index, case, t))
    return out
