"""The county's people: households, grids and townships, ties, divorces, debts, flags.

Everything here is drawn once, before the disputes: the population is static (no births,
deaths or moves); ties and flags carry the dates (``since``, ``until``, start and end) at
which they begin and end during the period. See docs/simulator.md for every number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskwarn._contract import FLAGS, TIE_KINDS
from riskwarn._sim_text import county_name, township_names
from riskwarn._sim_time import Clock, pick_in_group

K = {kind: i for i, kind in enumerate(TIE_KINDS)}
F = {flag: i for i, flag in enumerate(FLAGS)}

# Ages of household heads (20..94) by five-year band, tuned so that the whole population
# follows China's 2020 census pyramid within a point or two per band.
_HEAD_AGE_BANDS = np.arange(20, 95, 5)
_HEAD_AGE_WEIGHTS = np.array(
    [3.0, 6.5, 10.0, 9.5, 9.0, 10.5, 11.5, 9.5, 6.5, 6.3, 4.6, 3.2, 2.0, 1.3, 0.6]
)
_GRID_SIZE = (220, 400)  # residents per grid, uniform; Gansu: ~25M people in ~90,000 grids
_URBAN_SHARE = 0.3  # share of townships that are urban sub-districts (街道)


@dataclass
class Ties:
    """Relationships as parallel arrays; days are floats since start, NaN when open."""

    a: np.ndarray
    b: np.ndarray
    kind: np.ndarray
    since: np.ndarray
    until: np.ndarray

    @classmethod
    def concat(cls, parts: list[Ties]) -> Ties:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls._fields()))

    @staticmethod
    def _fields() -> tuple[str, ...]:
        return ("a", "b", "kind", "since", "until")

    @classmethod
    def of(cls, a, b, kind: str, since=None, until=None) -> Ties:
        a = np.asarray(a, dtype=np.int64)
        n = a.size
        nan = np.full(n, np.nan)
        return cls(
            a,
            np.asarray(b, dtype=np.int64),
            np.full(n, K[kind], dtype=np.int8),
            nan.copy() if since is None else np.asarray(since, dtype=np.float64),
            nan.copy() if until is None else np.asarray(until, dtype=np.float64),
        )

    def where(self, mask: np.ndarray) -> Ties:
        return Ties(*(getattr(self, f)[mask] for f in self._fields()))

    def __len__(self) -> int:
        return int(self.a.size)


@dataclass
class Flags:
    """Special-population episodes: person, flag code, level (-1 none), start, end (NaN)."""

    person: np.ndarray
    flag: np.ndarray
    level: np.ndarray
    start: np.ndarray
    end: np.ndarray


@dataclass
class People:
    n: int
    age: np.ndarray  # age at the first day
    male: np.ndarray
    household: np.ndarray
    grid: np.ndarray
    head: np.ndarray  # head person of each household
    spouse_of_head: np.ndarray  # -1 when none
    grid_township: np.ndarray
    grid_urban: np.ndarray
    townships: list[str]
    county: str
    hidden: np.ndarray  # per-person hidden risk, on the log-hazard scale (never recorded)
    propensity: np.ndarray  # per-person dispute propensity (mean 1, never recorded)
    employer: np.ndarray  # employer person of each worker, -1 when none
    employers: np.ndarray  # the employer persons
    landlords: np.ndarray
    lenders: np.ndarray
    doctors: np.ndarray
    managers: np.ndarray  # one property manager per urban grid, -1 in rural grids
    ties: Ties
    flags: Flags
    divorce_pairs: np.ndarray  # (k, 3): a, b, day of couples divorcing in the period
    separations: np.ndarray  # (k, 2): person, day of every divorce or break-up

    @property
    def n_grids(self) -> int:
        return int(self.grid_township.size)

    @property
    def adult(self) -> np.ndarray:
        return self.age >= 18


def _households(rng: np.random.Generator, n: int):
    """Draw households until ``n`` people; return (age, male, household, role, size)."""
    h = int(n / 2.3) + 64
    band = rng.choice(_HEAD_AGE_BANDS.size, h, p=_HEAD_AGE_WEIGHTS / _HEAD_AGE_WEIGHTS.sum())
    head_age = _HEAD_AGE_BANDS[band] + rng.integers(0, 5, h)
    married = rng.random(h) < np.interp(
        head_age, [20, 25, 30, 40, 60, 70, 80, 95], [0.15, 0.5, 0.8, 0.88, 0.85, 0.7, 0.5, 0.3]
    )
    kids_mean = np.interp(
        head_age,
        [20, 25, 30, 35, 45, 50, 55, 60, 70],
        [0.15, 0.8, 1.6, 1.9, 1.7, 1.1, 0.5, 0.25, 0.1],
    ) * np.where(married, 1.0, 0.5)
    n_kids = np.minimum(rng.poisson(kids_mean), 3)
    gp_p = np.interp(head_age, [20, 30, 45, 55], [0.05, 0.22, 0.15, 0.02])
    n_gp = np.where(rng.random(h) < gp_p, 1 + (rng.random(h) < 0.5), 0)

    ages = np.full((h, 7), -1, dtype=np.int64)
    male = np.zeros((h, 7), dtype=bool)
    ages[:, 0] = head_age
    head_male = rng.random(h) < np.where(married, 0.8, np.where(head_age > 70, 0.4, 0.55))
    male[:, 0] = head_male
    spouse_age = np.clip(head_age + np.where(head_male, -2, 2) + rng.normal(0, 3, h), 20, 98)
    ages[:, 1] = np.where(married, spouse_age.astype(np.int64), -1)
    male[:, 1] = ~head_male
    kid = head_age - rng.uniform(23, 32, h)
    for j in range(3):
        alive = (n_kids > j) & (kid >= 0)
        ages[:, 2 + j] = np.where(alive, np.floor(kid), -1)
        male[:, 2 + j] = rng.random(h) < 0.51
        kid = kid - rng.uniform(1.5, 6.0, h)
    gp_age = np.minimum(head_age + rng.uniform(24, 32, h), 98).astype(np.int64)
    ages[:, 5] = np.where(n_gp >= 1, gp_age, -1)
    ages[:, 6] = np.where(n_gp >= 2, np.minimum(gp_age + rng.integers(-3, 4, h), 98), -1)
    male[:, 5] = np.where(n_gp >= 2, True, rng.random(h) < 0.4)
    male[:, 6] = False

    present = ages >= 0
    hh, role = np.nonzero(present)
    age, sex = ages[hh, role], male[hh, role]
    keep = np.arange(hh.size) < n
    hh, role, age, sex = hh[keep], role[keep], age[keep], sex[keep]
    n_hh = int(hh[-1]) + 1
    return age, sex, hh, role, n_hh


def _grids(rng: np.random.Generator, hh: np.ndarray, n_hh: int):
    """Fill grids with consecutive households; group grids into townships."""
    hh_size = np.bincount(hh, minlength=n_hh)
    first = np.cumsum(hh_size) - hh_size  # persons before each household
    n = int(hh_size.sum())
    sizes = rng.integers(*_GRID_SIZE, size=n // _GRID_SIZE[0] + 2)
    bounds = np.cumsum(sizes)
    hh_grid = np.searchsorted(bounds, first, side="right")
    n_grids = int(hh_grid.max()) + 1
    n_town = min(n_grids, int(np.clip(round(n_grids / 20), 10, 20)))
    cuts = (
        np.sort(rng.choice(np.arange(1, n_grids), n_town - 1, replace=False)) if n_town > 1 else []
    )
    grid_town = np.searchsorted(np.asarray(cuts), np.arange(n_grids), side="right")
    n_urban = max(1, round(_URBAN_SHARE * n_town))
    grid_urban = grid_town < n_urban
    return hh_grid, n_grids, grid_town, grid_urban, n_town, n_urban


def build_people(rng: np.random.Generator, n: int, clock: Clock) -> People:
    """The county: persons in households and grids, their ties and special populations."""
    age, male, hh, role, n_hh = _households(rng, n)
    hh_grid, n_grids, grid_town, grid_urban, n_town, n_urban = _grids(rng, hh, n_hh)
    grid = hh_grid[hh]
    head = np.flatnonzero(role == 0)
    spouse_of_head = np.full(n_hh, -1, dtype=np.int64)
    sp = np.flatnonzero(role == 1)
    spouse_of_head[hh[sp]] = sp

    hidden = rng.normal(0.0, 0.55, n)
    propensity = np.exp(0.4 * hidden + rng.normal(0.0, 0.55, n))
    propensity /= propensity.mean()

    people = People(
        n=n, age=age, male=male, household=hh, grid=grid, head=head,
        spouse_of_head=spouse_of_head, grid_township=grid_town, grid_urban=grid_urban,
        townships=township_names(rng, n_town, n_urban), county=county_name(rng),
        hidden=hidden, propensity=propensity,
        employer=np.full(n, -1, dtype=np.int64), employers=np.zeros(0, np.int64),
        landlords=np.zeros(0, np.int64), lenders=np.zeros(0, np.int64),
        doctors=np.zeros(0, np.int64), managers=np.full(n_grids, -1, dtype=np.int64),
        ties=Ties.of([], [], "other"), flags=Flags(*(np.zeros(0, t) for t in "iiiff")),
        divorce_pairs=np.zeros((0, 3)), separations=np.zeros((0, 2)),
    )  # fmt: skip
    _service_roles(rng, people)
    parts = [_household_ties(people, role)]
    parts.append(_kin_ties(rng, people))
    parts.append(_neighbor_ties(rng, people))
    parts.append(_work_ties(rng, people, clock))
    parts.append(_tenancies(rng, people, clock))
    parts.append(_intimate_ties(rng, people, clock))
    parts.append(_debts(rng, people, clock))
    people.ties = _distinct(Ties.concat(parts))
    _divorces(rng, people, clock)
    people.flags = _flags(rng, people, clock)
    flagged = np.zeros(n, dtype=bool)
    flagged[people.flags.person] = True
    people.propensity = people.propensity * np.where(flagged, 1.6, 1.0)
    return people


def _distinct(t: Ties) -> Ties:
    """One row per unordered pair and kind (the first drawn wins)."""
    key = np.stack([np.minimum(t.a, t.b), np.maximum(t.a, t.b), t.kind.astype(np.int64)], 1)
    first = np.sort(np.unique(key, axis=0, return_index=True)[1])
    return t.where(first)


def _service_roles(rng: np.random.Generator, p: People) -> None:
    """Doctors (county-wide) and one property manager per urban grid, for those disputes."""
    adults = np.flatnonzero((p.age >= 28) & (p.age <= 60))
    p.doctors = adults[rng.random(adults.size) < 0.004]
    if p.doctors.size == 0:
        p.doctors = adults[:1]
    urban = np.flatnonzero(p.grid_urban)
    pick = pick_in_group(rng, p.grid[adults], p.n_grids, urban)
    p.managers[urban] = np.where(pick >= 0, adults[np.maximum(pick, 0)], -1)


def _household_ties(p: People, role: np.ndarray) -> Ties:
    """Spouses, parents and children, siblings and grandparents living together."""
    hh = p.household
    head = p.head[hh]
    spouse = p.spouse_of_head[hh]
    idx = np.arange(p.n)
    kids = (role >= 2) & (role <= 4)
    gps = role >= 5
    parts = [
        Ties.of(p.head[p.spouse_of_head >= 0], p.spouse_of_head[p.spouse_of_head >= 0], "spouse"),
        Ties.of(head[kids], idx[kids], "parent_child"),
        Ties.of(spouse[kids & (spouse >= 0)], idx[kids & (spouse >= 0)], "parent_child"),
        Ties.of(idx[gps], head[gps], "parent_child"),
    ]
    # siblings: consecutive children of a household (and first with third)
    for gap in (1, 2):
        a = np.flatnonzero(kids[:-gap] & kids[gap:] & (hh[:-gap] == hh[gap:]))
        parts.append(Ties.of(a, a + gap, "sibling"))
    # grandparent and grandchild: "relative"
    first_gp = np.full(hh.max() + 1, -1)
    first_gp[hh[gps][::-1]] = idx[gps][::-1]
    g = first_gp[hh]
    m = kids & (g >= 0)
    parts.append(Ties.of(g[m], idx[m], "relative"))
    return Ties.concat(parts)


def _kin_ties(rng: np.random.Generator, p: People) -> Ties:
    """Parents and adult children in other households, their siblings, wider relatives."""
    head = p.head
    town = p.grid_township[p.grid[head]]
    n_town = len(p.townships)
    elders = head[p.age[head] >= 52]
    slots = np.repeat(elders, np.minimum(rng.poisson(1.2, elders.size), 3))
    child = np.full(slots.size, -1)
    todo = np.arange(slots.size)
    for _ in range(5):
        pick = pick_in_group(rng, town, n_town, p.grid_township[p.grid[slots[todo]]])
        cand = head[np.maximum(pick, 0)]
        diff = p.age[slots[todo]] - p.age[cand]
        ok = (pick >= 0) & (diff >= 20) & (diff <= 40)
        child[todo[ok]] = cand[ok]
        todo = todo[~ok]
    ok = child >= 0
    parent, child = slots[ok], child[ok]
    pair = np.unique(np.stack([parent, child], 1), axis=0)
    parent, child = pair[:, 0], pair[:, 1]
    spouse = p.spouse_of_head[p.household[parent]]
    parts = [
        Ties.of(parent, child, "parent_child"),
        Ties.of(spouse[spouse >= 0], child[spouse >= 0], "parent_child"),
    ]
    # adult children of the same parent are siblings
    order = np.argsort(parent, kind="stable")
    par, ch = parent[order], child[order]
    same = par[:-1] == par[1:]
    parts.append(Ties.of(ch[:-1][same], ch[1:][same], "sibling"))
    # wider kin (cousins, in-laws) and some siblings found by similar age in the township
    for kind, rate in (("relative", 0.7), ("sibling", 0.15)):
        a = head[rng.random(head.size) < rate]
        b = head[np.maximum(pick_in_group(rng, town, n_town, p.grid_township[p.grid[a]]), 0)]
        close = (a != b) & (np.abs(p.age[a] - p.age[b]) <= (30 if kind == "relative" else 10))
        parts.append(Ties.of(a[close], b[close], kind))
    return Ties.concat(parts)


def _neighbor_ties(rng: np.random.Generator, p: People) -> Ties:
    """Heads of households next to each other in a grid (and one further, sometimes)."""
    head = p.head
    g = p.grid[head]
    parts = []
    for gap, share in ((1, 1.0), (2, 0.35)):
        same = (g[:-gap] == g[gap:]) & (rng.random(head.size - gap) < share)
        parts.append(Ties.of(head[:-gap][same], head[gap:][same], "neighbor"))
    return Ties.concat(parts)


def _work_ties(rng: np.random.Generator, p: People, clock: Clock) -> Ties:
    """Employers with heavy-tailed workforces; colleagues; employer-worker ties as "other"."""
    working = np.flatnonzero((p.age >= 20) & (p.age <= 60))
    pool = working[(p.age[working] >= 30) & (rng.random(working.size) < 0.015)]
    if pool.size == 0:
        pool = working[:1]
    p.employers = pool
    size_w = rng.pareto(1.3, pool.size) + 0.2
    workers = working[(rng.random(working.size) < 0.35) & ~np.isin(working, pool)]
    emp = pool[rng.choice(pool.size, workers.size, p=size_w / size_w.sum())]
    p.employer[workers] = emp
    new_job = rng.random(workers.size) < 0.15
    since = np.where(new_job, rng.uniform(0, clock.n_days, workers.size), np.nan)
    recorded = rng.random(workers.size) < 0.5
    parts = [Ties.of(emp[recorded], workers[recorded], "other", since[recorded])]
    order = np.lexsort((rng.random(workers.size), emp))
    w, e, s = workers[order], emp[order], since[order]
    same = (e[:-1] == e[1:]) & (rng.random(max(w.size - 1, 0)) < 0.6)
    parts.append(Ties.of(w[:-1][same], w[1:][same], "colleague", np.fmax(s[:-1], s[1:])[same]))
    # acquaintances recorded as "other"
    a = p.head[rng.random(p.head.size) < 0.15]
    b = p.head[np.maximum(pick_in_group(rng, p.grid[p.head], p.n_grids, p.grid[a]), 0)]
    parts.append(Ties.of(a[a != b], b[a != b], "other"))
    return Ties.concat(parts)


def _tenancies(rng: np.random.Generator, p: People, clock: Clock) -> Ties:
    """Tenant households in urban grids renting from landlords of the same township."""
    head = p.head
    urban = p.grid_urban[p.grid[head]]
    town = p.grid_township[p.grid[head]]
    landlords = head[urban & (p.age[head] >= 40) & (rng.random(head.size) < 0.04)]
    p.landlords = landlords
    tenants = head[urban & (rng.random(head.size) < 0.15) & ~np.isin(head, landlords)]
    pick = pick_in_group(
        rng,
        p.grid_township[p.grid[landlords]],
        len(p.townships),
        town[np.searchsorted(head, tenants)],
    )
    tenants, landlord = tenants[pick >= 0], landlords[pick[pick >= 0]]
    new = rng.random(tenants.size) < 0.45
    since = np.where(new, rng.uniform(0, clock.n_days, tenants.size), np.nan)
    end = np.nan_to_num(since, nan=0.0) + rng.exponential(np.where(new, 730, 1100))
    until = np.where(end < clock.n_days, end, np.nan)
    return Ties.of(landlord, tenants, "landlord_tenant", since, until)


def _singles(rng: np.random.Generator, p: People, lo: int, hi: int, share: float, male: bool):
    spouse = np.zeros(p.n, dtype=bool)
    spouse[p.head[p.spouse_of_head >= 0]] = True
    spouse[p.spouse_of_head[p.spouse_of_head >= 0]] = True
    ok = (p.age >= lo) & (p.age <= hi) & ~spouse & (p.male == male)
    return np.flatnonzero(ok & (rng.random(p.n) < share))


def _intimate_ties(rng: np.random.Generator, p: People, clock: Clock) -> Ties:
    """Unmarried partners (some marry, some split) and former spouses divorced before."""
    town = p.grid_township[p.grid]
    n_town = len(p.townships)
    parts = []
    sep = []
    men = _singles(rng, p, 20, 45, 0.25, True)
    women = _singles(rng, p, 20, 45, 0.25, False)
    pick = pick_in_group(rng, town[men], n_town, town[women])
    ok = pick >= 0
    a, b = men[pick[ok]], women[ok]
    a, idx = np.unique(a, return_index=True)
    b = b[idx]
    k = a.size
    since = np.where(rng.random(k) < 0.5, rng.uniform(0, clock.n_days, k), np.nan)
    from_day = np.nan_to_num(since, nan=0.0)
    outcome = rng.random(k)
    end = from_day + rng.uniform(30, 700, k)
    ends = (end < clock.n_days) & (outcome < 0.55)
    until = np.where(ends, end, np.nan)
    parts.append(Ties.of(a, b, "partner", since, until))
    marry = ends & (outcome < 0.15)
    parts.append(Ties.of(a[marry], b[marry], "spouse", end[marry]))
    split = ends & ~marry
    sep.append(np.stack([np.concatenate([a[split], b[split]]), np.tile(end[split], 2)], 1))
    # former spouses from divorces before the period (known, no date)
    men = _singles(rng, p, 28, 70, 0.12, True)
    women = _singles(rng, p, 28, 70, 0.12, False)
    m = min(men.size, women.size)
    parts.append(Ties.of(men[rng.permutation(men.size)[:m]], women[:m], "former_spouse"))
    p.separations = np.concatenate(sep) if sep else np.zeros((0, 2))
    return Ties.concat(parts)


def _divorces(rng: np.random.Generator, p: People, clock: Clock) -> None:
    """Couples divorce during the period: the spouse tie ends, a former_spouse tie begins."""
    t = p.ties
    sp = np.flatnonzero(t.kind == K["spouse"])
    younger = np.minimum(p.age[t.a[sp]], p.age[t.b[sp]])
    rate = 0.009 * np.interp(younger, [20, 35, 45, 60, 80], [1.8, 1.4, 1.0, 0.35, 0.1])
    conflict = rng.gamma(0.5, 2.0, sp.size)
    day = np.nan_to_num(t.since[sp], nan=0.0) + rng.exponential(1.0, sp.size) * 365.0 / np.maximum(
        rate * conflict, 1e-9
    )
    div = day < clock.n_days - 1
    day = np.maximum(day, 1.0)
    sp, day = sp[div], day[div]
    t.until[sp] = day
    pairs = np.stack([t.a[sp], t.b[sp], day], 1)
    p.divorce_pairs = pairs
    p.ties = Ties.concat([t, Ties.of(t.a[sp], t.b[sp], "former_spouse", day)])
    sep = np.stack([np.concatenate([t.a[sp], t.b[sp]]), np.tile(day, 2)], 1)
    p.separations = np.concatenate([p.separations, sep])


def _debts(rng: np.random.Generator, p: People, clock: Clock) -> Ties:
    """Debts forming over the period; a few people owe many creditors; some lenders lend to many."""
    adults = np.flatnonzero((p.age >= 22) & (p.age <= 70))
    strain = rng.lognormal(0.0, 1.0, adults.size)
    n_debts = np.minimum(rng.poisson(0.05 * strain), 4)
    heavy = rng.random(adults.size) < 0.002  # gambling, failed businesses, usury
    n_debts = np.where(heavy, rng.integers(5, 16, adults.size), n_debts)
    debtor = np.repeat(adults, n_debts)
    town = p.grid_township[p.grid]
    lenders = adults[(p.age[adults] >= 35) & (rng.random(adults.size) < 0.003)]
    p.lenders = lenders
    creditor = pick_in_group(rng, town[adults], len(p.townships), town[debtor])
    creditor = np.where(creditor >= 0, adults[np.maximum(creditor, 0)], -1)
    wide = rng.random(debtor.size) < 0.2
    creditor[wide] = adults[rng.integers(0, adults.size, int(wide.sum()))]
    from_lender = (rng.random(debtor.size) < 0.25) & (lenders.size > 0)
    if lenders.size:
        creditor[from_lender] = lenders[rng.integers(0, lenders.size, int(from_lender.sum()))]
    ok = (creditor >= 0) & (creditor != debtor)
    debtor, creditor = debtor[ok], creditor[ok]
    k = debtor.size
    since = np.where(rng.random(k) < 0.35, np.nan, rng.uniform(0, clock.n_days, k))
    repaid = np.nan_to_num(since, nan=0.0) + rng.exponential(200, k)
    until = np.where((rng.random(k) < 0.25) & (repaid < clock.n_days), repaid, np.nan)
    # convention (not relied on by the contract, which calls ties undirected): a = creditor
    return Ties.of(creditor, debtor, "creditor_debtor", since, until)


# flag: (share at the start, new per person-year, age range, male share, mean years managed)
_FLAG_SPECS = {
    "severe_mental_disorder": (0.0045, 0.0004, (18, 80), 0.5, 25.0),
    "community_correction": (0.0005, 0.0004, (20, 60), 0.85, 1.2),
    "released_prisoner": (0.0015, 0.0004, (22, 65), 0.9, 5.0),
    "drug_user": (0.0008, 0.00015, (18, 55), 0.85, 3.0),
    "key_youth": (0.0012, 0.0008, (12, 24), 0.7, 1.5),
    "other": (0.0008, 0.0003, (18, 80), 0.6, 2.0),
}
# danger grading of a severe mental disorder (0..5), share of patients at each level
SMD_LEVELS = np.array([0.40, 0.30, 0.15, 0.09, 0.045, 0.015])


def _flags(rng: np.random.Generator, p: People, clock: Clock) -> Flags:
    """Special populations: those managed at go-live (start_date = first day) and new ones."""
    out = []
    for name, (prev, inc, (lo, hi), male_share, years) in _FLAG_SPECS.items():
        n_pre = rng.poisson(prev * p.n)
        n_new = rng.poisson(inc * p.n * clock.years)
        ok = (p.age >= lo) & (p.age <= hi)
        w = ok * np.where(p.male, male_share, 1 - male_share) * np.exp(0.8 * p.hidden)
        total = min(n_pre + n_new, int(ok.sum()))
        if total == 0:
            continue
        who = rng.choice(p.n, total, replace=False, p=w / w.sum())
        start = np.where(np.arange(total) < n_pre, 0.0, rng.uniform(1, clock.n_days, total))
        span = rng.exponential(years * 365.25, total)
        span = np.where(np.arange(total) < n_pre, span * rng.random(total), span)
        end = start + np.maximum(span, 30)
        end = np.where(end < clock.n_days, end, np.nan)
        level = np.full(total, -1)
        if name == "severe_mental_disorder":
            level = rng.choice(SMD_LEVELS.size, total, p=SMD_LEVELS)
        out.append(Flags(who, np.full(total, F[name]), level, start, end))
    if not out:
        return Flags(*(np.zeros(0, t) for t in (np.int64, np.int64, np.int64, float, float)))
    return Flags(*(np.concatenate([getattr(f, c) for f in out]) for c in Flags.__annotations__))
