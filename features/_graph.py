"""The people graphs as they stood on a day, built by sweeping forward in time.

Nodes are persons (numbered by sorted id). The relationship graph links two people while a
tie between them is active (``since`` empty or at or before the day, ``until`` empty or
after it); the co-involvement graph links them once they have been parties of the same
dispute reported at or before the day (such links never end); the people graph is their
union.

Per day the work follows what changed and who is asked about:

- :class:`EdgeSweep` keeps a count of active reasons per pair and moves between days,
  adding what each period brings and removing ended ties; :class:`Layout` lays every pair
  ever linked out once as a symmetric CSR, so a day's adjacency is a mask over it.
- Components come from scipy's ``connected_components`` on small quotient graphs: the
  ties that hold on every day are joined once, and a day's other ties merge those
  components; co-involvement links merge the ties' components into the people graph's,
  and the previous day's co-involvement components forward in time.
- Core numbers and PageRank are local to a component (PageRank with teleport over the
  linked people, scaled by their number, equals the component's size times the
  component's own PageRank), so :class:`Graph` computes them per component, only for
  components that hold someone asked about, and carries them over from the previous day
  for every component whose links did not change. A component's PageRank is the solution
  of a linear system, solved directly when small and by conjugate gradients when large.
- The three graphs of a day are measured side by side on threads (:meth:`GraphDay.ensure`):
  their work is sparse products and large array operations, which let go of the GIL, so
  a second core shares it (at 1,000,000 people over 3 years the graph days took 45 s on
  two cores where one took 66 s).
- Hops to recent incidents are a breadth-first search from the incidents' people, three
  hops deep at most; neighbour counts are gathers over the parties' rows
  (``_features.py``).
- Inside, nodes sit in a reverse Cuthill-McKee order of everyone ever linked
  (:class:`GraphDay` translates), which keeps sparse products cache-friendly.

What cannot be local: the PageRank of a component is global to it, so a day whose links
changed inside a component of a million people solves that component again (a fraction
of a second), and so does a new case whose links reach into it.

Every measure equals networkx's (``connected_components``, ``core_number``, ``pagerank``;
tests/features/test_graph.py checks them, across many days of one sweep, against networkx
on graphs rebuilt from the tables).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csc_matrix, csr_matrix, diags
from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee
from scipy.sparse.linalg import spsolve

from ._index import ALWAYS, NEVER, Index

PAGERANK_ALPHA = 0.85
PAGERANK_TOL = 1e-9
"""Conjugate gradients stop when ``||D^-1/2 r||_2`` is below this, so no value is off by
more than ``6.7e-9 * sqrt(degree)`` (measured: 1e-9 at most over a million people), far
inside the 4 decimals kept."""
PAGERANK_MAX_ITER = 500
PAGERANK_DECIMALS = 4
DIRECT_MAX = 2000
"""Components up to this many people get PageRank by a direct sparse solve (all such
components of a day in one block-diagonal system); larger ones by conjugate gradients."""


# small array tools ------------------------------------------------------------------------
def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``a``, by sorting (numpy 2.4's hash-based ``unique`` is
    about a hundred times slower on int64 arrays)."""
    s = np.sort(np.asarray(a).ravel())
    if len(s) < 2:
        return s
    return s[np.concatenate([[True], s[1:] != s[:-1]])]


def unique_counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of ``a`` and how often each occurs."""
    s = np.sort(np.asarray(a).ravel())
    if len(s) == 0:
        return s, np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
    return s[first], np.diff(np.append(first, len(s)))


def unique_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of ``a`` and, per element, the position of its value."""
    a = np.asarray(a).ravel()
    order = np.argsort(a, kind="stable")
    s = a[order]
    new = np.concatenate([[True], s[1:] != s[:-1]]) if len(s) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(a), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return s[new], inverse


def spans(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) of every position in the ranges ``lo[i]:hi[i]``, in order."""
    lens = hi - lo
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), lens)
    first = np.cumsum(lens) - lens
    return owner, np.repeat(lo - first, lens) + np.arange(int(lens.sum()), dtype=np.int64)


def gather(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``rows``, entry) of every stored entry of ``rows`` of a CSR layout."""
    rows = np.asarray(rows, dtype=np.int64)
    return spans(indptr[rows], indptr[rows + 1])


def in_sorted(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Which ``values`` occur in ``sorted_keys`` (ascending)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_keys, values)
    at[at == len(sorted_keys)] = len(sorted_keys) - 1
    return sorted_keys[at] == values


# links over time --------------------------------------------------------------------------
def co_involvement_pairs(parties: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, case number) for every pair of distinct people sharing a case, u < v."""
    us, vs, cs = [], [], []
    for c, people in enumerate(parties):
        people = unique(people)
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
    frame = pd.DataFrame(
        {"d": np.repeat(np.arange(index.n_disputes), np.diff(start)), "p": person}
    ).drop_duplicates()
    d, p = frame["d"].to_numpy(np.int64), frame["p"].to_numpy(np.int64)
    counts = np.bincount(d, minlength=index.n_disputes)
    empty = np.array([], dtype=np.int64)
    if not (counts >= 2).any():
        return empty, empty, empty
    # all pairs within each dispute, by the sizes of the disputes (one numpy pass per size)
    order = np.lexsort((p, d))
    d, p = d[order], p[order]
    begin = np.cumsum(counts) - counts
    us, vs, ds = [], [], []
    for size in unique(counts[counts >= 2]).tolist():
        which = np.flatnonzero(counts == size)
        block = p[begin[which][:, None] + np.arange(size)]
        iu, iv = np.triu_indices(size, k=1)
        us.append(block[:, iu].ravel())
        vs.append(block[:, iv].ravel())
        ds.append(np.repeat(which, len(iu)))
    u, v, dd = np.concatenate(us), np.concatenate(vs), np.concatenate(ds)
    return u, v, index.reported[dd]


class EdgeSweep:
    """Active links of a graph, moved between days.

    ``advance(day)`` applies the links that started in ``(previous day, day]`` and removes
    those that ended in it, so a run over monthly dates touches each link twice at most;
    going back in time restarts from the beginning.
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
        key = u.astype(np.int64) * max(n_nodes, 1) + v
        uniq, self.event_pair = unique_inverse(key)
        self.n_nodes = n_nodes
        self.pair_u = uniq // max(n_nodes, 1)
        self.pair_v = uniq % max(n_nodes, 1)
        self.event_start, self.event_end = start, end
        self._by_start = np.argsort(start, kind="stable")
        self._by_end = np.argsort(end, kind="stable")
        self._sorted_start = start[self._by_start]
        self._sorted_end = end[self._by_end]
        self.reset()

    def reset(self) -> None:
        self.day = ALWAYS
        self.count = np.zeros(len(self.pair_u), dtype=np.int32)
        self._added = 0
        self._removed = 0

    def _move(self, day: int) -> None:
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

    def active(self, day: int) -> np.ndarray:
        """Move to ``day`` (ns); which pairs are linked that day (bool per pair)."""
        self._move(day)
        return self.count > 0

    def advance(self, day: int) -> np.ndarray:
        """Move to ``day`` (ns) and return the ids of the pairs linked that day."""
        return np.flatnonzero(self.active(day))

    def active_plain(self, day: int) -> np.ndarray:
        """The same answer as :meth:`advance` from scratch (used to check the sweep)."""
        live = (self.event_start <= day) & (self.event_end > day)
        return unique(self.event_pair[live])


class Layout:
    """Every pair a graph ever links, laid out once as a symmetric CSR (rows sorted), so
    the adjacency of a day is the entries of that day's active pairs."""

    def __init__(self, n_nodes: int, pair_u: np.ndarray, pair_v: np.ndarray) -> None:
        # row r holds its links to smaller nodes (pair (u, r)), then to larger ones (pair
        # (r, v)); each part is sorted by the other end once the pairs are sorted by (u, v)
        pair_u, pair_v = np.asarray(pair_u, dtype=np.int64), np.asarray(pair_v, dtype=np.int64)
        lo, hi = np.minimum(pair_u, pair_v), np.maximum(pair_u, pair_v)
        ids = np.arange(len(pair_u), dtype=np.int64)
        up = np.argsort(lo * max(n_nodes, 1) + hi)
        down = up[np.argsort(hi[up], kind="stable")]
        below = np.bincount(hi, minlength=n_nodes)
        above = np.bincount(lo, minlength=n_nodes)
        start = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(below + above, out=start[1:])
        index = np.int32 if n_nodes < 2**31 else np.int64
        self.n_nodes = n_nodes
        self.pair_u, self.pair_v = pair_u, pair_v
        self.start = start  # row r's entries are start[r]:start[r + 1]
        self.cols = np.empty(2 * len(pair_u), dtype=index)
        self.pair = np.empty(2 * len(pair_u), dtype=index if len(pair_u) < 2**31 else np.int64)
        for order, row, col, offset in (
            (down, hi, lo, start[:-1]),
            (up, lo, hi, start[:-1] + below),
        ):
            r = row[order]
            at = offset[r] + (np.arange(len(r)) - np.searchsorted(r, r))
            self.cols[at], self.pair[at] = col[order], ids[order]

    def adjacency(self, active: np.ndarray) -> csr_matrix:
        """The 0/1 adjacency of the pairs marked in ``active`` (canonical CSR)."""
        keep = active[self.pair]
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        # kept[i]: entries kept before entry i; int32 when the count fits (half the memory
        # to fill, and numpy sums into it faster)
        kept = np.zeros(len(keep) + 1, dtype=np.int32 if len(keep) < 2**31 else np.int64)
        np.cumsum(keep, out=kept[1:])
        indptr[1:] = kept[self.start[1:]]
        return _csr(self.n_nodes, None, self.cols[keep], indptr)


_ONES = np.ones(0)


def _csr(
    n: int, rows: np.ndarray | None, cols: np.ndarray, indptr: np.ndarray | None = None
) -> csr_matrix:
    """A canonical 0/1 CSR from entries already sorted by (row, column) without repeats
    (the rows given, or their ``indptr``)."""
    global _ONES
    if len(_ONES) < len(cols):
        _ONES = np.ones(max(len(cols), 2 * len(_ONES)))
    if indptr is None:
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    adj = csr_matrix((_ONES[: len(cols)], cols, indptr), shape=(n, n), copy=False)
    adj.has_sorted_indices = True
    adj.has_canonical_format = True
    return adj


def adjacency(n: int, u: np.ndarray, v: np.ndarray) -> csr_matrix:
    """Symmetric 0/1 CSR adjacency of an undirected simple graph (layout fixed by the pairs)."""
    rows = np.concatenate([u, v]).astype(np.int64)
    cols = np.concatenate([v, u]).astype(np.int64)
    key = unique(rows * max(n, 1) + cols)
    return _csr(n, key // max(n, 1), key % max(n, 1))


# measures -----------------------------------------------------------------------------------
def core_numbers(adj: csr_matrix, members: np.ndarray | None = None) -> np.ndarray:
    """k-core number of every node (as networkx's ``core_number``), by batch peeling.

    With ``members`` (a bool mask closed under the links, e.g. whole components) only
    those nodes are peeled; the others get 0. Each round peels the nodes left with at most
    k links; after the first round of a level only the neighbours of the nodes just
    peeled are looked at again, and each level looks only at the nodes still there.
    """
    n = adj.shape[0]
    indptr, indices = adj.indptr, adj.indices
    degree = np.diff(indptr).astype(np.int64)
    core = np.zeros(n, dtype=np.int32)
    alive = degree > 0 if members is None else members & (degree > 0)
    left = np.flatnonzero(alive)  # who may still be alive: shrinks as levels are peeled
    k = 0
    while len(left):
        left = left[alive[left]]
        if len(left) == 0:
            break
        k = max(k + 1, int(degree[left].min()))  # no one to peel at the levels between
        peel = left[degree[left] <= k]
        while len(peel):
            core[peel] = k
            alive[peel] = False
            _, at = gather(indptr, peel)
            nbrs = indices[at]
            nbrs = nbrs[alive[nbrs]]
            if len(nbrs) > n // 16:  # a big round: one pass over everyone is cheaper
                drop = np.bincount(nbrs, minlength=n)
                degree -= drop
                peel = np.flatnonzero((drop > 0) & (degree <= k))
            else:
                nbrs, times = unique_counts(nbrs)
                degree[nbrs] -= times
                peel = nbrs[degree[nbrs] <= k]
    return core


def solve_pagerank(
    matvec: Callable[[np.ndarray], np.ndarray], degree: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Scaled PageRank ``y`` of linked nodes: ``y = alpha A D^-1 y + (1 - alpha)``.

    Solved as the symmetric positive definite system ``(D - alpha A) z = (1 - alpha)``,
    ``y = D z``, by conjugate gradients with the degrees as preconditioner (condition
    number at most 12.3 whatever the graph), from ``start`` (a guess of ``y``). Every
    node must have a link; ``matvec`` multiplies by ``A``.
    """
    inv = 1.0 / degree
    z = start * inv
    r = (1.0 - PAGERANK_ALPHA) - (degree * z - PAGERANK_ALPHA * matvec(z))
    s = inv * r
    p = s.copy()
    rs = _dot(r, s)
    for _ in range(PAGERANK_MAX_ITER):
        if rs <= PAGERANK_TOL**2:
            return degree * z
        q = degree * p
        q -= PAGERANK_ALPHA * matvec(p)
        step = rs / _dot(p, q)
        z += step * p
        r -= step * q
        np.multiply(inv, r, out=s)
        rs, previous = _dot(r, s), rs
        p *= rs / previous
        p += s
    raise ArithmeticError(
        f"PageRank did not converge in {PAGERANK_MAX_ITER} iterations (residual {rs**0.5:.1e})"
    )


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """A dot product without BLAS: its threads spin on a busy machine, and its sums
    depend on the thread count; numpy's own loop is as fast here and always the same."""
    return float(np.einsum("i,i->", a, b))


def pagerank_direct(adj: csr_matrix) -> np.ndarray:
    """Scaled PageRank of every node of ``adj`` (all linked) by one sparse direct solve."""
    degree = np.diff(adj.indptr).astype(np.float64)
    system = csc_matrix(diags(degree) - PAGERANK_ALPHA * adj)
    z = spsolve(system, np.full(len(degree), 1.0 - PAGERANK_ALPHA))
    return degree * np.atleast_1d(z)


def pagerank_of(adj: csr_matrix) -> np.ndarray:
    """Scaled PageRank of one connected component given as its own adjacency."""
    if adj.shape[0] <= DIRECT_MAX:
        return pagerank_direct(adj)
    degree = np.diff(adj.indptr).astype(np.float64)
    return solve_pagerank(adj.__matmul__, degree, np.ones(adj.shape[0]))


def hops_to(adj: csr_matrix, sources: np.ndarray, cap: int) -> np.ndarray:
    """Hops from every node to the nearest source, ``cap`` when none within ``cap - 1``.

    A breadth-first search from the sources: the work is the ``cap - 1`` hop neighbourhood
    of the sources, not the graph.
    """
    n = adj.shape[0]
    dist = np.full(n, cap, dtype=np.int8)
    frontier = unique(np.asarray(sources, dtype=np.int64))
    frontier = frontier[(frontier >= 0) & (frontier < n)]
    dist[frontier] = 0
    for h in range(1, cap):
        if len(frontier) == 0:
            break
        _, at = gather(adj.indptr, frontier)
        reached = unique(adj.indices[at])
        frontier = reached[dist[reached] == cap]
        dist[frontier] = h
    return dist


GRAPHS = ("all", "ties", "co")
"""The people graph (``all``: ties and co-involvement together), the relationship graph
(``ties``) and the co-involvement graph (``co``)."""


class Graph:
    """One graph on one day: its adjacency, components, and per node the core number and
    PageRank, computed component by component when someone in the component is asked
    about (:meth:`ensure`), and carried over from ``previous`` (the same graph on another
    day) for every component none of whose nodes is in ``changed``.
    """

    def __init__(
        self,
        adj: csr_matrix,
        labels: np.ndarray,
        previous: Graph | None = None,
        changed: np.ndarray | None = None,
    ) -> None:
        n = adj.shape[0]
        self.adj = adj
        self.labels = labels
        self.sizes = np.bincount(labels, minlength=1).astype(np.int64)
        self.degree = np.diff(adj.indptr)
        if previous is None or changed is None or previous.adj.shape != adj.shape:
            self.known = self.degree == 0  # isolated: core 0, PageRank 0
            self.core = np.zeros(n, dtype=np.int32)
            self.pagerank = np.zeros(n)
            self.raw = np.zeros(n)  # PageRank before rounding (a start for new cases)
        else:
            dirty = np.zeros(len(self.sizes), dtype=bool)
            dirty[labels[changed]] = True
            keep = previous.known & ~dirty[labels]
            self.known = keep | (self.degree == 0)
            self.core = np.where(keep, previous.core, 0)
            self.pagerank = np.where(keep, previous.pagerank, 0.0)
            self.raw = np.where(keep, previous.raw, 0.0)

    def ensure(self, nodes: np.ndarray) -> None:
        """Compute core numbers and PageRank of the components holding ``nodes``."""
        nodes = np.asarray(nodes, dtype=np.int64)
        missing = nodes[~self.known[nodes]]
        if len(missing) == 0:
            return
        wanted = np.zeros(len(self.sizes), dtype=bool)
        wanted[self.labels[missing]] = True
        members = wanted[self.labels]
        core = core_numbers(self.adj, members)
        at = np.flatnonzero(members)
        self.core[at] = core[at]
        self._pagerank(np.flatnonzero(wanted))
        self.known[at] = True

    def _pagerank(self, comps: np.ndarray) -> None:
        n = self.adj.shape[0]
        sizes = self.sizes[comps]
        small = comps[sizes <= DIRECT_MAX]
        if len(small):
            pick = np.zeros(len(self.sizes), dtype=bool)
            pick[small] = True
            nodes = np.flatnonzero(pick[self.labels] & (self.degree > 0))
            if len(nodes):
                self._set(nodes, pagerank_direct(_sub(self.adj, nodes)))
        for comp in comps[sizes > DIRECT_MAX].tolist():
            if self.sizes[comp] == n:
                y = solve_pagerank(self.adj.__matmul__, self.degree.astype(np.float64), np.ones(n))
                self._set(slice(None), y)
            else:
                nodes = np.flatnonzero(self.labels == comp)
                self._set(nodes, pagerank_of(_sub(self.adj, nodes)))

    def _set(self, nodes: np.ndarray | slice, y: np.ndarray) -> None:
        self.raw[nodes] = y
        self.pagerank[nodes] = _rounded(y)


CORE_BUDGET = 200
"""Nodes the incremental core update of a new case may visit before the merged
component is peeled whole instead (either way the numbers are exact)."""


def joined(g: Graph, held: np.ndarray, n_new: int) -> tuple[int, float] | None:
    """Highest core number and PageRank among a new case's parties once its links (every
    pair among its ``held`` nodes and ``n_new`` new people, numbered from ``n``) join
    ``g``; None when they add no link to it.

    The links join the parties' components into one and change nothing outside it. Core
    numbers are updated from the day's by the exact insertion rule (only nodes of core
    ``K`` reachable from an end through such nodes can rise, by one); PageRank of the
    merged component is solved again, directly when it is small, else by conjugate
    gradients started from the day's values (the change is a few links, so it converges
    in fewer iterations than from scratch).
    """
    n = g.adj.shape[0]
    held = unique(np.asarray(held, dtype=np.int64))
    people = np.concatenate([held, np.arange(n, n + n_new, dtype=np.int64)])
    if len(people) < 2:
        return None
    iu, iv = np.triu_indices(len(people), k=1)
    a, b = people[iu], people[iv]
    old = b < n
    old[old] = in_sorted(a[old] * n + b[old], _row_keys(g.adj, a[old], n))
    if old.all():
        return None
    a, b = a[~old], b[~old]
    g.ensure(held)
    wanted = np.zeros(len(g.sizes), dtype=bool)
    wanted[g.labels[held]] = True
    members = np.flatnonzero(wanted[g.labels]) if len(held) else held
    m = len(members)
    merged = _with_links(
        g.adj if m == n else _sub(g.adj, members),
        n_new,
        _local(a, members, n),
        _local(b, members, n),
    )
    local = np.concatenate([np.searchsorted(members, held), np.arange(m, m + n_new)])
    cores = _cores_with(g, a, b, people, lambda: core_numbers(merged)[local])
    if m + n_new <= DIRECT_MAX:
        rank = pagerank_direct(merged)
    else:
        degree = np.diff(merged.indptr).astype(np.float64)
        start = np.concatenate([g.raw[members], np.ones(n_new)])
        rank = solve_pagerank(merged.__matmul__, degree, start)
    return int(cores.max()), float(_rounded(rank[local]).max())


def _with_links(sub: csr_matrix, n_new: int, a: np.ndarray, b: np.ndarray) -> csr_matrix:
    """``sub`` with ``n_new`` more nodes and the new links ``(a, b)`` (none already in it)."""
    m = sub.shape[0]
    size = m + n_new
    indptr = np.concatenate([sub.indptr, np.full(n_new, sub.indptr[-1])])
    grown = csr_matrix((sub.data, sub.indices, indptr), shape=(size, size), copy=False)
    links = adjacency(size, a, b)
    merged = (grown + links).tocsr()
    merged.sort_indices()
    return merged


def _local(nodes: np.ndarray, members: np.ndarray, n: int) -> np.ndarray:
    """Positions of ``nodes`` among ``members`` (new people, from ``n``, after them)."""
    old = nodes < n
    at = np.searchsorted(members, np.where(old, nodes, 0))
    return np.where(old, at, len(members) + nodes - n)


def _cores_with(
    g: Graph,
    a: np.ndarray,
    b: np.ndarray,
    people: np.ndarray,
    peeled: Callable[[], np.ndarray],
) -> np.ndarray:
    """Core numbers of ``people`` once links ``(a, b)`` join ``g`` (new people from
    ``n`` have no other link), by inserting the links one at a time (Saríyüce et al.,
    "Streaming algorithms for k-core decomposition", 2013).

    After inserting ``(u, v)`` with ``K = min(core)``, only nodes of core ``K`` joined to
    an end of core ``K`` through such nodes can rise, by one; a node can rise only if
    more than ``K`` of its neighbours have a higher core or have core ``K`` and more
    than ``K`` neighbours of core ``K`` or more; and the nodes that rise are connected to
    an end through each other. So candidates are searched from the ends through nodes
    that pass that test, then peeled: a candidate stays while more than ``K`` of its
    neighbours have a higher core or are staying candidates. When the search grows past
    :data:`CORE_BUDGET` nodes, ``peeled()`` (the merged component peeled whole) answers.
    """
    n = g.adj.shape[0]
    indptr, indices, base = g.adj.indptr, g.adj.indices, g.core
    extra: dict[int, list[int]] = {}
    over: dict[int, int] = {}

    def core(x: int) -> int:
        return over.get(x, int(base[x]) if x < n else 0)

    def cores(xs: np.ndarray) -> np.ndarray:
        out = base[np.minimum(xs, n - 1)] if n else np.zeros(len(xs), dtype=np.int64)
        out = np.where(xs < n, out, 0)
        for y, c in over.items():
            out[xs == y] = c
        return out

    def links(x: int) -> np.ndarray:
        own = indices[indptr[x] : indptr[x + 1]].astype(np.int64) if x < n else _NONE
        more = extra.get(x)
        return np.concatenate([own, np.array(more, dtype=np.int64)]) if more else own

    def high_degrees(xs: np.ndarray, k: int) -> np.ndarray:
        """Per node of ``xs``: how many neighbours have core ``k`` or more."""
        held = np.minimum(xs, max(n - 1, 0))
        owner, at = gather(indptr, held)
        keep = xs[owner] < n
        out = np.bincount(
            owner[keep], weights=cores(indices[at[keep]].astype(np.int64)) >= k, minlength=len(xs)
        ).astype(np.int64)
        for i, x in enumerate(xs.tolist()):
            if x in extra:
                out[i] += int((cores(np.array(extra[x], dtype=np.int64)) >= k).sum())
        return out

    visits = 0
    for u, v in zip(a.tolist(), b.tolist(), strict=True):
        extra.setdefault(u, []).append(v)
        extra.setdefault(v, []).append(u)
        k = min(core(u), core(v))
        queue = [x for x in (u, v) if core(x) == k]
        seen = set(queue)
        cand: dict[int, np.ndarray] = {}
        support: dict[int, int] = {}
        while queue:
            x = queue.pop()
            visits += 1
            if visits > CORE_BUDGET:
                return peeled()
            ns = links(x)
            cs = cores(ns)
            same = ns[cs == k]
            able = same[high_degrees(same, k) > k]
            if int((cs > k).sum()) + len(able) <= k:
                continue
            cand[x] = np.concatenate([ns[cs > k], able])
            support[x] = int((cs > k).sum())
            for y in able.tolist():
                if y not in seen:
                    seen.add(y)
                    queue.append(y)
        for x, ns in cand.items():
            support[x] += sum(1 for y in ns.tolist() if y in cand)
        drop = [x for x in cand if support[x] <= k]
        gone: set[int] = set()
        while drop:
            x = drop.pop()
            if x in gone:
                continue
            gone.add(x)
            for y in cand[x].tolist():
                if y in cand and y not in gone:
                    support[y] -= 1
                    if support[y] <= k:
                        drop.append(y)
        for x in cand:
            if x not in gone:
                over[x] = k + 1
    return cores(people)


_NONE = np.zeros(0, dtype=np.int64)


def _row_keys(adj: csr_matrix, rows: np.ndarray, n: int) -> np.ndarray:
    """Sorted keys ``row * n + column`` of the stored entries of ``rows``."""
    rows = unique(rows)
    owner, at = gather(adj.indptr, rows)
    return np.sort(rows[owner] * n + adj.indices[at])


def _rounded(y: np.ndarray) -> np.ndarray:
    return np.round(y, PAGERANK_DECIMALS)


def _sub(adj: csr_matrix, nodes: np.ndarray) -> csr_matrix:
    """The adjacency among ``nodes`` (sorted), renumbered in their order."""
    return adj[nodes][:, nodes].tocsr()


def components(adj: csr_matrix) -> np.ndarray:
    _, labels = connected_components(adj, directed=False)
    return labels.astype(np.int32)


def merged_components(labels: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Components of a graph with components ``labels`` once links ``(u, v)`` are added."""
    k = int(labels.max()) + 1 if len(labels) else 0
    quotient = adjacency(k, labels[u], labels[v])
    return components(quotient)[labels]


class GraphDay:
    """The three graphs on one day and the hops from everyone to recent incidents.

    Inside, nodes sit in ``order`` (a reverse Cuthill-McKee order of everyone ever linked,
    which keeps linked people close in memory: sparse products run about 1.5 times
    faster than in id order); every method here takes and gives person positions
    (the index's numbering by sorted id).
    """

    def __init__(
        self,
        day: int,
        graphs: dict[str, Graph],
        hops: np.ndarray,
        order: np.ndarray,
        rank: np.ndarray,
    ) -> None:
        self.day = day
        self.graphs = graphs  # by GRAPHS name, nodes in ``order``
        self.order, self.rank = order, rank
        self.incident_hops = hops[rank]  # by person

    @property
    def n_nodes(self) -> int:
        return len(self.rank)

    def neighbours(self, name: str, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``people``, person linked to it) for every link of ``people``."""
        adj = self.graphs[name].adj
        owner, at = gather(adj.indptr, self.rank[people])
        return owner, self.order[adj.indices[at]]

    def ensure(self, people: np.ndarray) -> None:
        """Compute the measures of the components holding ``people`` in every graph, the
        graphs side by side: their work is mostly sparse products and large array
        operations, which let go of the GIL, so a second core shares it."""
        at = self.rank[np.asarray(people, dtype=np.int64)]
        todo = [g for g in self.graphs.values() if not g.known[at].all()]
        if len(todo) < 2:  # nothing to share (a scored case's components are mostly known)
            for g in todo:
                g.ensure(at)
            return
        with ThreadPoolExecutor(len(todo), thread_name_prefix="riskwarn-graph") as pool:
            for done in [pool.submit(g.ensure, at) for g in todo]:
                done.result()

    def measures(self, name: str, people: np.ndarray) -> Measures:
        """Component, component size, core number and PageRank of ``people`` in ``name``."""
        g = self.graphs[name]
        at = self.rank[people]
        g.ensure(at)
        label = g.labels[at]
        return Measures(label, g.sizes[label], g.core[at], g.pagerank[at])

    def everyone(self, name: str) -> Measures:
        """:meth:`measures` of every person, in person order."""
        self.graphs[name].ensure(np.arange(self.n_nodes))
        return self.measures(name, np.arange(self.n_nodes))

    def joined(self, name: str, held: np.ndarray, n_new: int) -> tuple[int, float] | None:
        """Highest core number and PageRank among a new case's parties (``held`` people and
        ``n_new`` new ones) once its co-involvement links join graph ``name``; None when
        they add no link to it."""
        return joined(self.graphs[name], self.rank[np.asarray(held, dtype=np.int64)], n_new)


@dataclass(frozen=True)
class Measures:
    """Per person: component label, component size, core number, PageRank."""

    component: np.ndarray
    component_size: np.ndarray
    core: np.ndarray
    pagerank: np.ndarray


def node_order(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, rank): a reverse Cuthill-McKee order of the graph of links ``(u, v)`` and
    each node's place in it."""
    order = reverse_cuthill_mckee(adjacency(n, u, v), symmetric_mode=True).astype(np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    return order, rank


def graph_day(
    day: int,
    n_nodes: int,
    tie_u: np.ndarray,
    tie_v: np.ndarray,
    co_u: np.ndarray,
    co_v: np.ndarray,
    incident_people: np.ndarray,
    hops_cap: int,
    order: tuple[np.ndarray, np.ndarray] | None = None,
) -> GraphDay:
    """The graphs of one day rebuilt from their links, nothing carried over, with the
    measures of everyone (the whole-graph computation the sweep is checked and timed
    against). ``order``: (order, rank) of the nodes inside, default by id."""
    ident = np.arange(n_nodes, dtype=np.int64)
    order_, rank = order if order is not None else (ident, ident)
    tu, tv, cu, cv = rank[tie_u], rank[tie_v], rank[co_u], rank[co_v]
    adjs = {
        "all": adjacency(n_nodes, np.concatenate([tu, cu]), np.concatenate([tv, cv])),
        "ties": adjacency(n_nodes, tu, tv),
        "co": adjacency(n_nodes, cu, cv),
    }
    graphs = {name: Graph(adj, components(adj)) for name, adj in adjs.items()}
    for g in graphs.values():
        g.ensure(ident)
    sources = rank[np.asarray(incident_people, dtype=np.int64)]
    return GraphDay(day, graphs, hops_to(adjs["all"], sources, hops_cap), order_, rank)


class PeopleGraph:
    """Links of held data (ties and co-involvement), swept between days; each day's
    :class:`GraphDay` carries over what did not change from the day built before it."""

    def __init__(self, index: Index) -> None:
        self.index = index
        n = index.n_persons
        co_u, co_v, co_t = dispute_pairs(index)
        never = np.full(len(co_t), NEVER, dtype=np.int64)
        self.tie_sweep = EdgeSweep(n, index.tie_u, index.tie_v, index.tie_since, index.tie_until)
        self.co_sweep = EdgeSweep(n, co_u, co_v, co_t, never)
        t, c = self.tie_sweep, self.co_sweep
        key_t = t.pair_u * max(n, 1) + t.pair_v
        key_c = c.pair_u * max(n, 1) + c.pair_v
        key_all = unique(np.concatenate([key_t, key_c]))
        self._all_of_tie = np.searchsorted(key_all, key_t)
        self._all_of_co = np.searchsorted(key_all, key_c)
        all_u, all_v = key_all // max(n, 1), key_all % max(n, 1)
        self.order, self.rank = node_order(n, all_u, all_v)
        r = self.rank
        self.layouts = {
            "ties": Layout(n, r[t.pair_u], r[t.pair_v]),
            "co": Layout(n, r[c.pair_u], r[c.pair_v]),
            "all": Layout(n, r[all_u], r[all_v]),
        }
        # ties that hold on every day: their components are found once, and a day's
        # components are those merged by the day's other ties (at most a few percent)
        lasting = (t.event_start == ALWAYS) & (t.event_end == NEVER)
        self._lasting = np.zeros(len(t.pair_u), dtype=bool)
        self._lasting[t.event_pair[lasting]] = True
        ties = self.layouts["ties"]
        keep = self._lasting
        self._lasting_labels = components(adjacency(n, ties.pair_u[keep], ties.pair_v[keep]))
        self._last: tuple[dict[str, np.ndarray], GraphDay] | None = None

    def links(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(u, v) of the relationship ties and of the co-involvement links on ``day``."""
        ties = self.tie_sweep.advance(day)
        co = self.co_sweep.advance(day)
        s, c = self.tie_sweep, self.co_sweep
        return s.pair_u[ties], s.pair_v[ties], c.pair_u[co], c.pair_v[co]

    def active(self, day: int) -> dict[str, np.ndarray]:
        """Which pairs of each graph's layout are linked on ``day``."""
        ties = self.tie_sweep.active(day)
        co = self.co_sweep.active(day)
        both = np.zeros(len(self.layouts["all"].pair_u), dtype=bool)
        both[self._all_of_tie[ties]] = True
        both[self._all_of_co[co]] = True
        return {"ties": ties, "co": co, "all": both}

    def day(self, day: int, incident_people: np.ndarray, hops_cap: int) -> GraphDay:
        """The graphs of ``day``, with hops to ``incident_people`` in the people graph."""
        active = self.active(day)
        previous = self._last
        graphs: dict[str, Graph] = {}
        for name in ("ties", "co", "all"):
            layout = self.layouts[name]
            adj = layout.adjacency(active[name])
            before, changed, gone = None, None, True
            if previous is not None:
                flips = previous[0][name] != active[name]
                gone = bool((flips & previous[0][name]).any())  # some link ended
                flips = np.flatnonzero(flips)
                changed = unique(np.concatenate([layout.pair_u[flips], layout.pair_v[flips]]))
                before = previous[1].graphs[name]
            labels = self._components(name, adj, layout, active, graphs, before, gone)
            graphs[name] = Graph(adj, labels, before, changed)
        sources = self.rank[np.asarray(incident_people, dtype=np.int64)]
        hops = hops_to(graphs["all"].adj, sources, hops_cap)
        out = GraphDay(day, graphs, hops, self.order, self.rank)
        self._last = (active, out)
        return out

    def _components(
        self,
        name: str,
        adj: csr_matrix,
        layout: Layout,
        active: dict[str, np.ndarray],
        graphs: dict[str, Graph],
        before: Graph | None,
        gone: bool,
    ) -> np.ndarray:
        """Component labels of graph ``name`` on a day, each by the cheapest exact way:
        ties from the lasting ties' components merged by the day's others; the people
        graph from the ties' components merged by the co-involvement links; and the
        co-involvement graph, whose links never end, from the previous day's components
        merged by the new links (from scratch after going back in time)."""
        on = active[name]
        if name == "ties":
            dynamic = on & ~self._lasting
            return merged_components(
                self._lasting_labels, layout.pair_u[dynamic], layout.pair_v[dynamic]
            )
        if name == "all":
            co = self.layouts["co"]
            return merged_components(
                graphs["ties"].labels, co.pair_u[active["co"]], co.pair_v[active["co"]]
            )
        if before is not None and not gone and self._last is not None:
            added = on & ~self._last[0]["co"]
            return merged_components(before.labels, layout.pair_u[added], layout.pair_v[added])
        return components(adj)
