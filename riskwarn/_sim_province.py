"""A province: several counties, each drawn as the simulator draws one, then tied together.

Counties differ in size (lognormal weights, sd 0.35). Each has its own townships (10-20),
grids, employers, lenders and doctors, and a distinct name. Ties that cross a county
border are added on top: grown children and relatives living in another county, workers
of an employer across the border (colleagues too), and debts to creditors there. The
disputes are then drawn over the whole province, so those ties give disputes whose
parties live in different counties; every id stays unique across the province.
Counties lie in a row: "across the border" means the next county, now and then one
further.
"""

from __future__ import annotations

import numpy as np

from riskwarn._sim_people import Flags, K, People, Ties, build_people
from riskwarn._sim_text import province_names
from riskwarn._sim_time import Clock, pick_in_group
from riskwarn.errors import ConfigError

MIN_COUNTY_PERSONS = 100
COUNTY_SIZE_SD = 0.35  # log-sd of county populations
# ties across a county border, per household head of the county
CROSS_RELATIVE = 0.06  # a relative (cousin, in-law) in another county
CROSS_CHILD = 0.05  # heads of 52+ with a grown child heading a household in another county
CROSS_WORKER = 0.04  # of workers: employed across the border
CROSS_DEBT = 0.12  # of debts: the creditor lives across the border


def build_province(
    rng: np.random.Generator, seeds: list, persons: int, counties: int, clock: Clock
) -> People:
    """``counties`` counties holding ``persons`` people in all, with cross-county ties."""
    if persons < counties * MIN_COUNTY_PERSONS:
        raise ConfigError(
            f"{counties} counties need at least {counties * MIN_COUNTY_PERSONS} persons "
            f"({MIN_COUNTY_PERSONS} each), got {persons}: give more persons or fewer counties"
        )
    weight = rng.lognormal(0.0, COUNTY_SIZE_SD, counties)
    sizes = MIN_COUNTY_PERSONS + np.floor(
        weight / weight.sum() * (persons - counties * MIN_COUNTY_PERSONS)
    ).astype(np.int64)
    sizes[: persons - int(sizes.sum())] += 1
    parts = [
        build_people(np.random.default_rng(seed), int(n), clock)
        for seed, n in zip(seeds, sizes, strict=True)
    ]
    people = _merge(parts)
    county_names, town_names = province_names(
        rng, counties, [len(x.townships) for x in parts], [_n_urban(x) for x in parts]
    )
    people.counties, people.townships = county_names, town_names
    people.ties = Ties.concat([people.ties, _cross_ties(rng, people, clock)])
    return people


def _n_urban(p: People) -> int:
    return int(np.unique(p.grid_township[p.grid_urban]).size)


def _merge(parts: list[People]) -> People:
    """One population of several counties: indices offset, townships numbered on."""
    off_p = np.cumsum([0] + [x.n for x in parts])
    off_h = np.cumsum([0] + [int(x.household.max()) + 1 for x in parts])
    off_g = np.cumsum([0] + [x.n_grids for x in parts])
    off_t = np.cumsum([0] + [len(x.townships) for x in parts])

    def cat(name: str, offsets=None, keep_negative: bool = False) -> np.ndarray:
        arrays = []
        for k, x in enumerate(parts):
            v = getattr(x, name)
            if offsets is not None:
                v = np.where(v >= 0, v + offsets[k], v) if keep_negative else v + offsets[k]
            arrays.append(v)
        return np.concatenate(arrays)

    ties = Ties.concat(
        [
            Ties(t.a + off_p[k], t.b + off_p[k], t.kind, t.since, t.until)
            for k, t in enumerate(x.ties for x in parts)
        ]
    )
    flags = Flags(
        np.concatenate([x.flags.person + off_p[k] for k, x in enumerate(parts)]),
        *(
            np.concatenate([getattr(x.flags, f) for x in parts])
            for f in ("flag", "level", "start", "end")
        ),
    )

    def shifted_pairs(name: str, cols: int) -> np.ndarray:
        out = []
        for k, x in enumerate(parts):
            v = getattr(x, name).copy()
            v[:, :cols] += off_p[k]
            out.append(v)
        return np.concatenate(out)

    return People(
        n=int(off_p[-1]),
        age=cat("age"),
        male=cat("male"),
        household=cat("household", off_h),
        grid=cat("grid", off_g),
        head=cat("head", off_p),
        spouse_of_head=cat("spouse_of_head", off_p, keep_negative=True),
        grid_township=cat("grid_township", off_t),
        grid_urban=cat("grid_urban"),
        townships=[t for x in parts for t in x.townships],
        counties=[x.counties[0] for x in parts],
        township_county=np.repeat(np.arange(len(parts)), [len(x.townships) for x in parts]),
        hidden=cat("hidden"),
        propensity=cat("propensity"),
        employer=cat("employer", off_p, keep_negative=True),
        employers=cat("employers", off_p),
        landlords=cat("landlords", off_p),
        lenders=cat("lenders", off_p),
        doctors=cat("doctors", off_p),
        managers=cat("managers", off_p, keep_negative=True),
        ties=ties,
        flags=flags,
        divorce_pairs=shifted_pairs("divorce_pairs", 2),
        separations=shifted_pairs("separations", 1),
    )


def _next_county(rng: np.random.Generator, county: np.ndarray, n: int) -> np.ndarray:
    """A county across the border: the next one either way, one further in a fifth."""
    step = np.where(rng.random(county.size) < 0.2, 2, 1) * np.where(
        rng.random(county.size) < 0.5, -1, 1
    )
    other = county + step
    other = np.where((other < 0) | (other >= n), county - step, other)
    return np.clip(other, 0, n - 1)


def _cross_ties(rng: np.random.Generator, p: People, clock: Clock) -> Ties:
    """Relatives, grown children, workers and debts across county borders."""
    n_c = p.n_counties
    county = p.county_of_person
    head = p.head
    parts = []
    # relatives and grown children heading a household in another county
    for kind, share, lo, hi in (
        ("relative", CROSS_RELATIVE, -30, 30),
        ("parent_child", CROSS_CHILD, 20, 40),
    ):
        a = head[rng.random(head.size) < share]
        if kind == "parent_child":
            a = a[p.age[a] >= 52]
        target = _next_county(rng, county[a], n_c)
        b = head[np.maximum(pick_in_group(rng, county[head], n_c, target), 0)]
        diff = p.age[a] - p.age[b]
        ok = (a != b) & (county[a] != county[b]) & (diff >= lo) & (diff <= hi)
        parts.append(Ties.of(a[ok], b[ok], kind))
    # workers of an employer across the border, and a colleague there
    workers = np.flatnonzero(p.employer >= 0)
    moved = workers[rng.random(workers.size) < CROSS_WORKER]
    target = _next_county(rng, county[moved], n_c)
    pick = pick_in_group(rng, county[p.employers], n_c, target)
    ok = pick >= 0
    moved, boss = moved[ok], p.employers[pick[ok]]
    p.employer[moved] = boss
    since = np.where(
        rng.random(moved.size) < 0.15, rng.uniform(0, clock.n_days, moved.size), np.nan
    )
    parts.append(Ties.of(boss, moved, "other", since))
    mates = np.flatnonzero(p.employer >= 0)
    mate = mates[np.maximum(pick_in_group(rng, p.employer[mates], p.n, boss), 0)]
    ok = (mate != moved) & (p.employer[mate] == boss)
    parts.append(Ties.of(moved[ok], mate[ok], "colleague", since[ok]))
    # debts owed to a creditor across the border
    debtor = p.ties.b[p.ties.kind == K["creditor_debtor"]]
    debtor = debtor[rng.random(debtor.size) < CROSS_DEBT]
    adults = np.flatnonzero((p.age >= 22) & (p.age <= 70))
    target = _next_county(rng, county[debtor], n_c)
    pick = pick_in_group(rng, county[adults], n_c, target)
    ok = pick >= 0
    debtor, creditor = debtor[ok], adults[pick[ok]]
    k = debtor.size
    since = np.where(rng.random(k) < 0.35, np.nan, rng.uniform(0, clock.n_days, k))
    repaid = np.nan_to_num(since, nan=0.0) + rng.exponential(200, k)
    until = np.where((rng.random(k) < 0.25) & (repaid < clock.n_days), repaid, np.nan)
    parts.append(Ties.of(creditor, debtor, "creditor_debtor", since, until))
    return Ties.concat(parts)
