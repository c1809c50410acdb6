"""Disputes as they are registered: who, where, when, which category, what was reported.

Most disputes arise from a tie (a couple, neighbours, a debt, a tenancy); collective ones
(wages, land, property management) set many claimants against one respondent. Each pair
of people carries a hidden "conflict" weight, so some pairs come back again and again.
See docs/simulator.md for the mechanism and every number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskwarn._contract import CATEGORIES, SOURCES
from riskwarn._sim_people import K, People, Ties
from riskwarn._sim_time import Clock, pick_in_group, seasonal_days, times_in

C = {c: i for i, c in enumerate(CATEGORIES)}
S = {s: i for i, s in enumerate(SOURCES)}

DISPUTES_PER_100_PER_YEAR = 4.0
CATEGORY_SHARE = {
    "marriage_family": 0.25, "neighbor": 0.22, "debt": 0.12, "land_property": 0.10,
    "labor_wage": 0.06, "medical": 0.025, "property_management": 0.04, "contract": 0.07,
    "other": 0.115,
}  # fmt: skip
# month multipliers (Jan..Dec): wage arrears peak before the Spring Festival, land in spring
_SEASON = {
    "labor_wage": np.array([2.2, 1.4, 0.8, 0.7, 0.7, 0.8, 0.8, 0.8, 0.9, 1.0, 1.2, 1.8]),
    "land_property": np.array([0.8, 0.9, 1.4, 1.4, 1.3, 1.0, 0.9, 0.9, 1.0, 1.1, 0.9, 0.8]),
    "marriage_family": np.array([1.1, 1.3, 1.1, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 0.9, 1.0]),
    "neighbor": np.array([0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8]),
}
# tie kinds that give rise to each category, with their relative weight per tie-year
_FROM_TIES = {
    "marriage_family": {"spouse": 1.0, "former_spouse": 3.0, "partner": 1.5, "parent_child": 0.12,
                        "sibling": 0.1},
    "neighbor": {"neighbor": 1.0},
    "debt": {"creditor_debtor": 1.0},
    "land_property": {"neighbor": 1.0, "sibling": 1.0, "relative": 0.4},
    "labor_wage": {"other": 1.0},
    "contract": {"landlord_tenant": 1.0},
    "other": {"colleague": 1.0, "other": 0.6, "neighbor": 0.15},
}  # fmt: skip
PAIR_WEIGHT_CAP = 8.0  # hidden conflict weight of a pair: gamma(0.35) with mean 1, capped
TIE_SHARE = {"contract": 0.35, "other": 0.5}  # the rest: strangers, business partners
COLLECTIVE_SHARE = {"labor_wage": 0.3, "land_property": 0.15, "property_management": 0.3}


@dataclass
class Cases:
    """Disputes (sorted by registration) and their parties, as index arrays."""

    day: np.ndarray  # reported_at, days since start
    cat: np.ndarray
    grid: np.ndarray
    a: np.ndarray  # lead claimant
    b: np.ndarray  # lead respondent
    tie: np.ndarray  # tie kind code the dispute arose from, -1 for none
    n_claimants: np.ndarray
    prior_pair: np.ndarray  # earlier disputes between the same two people
    sigma: np.ndarray  # hidden severity (never recorded)
    pair_w: np.ndarray  # hidden conflict weight of the pair (never recorded)
    threat: np.ndarray  # true facts at registration ...
    violence: np.ndarray
    weapon: np.ndarray
    threat_rec: np.ndarray  # ... and what the register recorded
    violence_rec: np.ndarray
    weapon_rec: np.ndarray
    source: np.ndarray
    amount: np.ndarray
    party_case: np.ndarray  # dispute_parties: dispute index, person, role code
    party_person: np.ndarray
    party_role: np.ndarray

    def __len__(self) -> int:
        return int(self.day.size)


def _active_window(t: Ties, clock: Clock) -> tuple[np.ndarray, np.ndarray]:
    lo = np.nan_to_num(t.since, nan=0.0)
    hi = np.nan_to_num(t.until, nan=float(clock.n_days))
    return lo, np.maximum(hi, lo)


def _from_ties(rng, p: People, clock: Clock, cat: str, target: float, pair_w: np.ndarray):
    """Disputes of ``cat`` among active ties, Poisson per tie, uniform (seasonal) in its window."""
    t = p.ties
    weights = np.zeros(len(t))
    for kind, w in _FROM_TIES[cat].items():
        weights[t.kind == K[kind]] = w
    if cat == "land_property":
        weights *= np.where(p.grid_urban[p.grid[t.a]], 0.15, 1.0)
    lo, hi = _active_window(t, clock)
    if cat == "marriage_family" and len(p.divorce_pairs):
        # couples who divorce quarrel most in the year before
        div_day = np.full(len(t), np.nan)
        sp = np.flatnonzero((t.kind == K["spouse"]) & ~np.isnan(t.until))
        div_day[sp] = t.until[sp]
        near = ~np.isnan(div_day) & (rng.random(len(t)) < 0.8)
        lo = np.where(near, np.maximum(lo, div_day - 365.0), lo)
        weights = np.where(near, weights * 5.0, weights)
    lam = weights * pair_w * np.sqrt(p.propensity[t.a] * p.propensity[t.b]) * (hi - lo) / 365.0
    if lam.sum() <= 0:
        return np.zeros(0, np.int64), np.zeros(0)
    # no tie quarrels on the platform more than about once every eight months
    count = rng.poisson(np.minimum(lam * target / lam.sum(), 1.5 * (hi - lo) / 365.0))
    idx = np.repeat(np.arange(len(t)), count)
    day = seasonal_days(rng, lo[idx], hi[idx], clock, _SEASON.get(cat))
    return idx, day


def _pick_adults(rng, p: People, k: int, lo: int = 18, hi: int = 80, w=None) -> np.ndarray:
    ok = (p.age >= lo) & (p.age <= hi)
    w = ok * p.propensity * (1.0 if w is None else w)
    return rng.choice(p.n, k, p=w / w.sum())


def _collective(rng, p: People, clock: Clock, cat: str, k: int):
    """``k`` disputes with several claimants against one respondent; returns parties too."""
    heads, grid_of = p.head, p.grid
    if cat == "labor_wage":
        emp, size = np.unique(p.employer[p.employer >= 0], return_counts=True)
        emp_ok = emp[size >= 5]
        if emp_ok.size == 0:
            return None
        resp = emp_ok[rng.choice(emp_ok.size, k, p=size[size >= 5] / size[size >= 5].sum())]
        n_cl = np.minimum(5 + rng.geometric(0.12, k), 40)
        pool_group = p.employer[p.employer >= 0]
        pool = np.flatnonzero(p.employer >= 0)
        group_ids, group = np.unique(pool_group, return_inverse=True)
        query = np.searchsorted(group_ids, np.repeat(resp, n_cl))
        n_groups = group_ids.size
    else:
        if cat == "land_property":
            grids = np.flatnonzero(~p.grid_urban)
        else:
            grids = np.flatnonzero(p.grid_urban & (p.managers >= 0))
        if grids.size == 0:
            return None
        g = grids[rng.integers(0, grids.size, k)]
        if cat == "land_property":
            town = p.grid_township[g]
            pick = pick_in_group(rng, p.grid_township[grid_of[heads]], len(p.townships), town)
            resp = heads[np.maximum(pick, 0)]  # a village cadre or a contractor
            n_cl = np.minimum(5 + rng.geometric(0.1, k), 40)
        else:
            resp = p.managers[g]
            n_cl = np.where(rng.random(k) < 0.6, rng.integers(2, 5, k), 5 + rng.geometric(0.15, k))
        pool, group, n_groups = heads, grid_of[heads], p.n_grids
        query = np.repeat(g, n_cl)
    members = pick_in_group(rng, group, n_groups, query)
    members = np.where(members >= 0, pool[np.maximum(members, 0)], np.repeat(resp, n_cl))
    day = seasonal_days(rng, np.zeros(k), np.full(k, float(clock.n_days)), clock, _SEASON.get(cat))
    case = np.repeat(np.arange(k), n_cl)
    # drop duplicates and the respondent among claimants
    key = np.unique(np.stack([case, members], 1), axis=0)
    key = key[key[:, 1] != resp[key[:, 0]]]
    return day, resp, key[:, 0], key[:, 1]


def build_cases(rng: np.random.Generator, p: People, clock: Clock) -> Cases:
    """Every dispute of the period with its parties and the facts recorded at registration."""
    total = DISPUTES_PER_100_PER_YEAR / 100.0 * p.n * clock.years
    pair_w = np.minimum(rng.gamma(0.35, 1.0 / 0.35, len(p.ties)), PAIR_WEIGHT_CAP)
    pieces = []  # (cat, day, a, b, tie kind, pair weight, extra claimants (case, person))

    def add(cat, day, a, b, tie, w, extra=None):
        pieces.append((np.full(day.size, C[cat]), day, a, b, tie, w, extra))

    for cat, share in CATEGORY_SHARE.items():
        target = share * total
        coll = COLLECTIVE_SHARE.get(cat, 0.0)
        if coll:
            got = _collective(rng, p, clock, cat, rng.poisson(coll * target))
            if got is not None:
                day, resp, case, members = got
                lead = np.full(day.size, -1)
                lead[case[::-1]] = members[::-1]
                ok = lead >= 0
                remap = np.cumsum(ok) - 1
                keep = ok[case]
                extra = (remap[case[keep]], members[keep])
                add(
                    cat,
                    day[ok],
                    lead[ok],
                    resp[ok],
                    np.full(ok.sum(), -1),
                    np.ones(ok.sum()),
                    extra,
                )
            target *= 1.0 - coll
        from_ties = TIE_SHARE.get(cat, 1.0) if cat in _FROM_TIES else 0.0
        if from_ties:
            idx, day = _from_ties(rng, p, clock, cat, target * from_ties, pair_w)
            t = p.ties
            a, b = t.a[idx], t.b[idx]
            swap = rng.random(idx.size) < (0.2 if cat == "debt" else 0.5)
            if cat == "marriage_family":
                swap = np.where(p.male[a] & ~p.male[b], rng.random(idx.size) < 0.65, swap)
            a, b = np.where(swap, b, a), np.where(swap, a, b)
            add(cat, day, a, b, t.kind[idx].astype(np.int64), pair_w[idx])
        if from_ties < 1.0:
            k = rng.poisson(target * (1.0 - from_ties))
            day = seasonal_days(rng, np.zeros(k), np.full(k, float(clock.n_days)), clock, None)
            if cat == "medical":
                a = _pick_adults(rng, p, k, 18, 95, w=1.0 + p.age / 30.0)
                b = p.doctors[rng.integers(0, p.doctors.size, k)]
            elif cat == "property_management":
                urban = np.flatnonzero(p.grid_urban[p.grid] & (p.age >= 25))
                a = urban[rng.integers(0, urban.size, k)]
                b = p.managers[p.grid[a]]
            else:  # contract, other: strangers or business partners in the same township
                a = _pick_adults(rng, p, k, 20, 70)
                town = p.grid_township[p.grid]
                pick = pick_in_group(rng, town[p.head], len(p.townships), town[a])
                b = p.head[np.maximum(pick, 0)]
            ok = (a != b) & (b >= 0)
            a, b, day = a[ok], b[ok], day[ok]
            w = np.minimum(rng.gamma(0.35, 1 / 0.35, a.size), PAIR_WEIGHT_CAP)
            add(cat, day, a, b, np.full(a.size, -1), w)
    return _assemble(rng, p, clock, pieces)


def _assemble(rng, p: People, clock: Clock, pieces) -> Cases:
    offsets = np.cumsum([0] + [x[1].size for x in pieces])
    cat, day, a, b, tie, w = (np.concatenate([x[i] for x in pieces]) for i in range(6))
    extra_case = np.concatenate([x[6][0] + offsets[i] for i, x in enumerate(pieces) if x[6]])
    extra_person = np.concatenate([x[6][1] for x in pieces if x[6]])
    order = np.argsort(day, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    cat, day, a, b, tie, w = cat[order], day[order], a[order], b[order], tie[order], w[order]
    extra_case = rank[extra_case]
    n = day.size
    # registration happens at a time of day fitting its source; sources depend on what happened
    sigma = rng.normal(0.0, 1.0, n)
    pair = np.stack([np.minimum(a, b), np.maximum(a, b)], 1)
    _, inverse = np.unique(pair, axis=0, return_inverse=True)
    prior = _cumcount(inverse.ravel())
    h = np.maximum(p.hidden[a], p.hidden[b])
    cat_t = np.array([0.5, 0.2, 0.3, 0.2, 0.1, -0.3, -0.8, -0.4, -0.2])[cat]
    cat_v = np.array([0.8, 0.5, 0.0, 0.4, -0.5, -0.4, -0.8, -0.6, 0.2])[cat]
    ex = (tie == K["former_spouse"]) | (tie == K["partner"])
    z = 0.8 * sigma + 0.5 * h + 0.3 * np.log1p(prior) + 0.4 * ex
    threat = rng.random(n) < _sigmoid(-2.9 + cat_t + z)
    violence = rng.random(n) < _sigmoid(-3.7 + cat_v + z + 1.0 * threat)
    weapon = rng.random(n) < _sigmoid(-4.8 + 1.2 * threat + 1.0 * violence + 0.5 * sigma)
    drift = day >= clock.drift_day
    threat_rec = np.where(threat, rng.random(n) < np.where(drift, 0.92, 0.72),
                          rng.random(n) < np.where(drift, 0.025, 0.008))  # fmt: skip
    violence_rec = np.where(violence, rng.random(n) < 0.9, rng.random(n) < 0.004)
    weapon_rec = np.where(weapon, rng.random(n) < 0.8, rng.random(n) < 0.002)
    source = _sources(rng, cat, violence, threat, drift)
    profile = np.where(source == S["police_call"], 2, np.where(source == S["hotline"], 1, 0))
    reg = np.floor(day)
    for code, name in enumerate(("office", "hotline", "police")):
        m = profile == code
        lo = reg[m]
        if name == "office":  # offices are mostly shut at weekends: move to Monday
            wd = clock.weekday(lo)
            lo = np.where((wd >= 5) & (rng.random(lo.size) < 0.8), lo + 7 - wd, lo)
            lo = np.minimum(lo, clock.n_days - 1)
        day[m] = times_in(rng, lo, lo + 1, name)
    order = np.argsort(day, kind="stable")  # re-sort after the time of day is known
    rank = np.empty_like(order)
    rank[order] = np.arange(n)
    cols = [day, cat, a, b, tie, w, sigma, prior, threat, violence, weapon, threat_rec,
            violence_rec, weapon_rec, source]  # fmt: skip
    day, cat, a, b, tie, w, sigma, prior, threat, violence, weapon, threat_rec, violence_rec, \
        weapon_rec, source = (c[order] for c in cols)  # fmt: skip
    extra_case = rank[extra_case]
    party_case, party_person, party_role = _parties(rng, p, a, b, extra_case, extra_person)
    n_claim = np.bincount(party_case[party_role == 0], minlength=n)
    return Cases(
        day=day, cat=cat, grid=p.grid[a], a=a, b=b, tie=tie, n_claimants=n_claim,
        prior_pair=prior, sigma=sigma, pair_w=w, threat=threat, violence=violence,
        weapon=weapon, threat_rec=threat_rec, violence_rec=violence_rec, weapon_rec=weapon_rec,
        source=source, amount=_amounts(rng, cat, n_claim), party_case=party_case,
        party_person=party_person, party_role=party_role,
    )  # fmt: skip


def _cumcount(group: np.ndarray) -> np.ndarray:
    """How many earlier rows share each row's group (rows already in time order)."""
    order = np.argsort(group, kind="stable")
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]]
    run_start = np.maximum.accumulate(np.where(first, np.arange(g.size), 0))
    out = np.empty_like(group)
    out[order] = np.arange(g.size) - run_start
    return out


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _sources(rng, cat, violence, threat, drift) -> np.ndarray:
    """How each dispute came in: weights by category, violence and the last year's habits."""
    base = np.array([0.30, 0.18, 0.10, 0.05, 0.12, 0.20, 0.05])
    w = np.tile(base, (cat.size, 1))
    w[:, S["police_call"]] *= np.where(violence, 5.0, np.where(threat, 2.5, 1.0))
    for c, boosts in {
        "labor_wage": {"hotline": 1.5, "petition": 2.5},
        "land_property": {"petition": 2.0, "grid_visit": 1.3},
        "medical": {"mediation_center": 2.5, "hotline": 1.5},
        "property_management": {"hotline": 2.0},
        "marriage_family": {"walk_in": 1.3},
    }.items():
        for s, m in boosts.items():
            w[cat == C[c], S[s]] *= m
    w[drift, S["hotline"]] *= 2.0  # the hotline (12345) takes over more intake
    cdf = np.cumsum(w, axis=1)
    u = rng.random(cat.size) * cdf[:, -1]
    return (u[:, None] >= cdf).sum(axis=1)


_AMOUNT = {  # share of disputes with an amount, log-mean, log-sd (CNY)
    "marriage_family": (0.25, 11.0, 1.2), "neighbor": (0.2, 7.5, 1.0), "debt": (0.95, 10.0, 1.0),
    "land_property": (0.6, 10.5, 1.2), "labor_wage": (0.9, 9.0, 0.6), "medical": (0.8, 10.3, 1.0),
    "property_management": (0.7, 7.5, 0.9), "contract": (0.85, 9.8, 1.1), "other": (0.4, 8.5, 1.2),
}  # fmt: skip


def _amounts(rng, cat, n_claimants) -> np.ndarray:
    share, mu, sd = (np.array([_AMOUNT[c][i] for c in CATEGORIES])[cat] for i in range(3))
    amount = rng.lognormal(mu, sd) * np.where(cat == C["labor_wage"], n_claimants, 1)
    amount = np.round(amount, -2)
    return np.where(rng.random(cat.size) < share, np.maximum(amount, 100.0), np.nan)


def _parties(rng, p: People, a, b, extra_case, extra_person):
    """Lead claimant and respondent, collective claimants, and family members now and then."""
    n = a.size
    idx = np.arange(n)
    cases = [idx, idx, extra_case]
    persons = [a, b, extra_person]
    roles = [np.zeros(n, np.int64), np.ones(n, np.int64), np.zeros(extra_case.size, np.int64)]
    # a family member joins one side in some disputes (as "other", sometimes as co-claimant)
    join = np.flatnonzero(rng.random(n) < 0.15)
    side = np.where(rng.random(join.size) < 0.5, a[join], b[join])
    hh = p.household[side]
    mate = np.where(p.head[hh] == side, p.spouse_of_head[hh], p.head[hh])
    ok = (mate >= 0) & (mate != a[join]) & (mate != b[join]) & (p.age[np.maximum(mate, 0)] >= 16)
    cases.append(join[ok])
    persons.append(mate[ok])
    roles.append(np.where(rng.random(ok.sum()) < 0.7, 2, np.where(side[ok] == a[join][ok], 0, 1)))
    case, person, role = (np.concatenate(x) for x in (cases, persons, roles))
    key = np.unique(np.stack([case, person], 1), axis=0, return_index=True)[1]
    key = np.sort(key)
    return case[key], person[key], role[key]
