"""The people graphs as they stood on a day, built by sweeping forward in time.

Nodes are persons (numbered by sorted id). The relationship graph links two people while a
tie between them is active (``since`` empty or at or before the day, ``until`` empty or
after it); the co-involvement graph links them once they have been parties of the same
dispute reported at or before the day (such links never end); the people graph is their
union. :class:`EdgeSweep` keeps a count of active reasons per pair and moves forward day by
day, adding what each period brings and removing ended ties; going back in time restarts
it. Whole-graph measures (component size, k-core number, PageRank; hops to recent
incidents in the union) are then computed on each graph's sparse matrix with scipy. They
equal networkx's ``connected_components``, ``core_number`` and ``pagerank`` (networkx is
the reference: tests/features/test_graph.py checks all three against it); networkx itself
takes ~9 s per date for the three graphs at 100,000 people, scipy ~0.2 s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ._index import ALWAYS, NEVER, Index

PAGERANK_ALPHA = 0.85
PAGERANK_TOL = 1e-8  # L1 change per iteration; scaled values are rounded to 4 decimals
PAGERANK_MAX_ITER = 300
PAGERANK_DECIMALS = 4


def co_involvement_pairs(parties: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, case number) for every pair of distinct people sharing a case, u < v."""
    us, vs, cs = [], [], []
    for c, people in enumerate(parties):
        people = np.unique(people)
        if len(people) < 2:
            continue
        iu, iv = np.triu_indices(len(people), k=1)
        us.append(people[iu])
        vs.append(people[iv])
        cs.append(np.full(len(iu), c, dtype=np.int64))
    if not us:
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(us), np.concatenate(vs), np.concatenate(cs)


def dispute_pairs(index: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Co-involvement links of every held dispute, with the dispute's registration time."""
    start, person = index.parties.start, index.parties.cols["person"]
    counts = np.diff(start)
    multi = np.flatnonzero(counts >= 2)
    u, v, c = co_involvement_pairs([person[start[d] : start[d + 1]] for d in multi])
    return u, v, index.reported[multi[c]] if len(c) else c


class EdgeSweep:
    """Active links of the people graph, advanced forward in time.

    ``advance(day)`` applies the links that started in ``(previous day, day]`` and removes
    those that ended in it, so a run over monthly dates touches each link twice at most.
    """

    def __init__(
        self,
        n_nodes: int,
        u: np.ndarray,
        v: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
    ) -> None:
        live = start < end  # a link that ends before it starts is never active
        u, v, start, end = u[live], v[live], start[live], end[live]
        pairs = pd.DataFrame({"u": u, "v": v})
        uniq = pairs.drop_duplicates().sort_values(["u", "v"])
        self.n_nodes = n_nodes
        self.pair_u = uniq["u"].to_numpy(np.int64)
        self.pair_v = uniq["v"].to_numpy(np.int64)
        key = self.pair_u * max(n_nodes, 1) + self.pair_v
        self.event_pair = np.searchsorted(key, u * max(n_nodes, 1) + v)
        self.event_start, self.event_end = start, end
        self._by_start = np.argsort(start, kind="stable")
        self._by_end = np.argsort(end, kind="stable")
        self._sorted_start = start[self._by_start]
        self._sorted_end = end[self._by_end]
        self.reset()

    def reset(self) -> None:
        self.day = ALWAYS
        self.count = np.zeros(len(self.pair_u), dtype=np.int64)
        self._added = 0
        self._removed = 0

    def advance(self, day: int) -> np.ndarray:
        """Move to ``day`` (ns) and return the ids of the pairs linked that day."""
        if day < self.day:
            self.reset()
        added = int(np.searchsorted(self._sorted_start, day, side="right"))
        removed = int(np.searchsorted(self._sorted_end, day, side="right"))
        n = len(self.count)
        if added > self._added:
            new = self.event_pair[self._by_start[self._added : added]]
            self.count += np.bincount(new, minlength=n)
        if removed > self._removed:
            gone = self.event_pair[self._by_end[self._removed : removed]]
            self.count -= np.bincount(gone, minlength=n)
        self._added, self._removed, self.day = added, removed, day
        return np.flatnonzero(self.count > 0)

    def active_plain(self, day: int) -> np.ndarray:
        """The same answer as :meth:`advance` from scratch (used to check the sweep)."""
        live = (self.event_start <= day) & (self.event_end > day)
        return np.unique(self.event_pair[live])


def adjacency(n: int, u: np.ndarray, v: np.ndarray) -> csr_matrix:
    """Symmetric 0/1 CSR adjacency of an undirected simple graph (layout fixed by the pairs)."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.ones(len(rows), dtype=np.float64)
    adj = csr_matrix((data, (rows, cols)), shape=(n, n))
    adj.sum_duplicates()  # canonical (sorted, merged): the same matrix whatever the pair order
    adj.data[:] = 1.0
    return adj


def core_numbers(adj: csr_matrix) -> np.ndarray:
    """k-core number of every node (as networkx's ``core_number``), by batch peeling."""
    n = adj.shape[0]
    degree = np.diff(adj.indptr).astype(np.int64)
    core = np.zeros(n, dtype=np.int64)
    alive = degree > 0
    k = 1
    while alive.any():
        while True:
            peel = np.flatnonzero(alive & (degree <= k))
            if len(peel) == 0:
                break
            core[peel] = k
            alive[peel] = False
            nbrs = adj[peel].indices
            degree -= np.bincount(nbrs, minlength=n)
        k += 1
    return core


def pagerank(adj: csr_matrix) -> np.ndarray:
    """PageRank (alpha 0.85) over the linked nodes, scaled so the mean is 1; 0 for isolated."""
    n = adj.shape[0]
    degree = np.diff(adj.indptr).astype(np.float64)
    linked = degree > 0
    m = int(linked.sum())
    x = np.zeros(n)
    if m == 0:
        return x
    x[linked] = 1.0 / m
    inv = np.zeros(n)
    inv[linked] = 1.0 / degree[linked]
    teleport = np.where(linked, (1 - PAGERANK_ALPHA) / m, 0.0)
    for _ in range(PAGERANK_MAX_ITER):
        nxt = PAGERANK_ALPHA * (adj @ (x * inv)) + teleport
        err = np.abs(nxt - x).sum()
        x = nxt
        if err < PAGERANK_TOL:
            break
    return np.round(x * m, PAGERANK_DECIMALS)


def hops_to(adj: csr_matrix, sources: np.ndarray, cap: int) -> np.ndarray:
    """Hops from every node to the nearest source, ``cap`` when none within ``cap - 1``."""
    n = adj.shape[0]
    dist = np.full(n, cap, dtype=np.int64)
    if len(sources) == 0:
        return dist
    dist[sources] = 0
    frontier = np.zeros(n)
    frontier[sources] = 1.0
    for h in range(1, cap):
        reach = (adj @ frontier) > 0
        new = reach & (dist == cap)
        if not new.any():
            break
        dist[new] = h
        frontier = new.astype(np.float64)
    return dist


GRAPHS = ("all", "ties", "co")
"""The people graph (``all``: ties and co-involvement together), the relationship graph
(``ties``) and the co-involvement graph (``co``)."""


@dataclass(frozen=True)
class Measures:
    """Per-person whole-graph measures of one graph on one day."""

    component: np.ndarray
    component_size: np.ndarray
    core: np.ndarray
    pagerank: np.ndarray

    @classmethod
    def of(cls, adj: csr_matrix) -> Measures:
        _, component = connected_components(adj, directed=False)
        return cls(
            component=component.astype(np.int64),
            component_size=np.bincount(component)[component].astype(np.int64),
            core=core_numbers(adj),
            pagerank=pagerank(adj),
        )


@dataclass(frozen=True)
class GraphDay:
    """The three graphs on one day, their per-person measures, and hops to incidents."""

    day: int
    ties: csr_matrix
    coinvolved: csr_matrix
    measures: dict[str, Measures]  # by GRAPHS name
    incident_hops: np.ndarray  # in the people graph (all links)
    _lists: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # neighbour lookups per case walk Python lists: far faster than numpy on a few rows
        self._lists.update(
            ties_ptr=self.ties.indptr.tolist(),
            ties_ind=self.ties.indices.tolist(),
            co_ptr=self.coinvolved.indptr.tolist(),
            co_ind=self.coinvolved.indices.tolist(),
        )

    def ring(self, people: Iterable[int], exclude: set[int], graph: str = "all") -> set[int]:
        """Distinct people linked to any of ``people`` in ``graph`` (one of :data:`GRAPHS`),
        not counting ``exclude``."""
        people = list(people)
        out: set[int] = set()
        for name in ("ties", "co") if graph == "all" else (graph,):
            ptr, ind = self._lists[f"{name}_ptr"], self._lists[f"{name}_ind"]
            n = len(ptr) - 1
            for p in people:
                if 0 <= p < n:
                    out.update(ind[ptr[p] : ptr[p + 1]])
        return out - exclude


def graph_day(
    day: int,
    n_nodes: int,
    tie_u: np.ndarray,
    tie_v: np.ndarray,
    co_u: np.ndarray,
    co_v: np.ndarray,
    incident_people: np.ndarray,
    hops_cap: int,
) -> GraphDay:
    """Measures of the relationship graph (links ``tie_*``), the co-involvement graph
    (``co_*``) and their union, with hops to ``incident_people`` in the union."""
    ties = adjacency(n_nodes, tie_u, tie_v)
    co = adjacency(n_nodes, co_u, co_v)
    both = (ties + co).tocsr()
    both.data[:] = 1.0
    return GraphDay(
        day=day,
        ties=ties,
        coinvolved=co,
        measures={"all": Measures.of(both), "ties": Measures.of(ties), "co": Measures.of(co)},
        incident_hops=hops_to(both, incident_people, hops_cap),
    )


class PeopleGraph:
    """Links of held data (ties and co-involvement) and the sweeps over them."""

    def __init__(self, index: Index) -> None:
        self.index = index
        n = index.n_persons
        co_u, co_v, co_t = dispute_pairs(index)
        never = np.full(len(co_t), NEVER, dtype=np.int64)
        self.tie_sweep = EdgeSweep(n, index.tie_u, index.tie_v, index.tie_since, index.tie_until)
        self.co_sweep = EdgeSweep(n, co_u, co_v, co_t, never)

    def links(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(u, v) of the relationship ties and of the co-involvement links on ``day``."""
        ties = self.tie_sweep.advance(day)
        co = self.co_sweep.advance(day)
        s, c = self.tie_sweep, self.co_sweep
        return s.pair_u[ties], s.pair_v[ties], c.pair_u[co], c.pair_v[co]
