"""FeatureBuilder: features for snapshots, for one held case, and for a new case.

All three paths run the same feature functions (``_features.py``) on the same per-day
state, so the scoring service gets exactly what training saw. Graph and area state is
computed per graph day (``as_of`` at midnight) by sweeping forward and kept in a small LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from riskwarn._contract import CATEGORIES, EVENT_KINDS, GENDERS, PARTY_ROLES, SOURCES
from riskwarn._dataset import Dataset
from riskwarn._progress import Progress, report
from riskwarn.errors import RequestError, UnknownRecordError

from ._area import area_day
from ._facts import KeyFact, case_facts
from ._features import Case, Day, Party, all_values, recent_incidents
from ._graph import PeopleGraph, co_involvement_pairs, graph_day
from ._index import NS_DAY, Index, ns
from ._registry import REGISTRY
from ._specs import HOPS_CAP

CACHE_DAYS = 4


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


class FeatureBuilder:
    """Point-in-time features of disputes in ``dataset``.

    >>> builder = FeatureBuilder(dataset)                        # doctest: +SKIP
    >>> builder.features_for("D1", "2024-03-01")["events_mediation_failure_30d"]  # doctest: +SKIP
    """

    def __init__(self, dataset: Dataset, cache_days: int = CACHE_DAYS) -> None:
        self.dataset = dataset
        self.cache_days = cache_days
        self._index = Index(dataset)
        self._graph = PeopleGraph(self._index)
        self._days: OrderedDict[int, Day] = OrderedDict()
        self._names = REGISTRY.names()

    # per-day state ---------------------------------------------------------------------
    def _day(self, day: int) -> Day:
        cached = self._days.get(day)
        if cached is not None:
            self._days.move_to_end(day)
            return cached
        index = self._index
        tie_u, tie_v, co_u, co_v = self._graph.links(day)
        state = self._make_day(day, index.n_persons, tie_u, tie_v, co_u, co_v, extra_grid=-1)
        self._days[day] = state
        while len(self._days) > self.cache_days:
            self._days.popitem(last=False)
        return state

    def _make_day(
        self,
        day: int,
        n_nodes: int,
        tie_u: np.ndarray,
        tie_v: np.ndarray,
        co_u: np.ndarray,
        co_v: np.ndarray,
        extra_grid: int,
    ) -> Day:
        index = self._index
        recent = recent_incidents(index, day)
        sources = np.array(sorted(recent), dtype=np.int64)
        graph = graph_day(day, n_nodes, tie_u, tie_v, co_u, co_v, sources, HOPS_CAP)
        return Day(
            day=day,
            graph=graph,
            area=area_day(index, day, extra_grid),
            open_disputes=frozenset(np.flatnonzero(index.open_mask(day)).tolist()),
            recent_incidents=recent,
        )

    def _day_with_case(self, day: int, case: Case) -> tuple[Day, list[int]]:
        """The day's state with a case the dataset does not hold added to it, and its nodes.

        Only needed when the case was reported by the day's midnight; then its
        co-involvement links join the graph and it counts in its grid's dispute rate.
        """
        index = self._index
        new = [p for p in case.parties if p.node < 0]
        residents = _new_residents(index, new)
        if case.held >= 0 or case.reported > day:
            base = self._day(day)
            if residents is not None:  # new people change residents-based populations
                base = replace(base, area=area_day(index, day, -1, residents))
            return base, [p.node for p in case.parties]
        nodes = [p.node if p.node >= 0 else index.n_persons + new.index(p) for p in case.parties]
        n_nodes = index.n_persons + len(new)
        tie_u, tie_v, co_u, co_v = self._graph.links(day)
        cu, cv, _ = co_involvement_pairs([np.array(nodes, dtype=np.int64)])
        co_u, co_v = _union(n_nodes, co_u, co_v, cu, cv)
        recent_window = case.reported > day - 365 * NS_DAY
        extra = case.grid if recent_window else -1
        state = self._make_day(day, n_nodes, tie_u, tie_v, co_u, co_v, extra_grid=extra)
        if residents is not None:
            state = replace(state, area=area_day(index, day, extra, residents))
        return state, nodes

    # the three paths -------------------------------------------------------------------
    def _values(self, case: Case, t: int) -> dict[str, object]:
        if case.reported > t:
            raise RequestError(
                f"expected a dispute reported at or before as_of; dispute was reported at "
                f"{pd.Timestamp(case.reported)}, after as_of {pd.Timestamp(t)}; "
                "features exist only for disputes known at as_of"
            )
        day, nodes = self._day_with_case(_midnight(t), case)
        values = all_values(self._index, case, t, day, nodes)
        return {name: values[name] for name in self._names}

    def _held(self, dispute_id: object) -> int:
        pos = self._index.dispute_pos.get_indexer([str(dispute_id)])[0]
        if pos < 0:
            raise UnknownRecordError(
                f"expected a dispute_id the dataset holds, got {dispute_id!r}; "
                "use features_for_case for a case not yet in the dataset"
            )
        return int(pos)

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

    def transform(self, snapshots: pd.DataFrame, progress: Progress | None = None) -> pd.DataFrame:
        """One row of features per snapshot (``dispute_id``, ``as_of``), in input order."""
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
        stamps = ns(snapshots["as_of"])
        days = stamps - stamps % NS_DAY
        rows: list[list[object]] = [[] for _ in range(len(snapshots))]
        order = np.lexsort((held, days))
        total = len(order)
        done = 0
        cases: dict[int, Case] = {}
        for day in np.unique(days).tolist():
            self._day(day)
            at = order[days[order] == day]
            for r in at.tolist():
                d = int(held[r])
                case = cases.get(d)
                if case is None:
                    case = cases[d] = Case.held_by(self._index, d)
                values = self._values(case, int(stamps[r]))
                rows[r] = [values[n] for n in self._names]
            done += len(at)
            report(progress, done, total, f"features {pd.Timestamp(day):%Y-%m-%d}")
        return _frame(ids, stamps, rows, self._names)

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
        stamps = ns(snapshots["as_of"])
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


def _union(
    n: int, u: np.ndarray, v: np.ndarray, more_u: np.ndarray, more_v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = max(n, 1)
    key = np.unique(np.concatenate([u, more_u]) * n + np.concatenate([v, more_v]))
    return key // n, key % n


def _frame(
    ids: np.ndarray, stamps: np.ndarray, rows: list[list[object]], names: list[str]
) -> pd.DataFrame:
    """Typed columns: bool, int64, float64 and Categorical with the registry's categories."""
    cols: dict[str, object] = {
        "dispute_id": pd.array(ids, dtype="str"),
        "as_of": pd.to_datetime(stamps).astype("datetime64[ns]"),
    }
    by_col = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    for name, values in zip(names, by_col, strict=True):
        cols[name] = column(name, list(values))
    return pd.DataFrame(cols)


def column(name: str, values: list[object]) -> pd.Series | pd.Categorical | np.ndarray:
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
    dataset: Dataset, snapshots: pd.DataFrame, progress: Progress | None = None
) -> pd.DataFrame:
    """One row per snapshot, in input order: ``dispute_id``, ``as_of``, then every feature
    in registry order, computed only from what was known at ``as_of``."""
    return FeatureBuilder(dataset).transform(snapshots, progress=progress)


def build_facts(dataset: Dataset, snapshots: pd.DataFrame) -> list[list[KeyFact]]:
    """Key facts per snapshot, in input order, from what was known at each ``as_of``."""
    return FeatureBuilder(dataset).facts(snapshots)
