"""Area rates: disputes and extreme incidents per 1,000 residents, shrunk toward the county.

Counts are over the 365 days up to the graph day. Small areas get noisy raw rates, so each
is pulled toward its county's rate by Marshall's (1991) global empirical-Bayes estimator,
applied within the county: the between-area variance is estimated from the county's areas
and an area's weight on its own rate grows with its population. The county is
``grids.county``; areas with none (or datasets without a grids table) are pulled toward
the pooled rate of all areas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._index import NS_DAY, Index

AREA_WINDOW = 365


def marshall(x: np.ndarray, n: np.ndarray, pool_x: np.ndarray, pool_n: np.ndarray) -> np.ndarray:
    """Rates ``x / n`` per 1,000 pulled toward the rate of the pool (``pool_*``, which holds
    these areas), with the between-area variance estimated over the pool's areas."""
    mean = pool_x.sum() / pool_n.sum()
    pool_raw = pool_x / pool_n
    spread = (pool_n * (pool_raw - mean) ** 2).sum() / pool_n.sum()
    between = max(spread - mean / pool_n.mean(), 0.0)
    noise = mean / n
    weight = np.divide(between, between + noise, out=np.zeros_like(n), where=(between + noise) > 0)
    return (mean + weight * (x / n - mean)) * 1000.0


def shrunk_rates(
    count: np.ndarray, population: np.ndarray, county: np.ndarray | None = None
) -> np.ndarray:
    """Empirical-Bayes rates per 1,000 (NaN where the population is unknown or zero), each
    area shrunk toward its ``county`` (a code; -1 or no ``county``: toward all areas)."""
    out = np.full(len(count), np.nan)
    ok = population > 0
    if not ok.any():
        return out
    x, n = count.astype(float), population.astype(float)
    group = np.full(len(count), -1) if county is None else np.asarray(county)
    for g in np.unique(group[ok]).tolist():
        members = ok & (group == g)
        pool = ok if g < 0 else members
        out[members] = marshall(x[members], n[members], x[pool], n[pool])
    return out


def incident_fallback_grids(index: Index) -> np.ndarray:
    """Per incident, the residence grid of its first perpetrator (by person id), else of
    its first person; -1 when it has no person or that person has no grid."""
    ip = index.incident_persons
    counts = np.diff(ip.start)
    out = np.full(index.n_incidents, -1, dtype=np.int64)
    has = np.flatnonzero(counts > 0)
    if len(has) == 0:
        return out
    person, role = ip.cols["person"], ip.cols["role"]
    first = ip.start[has]
    # rows are sorted by (role, person): a perpetrator (role 0) comes first when there is
    # one, and then it is the smallest perpetrator id; otherwise take the smallest of all
    smallest = np.minimum.reduceat(person, first) if len(person) else first
    pick = np.where(role[first] == 0, person[first], smallest)
    out[has] = index.person_grid[pick]
    return out


def incident_grids(index: Index, day: int, fallback: np.ndarray | None = None) -> np.ndarray:
    """The grid each incident belongs to on ``day`` (-1 when none can be told).

    The grid of its dispute when that dispute is known on ``day``, else the residence grid
    of its first perpetrator (by person id), else of its first person.
    """
    if fallback is None:
        fallback = incident_fallback_grids(index)
    d = index.incident_dispute
    known = d >= 0
    known[known] = index.reported[d[known]] <= day
    return np.where(known, index.dispute_grid[np.where(known, d, 0)], fallback)


@dataclass(frozen=True)
class AreaDay:
    """Per grid: its rates and its township's rates (NaN when unknown), and the counts
    they come from (so a new case can be added without recounting)."""

    grid_disputes: np.ndarray
    grid_incidents: np.ndarray
    township_disputes: np.ndarray
    township_incidents: np.ndarray
    dispute_counts: np.ndarray
    incident_counts: np.ndarray

    def of(self, grid: int) -> list[float]:
        if grid < 0 or grid >= len(self.grid_disputes):
            return [np.nan] * 4
        return [
            float(self.grid_disputes[grid]),
            float(self.grid_incidents[grid]),
            float(self.township_disputes[grid]),
            float(self.township_incidents[grid]),
        ]


def area_day(
    index: Index,
    day: int,
    extra_dispute_grid: int = -1,
    extra_residents: np.ndarray | None = None,
    fallback: np.ndarray | None = None,
) -> AreaDay:
    """Rates on ``day``; ``extra_dispute_grid`` counts one more dispute there (a new case) and
    ``extra_residents`` (per grid) adds new people where population comes from residents."""
    lo = day - AREA_WINDOW * NS_DAY
    recent = (index.reported > lo) & (index.reported <= day) & (index.dispute_grid >= 0)
    disputes = np.bincount(index.dispute_grid[recent], minlength=index.n_grids).astype(float)
    window = np.flatnonzero((index.incident_time > lo) & (index.incident_time <= day))
    grids = incident_grids(index, day, fallback)[window]
    incidents = np.bincount(grids[grids >= 0], minlength=index.n_grids).astype(float)
    return rates(index, disputes, incidents, extra_dispute_grid, extra_residents)


def rates(
    index: Index,
    disputes: np.ndarray,
    incidents: np.ndarray,
    extra_dispute_grid: int = -1,
    extra_residents: np.ndarray | None = None,
) -> AreaDay:
    """Shrunk rates from counts per grid (one more dispute in ``extra_dispute_grid``)."""
    if extra_dispute_grid >= 0:
        disputes = disputes.copy()
        disputes[extra_dispute_grid] += 1
    pop = index.grid_population
    if extra_residents is not None:
        pop = np.where(index.grid_population_given, pop, pop + extra_residents)
    town = index.grid_township
    n_towns = len(index.township_names)
    has = town >= 0

    def by_town(values: np.ndarray) -> np.ndarray:
        return np.bincount(town[has], weights=values[has], minlength=n_towns)

    def spread(town_rates: np.ndarray) -> np.ndarray:
        out = np.full(index.n_grids, np.nan)
        out[has] = town_rates[town[has]]
        return out

    town_pop = by_town(pop)
    county, town_county = index.grid_county, index.township_county
    return AreaDay(
        grid_disputes=shrunk_rates(disputes, pop, county),
        grid_incidents=shrunk_rates(incidents, pop, county),
        township_disputes=spread(shrunk_rates(by_town(disputes), town_pop, town_county)),
        township_incidents=spread(shrunk_rates(by_town(incidents), town_pop, town_county)),
        dispute_counts=disputes,
        incident_counts=incidents,
    )
