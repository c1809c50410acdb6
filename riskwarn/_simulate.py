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

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskwarn._contract import (
    CATEGORIES,
    CHANNELS,
    EVENT_KINDS,
    FLAGS,
    INCIDENT_KINDS,
    INCIDENT_ROLES,
    INTERVENTION_CHANNELS,
    INTERVENTION_KINDS,
    PARTY_ROLES,
    PETITION_LEVELS,
    SOURCES,
    TIE_KINDS,
)
from riskwarn._dataset import Dataset
from riskwarn._io import write_dataset
from riskwarn._progress import Progress, report
from riskwarn._sim_cases import Cases, build_cases
from riskwarn._sim_course import (
    CHANNEL_BY_LEVEL,
    Course,
    E,
    Setup,
    background_petitions,
    run_course,
)
from riskwarn._sim_drift import (
    Scenario,
    covariate_cases,
    join_at,
    resolve_drift,
    silenced_grids,
)
from riskwarn._sim_loop import TIER_CODES, LoopState, WarningLoop, action_notes
from riskwarn._sim_mechanisms import Mechanisms
from riskwarn._sim_people import People, build_people
from riskwarn._sim_province import build_province
from riskwarn._sim_text import ids, notes, summaries
from riskwarn._sim_time import Clock
from riskwarn._sim_truth import Oracle, Truth, clear_truth, id_column
from riskwarn.errors import ConfigError

MIN_PERSONS = 100
UNKNOWN_GENDER_SHARE = 0.004
MISSING_BIRTH_YEAR_SHARE = 0.005
MAX_COUNTIES = 200
# independent random streams of one seed; the first four are the simulator's original ones
_PEOPLE, _CASES, _COURSE, _TEXT, _DRIFT, _LOOP, _PROVINCE, _LOOP_TEXT = range(8)


def simulate(
    persons: int = 20000,
    years: float = 3,
    seed: int = 0,
    start: str | dt.date = "2022-01-01",
    progress: Progress | None = None,
    *,
    mechanisms: Mechanisms | None = None,
    drift: str = "none",
    drift_start: str | dt.date | None = None,
    interventions: WarningLoop | bool | None = None,
    counties: int = 1,
) -> Dataset:
    """A synthetic county of ``persons`` residents over ``years`` from ``start``, as a Dataset.

    Every timestamp lies in ``[start, start + years)``. Deterministic per ``seed``; about
    four disputes per hundred residents a year; see docs/simulator.md for the mechanisms.

    - ``mechanisms``: mechanism strengths (:class:`Mechanisms`, e.g. from
      :func:`load_mechanisms`); default the simulator's own.
    - ``drift``: ``"none"``, ``"covariate"``, ``"concept"`` or ``"recording"``, beginning
      at ``drift_start`` (default: the start of the last year).
    - ``interventions``: a :class:`WarningLoop` (or True for its defaults) simulates
      warnings and their handling, with a planted effect, and fills ``interventions``.
    - ``counties``: a province of that many counties (``persons`` in all).

    With none of these the output is exactly what it always was for the seed.
    :func:`simulate_with_truth` returns the same dataset with what the simulator knows.
    """
    return simulate_with_truth(
        persons, years, seed, start, progress, mechanisms=mechanisms, drift=drift,
        drift_start=drift_start, interventions=interventions, counties=counties, oracle=False,
    ).dataset  # fmt: skip


@dataclass(frozen=True)
class Simulation:
    """A simulated dataset and its ground truth (``truth.scenario``, ``truth.oracle``,
    ``truth.warnings``); :meth:`write` puts the truth in ``_truth/`` beside the tables."""

    dataset: Dataset
    truth: Truth
    plain: bool  # no option beyond persons, years, seed and start: nothing but the tables

    def write(self, path: str | Path, format: str = "csv") -> Path:
        """Write the tables (as :func:`riskwarn.write_dataset`) and, unless the run was
        plain, ``_truth/`` (any truth left there by an earlier run is removed)."""
        out = write_dataset(self.dataset, path, format)
        if self.plain:
            clear_truth(out)
        else:
            self.truth.write(out)
        return out


def simulate_with_truth(
    persons: int = 20000,
    years: float = 3,
    seed: int = 0,
    start: str | dt.date = "2022-01-01",
    progress: Progress | None = None,
    *,
    mechanisms: Mechanisms | None = None,
    drift: str = "none",
    drift_start: str | dt.date | None = None,
    interventions: WarningLoop | bool | None = None,
    counties: int = 1,
    oracle: bool = True,
) -> Simulation:
    """:func:`simulate`, with the truth: the scenario, the warning loop's decisions (with
    ``interventions``) and, with ``oracle``, every dispute's true hazard week by week
    (docs/simulator.md, "Ground truth"). The dataset equals :func:`simulate`'s."""
    clock, m, loop, scenario = _arguments(
        persons, years, start, mechanisms, drift, drift_start, interventions, counties
    )
    run = _Run(np.random.SeedSequence(int(seed)).spawn(8), clock, m, loop, progress)
    steps = int(np.ceil(clock.n_days / 7)) + 2  # people, disputes, then one per week
    report(progress, 0, steps, "people, ties and special populations")
    if counties == 1:
        run.people = build_people(run.fresh(_PEOPLE), int(persons), clock)
    else:
        seeds = run.streams[_PROVINCE].spawn(int(counties))
        run.people = build_province(run.fresh(_PEOPLE), seeds, int(persons), int(counties), clock)
    report(progress, 1, steps, "disputes")
    cases = build_cases(run.fresh(_CASES), run.people, clock, m)
    width = max(5, len(str(len(cases) - 1)))  # the ids of the disputes, in every world
    setup = Setup(mechanisms=m)
    if scenario is None:
        tables, found = run.world(cases, setup, width, oracle)
    else:  # the none world, then the drifted one, joined where the drift begins
        before, _ = run.world(cases, Setup(mechanisms=m), width, False)
        changed, setup = _drifted(scenario, run, cases)
        tables, found = run.world(changed, setup, width, oracle)
        tables = join_at(before, tables, clock.start + pd.Timedelta(days=scenario.day))
    truth = Truth(
        scenario=_scenario(persons, years, seed, clock, counties, m, scenario, loop, setup, oracle),
        oracle=found.get("oracle"),
        warnings=found.get("warnings"),
    )
    report(progress, steps, steps, "tables")
    plain = mechanisms is None or mechanisms == Mechanisms()
    plain = plain and scenario is None and loop is None and counties == 1 and not oracle
    return Simulation(Dataset.from_frames(**tables), truth, plain)


def _arguments(persons, years, start, mechanisms, drift, drift_start, interventions, counties):
    """The run's clock, strengths, warning loop and drift, or a ConfigError saying what to fix."""
    if int(persons) < MIN_PERSONS:
        raise ConfigError(f"persons must be at least {MIN_PERSONS}, got {persons}")
    if not years > 0:
        raise ConfigError(f"years must be positive, got {years}")
    if not 1 <= int(counties) <= MAX_COUNTIES:
        raise ConfigError(f"counties must be 1 to {MAX_COUNTIES}, got {counties}")
    try:
        first = pd.Timestamp(start).normalize()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"start must be a date YYYY-MM-DD, got {start!r}") from exc
    clock = Clock.of(first, float(years))
    loop = WarningLoop() if interventions is True else (interventions or None)
    if loop is not None and not 0 <= loop.start_day(clock) < clock.n_days:
        raise ConfigError(
            f"the warning loop's rollout start {loop.rollout_start} lies outside the simulated "
            f"period ({clock.start.date()} for {clock.n_days} days); give a date inside it"
        )
    m = Mechanisms() if mechanisms is None else mechanisms
    return clock, m, loop, resolve_drift(drift, drift_start, clock)


@dataclass
class _Run:
    """What every world of one run shares: the random streams, clock, strengths, people."""

    streams: list[np.random.SeedSequence]
    clock: Clock
    m: Mechanisms
    loop: WarningLoop | None
    progress: Progress | None
    people: People | None = None

    def fresh(self, i: int) -> np.random.Generator:
        """Stream ``i`` from its start (each world draws the same numbers from it)."""
        return np.random.default_rng(self.streams[i])

    def world(self, c: Cases, setup: Setup, width: int, oracle: bool):
        """The course of disputes ``c`` under ``setup``: the contract tables, and the truth
        found on the way (``warnings``, ``oracle``)."""
        p, clock = self.people, self.clock
        if self.loop is not None:
            setup.loop = LoopState(self.loop, self.fresh(_LOOP), c, p, clock)
        setup.oracle = Oracle() if oracle else None
        rng_course = self.fresh(_COURSE)
        course = run_course(rng_course, p, c, clock, self.progress, setup)
        background_petitions(rng_course, p, clock, course)
        dispute_id = ids("D", np.arange(len(c)), width, grow=False)
        online = self.m.recording.last_year.online_petition_factor
        tables = _frames(self.fresh(_TEXT), p, c, course, clock, dispute_id, online)
        found = {}
        if setup.loop is not None:
            notes_rng = self.fresh(_LOOP_TEXT)
            tables["interventions"] = _interventions(notes_rng, setup.loop, clock, dispute_id)
            found["warnings"] = _warnings(setup.loop, p, c, clock, dispute_id)
        if setup.oracle is not None:
            found["oracle"] = setup.oracle.frame(clock, dispute_id)
        return tables, found


def _drifted(scenario: Scenario, run: _Run, cases: Cases) -> tuple[Cases, Setup]:
    """The disputes and course setup of the drifted world."""
    p, clock, m = run.people, run.clock, run.m
    seeds = run.streams[_DRIFT].spawn(3)  # extra disputes, their course, changed grids
    setup = Setup(mechanisms=m, drift_day=scenario.day)
    if scenario.name == "covariate":
        cases, setup.extra = covariate_cases(
            np.random.default_rng(seeds[0]), p, clock, m, cases, scenario.day
        )
        setup.rng_extra = np.random.default_rng(seeds[1])
    elif scenario.name == "concept":
        setup.hazard_after = m.hazard.model_copy(update=m.drift.concept.hazard)
    elif scenario.name == "recording":
        setup.silenced = silenced_grids(np.random.default_rng(seeds[2]), p.n_grids, m)
    return cases, setup


def _scenario(persons, years, seed, clock, counties, m, scenario, loop, setup, oracle) -> dict:
    """What ``_truth/scenario.json`` says: the run's arguments and every strength."""
    from riskwarn import __version__

    out = {
        "riskwarn": __version__,
        "persons": int(persons),
        "years": float(years),
        "seed": int(seed),
        "start": str(clock.start.date()),
        "end": str((clock.start + pd.Timedelta(days=clock.n_days - 1)).date()),
        "counties": int(counties),
        "drift": {"scenario": "none"} if scenario is None else scenario.describe(clock, m),
        "interventions": None,
        "oracle": None,
        "mechanisms": m.model_dump(mode="json"),
    }
    if scenario is not None and scenario.name == "recording":
        grid_id = ids("G", np.arange(setup.silenced.size), 3)
        out["drift"]["changed_grids"] = grid_id[setup.silenced].tolist()
    if loop is not None:
        out["interventions"] = loop.model_dump(mode="json") | {
            "rollout_first_day": str(
                (clock.start + pd.Timedelta(days=loop.start_day(clock))).date()
            ),
        }
    if oracle:
        out["oracle"] = {
            "file": "oracle.parquet",
            "every": "week",
            "horizon_days": 90,
            "definition": "docs/simulator.md, Ground truth",
        }
    return out


def _frames(
    rng,
    p: People,
    c: Cases,
    course: Course,
    clock: Clock,
    dispute_id: np.ndarray,
    online_factor: float,
) -> dict[str, pd.DataFrame]:
    person_id = ids("P", np.arange(p.n), 6)
    grid_id = ids("G", np.arange(p.n_grids), 3)
    return {
        "persons": _persons(rng, p, clock, person_id, grid_id),
        "grids": pd.DataFrame(
            {
                "grid_id": grid_id,
                "township": np.asarray(p.townships, dtype=object)[p.grid_township],
                "county": np.asarray(p.counties, dtype=object)[p.township_county[p.grid_township]],
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
        "petitions": _petitions(rng, course, clock, person_id, dispute_id, online_factor),
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
        "household_id": ids("H", p.household, 5),
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


def _petitions(
    rng, course: Course, clock: Clock, person_id, dispute_id, online_factor: float
) -> pd.DataFrame:
    types = (np.int64, np.float64, np.int64, bool, bool, np.int64)
    parts = list(zip(*course.pet, strict=True)) if course.pet else [[] for _ in types]
    person, day, level, repeat, collective, case = (
        _cat(list(x), t) for x, t in zip(parts, types, strict=True)
    )
    w = CHANNEL_BY_LEVEL[level].copy()
    w[:, CHANNELS.index("online")] *= np.where(day >= clock.drift_day, online_factor, 1.0)
    cdf = np.cumsum(w, axis=1)
    channel = (rng.random(day.size)[:, None] * cdf[:, -1:] >= cdf).sum(axis=1)
    order = np.argsort(day, kind="stable")
    return pd.DataFrame({
        "petition_id": ids("PT", np.arange(day.size), 6),
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
    incident_id = ids("I", np.arange(day.size), 5)
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


def _interventions(rng, loop: LoopState, clock: Clock, dispute_id) -> pd.DataFrame:
    """What was done on handled warnings, in time order, within the period."""
    parts = list(zip(*loop.actions, strict=True)) if loop.actions else [[]] * 5
    types = (np.int64, np.float64, np.int64, np.int64, np.int64)
    case, at, kind, channel, tier = (_cat(list(x), t) for x, t in zip(parts, types, strict=True))
    ok = at < clock.n_days
    case, at, kind, channel, tier = (x[ok] for x in (case, at, kind, channel, tier))
    order = np.lexsort((case, at))
    case, at, kind, channel, tier = (x[order] for x in (case, at, kind, channel, tier))
    channels = np.asarray((*INTERVENTION_CHANNELS, None), dtype=object)
    return pd.DataFrame({
        "intervention_id": ids("IV", np.arange(at.size), 6),
        "dispute_id": _refs(dispute_id, case),
        "at": clock.stamps(at),
        "kind": np.asarray(INTERVENTION_KINDS, dtype=object)[kind],
        "channel": channels[channel],  # -1: none
        "warning_tier": np.asarray(TIER_CODES, dtype=object)[tier],
        "note": action_notes(rng, kind, tier),
    })  # fmt: skip


def _warnings(loop: LoopState, p: People, c: Cases, clock: Clock, dispute_id) -> pd.DataFrame:
    """Every open dispute at every scoring round, with what the loop decided."""
    cfg = loop.cfg
    cols = list(zip(*loop.rows, strict=True)) if loop.rows else [[]] * 9
    case = _cat([np.asarray(x) for x in cols[0]], np.int64)
    t = _cat([np.full(len(d), t0) for d, t0 in zip(cols[0], cols[1], strict=True)], np.float64)
    score, by_score, started, warned, handled, at, before = (
        _cat([np.asarray(x) for x in col], dt_)
        for col, dt_ in zip(cols[2:], (float, np.int8, bool, bool, bool, float, bool), strict=True)
    )
    town = p.grid_township[c.grid[case]]
    tiers = np.asarray((*TIER_CODES, None), dtype=object)  # code -1: none
    return pd.DataFrame({
        "dispute_id": id_column(dispute_id, case),
        "as_of": clock.stamps(t).astype("datetime64[ns]"),
        "county": np.asarray(p.counties, dtype=object)[p.township_county[town]],
        "township": np.asarray(p.townships, dtype=object)[town],
        "rollout_at": clock.start.to_datetime64().astype("datetime64[ns]")
        + (loop.rollout_day[town] * 86400).astype("timedelta64[s]").astype("timedelta64[ns]"),
        "loop_started": started,
        "score": score,
        "orange_threshold": cfg.orange_threshold,
        "red_threshold": cfg.red_threshold,
        "tier_by_score": tiers[by_score],
        "warned": warned,
        "tier": np.where(warned, tiers[by_score], None),
        "handled": handled,
        "handled_at": pd.Series(
            clock.stamps(np.where(handled, at, 0.0)).astype("datetime64[ns]")
        ).where(handled),
        "handled_before": before,
        "effect": cfg.effect,
    })  # fmt: skip
