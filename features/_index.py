"""Per-key indexes over a dataset, built once so any (dispute, as_of) is a few bisections.

Every table is turned into integer codes and grouped by its key (person, dispute) into
CSR-style arrays: ``start[k]:start[k + 1]`` slices the rows of key ``k``, sorted by time
(then by every other value, so the order of the input rows never matters). Ids are
sorted before they are numbered, for the same reason.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskwarn._contract import (
    CATEGORIES,
    EVENT_KINDS,
    FLAGS,
    GENDERS,
    INCIDENT_KINDS,
    INCIDENT_ROLES,
    PARTY_ROLES,
    PETITION_LEVELS,
    SOURCES,
    TIE_KINDS,
)
from riskwarn._dataset import Dataset

NS_DAY = 86_400 * 10**9
ALWAYS = np.iinfo(np.int64).min
"""A start that is known from the beginning (a tie with no ``since``)."""
NEVER = np.iinfo(np.int64).max
"""An end that has not come (no ``until``/``end_date``)."""

CLOSED = EVENT_KINDS.index("closed")
REOPENED = EVENT_KINDS.index("reopened")


def ns(values: pd.Series | pd.Index | np.ndarray, missing: int = ALWAYS) -> np.ndarray:
    """Timestamps as int64 nanoseconds; missing ones become ``missing``."""
    arr = np.asarray(pd.to_datetime(values).astype("datetime64[ns]")).view("i8").copy()
    if missing != ALWAYS:
        arr[arr == ALWAYS] = missing
    return arr


def _strings(values: object) -> pa.Array | None:
    """``values`` as one Arrow string array, None when they are not all strings."""
    try:
        arr = pa.array(values, from_pandas=True)  # type: ignore[call-overload]
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        return arr.cast(pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr.cast(pa.large_string())


class Ids:
    """Sorted distinct ids and where values sit among them (-1 when absent or missing).

    Bulk lookups hash with Arrow (``pyarrow.compute.index_in``): several times faster than
    pandas on millions of string ids, which pandas would first turn into Python objects.
    """

    def __init__(self, ids: pd.Series) -> None:
        self.ids = ids.to_numpy(dtype=object)
        self.index = pd.Index(self.ids)
        self._arrow = _strings(ids)

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, values: pd.Series | pd.Index) -> np.ndarray:
        arr = _strings(values) if self._arrow is not None else None
        if arr is None:
            return self.index.get_indexer(pd.Index(np.asarray(values, dtype=object)))
        found = pc.index_in(arr, value_set=self._arrow)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def codes(values: pd.Series, categories: tuple[str, ...] | np.ndarray) -> np.ndarray:
    """Positions of ``values`` in ``categories`` (-1 when absent or missing)."""
    return Ids(pd.Series(list(categories), dtype=object)).positions(values)


def group_starts(keys: np.ndarray, n: int) -> np.ndarray:
    """CSR row pointers for ``keys`` that are already sorted: rows of k are start[k]:start[k+1]."""
    return np.searchsorted(keys, np.arange(n + 1), side="left").astype(np.int64)


def sort_rows(key: np.ndarray, *more: np.ndarray) -> np.ndarray:
    """The permutation sorting rows by ``key`` then ``more`` in order (stable, total)."""
    return np.lexsort(tuple(reversed((key, *more))))


class _Lists(dict):
    """``cols`` as Python lists, each converted the first time it is asked for."""

    def __init__(self, cols: dict[str, np.ndarray]) -> None:
        super().__init__()
        self._cols = cols

    def __missing__(self, name: str) -> list:
        out = self[name] = self._cols[name].tolist()
        return out


@dataclass(frozen=True)
class Csr:
    """Rows grouped by an integer key: ``start`` pointers and named columns.

    Per-row feature code bisects Python lists (lo/hi bounds, no copies): far faster than
    numpy on the handful of rows one person or dispute has. Those lists (``pos``,
    ``lists``) are made on first use, so columns only vectorised code reads stay arrays.
    """

    start: np.ndarray
    cols: dict[str, np.ndarray]
    lists: dict[str, list] = field(init=False, repr=False)  # ``cols`` as Python lists

    def __post_init__(self) -> None:
        object.__setattr__(self, "lists", _Lists(self.cols))

    @functools.cached_property
    def pos(self) -> list[int]:
        """``start`` as Python ints."""
        return self.start.tolist()

    @classmethod
    def build(cls, key: np.ndarray, n: int, order: tuple[str, ...], **cols: np.ndarray) -> Csr:
        keep = key >= 0
        key = key[keep]
        cols = {k: v[keep] for k, v in cols.items()}
        perm = sort_rows(key, *(cols[c] for c in order))
        key = key[perm]
        return cls(group_starts(key, n), {k: v[perm] for k, v in cols.items()})

    def rows(self, k: int) -> tuple[int, int]:
        if k < 0 or k + 1 >= len(self.pos):
            return 0, 0
        return self.pos[k], self.pos[k + 1]

    def col(self, name: str, k: int) -> np.ndarray:
        a, b = self.rows(k)
        return self.cols[name][a:b]


_RECENT: list[tuple[weakref.ref, Index]] = []


def _forget(ref: weakref.ref) -> None:
    """Drop the index of a dataset that is gone."""
    _RECENT[:] = [(r, i) for r, i in _RECENT if r is not ref]


class Index:
    """Everything the feature functions look up, keyed by integer codes.

    :meth:`of` shares one index among the steps that read the same dataset (snapshots,
    features, groups); a dataset is a value, never changed in place.
    """

    @classmethod
    def of(cls, ds: Dataset) -> Index:
        """The index of ``ds``, built once while ``ds`` is among the last two asked for."""
        for ref, index in _RECENT:
            if ref() is ds:
                return index
        index = cls(ds)
        _RECENT.insert(0, (weakref.ref(ds, _forget), index))
        del _RECENT[2:]
        return index

    def __init__(self, ds: Dataset) -> None:
        self._persons(ds)
        self._grids(ds)
        self._disputes(ds)
        self._events(ds)
        self._petitions(ds)
        self._flags(ds)
        self._incidents(ds)
        self._ties(ds)

    # persons and grids ------------------------------------------------------------------
    def _persons(self, ds: Dataset) -> None:
        p = ds.persons.sort_values("person_id", kind="stable").drop_duplicates("person_id")
        self.persons = Ids(p["person_id"])
        self.person_ids = self.persons.ids
        self.person_pos = self.persons.index
        self.n_persons = len(p)
        self.birth_year = p["birth_year"].astype("float64").to_numpy(na_value=np.nan)
        self.gender = codes(p["gender"], GENDERS)
        self._person_grid = p["grid_id"]
        self.household = p["household_id"].astype("object").to_numpy()

    def _grids(self, ds: Dataset) -> None:
        ids = set(ds.grids["grid_id"].dropna()) | set(ds.persons["grid_id"].dropna())
        ids |= set(ds.disputes["grid_id"].dropna())
        self.grids = Ids(pd.Series(sorted(ids), dtype=object))
        self.grid_ids = self.grids.ids
        self.grid_pos = self.grids.index
        self.n_grids = len(self.grid_ids)
        self.person_grid = self.grids.positions(self._person_grid)
        g = ds.grids.sort_values("grid_id").drop_duplicates("grid_id")
        at = self.grid_pos.get_indexer(pd.Index(g["grid_id"].astype("object")))
        pop = np.full(self.n_grids, np.nan)
        pop[at] = g["population"].astype("float64").to_numpy(na_value=np.nan)
        residents = np.bincount(self.person_grid[self.person_grid >= 0], minlength=self.n_grids)
        self.grid_population_given = np.isfinite(pop) & (pop > 0)
        self.grid_population = np.where(self.grid_population_given, pop, residents).astype(float)
        counties = g["county"].astype("object").where(g["county"].notna(), None)
        self.county_names = np.array(sorted(set(counties.dropna())), dtype=object)
        county = np.full(self.n_grids, -1, dtype=np.int64)
        county[at] = pd.Index(self.county_names).get_indexer(pd.Index(counties))
        self.grid_county = county
        # a township is known by its county and its name: two counties may share a name
        towns = g["township"].astype("object")
        keys = [(c or "", str(w)) for c, w in zip(counties, towns, strict=True) if not pd.isna(w)]
        town_keys = sorted(set(keys))
        self.township_names = np.array([w for _, w in town_keys], dtype=object)
        self.township_county = pd.Index(self.county_names).get_indexer(
            pd.Index([c or None for c, _ in town_keys], dtype=object)
        )
        township = np.full(self.n_grids, -1, dtype=np.int64)
        lookup = {k: i for i, k in enumerate(town_keys)}
        township[at] = [
            -1 if pd.isna(w) else lookup[(c or "", str(w))]
            for c, w in zip(counties, towns, strict=True)
        ]
        self.grid_township = township

    # disputes and their parties -------------------------------------------------------
    def _disputes(self, ds: Dataset) -> None:
        d = ds.disputes.sort_values("dispute_id", kind="stable").drop_duplicates("dispute_id")
        self.disputes = Ids(d["dispute_id"])
        self.dispute_ids = self.disputes.ids
        self.dispute_pos = self.disputes.index
        self.n_disputes = len(d)
        self.reported = ns(d["reported_at"])
        self.dispute_grid = self.grids.positions(d["grid_id"])
        self.category = codes(d["category"], CATEGORIES)
        self.source = codes(d["source"], SOURCES)
        self.threat = d["threat_reported"].to_numpy(dtype=bool)
        self.violence = d["violence_reported"].to_numpy(dtype=bool)
        self.weapon = d["weapon_mentioned"].to_numpy(dtype=bool)
        self.amount = d["amount_involved"].to_numpy(dtype=float, na_value=np.nan)

        dp = ds.dispute_parties.drop_duplicates()
        disp = self.disputes.positions(dp["dispute_id"])
        person = self.persons.positions(dp["person_id"])
        role = codes(dp["role"], PARTY_ROLES)
        ok = (disp >= 0) & (person >= 0)
        self.parties = Csr.build(
            np.where(ok, disp, -1), self.n_disputes, ("person", "role"), person=person, role=role
        )
        pairs = pd.DataFrame({"p": person[ok], "d": disp[ok]}).drop_duplicates()
        p_, d_ = pairs["p"].to_numpy(), pairs["d"].to_numpy()
        self.person_disputes = Csr.build(
            p_, self.n_persons, ("time", "dispute"), time=self.reported[d_], dispute=d_
        )

    def _events(self, ds: Dataset) -> None:
        e = ds.dispute_events
        disp = self.disputes.positions(e["dispute_id"])
        self.events = Csr.build(
            disp,
            self.n_disputes,
            ("time", "kind"),
            time=ns(e["at"]),
            kind=codes(e["kind"], EVENT_KINDS),
        )
        kind = self.events.cols["kind"]
        trans = (kind == CLOSED) | (kind == REOPENED)
        key = np.repeat(np.arange(self.n_disputes), np.diff(self.events.start))
        self.transitions = Csr.build(
            key[trans],
            self.n_disputes,
            ("time", "kind"),
            time=self.events.cols["time"][trans],
            kind=kind[trans],
        )

    def _petitions(self, ds: Dataset) -> None:
        p = ds.petitions
        cols = {
            "time": ns(p["filed_at"]),
            "level": codes(p["level"], PETITION_LEVELS) + 1,
            "repeat": p["repeat"].to_numpy(dtype=bool),
            "collective": p["collective"].to_numpy(dtype=bool),
        }
        order = ("time", "level", "repeat", "collective")
        person = self.persons.positions(p["person_id"])
        self.person_petitions = Csr.build(person, self.n_persons, order, **cols)
        disp = self.disputes.positions(p["dispute_id"])
        self.dispute_petitions = Csr.build(disp, self.n_disputes, order, **cols)

    def _flags(self, ds: Dataset) -> None:
        f = ds.person_flags
        person = self.persons.positions(f["person_id"])
        self.flags = Csr.build(
            person,
            self.n_persons,
            ("start", "end", "flag", "level"),
            start=ns(f["start_date"]),
            end=ns(f["end_date"], missing=NEVER),
            flag=codes(f["flag"], FLAGS),
            level=f["level"].astype("float64").to_numpy(na_value=np.nan),
        )

    def _incidents(self, ds: Dataset) -> None:
        inc = ds.incidents.sort_values("incident_id", kind="stable").drop_duplicates("incident_id")
        incidents = Ids(inc["incident_id"])
        self.incident_ids = incidents.ids
        self.n_incidents = len(inc)
        self.incident_time = ns(inc["occurred_at"])
        self.incident_kind = codes(inc["kind"], INCIDENT_KINDS)
        self.incident_dispute = self.disputes.positions(inc["dispute_id"])
        ip = ds.incident_persons.drop_duplicates()
        i = incidents.positions(ip["incident_id"])
        person = self.persons.positions(ip["person_id"])
        role = codes(ip["role"], INCIDENT_ROLES)
        ok = (i >= 0) & (person >= 0)
        i, person, role = i[ok], person[ok], role[ok]
        self.person_incidents = Csr.build(
            person,
            self.n_persons,
            ("time", "incident", "role"),
            time=self.incident_time[i],
            incident=i,
            role=role,
        )
        self.incident_persons = Csr.build(
            i, self.n_incidents, ("role", "person"), person=person, role=role
        )

    def _ties(self, ds: Dataset) -> None:
        r = ds.relationships
        a = self.persons.positions(r["person_a"])
        b = self.persons.positions(r["person_b"])
        frame = pd.DataFrame(
            {
                "u": np.minimum(a, b),
                "v": np.maximum(a, b),
                "kind": codes(r["kind"], TIE_KINDS),
                "since": ns(r["since"]),
                "until": ns(r["until"], missing=NEVER),
            }
        )
        frame = frame[(frame["u"] >= 0) & (frame["u"] != frame["v"])].drop_duplicates()
        self.tie_u = frame["u"].to_numpy(np.int64)
        self.tie_v = frame["v"].to_numpy(np.int64)
        self.tie_kind = frame["kind"].to_numpy(np.int64)
        self.tie_since = frame["since"].to_numpy(np.int64)
        self.tie_until = frame["until"].to_numpy(np.int64)
        both = {
            "other": np.concatenate([self.tie_v, self.tie_u]),
            "kind": np.concatenate([self.tie_kind, self.tie_kind]),
            "since": np.concatenate([self.tie_since, self.tie_since]),
            "until": np.concatenate([self.tie_until, self.tie_until]),
        }
        # read only by vectorised counts, so rows need no order within a person
        self.ties = Csr.build(np.concatenate([self.tie_u, self.tie_v]), self.n_persons, (), **both)

    # lookups ------------------------------------------------------------------------
    def open_at(self, d: int, t: int) -> bool:
        """The contract's open rule for held dispute ``d`` at ``t`` (ns)."""
        if self.reported[d] > t:
            return False
        return state_open(self.transitions.col("time", d), self.transitions.col("kind", d), t)

    def open_mask(self, t: int) -> np.ndarray:
        """Which held disputes are open at ``t`` (ns), all at once."""
        time, kind = self.transitions.cols["time"], self.transitions.cols["kind"]
        known = time <= t
        key = np.repeat(np.arange(self.n_disputes), np.diff(self.transitions.start))
        count = np.bincount(key[known], minlength=self.n_disputes)
        last = self.transitions.start[:-1] + count - 1
        state = np.ones(self.n_disputes, dtype=bool)
        has = count > 0
        state[has] = kind[last[has]] == REOPENED
        return state & (self.reported <= t)


def state_open(times: np.ndarray, kinds: np.ndarray, t: int) -> bool:
    """Open unless the last closed/reopened event at or before ``t`` is a closing.

    Events at the same moment are ordered closed before reopened, so a case closed and
    reopened at once is open.
    """
    k = int(np.searchsorted(times, t, side="right"))
    return k == 0 or int(kinds[k - 1]) == REOPENED
