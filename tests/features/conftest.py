"""Small random contract datasets for the feature tests, and later rows drawn by hypothesis.

Only public names: the contract's enums come from ``riskwarn.CONTRACT_TABLES``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import strategies as st

from riskwarn import CONTRACT_TABLES, Dataset


def contract_enums() -> dict[tuple[str, str], tuple[str, ...]]:
    """``(table, column)``: the values of every enum column of the contract."""
    return {
        (name, col.name): col.enum
        for name, table in CONTRACT_TABLES.items()
        for col in table.columns
        if col.type == "enum"
    }


ENUMS = contract_enums()
CATEGORIES = ENUMS[("disputes", "category")]
SOURCES = ENUMS[("disputes", "source")]
PARTY_ROLES = ENUMS[("dispute_parties", "role")]
EVENT_KINDS = ENUMS[("dispute_events", "kind")]
CHANNELS = ENUMS[("petitions", "channel")]
PETITION_LEVELS = ENUMS[("petitions", "level")]
FLAGS = ENUMS[("person_flags", "flag")]
TIE_KINDS = ENUMS[("relationships", "kind")]
INCIDENT_KINDS = ENUMS[("incidents", "kind")]
INCIDENT_ROLES = ENUMS[("incident_persons", "role")]
DATED_TABLES = (
    "disputes",
    "dispute_parties",
    "dispute_events",
    "petitions",
    "person_flags",
    "relationships",
    "incidents",
    "incident_persons",
)
"""Tables whose rows have a date (their own or their dispute's or incident's)."""

BASE = pd.Timestamp("2024-01-01")
SPAN_DAYS = 240


class Tables:
    """Rows of a contract dataset under construction, drawn from one random generator."""

    def __init__(self, seed: int, base: pd.Timestamp = BASE, span: int = SPAN_DAYS) -> None:
        self.rng = np.random.default_rng(seed)
        self.base, self.span = base, span
        self.rows: dict[str, list[dict]] = {}

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def when(self, after: pd.Timestamp | None = None, midnight: bool = False) -> pd.Timestamp:
        start = self.base if after is None else after
        if midnight or self.rng.random() < 0.3:
            return start.normalize() + pd.Timedelta(days=int(self.rng.integers(1, self.span)))
        return start + pd.Timedelta(seconds=int(self.rng.integers(1, self.span * 86_400)))

    def maybe(self, value, p: float = 0.7):
        return value if self.rng.random() < p else None

    def add(self, table: str, **row) -> None:
        self.rows.setdefault(table, []).append(row)

    def persons(self, n: int, prefix: str = "P") -> list[str]:
        ids = [f"{prefix}{i}" for i in range(n)]
        for pid in ids:
            self.add(
                "persons",
                person_id=pid,
                birth_year=self.maybe(int(self.rng.integers(1940, 2010))),
                gender=self.pick(("male", "female", "unknown")),
                grid_id=f"G{int(self.rng.integers(3))}",
                household_id=self.maybe(f"H{int(self.rng.integers(3))}", 0.6),
            )
        return ids

    def grids(self) -> None:
        for g in range(3):
            self.add(
                "grids",
                grid_id=f"G{g}",
                township=self.maybe(f"T{g % 2}", 0.8),
                county="C",
                population=self.maybe(int(self.rng.integers(50, 3000))),
            )

    def disputes(self, n: int, people: list[str], prefix: str = "D", after=None) -> list[str]:
        ids = [f"{prefix}{i}" for i in range(n)]
        for did in ids:
            reported = self.when(after)
            self.add(
                "disputes",
                dispute_id=did,
                reported_at=reported,
                grid_id=f"G{int(self.rng.integers(3))}",
                category=self.pick(CATEGORIES),
                source=self.pick(SOURCES),
                threat_reported=bool(self.rng.random() < 0.3),
                violence_reported=bool(self.rng.random() < 0.2),
                weapon_mentioned=bool(self.rng.random() < 0.1),
                amount_involved=self.maybe(float(self.rng.integers(0, 100_000))),
                summary=None,
            )
            k = int(self.rng.integers(1, min(4, len(people)) + 1))
            for pid in self.rng.choice(people, size=k, replace=False):
                self.add(
                    "dispute_parties",
                    dispute_id=did,
                    person_id=str(pid),
                    role=self.pick(PARTY_ROLES),
                )
            self.events(did, int(self.rng.integers(0, 7)), after=reported)
        return ids

    def events(self, did: str, n: int, after: pd.Timestamp) -> None:
        kinds = (*EVENT_KINDS, "closed", "reopened", "mediation_failure")
        for _ in range(n):
            self.add(
                "dispute_events",
                dispute_id=did,
                at=self.when(after),
                kind=self.pick(kinds),
                note=None,
            )

    def petitions(self, n: int, people: list[str], disputes: list[str], prefix="PT", after=None):
        for i in range(n):
            self.add(
                "petitions",
                petition_id=f"{prefix}{i}",
                person_id=self.pick(people),
                filed_at=self.when(after),
                channel="visit",
                level=self.pick(PETITION_LEVELS),
                repeat=bool(self.rng.random() < 0.3),
                collective=bool(self.rng.random() < 0.2),
                dispute_id=self.maybe(self.pick(disputes), 0.5) if disputes else None,
            )

    def flags(self, n: int, people: list[str], after=None) -> None:
        for _ in range(n):
            start = self.when(after, midnight=True)
            end = start + pd.Timedelta(days=int(self.rng.integers(0, 120)))
            self.add(
                "person_flags",
                person_id=self.pick(people),
                flag=self.pick(FLAGS),
                level=self.maybe(int(self.rng.integers(0, 6))),
                start_date=start,
                end_date=self.maybe(end, 0.5),
            )

    def ties(self, n: int, people: list[str], after=None) -> None:
        for _ in range(n):
            a, b = self.rng.choice(people, size=2, replace=False)
            since = self.when(after, midnight=True)
            if after is None and self.rng.random() < 0.4:
                since = None
            start = since if since is not None else self.base
            until = start + pd.Timedelta(days=int(self.rng.integers(1, 150)))
            self.add(
                "relationships",
                person_a=str(a),
                person_b=str(b),
                kind=self.pick(TIE_KINDS),
                since=since,
                until=self.maybe(until, 0.4),
            )

    def incidents(self, n: int, people: list[str], disputes: list[str], prefix="I", after=None):
        for i in range(n):
            iid = f"{prefix}{i}"
            self.add(
                "incidents",
                incident_id=iid,
                occurred_at=self.when(after),
                kind=self.pick(INCIDENT_KINDS),
                dispute_id=self.maybe(self.pick(disputes), 0.5) if disputes else None,
            )
            k = int(self.rng.integers(1, 3))
            for pid in self.rng.choice(people, size=min(k, len(people)), replace=False):
                self.add(
                    "incident_persons",
                    incident_id=iid,
                    person_id=str(pid),
                    role=self.pick(INCIDENT_ROLES),
                )

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: pd.DataFrame(rows) for name, rows in self.rows.items()}


def random_tables(seed: int, persons: int = 9, disputes: int = 7) -> Tables:
    t = Tables(seed)
    people = t.persons(persons)
    if t.rng.random() < 0.8:
        t.grids()
    ids = t.disputes(disputes, people)
    t.petitions(int(t.rng.integers(0, 8)), people, ids)
    t.flags(int(t.rng.integers(0, 5)), people)
    t.ties(int(t.rng.integers(0, 12)), people)
    t.incidents(int(t.rng.integers(0, 5)), people, ids)
    return t


def random_dataset(seed: int, persons: int = 9, disputes: int = 7) -> Dataset:
    return Dataset.from_frames(**random_tables(seed, persons, disputes).frames())


@st.composite
def future_rows(draw, ds: Dataset, t: pd.Timestamp) -> dict[str, list[dict]]:
    """Rows for every dated table, all dated after ``t``, drawn field by field so that a
    failing example shrinks to the few rows that matter.

    New disputes (with their parties), events of old and new disputes, petitions, flags and
    ties starting after ``t``, incidents (with their people). ``persons`` and ``grids``
    carry no date: they are known from the start, so they get nothing.
    """
    people = st.sampled_from(sorted(ds.persons["person_id"]))
    grids = st.sampled_from(sorted(set(ds.persons["grid_id"])))
    moment = st.integers(1, 200 * 86_400).map(lambda s: t + pd.Timedelta(seconds=s))
    later_day = st.integers(1, 200).map(lambda d: t.normalize() + pd.Timedelta(days=d))
    maybe_days = st.none() | st.integers(0, 150)
    rows: dict[str, list[dict]] = {}
    disputes = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "reported_at": moment,
                    "grid_id": grids,
                    "category": st.sampled_from(CATEGORIES),
                    "source": st.sampled_from(SOURCES),
                    "threat_reported": st.booleans(),
                    "violence_reported": st.booleans(),
                    "weapon_mentioned": st.booleans(),
                    "amount_involved": st.none() | st.integers(0, 100_000).map(float),
                    "summary": st.none(),
                }
            ),
            min_size=1,
            max_size=3,
        )
    )
    new_ids = [f"ND{i}" for i in range(len(disputes))]
    rows["disputes"] = [{"dispute_id": d, **row} for d, row in zip(new_ids, disputes, strict=True)]
    rows["dispute_parties"] = [
        {"dispute_id": d, "person_id": p, "role": r}
        for d in new_ids
        for p, r in draw(
            st.lists(
                st.tuples(people, st.sampled_from(PARTY_ROLES)),
                min_size=1,
                max_size=3,
                unique_by=lambda x: x[0],
            )
        )
    ]
    all_ids = st.sampled_from(sorted(ds.disputes["dispute_id"]) + new_ids)
    some = {"min_size": 1, "max_size": 4}
    rows["dispute_events"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "dispute_id": all_ids,
                    "at": moment,
                    "kind": st.sampled_from(EVENT_KINDS),
                    "note": st.none(),
                }
            ),
            **some,
        )
    )
    petitions = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "person_id": people,
                    "filed_at": moment,
                    "channel": st.sampled_from(CHANNELS),
                    "level": st.sampled_from(PETITION_LEVELS),
                    "repeat": st.booleans(),
                    "collective": st.booleans(),
                    "dispute_id": st.none() | all_ids,
                }
            ),
            **some,
        )
    )
    rows["petitions"] = [{"petition_id": f"NPT{i}", **row} for i, row in enumerate(petitions)]
    flags = draw(
        st.lists(
            st.tuples(people, st.sampled_from(FLAGS), st.none() | st.integers(0, 5)),
            **some,
        )
    )
    rows["person_flags"] = []
    for person, flag, level in flags:
        start, days = draw(later_day), draw(maybe_days)
        end = None if days is None else start + pd.Timedelta(days=days)
        rows["person_flags"].append(
            {
                "person_id": person,
                "flag": flag,
                "level": level,
                "start_date": start,
                "end_date": end,
            }
        )
    pairs = st.lists(people, min_size=2, max_size=2, unique=True)
    ties = draw(st.lists(st.tuples(pairs, st.sampled_from(TIE_KINDS)), **some))
    rows["relationships"] = []
    for (a, b), kind in ties:
        since, days = draw(later_day), draw(maybe_days)
        until = None if days is None else since + pd.Timedelta(days=days + 1)
        rows["relationships"].append(
            {"person_a": a, "person_b": b, "kind": kind, "since": since, "until": until}
        )
    incidents = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "occurred_at": moment,
                    "kind": st.sampled_from(INCIDENT_KINDS),
                    "dispute_id": st.none() | all_ids,
                }
            ),
            **some,
        )
    )
    rows["incidents"] = [{"incident_id": f"NI{i}", **row} for i, row in enumerate(incidents)]
    rows["incident_persons"] = [
        {"incident_id": f"NI{i}", "person_id": p, "role": r}
        for i in range(len(incidents))
        for p, r in draw(
            st.lists(
                st.tuples(people, st.sampled_from(INCIDENT_ROLES)),
                min_size=1,
                max_size=2,
                unique_by=lambda x: x[0],
            )
        )
    ]
    return rows


def appended(ds: Dataset, rows: dict[str, list[dict]]) -> Dataset:
    """``ds`` with ``rows`` (table: row dicts) added at the end of their tables."""
    frames = {}
    for name, frame in ds.tables().items():
        more = rows.get(name)
        frames[name] = pd.concat([frame, pd.DataFrame(more)], ignore_index=True) if more else frame
    return Dataset.from_frames(**frames)


def shuffled(ds: Dataset, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    return Dataset.from_frames(
        **{
            name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
            for name, frame in ds.tables().items()
        }
    )


def same_value(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


def assert_same_features(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True
    )


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The helpers above, for tests (hypothesis allows session fixtures)."""
    return SimpleNamespace(
        Tables=Tables,
        random_tables=random_tables,
        random_dataset=random_dataset,
        future_rows=future_rows,
        appended=appended,
        dated_tables=DATED_TABLES,
        shuffled=shuffled,
        same_value=same_value,
        assert_same_features=assert_same_features,
    )
