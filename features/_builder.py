"""FeatureBuilder: features for snapshots, for one held case, and for a new case.

All three paths run the same feature functions (``_features.py``) on the same per-day
state, so the scoring service gets exactly what training saw. Graph and area state is
computed per graph day (``as_of`` at midnight), carried over from the previous graph day
where nothing changed, and kept in a small LRU. Graph and area features are computed for
all the cases of a day at once (one case is a batch of one); the others case by case.
:meth:`FeatureBuilder.transform` builds the two kinds side by side, the graph days on a
second thread (they let go of the GIL in scipy and numpy) and the case rows on the caller's.

A new case joins the day's graphs when it was reported before the day's midnight: its
co-involvement links then change only the components of its parties, whose core numbers
and PageRank are recomputed on the merged component alone (everything else about its
parties' neighbourhood is unchanged by links among the parties themselves).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from riskwarn._contract import CATEGORIES, EVENT_KINDS, GENDERS, PARTY_ROLES, SOURCES
from riskwarn._dataset import Dataset
from riskwarn._progress import Progress, report
from riskwarn._retention import Expiry, RetentionPolicy, expiry
from riskwarn.errors import RequestError, UnknownRecordError

from ._area import area_day, incident_fallback_grids, rates
from ._facts import KeyFact, case_facts
from ._features import (
    Case,
    Day,
    Parties,
    Party,
    RecentIncidents,
    area_values,
    case_row,
    day_values,
)
from ._graph import PeopleGraph, unique, unique_inverse
from ._index import NS_DAY, Index, ns
from ._registry import REGISTRY
from ._specs import HOPS_CAP

CACHE_DAYS = 2
DAY_AND_CASE = ("day", "case")
"""The two kinds of feature :meth:`FeatureBuilder.transform` builds (see there)."""
_YEAR = 365 * NS_DAY


def _as_ns(value: object, what: str) -> int:
    try:
        t = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise RequestError(f"expected {what} as an ISO date-time, got {value!r}") from exc
    if pd.isna(t):
        raise RequestError(f"expected {what} as an ISO date-time, got {value!r}")
    return int(t.as_unit("ns").value)


def _midnight(t: int) -> int:
    return t - t % NS_DAY


def _too_early(reported: int, t: int) -> RequestError:
    return RequestError(
        f"expected a dispute reported at or before as_of; dispute was reported at "
        f"{pd.Timestamp(reported)}, after as_of {pd.Timestamp(t)}; "
        "features exist only for disputes known at as_of"
    )


class FeatureBuilder:
    """Point-in-time features of disputes in ``dataset``.

    >>> builder = FeatureBuilder(dataset)                        # doctest: +SKIP
    >>> builder.features_for("D1", "2024-03-01")["events_mediation_failure_30d"]  # doctest: +SKIP
    """

    def __init__(self, dataset: Dataset, cache_days: int = CACHE_DAYS) -> None:
        self.dataset = dataset
        self.cache_days = cache_days
        self._index = Index.of(dataset)
        self._graph = PeopleGraph(self._index)
        self._fallback = incident_fallback_grids(self._index)
        self._days: OrderedDict[int, Day] = OrderedDict()
        self._names = REGISTRY.names()
        self._day_names = REGISTRY.names(["graph", "area"])
        by_day = set(self._day_names)
        self._row_names = [n for n in self._names if n not in by_day]

    # per-day state ---------------------------------------------------------------------
    def open_disputes(self, as_of: object) -> list[str]:
        """Ids of the disputes open at ``as_of`` (sorted), from this builder's index (as
        :func:`riskwarn.features.open_disputes`, without indexing the dataset again)."""
        t = pd.Timestamp(as_of)  # type: ignore[arg-type]
        mask = self._index.open_mask(int(t.value))
        return sorted(str(x) for x in self._index.dispute_ids[mask])

    def _day(self, day: int) -> Day:
        cached = self._days.get(day)
        if cached is not None:
            self._days.move_to_end(day)
            return cached
        while self._days and len(self._days) >= self.cache_days:
            # room first: a day of a million people holds about 150 MB of graphs, and the
            # sweep keeps the day it carries over from itself
            self._days.popitem(last=False)
        index = self._index
        recent = RecentIncidents.of(index, day)
        state = Day(
            day=day,
            graph=self._graph.day(day, recent.people(), HOPS_CAP),
            area=area_day(index, day, fallback=self._fallback),
            open_disputes=index.open_mask(day),
            incidents=recent,
        )
        self._days[day] = state
        return state

    def _case_day_values(self, case: Case, day: int) -> dict[str, object]:
        """Graph and area features of one case on graph day ``day``; a case the dataset
        does not hold, reported by the day's midnight, joins the day's graphs and counts
        in its grid's dispute rate."""
        index = self._index
        base = self._day(day)
        new = [p for p in case.parties if p.node < 0]
        residents = _new_residents(index, new)
        joins = case.held < 0 and case.reported <= day
        parties = Parties.of([case])
        values = {k: v[0].item() for k, v in day_values(index, parties, base).items()}
        if joins:
            held = parties.nodes
            for graph, prefix in (("all", "graph"), ("co", "graph_co")):
                got = base.graph.joined(graph, held, len(new))
                if got is not None:
                    values[f"{prefix}_core_max"], values[f"{prefix}_pagerank_max"] = got
        extra = case.grid if joins and case.reported > day - _YEAR else -1
        if extra >= 0 or residents is not None:
            area = rates(
                index, base.area.dispute_counts, base.area.incident_counts, extra, residents
            )
            values.update({k: v[0].item() for k, v in area_values(parties, area).items()})
        return values

    # the three paths -------------------------------------------------------------------
    def _values(self, case: Case, t: int) -> dict[str, object]:
        if case.reported > t:
            raise _too_early(case.reported, t)
        values = case_row(self._index, case, t)
        values.update(self._case_day_values(case, _midnight(t)))
        return {name: values[name] for name in self._names}

    def _held(self, dispute_id: object) -> int:
        try:  # one key: the index's hash lookup, not a list turned into an Index
            return int(self._index.dispute_pos.get_loc(str(dispute_id)))
        except KeyError:
            raise UnknownRecordError(
                f"expected a dispute_id the dataset holds, got {dispute_id!r}; "
                "use features_for_case for a case not yet in the dataset"
            ) from None

    def features_for(self, dispute_id: str, as_of: object) -> dict[str, object]:
        """Features of held dispute ``dispute_id`` at ``as_of``, in registry order."""
        t = _as_ns(as_of, "as_of")
        return self._values(Case.held_by(self._index, self._held(dispute_id)), t)

    def features_for_case(
        self,
        dispute: Mapping[str, object],
        parties: Sequence[Mapping[str, object]],
        events: Sequence[Mapping[str, object]],
        as_of: object,
    ) -> dict[str, object]:
        """Features of a case given as contract rows (``disputes``, ``dispute_parties``,
        ``dispute_events``), e.g. one the dataset does not hold yet.

        A party may be a person the dataset holds (its history counts) or a new one, given
        with ``birth_year``, ``gender``, ``grid_id`` and ``household_id`` in its dict.
        """
        t = _as_ns(as_of, "as_of")
        return self._values(self._case_from_rows(dispute, parties, events), t)

    def _keys(self, snapshots: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dispute ids, their positions in the index, as_of in ns) of ``snapshots``."""
        missing = {"dispute_id", "as_of"} - set(snapshots.columns)
        if missing:
            raise RequestError(
                f"expected snapshots with columns dispute_id and as_of, missing {sorted(missing)}; "
                "build them with build_snapshots"
            )
        ids = snapshots["dispute_id"].astype("object").to_numpy()
        held = self._index.dispute_pos.get_indexer(pd.Index(ids))
        if (held < 0).any():
            unknown = ids[held < 0][:3].tolist()
            raise UnknownRecordError(
                f"expected snapshots of disputes in the dataset, got unknown ids {unknown}"
            )
        return ids, held, ns(snapshots["as_of"])

    def transform(
        self,
        snapshots: pd.DataFrame,
        progress: Progress | None = None,
        *,
        kinds: Sequence[str] = DAY_AND_CASE,
    ) -> pd.DataFrame:
        """One row of features per snapshot (``dispute_id``, ``as_of``), in input order.

        ``kinds``: ``"day"`` (graph and area features, computed per graph day over the
        whole graph) and/or ``"case"`` (every other feature: the case's own rows and its
        parties' histories); one alone gives only its columns, in registry order, so the two
        can be built apart (e.g. on different Dask workers) and put side by side."""
        unknown = set(kinds) - set(DAY_AND_CASE)
        if unknown or not kinds:
            raise RequestError(f"expected kinds among {list(DAY_AND_CASE)}, got {list(kinds)}")
        ids, held, stamps = self._keys(snapshots)
        late = np.flatnonzero(self._index.reported[held] > stamps) if len(held) else held
        if len(late):
            r = int(late[0])
            raise _too_early(int(self._index.reported[held[r]]), int(stamps[r]))
        days = stamps - stamps % NS_DAY
        n = len(snapshots)
        by_day, by_case = "day" in kinds, "case" in kinds
        day_names = self._day_names if by_day else []
        row_names = self._row_names if by_case else []
        columns: dict[str, object] = {name: _empty(name, n) for name in day_names}
        rows: list[list[object]] = [[] for _ in range(n)]
        order = np.lexsort((held, days))
        cases: dict[int, Case] = {}
        plan: list[tuple[int, np.ndarray, np.ndarray, list[Case]]] = []
        for day in unique(days).tolist():
            at = order[days[order] == day]
            disputes, inverse = unique_inverse(held[at])
            day_cases = []
            for d in disputes.tolist():
                case = cases.get(d)
                if case is None:
                    case = cases[d] = Case.held_by(self._index, d)
                day_cases.append(case)
            plan.append((day, at, inverse, day_cases))

        def by_days() -> None:
            done = 0
            for day, at, inverse, day_cases in plan:
                values = day_values(self._index, Parties.of(day_cases), self._day(day))
                for name in day_names:
                    columns[name][at] = values[name][inverse]  # type: ignore[index]
                done += len(at)
                if not by_case:  # else the case rows report
                    report(progress, done, n, f"features {pd.Timestamp(day):%Y-%m-%d}")

        # The two kinds share nothing they write: the graph days (mostly sparse products
        # and large array operations, which let go of the GIL) run on a second thread
        # while this one builds the case rows (Python), so two cores overlap them.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskwarn-days") as pool:
            pending = pool.submit(by_days) if by_day else None
            done = 0
            for day, at, inverse, day_cases in plan if by_case else []:
                for r, c in zip(at.tolist(), inverse.tolist(), strict=True):
                    row = case_row(self._index, day_cases[c], int(stamps[r]))
                    rows[r] = [row[name] for name in row_names]
                done += len(at)
                report(progress, done, n, f"features {pd.Timestamp(day):%Y-%m-%d}")
            if pending is not None:
                pending.result()
        if by_case:
            by_col = list(zip(*rows, strict=True)) if rows else [() for _ in row_names]
            for name, values_ in zip(row_names, by_col, strict=True):
                columns[name] = list(values_)
        names = [name for name in self._names if name in columns]
        return _frame(ids, stamps, columns, names)

    # key facts: the same three paths, from the same index and cases -------------------
    def _facts(self, case: Case, t: int) -> list[KeyFact]:
        if case.reported > t:
            raise RequestError(
                f"expected a dispute reported at or before as_of; dispute was reported at "
                f"{pd.Timestamp(case.reported)}, after as_of {pd.Timestamp(t)}; "
                "key facts exist only for disputes known at as_of"
            )
        return case_facts(self._index, case, t)

    def facts_for(self, dispute_id: str, as_of: object) -> list[KeyFact]:
        """Key facts of held dispute ``dispute_id`` at ``as_of`` (see ``FACTS``)."""
        t = _as_ns(as_of, "as_of")
        return self._facts(Case.held_by(self._index, self._held(dispute_id)), t)

    def facts_for_case(
        self,
        dispute: Mapping[str, object],
        parties: Sequence[Mapping[str, object]],
        events: Sequence[Mapping[str, object]],
        as_of: object,
    ) -> list[KeyFact]:
        """Key facts of a case given as contract rows, as :meth:`features_for_case` takes it."""
        t = _as_ns(as_of, "as_of")
        return self._facts(self._case_from_rows(dispute, parties, events), t)

    def facts(self, snapshots: pd.DataFrame) -> list[list[KeyFact]]:
        """Key facts per snapshot (``dispute_id``, ``as_of``), in input order."""
        _, held, stamps = self._keys(snapshots)
        cases: dict[int, Case] = {}
        out = []
        for d, t in zip(held.tolist(), stamps.tolist(), strict=True):
            case = cases.get(d)
            if case is None:
                case = cases[d] = Case.held_by(self._index, d)
            out.append(self._facts(case, t))
        return out

    # new cases -------------------------------------------------------------------------
    def _case_from_rows(
        self,
        dispute: Mapping[str, object],
        parties: Sequence[Mapping[str, object]],
        events: Sequence[Mapping[str, object]],
    ) -> Case:
        index = self._index
        held = index.dispute_pos.get_indexer([str(dispute.get("dispute_id"))])[0]
        reported = _as_ns(dispute.get("reported_at"), "dispute.reported_at")
        grid = int(index.grid_pos.get_indexer([str(dispute.get("grid_id"))])[0])
        by_person: dict[str, dict[str, object]] = {}
        roles: dict[str, set[int]] = {}
        for row in parties:
            pid = str(row.get("person_id"))
            roles.setdefault(pid, set()).add(_enum(row.get("role"), PARTY_ROLES, "party role"))
            by_person.setdefault(pid, dict(row))
        people = tuple(
            self._party(pid, by_person[pid], frozenset(roles[pid])) for pid in sorted(by_person)
        )
        ev = sorted(
            (_as_ns(e.get("at"), "event.at"), _enum(e.get("kind"), EVENT_KINDS, "event kind"))
            for e in events
        )
        amount = dispute.get("amount_involved")
        return Case(
            held=int(held),
            reported=reported,
            grid=grid,
            category=_enum(dispute.get("category"), CATEGORIES, "dispute category"),
            source=_enum(dispute.get("source"), SOURCES, "dispute source"),
            threat=_flag(dispute.get("threat_reported", False), "dispute.threat_reported"),
            violence=_flag(dispute.get("violence_reported", False), "dispute.violence_reported"),
            weapon=_flag(dispute.get("weapon_mentioned", False), "dispute.weapon_mentioned"),
            amount=float(amount) if amount is not None and not pd.isna(amount) else np.nan,
            parties=people,
            event_time=[e[0] for e in ev],
            event_kind=[e[1] for e in ev],
        )

    def _party(self, pid: str, row: Mapping[str, object], roles: frozenset[int]) -> Party:
        index = self._index
        node = int(index.person_pos.get_indexer([pid])[0])
        if node >= 0:
            return Party(
                pid,
                node,
                roles,
                float(index.birth_year[node]),
                int(index.gender[node]),
                index.household[node],
            )
        year = row.get("birth_year")
        household = row.get("household_id")
        gender = row.get("gender", "unknown")
        grid = int(index.grid_pos.get_indexer([str(row.get("grid_id"))])[0])
        return Party(
            pid,
            -1,
            roles,
            float(year) if year is not None and not pd.isna(year) else np.nan,  # type: ignore[arg-type]
            _enum(gender if gender is not None else "unknown", GENDERS, "gender"),
            str(household) if household is not None and not pd.isna(household) else None,  # type: ignore[arg-type]
            grid,
        )


def _new_residents(index: Index, new: list[Party]) -> np.ndarray | None:
    """New people per grid where the population is counted from residents, else None."""
    grids = [p.grid for p in new if p.grid >= 0 and not index.grid_population_given[p.grid]]
    return np.bincount(grids, minlength=index.n_grids).astype(float) if grids else None


def _flag(value: object, what: str) -> bool:
    """A contract bool: True/False, 1/0, or the strings "true"/"false"/"1"/"0"."""
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    if value is None or (
        isinstance(value, bool | int | np.bool_ | np.integer) and value in (True, False)
    ):
        return bool(value)
    raise RequestError(f"expected {what} true or false, got {value!r}")


def _enum(value: object, allowed: tuple[str, ...], what: str) -> int:
    if value not in allowed:
        raise RequestError(f"expected {what} one of {list(allowed)}, got {value!r}")
    return allowed.index(str(value))


def _frame(
    ids: np.ndarray, stamps: np.ndarray, columns: Mapping[str, object], names: list[str]
) -> pd.DataFrame:
    """Typed columns: bool, int64, float64 and Categorical with the registry's categories."""
    cols: dict[str, object] = {
        "dispute_id": pd.array(ids, dtype="str"),
        "as_of": pd.to_datetime(stamps).astype("datetime64[ns]"),
    }
    for name in names:
        cols[name] = column(name, columns[name])  # type: ignore[arg-type]
    return pd.DataFrame(cols)


def _empty(name: str, n: int) -> np.ndarray:
    dtype = {"bool": bool, "int": np.int64, "float": np.float64}.get(REGISTRY.get(name).dtype)
    return np.zeros(n, dtype=dtype or object)


def column(name: str, values: list[object] | np.ndarray) -> pd.Series | pd.Categorical | np.ndarray:
    """``values`` of feature ``name`` in the registry's dtype."""
    spec = REGISTRY.get(name)
    if spec.dtype == "category":
        return pd.Categorical(values, categories=list(spec.categories))
    if spec.dtype == "bool":
        return np.array(values, dtype=bool)
    if spec.dtype == "int":
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


def build_features(
    dataset: Dataset,
    snapshots: pd.DataFrame,
    progress: Progress | None = None,
    *,
    retention: RetentionPolicy | None = None,
) -> pd.DataFrame:
    """One row per snapshot, in input order: ``dispute_id``, ``as_of``, then every feature
    in registry order, computed only from what was known at ``as_of``.

    ``retention``: a policy (``riskwarn.load_retention``); each snapshot then reads only the
    rows not yet expired at its ``as_of`` (a row expired on day E is seen by snapshots
    dated before E and by none from E on)."""
    if retention is None:
        return FeatureBuilder(dataset).transform(snapshots, progress=progress)
    parts = [
        (rows, FeatureBuilder(ds).transform(snapshots.iloc[rows], progress=progress))
        for rows, ds in _retained_views(dataset, snapshots, retention)
    ]
    return _in_order(parts, len(snapshots))


def build_facts(
    dataset: Dataset, snapshots: pd.DataFrame, *, retention: RetentionPolicy | None = None
) -> list[list[KeyFact]]:
    """Key facts per snapshot, in input order, from what was known at each ``as_of`` (and,
    with ``retention``, not expired by then, as :func:`build_features`)."""
    if retention is None:
        return FeatureBuilder(dataset).facts(snapshots)
    out: list[list[KeyFact]] = [[] for _ in range(len(snapshots))]
    for rows, ds in _retained_views(dataset, snapshots, retention):
        for r, found in zip(
            rows.tolist(), FeatureBuilder(ds).facts(snapshots.iloc[rows]), strict=True
        ):
            out[r] = found
    return out


def _retained_views(
    dataset: Dataset, snapshots: pd.DataFrame, retention: RetentionPolicy
) -> list[tuple[np.ndarray, Dataset]]:
    """The snapshots (row positions) grouped by the retained view they read: the view
    changes only at expiry moments, so snapshot dates with no expiry between them share
    one dataset (and one builder)."""
    found = expiry(dataset, retention)
    moments = found.moments().as_unit("ns").asi8
    stamps = ns(snapshots["as_of"])
    epoch = np.searchsorted(moments, stamps, side="right")  # expiry moments at or before
    views = []
    for e in np.unique(epoch).tolist():
        rows = np.flatnonzero(epoch == e)
        ds = dataset if e == 0 else found.retained(pd.Timestamp(moments[e - 1]))
        _check_not_expired(ds, snapshots.iloc[rows], found)
        views.append((rows, ds))
    return views


def _check_not_expired(ds: Dataset, snapshots: pd.DataFrame, found: Expiry) -> None:
    held = set(ds.disputes["dispute_id"].astype("object"))
    gone = [d for d in snapshots["dispute_id"].astype("object") if d not in held]
    if not gone:
        return
    known = found.dataset.disputes["dispute_id"].astype("object")
    at = found.dates["disputes"][known.isin(gone[:1]).to_numpy()]
    when = f" on {at.iloc[0]:%Y-%m-%d}" if len(at) and pd.notna(at.iloc[0]) else ""
    raise UnknownRecordError(
        f"expected snapshots of disputes not expired at their as_of, got {gone[0]!r}, which "
        f"expired{when} under the retention policy; leave out snapshots dated on or after a "
        "dispute's expiry"
    )


def _in_order(parts: list[tuple[np.ndarray, pd.DataFrame]], n: int) -> pd.DataFrame:
    frame = pd.concat([f for _, f in parts], ignore_index=True)
    order = np.argsort(np.concatenate([rows for rows, _ in parts]), kind="stable")
    out = frame.iloc[order].reset_index(drop=True)
    assert len(out) == n
    return out
