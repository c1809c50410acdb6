"""The county simulator: a synthetic, contract-valid dataset for demos, tests and benchmarks.

No real records may be used, so riskwarn runs on a county drawn from mechanisms the field
describes (docs/simulator.md): households and ties, special populations, disputes arising
from ties, their follow-up, petitions that climb, and rare extreme incidents whose hazard
rises with what the field knows (and with hidden factors no record shows).

    >>> from riskwarn import simulate
    >>> ds = simulate(persons=2000, years=1, seed=1)   # doctest: +SKIP
    >>> ds.summary()["disputes"]                        # doctest: +SKIP
    79

Pure: no I/O. The same arguments give identical tables.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from riskwarn._contract import (
    CATEGORIES,
    CHANNELS,
    EVENT_KINDS,
    FLAGS,
    INCIDENT_KINDS,
    INCIDENT_ROLES,
    PARTY_ROLES,
    PETITION_LEVELS,
    SOURCES,
    TIE_KINDS,
)
from riskwarn._dataset import Dataset
from riskwarn._progress import Progress, report
from riskwarn._sim_cases import Cases, build_cases
from riskwarn._sim_course import (
    CHANNEL_BY_LEVEL,
    Course,
    E,
    background_petitions,
    run_course,
)
from riskwarn._sim_people import People, build_people
from riskwarn._sim_text import notes, summaries
from riskwarn._sim_time import Clock
from riskwarn.errors import ConfigError

MIN_PERSONS = 100
DRIFT_ONLINE_FACTOR = 1.6  # online petitions this much more common in the last year
UNKNOWN_GENDER_SHARE = 0.004
MISSING_BIRTH_YEAR_SHARE = 0.005


def simulate(
    persons: int = 20000,
    years: float = 3,
    seed: int = 0,
    start: str | date = "2022-01-01",
    progress: Progress | None = None,
) -> Dataset:
    """A synthetic county of ``persons`` residents over ``years`` from ``start``, as a Dataset.

    Every timestamp lies in ``[start, start + years)``. Deterministic per ``seed``; about
    four disputes per hundred residents a year; see docs/simulator.md for the mechanisms.
    """
    if int(persons) < MIN_PERSONS:
        raise ConfigError(f"persons must be at least {MIN_PERSONS}, got {persons}")
    if not years > 0:
        raise ConfigError(f"years must be positive, got {years}")
    try:
        first = pd.Timestamp(start).normalize()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"start must be a date YYYY-MM-DD, got {start!r}") from exc
    clock = Clock.of(first, float(years))
    rng_people, rng_cases, rng_course, rng_text = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(4)
    )
    steps = int(np.ceil(clock.n_days / 7)) + 2  # people, disputes, then one per week
    report(progress, 0, steps, "people, ties and special populations")
    people = build_people(rng_people, int(persons), clock)
    report(progress, 1, steps, "disputes")
    cases = build_cases(rng_cases, people, clock)
    course = run_course(rng_course, people, cases, clock, progress)
    background_petitions(rng_course, people, clock, course)
    frames = _frames(rng_text, people, cases, course, clock)
    report(progress, steps, steps, "tables")
    return Dataset.from_frames(**frames)


def _ids(prefix: str, idx: np.ndarray, width: int) -> np.ndarray:
    """Pseudonymous ids such as ``P000123``; the width grows with the count when needed."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return np.zeros(0, dtype=object)
    width = max(width, len(str(int(idx.max())))) if idx.size else width
    return np.char.add(prefix, np.char.zfill(idx.astype(str), width)).astype(object)


def _frames(rng, p: People, c: Cases, course: Course, clock: Clock) -> dict[str, pd.DataFrame]:
    person_id = _ids("P", np.arange(p.n), 6)
    grid_id = _ids("G", np.arange(p.n_grids), 3)
    n_cases = len(c)
    dispute_id = _ids("D", np.arange(n_cases), 5)
    return {
        "persons": _persons(rng, p, clock, person_id, grid_id),
        "grids": pd.DataFrame(
            {
                "grid_id": grid_id,
                "township": np.asarray(p.townships, dtype=object)[p.grid_township],
                "county": p.county,
                "population": np.bincount(p.grid, minlength=p.n_grids),
            }
        ),
        "person_flags": pd.DataFrame(
            {
                "person_id": person_id[p.flags.person],
                "flag": np.asarray(FLAGS, dtype=object)[p.flags.flag],
                "level": pd.Series(p.flags.level, dtype="Int64").where(p.flags.level >= 0, pd.NA),
                "start_date": clock.dates(p.flags.start),
                "end_date": clock.dates(p.flags.end),
            }
        ).sort_values(["start_date", "person_id"], kind="stable"),
        "relationships": pd.DataFrame(
            {
                "person_a": person_id[p.ties.a],
                "person_b": person_id[p.ties.b],
                "kind": np.asarray(TIE_KINDS, dtype=object)[p.ties.kind],
                "since": clock.dates(p.ties.since),
                "until": clock.dates(p.ties.until),
            }
        ),
        "disputes": pd.DataFrame(
            {
                "dispute_id": dispute_id,
                "reported_at": clock.stamps(c.day),
                "grid_id": grid_id[c.grid],
                "category": np.asarray(CATEGORIES, dtype=object)[c.cat],
                "source": np.asarray(SOURCES, dtype=object)[c.source],
                "threat_reported": c.threat_rec,
                "violence_reported": c.violence_rec,
                "weapon_mentioned": c.weapon_rec,
                "amount_involved": c.amount,
                "summary": summaries(
                    rng, c.cat, c.threat_rec, c.violence_rec, c.weapon_rec, c.n_claimants, c.amount
                ),
            }
        ),
        "dispute_parties": pd.DataFrame(
            {
                "dispute_id": dispute_id[c.party_case],
                "person_id": person_id[c.party_person],
                "role": np.asarray(PARTY_ROLES, dtype=object)[c.party_role],
            }
        ).iloc[np.argsort(c.party_case, kind="stable")],
        "dispute_events": _events(rng, course, clock, dispute_id),
        "petitions": _petitions(rng, course, clock, person_id, dispute_id),
        **_incidents(course, clock, person_id, dispute_id),
    }


def _persons(rng, p: People, clock: Clock, person_id, grid_id) -> pd.DataFrame:
    passed = clock.start.day_of_year / 365.25  # share of birthdays already past on day one
    birth_year = clock.start.year - p.age - (rng.random(p.n) >= passed)
    gender = np.where(p.male, "male", "female").astype(object)
    gender[rng.random(p.n) < UNKNOWN_GENDER_SHARE] = "unknown"
    missing = rng.random(p.n) < MISSING_BIRTH_YEAR_SHARE
    return pd.DataFrame({
        "person_id": person_id,
        "birth_year": pd.Series(birth_year, dtype="Int64").where(~missing, pd.NA),
        "gender": gender,
        "grid_id": grid_id[p.grid],
        "household_id": _ids("H", p.household, 5),
    })  # fmt: skip


def _refs(ids: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``ids[idx]``, with None where ``idx`` is -1 (no reference)."""
    out = np.full(idx.size, None, dtype=object)
    out[idx >= 0] = ids[idx[idx >= 0]]
    return out


def _cat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _events(rng, course: Course, clock: Clock, dispute_id) -> pd.DataFrame:
    """True events, made consistent (nothing while closed), then filtered to those recorded."""
    case = _cat(course.ev_case, np.int64)
    day = _cat(course.ev_day, np.float64)
    kind = _cat(course.ev_kind, np.int64)
    kept = _cat(course.ev_kept, bool)
    order = np.lexsort((day, case))
    case, day, kind, kept = case[order], day[order], kind[order], kept[order]
    # a closure drops what was drawn for the rest of its week: keep an event only when the
    # dispute is open just before it (or, for "reopened", closed just before it)
    closed, reopened = kind == E["closed"], kind == E["reopened"]
    step = closed.astype(np.int64) - reopened.astype(np.int64)
    state = _group_exclusive_cumsum(step, case)  # 1 = closed before this event, 0 = open
    valid = np.where(reopened, state == 1, state == 0)
    # drop events in a closed stretch repeatedly until stable (a dropped close reopens nothing)
    while not valid.all():
        case, day, kind, kept = case[valid], day[valid], kind[valid], kept[valid]
        closed, reopened = kind == E["closed"], kind == E["reopened"]
        step = closed.astype(np.int64) - reopened.astype(np.int64)
        state = _group_exclusive_cumsum(step, case)
        valid = np.where(reopened, state == 1, state == 0)
    case, day, kind = case[kept], day[kept], kind[kept]
    order = np.lexsort((case, day))
    case, day, kind = case[order], day[order], kind[order]
    return pd.DataFrame({
        "dispute_id": dispute_id[case],
        "at": clock.stamps(day),
        "kind": np.asarray(EVENT_KINDS, dtype=object)[kind],
        "note": notes(rng, kind),
    })  # fmt: skip


def _group_exclusive_cumsum(x: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Sum of ``x`` over earlier rows of the same group (rows sorted by group)."""
    total = np.cumsum(x) - x
    first = np.r_[True, group[1:] != group[:-1]] if group.size else np.zeros(0, bool)
    base = np.maximum.accumulate(np.where(first, np.arange(group.size), 0))
    return total - total[base]


def _petitions(rng, course: Course, clock: Clock, person_id, dispute_id) -> pd.DataFrame:
    types = (np.int64, np.float64, np.int64, bool, bool, np.int64)
    parts = list(zip(*course.pet, strict=True)) if course.pet else [[] for _ in types]
    person, day, level, repeat, collective, case = (
        _cat(list(x), t) for x, t in zip(parts, types, strict=True)
    )
    w = CHANNEL_BY_LEVEL[level].copy()
    w[:, CHANNELS.index("online")] *= np.where(day >= clock.drift_day, DRIFT_ONLINE_FACTOR, 1.0)
    cdf = np.cumsum(w, axis=1)
    channel = (rng.random(day.size)[:, None] * cdf[:, -1:] >= cdf).sum(axis=1)
    order = np.argsort(day, kind="stable")
    return pd.DataFrame({
        "petition_id": _ids("PT", np.arange(day.size), 6),
        "person_id": person_id[person[order]],
        "filed_at": clock.stamps(day[order]),
        "channel": np.asarray(CHANNELS, dtype=object)[channel[order]],
        "level": np.asarray(PETITION_LEVELS, dtype=object)[level[order]],
        "repeat": repeat[order],
        "collective": collective[order],
        "dispute_id": _refs(dispute_id, case[order]),
    })  # fmt: skip


def _incidents(course: Course, clock: Clock, person_id, dispute_id) -> dict[str, pd.DataFrame]:
    if course.inc:
        day, kind, case = (np.concatenate(x) for x in zip(*course.inc, strict=True))
        inc, person, role = (np.concatenate(x) for x in zip(*course.inc_persons, strict=True))
    else:
        day, kind, case, inc, person, role = (np.zeros(0, t) for t in "fiiiii")
    order = np.argsort(day, kind="stable")  # number incidents in time order
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    incident_id = _ids("I", np.arange(day.size), 5)
    persons = pd.DataFrame({
        "incident_id": incident_id[rank[inc]],
        "person_id": person_id[person],
        "role": np.asarray(INCIDENT_ROLES, dtype=object)[role],
    }).iloc[np.lexsort((role, rank[inc]))]  # fmt: skip
    return {
        "incidents": pd.DataFrame(
            {
                "incident_id": incident_id,
                "occurred_at": clock.stamps(day[order]),
                "kind": np.asarray(INCIDENT_KINDS, dtype=object)[kind[order]],
                "dispute_id": _refs(dispute_id, case[order]),
            }
        ),
        "incident_persons": persons,
    }
