"""The course of every dispute, week by week: follow-up, mediation, petitions, incidents.

One loop over weeks; inside a week everything is vectorised over the disputes open (or
recently closed) then. Each dispute carries a weekly hazard of an extreme incident,

    log h = B0 + static terms (category, tie, facts at registration, repeat pair, hidden)
               + time-varying terms (failed mediations, threats and police calls since,
                 escalation, petition level, flags, debts, separation, exposure, ...)

and what the grid records (threats, police calls, failed mediations) is a noisy view of
the same hidden state, so the records predict, without revealing, the hazard. The true
course never depends on how diligently a grid records it; recording is decided per event
afterwards. docs/simulator.md lists every coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from riskwarn._contract import CATEGORIES, CHANNELS, EVENT_KINDS, INCIDENT_KINDS
from riskwarn._progress import Progress, report
from riskwarn._sim_cases import C, Cases, S
from riskwarn._sim_hazard import B0, CAT_LOG_HAZARD, COEF, TIE_LOG_HAZARD, PersonState
from riskwarn._sim_people import K, People
from riskwarn._sim_time import Clock, times_in

E = {k: i for i, k in enumerate(EVENT_KINDS)}
INC = {k: i for i, k in enumerate(INCIDENT_KINDS)}

BACKGROUND_INCIDENTS_PER_100K_YEAR = 20.0  # incidents that grow out of no registered dispute
INCIDENT_KIND_BASE = np.array([0.08, 0.10, 0.37, 0.22, 0.08, 0.15])  # homicide .. other_extreme
WATCH_WEEKS = 26  # a closed dispute keeps some hazard (and may reopen) for half a year
ADMIN_CLOSE_PER_WEEK = 0.04  # cases open past 8 weeks are closed administratively at this rate
# ---- recording ---------------------------------------------------------------------------
GRID_DILIGENCE_BETA = (2.0, 1.2)  # per-grid recording probability, clipped to [0.1, 0.98]
DRIFT_VISIT_FACTOR = 0.55  # visits recorded this much less often in the last year
DRIFT_THREAT_FACTOR = 1.3  # threat events recorded this much more often in the last year


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Course:
    """Everything that happened after registration, as arrays (events keep a recorded mask)."""

    ev_case: list = field(default_factory=list)
    ev_day: list = field(default_factory=list)
    ev_kind: list = field(default_factory=list)
    ev_kept: list = field(default_factory=list)
    pet: list = field(default_factory=list)  # (person, day, level, repeat, collective, case)
    inc: list = field(default_factory=list)  # (day, kind, case)
    inc_persons: list = field(default_factory=list)  # (incident, person, role)
    n_inc: int = 0

    def event(self, case, day, kind, kept):
        self.ev_case.append(np.asarray(case, np.int64))
        self.ev_day.append(np.asarray(day, np.float64))
        self.ev_kind.append(np.full(np.size(case), E[kind], np.int64))
        self.ev_kept.append(np.asarray(kept, bool))


def run_course(
    rng: np.random.Generator, p: People, cases: Cases, clock: Clock, progress: Progress | None
) -> Course:
    """Simulate every dispute from registration to the end of the period."""
    sim = _Sim(rng, p, cases, clock)
    n_weeks = int(np.ceil(clock.n_days / 7))
    for w in range(n_weeks):
        sim.week(7.0 * w, min(7.0 * w + 7.0, float(clock.n_days)))
        if w % 10 == 0 or w == n_weeks - 1:
            report(progress, w + 2, n_weeks + 2, "weeks of dispute courses")
    return sim.out


class _Sim:
    def __init__(self, rng, p: People, c: Cases, clock: Clock):
        self.rng, self.p, self.c, self.clock = rng, p, c, clock
        self.world = PersonState(p)
        self.out = Course()
        n = len(c)
        self.status = np.zeros(
            n, np.int8
        )  # 0 not yet reported, 1 open, 2 closed (watched), 3 dormant
        self.open_from = c.day.copy()
        self.close_at = np.full(n, np.inf)
        self.closed_day = np.full(n, np.nan)
        self.n_fail = np.zeros(n)
        self.thr = np.zeros(n)
        self.pol = np.zeros(n)
        self.esc = np.zeros(n, bool)
        self.referred = np.zeros(n, bool)
        self.pet_level = np.full(n, -1)
        self.n_pet = np.zeros(n, np.int64)
        self.had_inc = np.zeros(n, bool)
        self.mood = rng.normal(0, 0.4, n)
        self.collective = c.n_claimants >= 5
        cat_h = np.array([CAT_LOG_HAZARD[x] for x in CATEGORIES])[c.cat]
        tie_h = np.zeros(n)
        for kind, v in TIE_LOG_HAZARD.items():
            tie_h[c.tie == K[kind]] = v
        self.static = (
            B0 + cat_h + tie_h + COEF["threat_at_registration"] * c.threat
            + COEF["violence_at_registration"] * c.violence
            + COEF["weapon_at_registration"] * c.weapon
            + COEF["log1p_prior_disputes_of_pair"] * np.log1p(c.prior_pair)
            + COEF["hidden_severity (sd 1)"] * c.sigma
            + COEF["log_pair_weight (clipped to +-1.5)"] * np.clip(np.log(c.pair_w), -1.5, 1.5)
            + np.maximum(p.hidden[c.a], p.hidden[c.b])
        )  # fmt: skip
        # hidden disposition of a dispute toward threats and calls: what records partly reveal
        self.temper = 0.55 * c.sigma + np.maximum(p.hidden[c.a], p.hidden[c.b])
        self.mediable = np.array([0.0, 0.2, -0.2, -0.5, -0.3, -0.3, 0.0, 0.0, 0.3])[c.cat]
        self.pet_base = np.array([0.05, 0.04, 0.06, 0.2, 0.22, 0.12, 0.1, 0.05, 0.04])[c.cat]
        order = np.argsort(c.party_case, kind="stable")
        self.claim_case = c.party_case[order][c.party_role[order] == 0]
        self.claim_person = c.party_person[order][c.party_role[order] == 0]
        self.claim_ptr = np.searchsorted(self.claim_case, np.arange(n + 1))
        g = rng.beta(*GRID_DILIGENCE_BETA, p.n_grids)
        self.diligence = np.clip(g, 0.1, 0.98)

    # -- recording ---------------------------------------------------------------------
    def _kept(self, case, day, kind) -> np.ndarray:
        rho = self.diligence[self.c.grid[case]]
        drift = day >= self.clock.drift_day
        prob = {
            "visit": rho * np.where(drift, DRIFT_VISIT_FACTOR, 1.0),
            "mediation_attempt": rho**0.6,
            "threat": np.minimum(
                (0.45 + 0.45 * rho) * np.where(drift, DRIFT_THREAT_FACTOR, 1.0), 0.98
            ),
            "police_call": 0.6 + 0.35 * rho,
        }.get(kind)
        if prob is None:
            return np.ones(np.size(case), bool)
        return self.rng.random(np.size(case)) < prob

    # -- one week ------------------------------------------------------------------------
    def week(self, t0: float, t1: float) -> None:
        rng, c, w = self.rng, self.c, self.world
        w.advance(t0)
        new = (self.status == 0) & (c.day < t1)
        self.status[new] = 1
        self._initial_petitions(np.flatnonzero(new))
        self.mood = 0.9 * self.mood + rng.normal(0, 0.25, self.mood.size)
        self._watched(np.flatnonzero(self.status == 2), t0, t1)
        self._open(np.flatnonzero(self.status == 1), t0, t1)
        self._background(t0, t1)

    def _log_hazard(self, d: np.ndarray, t0: float) -> np.ndarray:
        c, w = self.c, self.world
        a, b = c.a[d], c.b[d]
        weeks = np.maximum(t0 - c.day[d], 0.0) / 7.0
        return (
            self.static[d]
            + COEF["failed_mediations (up to 5)"] * np.minimum(self.n_fail[d], 5)
            + COEF["threat_events_decayed (up to 2)"] * np.minimum(self.thr[d], 2)
            + COEF["police_calls_decayed (up to 2)"] * np.minimum(self.pol[d], 2)
            + COEF["escalated"] * self.esc[d]
            + COEF["petition_level (1 township .. 5 national)"] * (self.pet_level[d] + 1)
            + COEF["flag_score (max of the two sides)"] * np.maximum(w.flag[a], w.flag[b])
            + COEF["log1p_creditors_beyond_first (max)"]
            * np.log1p(np.maximum(np.maximum(w.creditors[a], w.creditors[b]) - 1, 0))
            + COEF["separation_within_365d (either side)"]
            * ((t0 - np.maximum(w.last_sep[a], w.last_sep[b])) < 365)
            + COEF["exposure (sum of both, up to 3)"] * np.minimum(w.exposure[a] + w.exposure[b], 3)
            + COEF["earlier_incident_as_perpetrator"] * ((w.perp[a] + w.perp[b]) > 0)
            + COEF["log1p_weeks_open_over_4"] * np.log1p(weeks / 4.0)
            + COEF["after_an_incident_in_this_dispute"] * self.had_inc[d]
            + self.mood[d]
        )  # fmt: skip

    def _open(self, d: np.ndarray, t0: float, t1: float) -> None:
        rng, c = self.rng, self.c
        if d.size == 0:
            return
        n = d.size
        lo = np.maximum(t0, self.open_from[d] + 0.007)
        hi = np.minimum(t1, self.close_at[d])
        live = hi - lo > 0.05
        age = np.maximum(t0 - self.open_from[d], 0.0) / 7.0  # weeks since (re)opening
        eta = self._log_hazard(d, t0)
        self.thr[d] *= 0.89  # threat and call memory: half-life of six weeks
        self.pol[d] *= 0.89
        temper = self.temper[d] + self.mood[d]
        pending = np.isfinite(self.close_at[d])

        def happens(prob):
            return live & (rng.random(n) < prob)

        # visits
        m = happens(np.where(age < 2, 0.55, np.where(age < 8, 0.25, 0.1)))
        self._emit(d[m], times_in(rng, lo[m], hi[m], "office"), "visit")
        # threats and police calls reveal the hidden temper
        thr_rate = 0.02 * np.exp(0.8 * temper + 0.6 * c.threat[d] + 0.3 * c.violence[d]
                                 + 0.25 * np.minimum(self.n_fail[d], 3))  # fmt: skip
        m = happens(1 - np.exp(-thr_rate))
        self._emit(d[m], times_in(rng, lo[m], hi[m], "waking"), "threat")
        self.thr[d[m]] += 1
        esc = m & (rng.random(n) < 0.2)
        pol_rate = 0.012 * np.exp(0.7 * temper + 0.8 * c.violence[d] + 0.4 * c.threat[d])
        m = happens(1 - np.exp(-pol_rate))
        self._emit(d[m], times_in(rng, lo[m], hi[m], "police"), "police_call")
        self.pol[d[m]] += 1
        # mediation
        p_att = np.where(age < 3, 0.35, np.where(age < 8, 0.25, 0.1))
        att = happens(np.where(self.referred[d] | pending, 0.0, p_att)) & (hi - lo > 0.2)
        at = times_in(rng, lo[att], hi[att] - 0.15, "office")
        outcome_at = at + rng.uniform(1, 3, at.size) / 24.0
        ps = _sigmoid(1.1 - 0.55 * self.n_fail[d] - 0.6 * c.sigma[d] - 0.5 * self.mood[d]
                      - 0.6 * self.collective[d] + self.mediable[d])[att]  # fmt: skip
        ok = rng.random(at.size) < ps
        kept = self._kept(d[att], at, "mediation_attempt")
        self.out.event(d[att], at, "mediation_attempt", kept)
        outcome_kept = kept & (rng.random(at.size) < 0.9)
        self.out.event(d[att][ok], outcome_at[ok], "mediation_success", outcome_kept[ok])
        self.out.event(d[att][~ok], outcome_at[~ok], "mediation_failure", outcome_kept[~ok])
        success = d[att][ok]
        delay = np.where(
            rng.random(ok.sum()) < 0.6,
            rng.uniform(0.05, 0.3, ok.sum()),
            rng.uniform(1, 10, ok.sum()),
        )
        self._schedule(success, outcome_at[ok] + delay)
        failed, fail_at = d[att][~ok], outcome_at[~ok]
        self.n_fail[failed] += 1
        self.mood[failed] += 0.3
        # after a failure: petition, referral, escalation
        k = failed.size
        boost = np.where(self.collective[failed], 1.5, 1.0)  # collective cases petition more
        pet = rng.random(k) < self.pet_base[failed] * boost * (1 + 0.3 * self.n_fail[failed])
        self._petition(failed[pet], fail_at[pet] + rng.exponential(3.0, pet.sum()), open_now=True)
        ref = rng.random(k) < 0.12 + 0.04 * self.n_fail[failed]
        ref_at = fail_at[ref] + rng.uniform(0.05, 2.0, ref.sum())
        keep = ref_at < np.minimum(t1, self.close_at[failed[ref]])
        self._emit(failed[ref][keep], ref_at[keep], "referral")
        self.referred[failed[ref][keep]] = True
        later = rng.random(keep.sum()) < 0.7
        self._schedule(
            failed[ref][keep][later], ref_at[keep][later] + rng.uniform(14, 56, later.sum())
        )
        esc_f = np.zeros(n, bool)
        esc_f[np.searchsorted(d, failed[rng.random(k) < 0.1 + 0.25 * (self.thr[failed] > 0.5)])] = (
            True
        )
        m = (esc | esc_f) & live
        self._emit(d[m], times_in(rng, lo[m], hi[m], "office"), "escalation")
        self.esc[d[m]] = True
        # cases that drag on are closed administratively now and then
        adm = happens(np.where((age > 8) & ~pending, ADMIN_CLOSE_PER_WEEK, 0.0))
        self._schedule(d[adm], times_in(rng, lo[adm], hi[adm], "office"))
        # extreme incidents
        m = happens(1 - np.exp(-np.exp(eta)))
        self._incidents(d[m], times_in(rng, lo[m], hi[m], "waking"), open_now=True)
        # closures falling in this week
        self._close_due(d, t1)

    def _watched(self, d: np.ndarray, t0: float, t1: float) -> None:
        """Closed disputes: a lower hazard, and a chance to reopen, for WATCH_WEEKS."""
        rng = self.rng
        if d.size == 0:
            return
        expired = t0 - self.closed_day[d] > 7 * WATCH_WEEKS
        self.status[d[expired]] = 3
        d = d[~expired]
        n = d.size
        lo = np.maximum(t0, self.closed_day[d] + 0.01)
        eta = self._log_hazard(d, t0) + COEF["closed (watch period of 26 weeks)"]
        m = (rng.random(n) < 1 - np.exp(-np.exp(eta))) & (t1 - lo > 0.05)
        inc_at = times_in(rng, lo[m], np.full(m.sum(), t1), "waking")
        self._incidents(d[m], inc_at, open_now=False)
        reopen_after = np.full(n, np.inf)
        reopen_after[m] = np.where(
            rng.random(m.sum()) < 0.4, inc_at + rng.uniform(1, 7, m.sum()), np.inf
        )
        r = rng.random(n) < 0.0025 * np.exp(0.5 * (self.temper[d] + self.mood[d]))
        r &= ~m & (t1 - lo > 0.05)
        r_at = times_in(rng, lo[r], np.full(r.sum(), t1), "office")
        with_pet = rng.random(r.sum()) < 0.3
        self._petition(
            d[r][with_pet],
            np.maximum(r_at[with_pet] - rng.uniform(0, 3, with_pet.sum()), lo[r][with_pet]),
            open_now=False,
        )
        reopen_after[r] = r_at
        go = np.isfinite(reopen_after) & (reopen_after < self.clock.n_days)
        rd, rt = d[go], reopen_after[go]
        self._emit(rd, rt, "reopened")
        self.status[rd] = 1
        self.open_from[rd] = rt
        self.close_at[rd] = np.inf
        self.referred[rd] = False

    def _schedule(self, d: np.ndarray, at: np.ndarray) -> None:
        self.close_at[d] = np.minimum(self.close_at[d], at)

    def _close_due(self, d: np.ndarray, t1: float) -> None:
        due = d[(self.close_at[d] < t1) & (self.close_at[d] < self.clock.n_days)]
        self._emit(due, self.close_at[due], "closed")
        self.status[due] = 2
        self.closed_day[due] = self.close_at[due]
        self.close_at[due] = np.inf

    def _emit(self, d: np.ndarray, at: np.ndarray, kind: str) -> None:
        ok = at < self.clock.n_days
        d, at = d[ok], at[ok]
        self.out.event(d, at, kind, self._kept(d, at, kind))

    # -- petitions -----------------------------------------------------------------------
    def _initial_petitions(self, d: np.ndarray) -> None:
        """Disputes that came in as a petition have one, filed shortly before registration."""
        c = self.c
        d = d[c.source[d] == S["petition"]]
        at = np.maximum(c.day[d] - self.rng.uniform(0, 5, d.size), 0.0)
        at = np.minimum(at, c.day[d])
        self._petition(d, at, open_now=False)

    def _petition(self, d: np.ndarray, at: np.ndarray, open_now: bool) -> None:
        rng, c = self.rng, self.c
        ok = at < self.clock.n_days
        d, at = d[ok], at[ok]
        if d.size == 0:
            return
        at = times_in(rng, np.floor(at), np.floor(at) + 1, "hotline")
        first = self.pet_level[d] < 0
        climb = ~first & (rng.random(d.size) < 0.55)
        level = np.where(
            first,
            np.where(rng.random(d.size) < 0.8, 0, 1),
            np.minimum(self.pet_level[d] + climb, 4),
        )
        repeat = self.n_pet[d] > 0
        if open_now:
            m = climb & (rng.random(d.size) < 0.5) & (at < self.close_at[d])
            self._emit(d[m], at[m] + 0.01, "escalation")
            self.esc[d[m]] = True
        self.pet_level[d] = level
        self.n_pet[d] += 1
        collective = self.collective[d] & (rng.random(d.size) < 0.6)
        # collective petitions list up to five claimants as petitioners
        n_rows = np.where(collective, np.minimum(self.claim_ptr[d + 1] - self.claim_ptr[d], 5), 1)
        row_case = np.repeat(d, n_rows)
        k = np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
        person = np.where(
            np.repeat(collective, n_rows),
            self.claim_person[self.claim_ptr[row_case] + k],
            np.repeat(c.a[d], n_rows),
        )
        linked = rng.random(row_case.size) < 0.88
        self.out.pet.append((person, np.repeat(at, n_rows), np.repeat(level, n_rows),
                             np.repeat(repeat, n_rows), np.repeat(collective, n_rows),
                             np.where(linked, row_case, -1)))  # fmt: skip

    # -- incidents -----------------------------------------------------------------------
    def _incidents(self, d: np.ndarray, at: np.ndarray, open_now: bool) -> None:
        rng, c, w = self.rng, self.c, self.world
        ok = at < self.clock.n_days
        d, at = d[ok], at[ok]
        k = d.size
        if k == 0:
            return
        a, b = c.a[d], c.b[d]
        weights = np.tile(INCIDENT_KIND_BASE, (k, 1))
        hot = c.weapon[d] | c.threat[d] | (self.thr[d] > 0.5)
        weights[hot, INC["homicide"]] *= 2.0
        weights[hot, INC["attempted_homicide"]] *= 2.0
        land = np.isin(c.cat[d], [C["land_property"], C["neighbor"]])
        weights[land, INC["arson"]] *= 2.5
        money = np.isin(c.cat[d], [C["labor_wage"], C["debt"]])
        weights[money, INC["self_harm"]] *= 2.2
        weights[np.maximum(w.flag[a], w.flag[b]) >= 1.0, INC["self_harm"]] *= 1.5
        weights[np.isin(c.tie[d], [K["former_spouse"], K["partner"]]), INC["homicide"]] *= 1.5
        kind = _draw(rng, weights)
        # the side more at risk acts; in money disputes the claimant (owed wages) harms self
        risk_a = self.p.hidden[a] + w.flag[a] + rng.logistic(0, 0.7, k)
        risk_b = self.p.hidden[b] + w.flag[b] + rng.logistic(0, 0.7, k)
        a_acts = np.where((kind == INC["self_harm"]) & money, rng.random(k) < 0.8, risk_a >= risk_b)
        perp = np.where(a_acts, a, b)
        victim = np.where(a_acts, b, a)
        linked = rng.random(k) < 0.88
        keep = w.can_act(perp, at)
        d, at, kind, perp, victim, linked = (x[keep] for x in (d, at, kind, perp, victim, linked))
        k = d.size
        if k == 0:
            return
        self._record_incidents(at, kind, np.where(linked, d, -1), perp, victim)
        self.had_inc[d] = True
        if open_now:
            ends = rng.random(k) < 0.75
            self._schedule(d[ends], at[ends] + rng.uniform(3, 28, ends.sum()))

    def _record_incidents(self, at, kind, case, perp, victim) -> None:
        """Write incidents and their people; update perpetrator history and exposure."""
        rng, p = self.rng, self.p
        k = at.size
        ids = self.out.n_inc + np.arange(k)
        self.out.n_inc += k
        self.out.inc.append((at, kind, case))
        alone = (kind == INC["self_harm"]) | (victim < 0)
        rows = [
            (ids, perp, np.zeros(k, np.int64)),
            (ids[~alone], victim[~alone], np.ones((~alone).sum(), np.int64)),
        ]
        # a second victim from the victim's household in some homicides, arsons, injuries
        hh = p.household[np.maximum(victim, 0)]
        mate = np.where(p.head[hh] == victim, p.spouse_of_head[hh], p.head[hh])
        second = ~alone & (mate >= 0) & (mate != perp) & (mate != victim) & (rng.random(k) < 0.15)
        second &= np.isin(kind, [INC["homicide"], INC["arson"], INC["serious_injury"]])
        rows.append((ids[second], mate[second], np.ones(second.sum(), np.int64)))
        # a witness or bystander now and then
        wit = (rng.random(k) < 0.15) & (kind != INC["self_harm"])
        bystander = rng.integers(0, p.n, wit.sum())
        okw = (bystander != perp[wit]) & (bystander != victim[wit])
        rows.append((ids[wit][okw], bystander[okw], np.full(okw.sum(), 2)))
        inc_id, person, role = (np.concatenate(x) for x in zip(*rows, strict=True))
        self.out.inc_persons.append((inc_id, person, role))
        self.world.perp[perp] += 1
        self.world.detain(perp, at, kind, rng)
        for day in np.unique(np.floor(at)):
            on = np.floor(at) == day
            self.world.expose(np.unique(person[np.isin(inc_id, ids[on])]), float(day))

    def _background(self, t0: float, t1: float) -> None:
        """Incidents that grow out of no registered dispute (family violence, self-harm...)."""
        rng, p, w = self.rng, self.p, self.world
        lam = BACKGROUND_INCIDENTS_PER_100K_YEAR * p.n / 1e5 * (t1 - t0) / 365.0
        k = rng.poisson(lam)
        if k == 0:
            return
        weight = (p.age >= 16) * np.exp(p.hidden + w.flag + 0.5 * np.minimum(w.exposure, 3))
        perp = rng.choice(p.n, k, p=weight / weight.sum())
        kind = _draw(rng, np.tile(INCIDENT_KIND_BASE * [0.5, 0.8, 1.0, 2.0, 0.6, 1.0], (k, 1)))
        lo, hi = w.indptr[perp], w.indptr[perp + 1]
        victim = np.full(k, -1)
        if w.nbr.size:
            pick = lo + np.floor(rng.random(k) * (hi - lo)).astype(np.int64)
            victim = np.where(hi > lo, w.nbr[np.minimum(pick, w.nbr.size - 1)], -1)
        at = times_in(rng, np.full(k, t0), np.full(k, t1), "waking")
        keep = w.can_act(perp, at)
        if keep.any():
            self._record_incidents(
                at[keep], kind[keep], np.full(keep.sum(), -1), perp[keep], victim[keep]
            )


def _draw(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=1), weights.shape[1] - 1)


CHANNEL_BY_LEVEL = np.array(
    [  # visit, letter, online, hotline
        [0.5, 0.1, 0.25, 0.15],
        [0.4, 0.15, 0.3, 0.15],
        [0.3, 0.25, 0.35, 0.1],
        [0.3, 0.3, 0.35, 0.05],
        [0.45, 0.3, 0.25, 0.0],
    ]
)
assert CHANNEL_BY_LEVEL.shape[1] == len(CHANNELS)


UNLINKED_PETITIONS_PER_100_YEAR = 0.2  # petitions on matters the dispute register never saw
LEVEL_SHARE_UNLINKED = np.array([0.44, 0.31, 0.14, 0.07, 0.04])


def background_petitions(rng: np.random.Generator, p: People, clock: Clock, out: Course) -> None:
    """Petitions with no dispute behind them; a few persistent petitioners file many."""
    k = rng.poisson(UNLINKED_PETITIONS_PER_100_YEAR / 100 * p.n * clock.years)
    adults = np.flatnonzero(p.age >= 20)
    persistent = adults[rng.random(adults.size) < 0.0005]
    w = p.propensity[adults]
    who = adults[rng.choice(adults.size, k, p=w / w.sum())]
    from_persistent = (rng.random(k) < 0.4) & (persistent.size > 0)
    if persistent.size:
        who[from_persistent] = persistent[rng.integers(0, persistent.size, from_persistent.sum())]
    day = np.sort(rng.uniform(0, clock.n_days, k))
    day = times_in(rng, np.floor(day), np.floor(day) + 1, "hotline")
    level = rng.choice(5, k, p=LEVEL_SHARE_UNLINKED)
    order = np.argsort(day, kind="stable")
    seen = np.zeros(k, bool)
    _, first = np.unique(who[order], return_index=True)
    seen[order] = True
    seen[order[first]] = False
    out.pet.append((who, day, level, seen, np.zeros(k, bool), np.full(k, -1)))
