"""The hazard of an extreme incident, and the person-level state it reads week by week.

The weekly hazard of an open dispute is ``1 - exp(-exp(eta))``; ``eta`` adds the terms in
:data:`COEF` (what the field knows drives escalation, domain.md) to hidden ones. The
person state (active flags, debts, separations, exposure to incidents among close ties,
earlier perpetration) changes over the period and is brought up to date at each week.
Every number here is invented; docs/simulator.md says where its direction comes from.
"""

from __future__ import annotations

import numpy as np

from riskwarn._contract import CATEGORIES, FLAGS, INCIDENT_KINDS
from riskwarn._sim_people import K, People

F = {f: i for i, f in enumerate(FLAGS)}

# ---- the hazard of an extreme incident (log of the weekly hazard) -------------------------
B0 = -9.85
CAT_LOG_HAZARD = dict(
    zip(CATEGORIES, [0.5, 0.2, 0.2, 0.1, -0.3, -0.2, -0.9, -0.5, 0.0], strict=True)
)
TIE_LOG_HAZARD = {"former_spouse": 0.6, "partner": 0.4, "spouse": 0.2, "creditor_debtor": 0.2}
COEF = {
    "threat_at_registration": 0.9,
    "violence_at_registration": 0.8,
    "weapon_at_registration": 0.6,
    "log1p_prior_disputes_of_pair": 0.35,
    "failed_mediations (up to 5)": 0.3,
    "threat_events_decayed (up to 2)": 0.5,
    "police_calls_decayed (up to 2)": 0.25,
    "escalated": 0.35,
    "petition_level (1 township .. 5 national)": 0.15,
    "flag_score (max of the two sides)": 0.6,
    "log1p_creditors_beyond_first (max)": 0.35,
    "separation_within_365d (either side)": 0.6,
    "exposure (sum of both, up to 3)": 0.45,
    "earlier_incident_as_perpetrator": 0.8,
    "log1p_weeks_open_over_4": -0.25,
    "after_an_incident_in_this_dispute": -1.0,
    "closed (watch period of 26 weeks)": -1.2,
    # hidden, never recorded:
    "hidden_severity (sd 1)": 0.55,
    "log_pair_weight (clipped to +-1.5)": 0.35,
    "hidden_person_risk (max of the two sides, sd 0.55)": 1.0,
    "hidden_weekly_mood (AR(1), 0.9, sd 0.25 a week)": 1.0,
}
FLAG_SCORE = {
    "community_correction": 0.4, "released_prisoner": 0.6, "drug_user": 0.7,
    "key_youth": 0.35, "other": 0.2,
}  # fmt: skip
SMD_LEVEL_SCORE = np.array([0.2, 0.35, 0.6, 1.0, 1.4, 1.8])  # severe mental disorder, level 0..5
EXPOSURE_TAU_DAYS = 90.0  # exposure decays as exp(-days / 90): half-life about two months
CLOSE_TIES = (
    "spouse",
    "former_spouse",
    "partner",
    "parent_child",
    "sibling",
    "relative",
    "neighbor",
)


class PersonState:
    """Person-level state that changes over time: flags, debts, separations, exposure."""

    def __init__(self, p: People):
        self.p = p
        f = p.flags
        score = np.array([FLAG_SCORE.get(name, 0.0) for name in FLAGS])[f.flag]
        smd = f.flag == F["severe_mental_disorder"]
        score[smd] = SMD_LEVEL_SCORE[np.clip(f.level[smd], 0, 5)]
        self.flag_rows = (f.person, score, f.start, np.nan_to_num(f.end, nan=np.inf))
        t = p.ties
        d = t.kind == K["creditor_debtor"]
        self.debt_rows = (
            t.b[d],
            np.nan_to_num(t.since[d], nan=-1.0),
            np.nan_to_num(t.until[d], nan=np.inf),
        )
        sep = p.separations[np.argsort(p.separations[:, 1], kind="stable")]
        self.sep_person, self.sep_day = sep[:, 0].astype(np.int64), sep[:, 1]
        self.sep_ptr = 0
        self.last_sep = np.full(p.n, -np.inf)
        close = np.isin(t.kind, [K[k] for k in CLOSE_TIES])
        src = np.concatenate([t.a[close], t.b[close]])
        dst = np.concatenate([t.b[close], t.a[close]])
        since = np.tile(np.nan_to_num(t.since[close], nan=-1.0), 2)
        order = np.argsort(src, kind="stable")
        self.nbr, self.nbr_since = dst[order], since[order]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=p.n))])
        self.exposure = np.zeros(p.n)
        self.perp = np.zeros(p.n)
        self.flag = np.zeros(p.n)
        self.creditors = np.zeros(p.n)
        self.decay = np.exp(-7.0 / EXPOSURE_TAU_DAYS)
        self.detained_until = np.full(p.n, -np.inf)

    def can_act(self, perp: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Which of these incidents can happen: the perpetrator is not in custody, and acts
        at most once in a batch (the earliest)."""
        free = self.detained_until[perp] <= at
        first = np.zeros(perp.size, dtype=bool)
        order = np.lexsort((at, perp))
        _, head = np.unique(perp[order], return_index=True)
        first[order[head]] = True
        return free & first

    def detain(self, perp: np.ndarray, at: np.ndarray, kind: np.ndarray, rng) -> None:
        """Violent incidents put the perpetrator in custody (no further incidents meanwhile):
        years for a homicide or attempt, months to two years for an injury or arson."""
        days = np.zeros(perp.size)
        days[
            np.isin(
                kind, [INCIDENT_KINDS.index("homicide"), INCIDENT_KINDS.index("attempted_homicide")]
            )
        ] = 3650.0
        mid = np.isin(kind, [INCIDENT_KINDS.index("serious_injury"), INCIDENT_KINDS.index("arson")])
        days[mid] = rng.uniform(180.0, 730.0, mid.sum())
        np.maximum.at(self.detained_until, perp, np.where(days > 0, at + days, -np.inf))

    def advance(self, t: float) -> None:
        """Bring the person state to day ``t`` (start of a week)."""
        person, score, start, end = self.flag_rows
        on = (start <= t) & (end > t)
        self.flag = np.minimum(np.bincount(person[on], score[on], minlength=self.p.n), 2.5)
        debtor, since, until = self.debt_rows
        on = (since <= t) & (until > t)
        self.creditors = np.bincount(debtor[on], minlength=self.p.n)
        done = np.searchsorted(self.sep_day, t, side="right")
        now = slice(self.sep_ptr, done)
        np.maximum.at(self.last_sep, self.sep_person[now], self.sep_day[now])
        self.sep_ptr = done
        self.exposure *= self.decay

    def expose(self, persons: np.ndarray, t: float) -> None:
        """An incident at ``t`` among ``persons``: their close ties (and they) are exposed."""
        lo, counts = self.indptr[persons], self.indptr[persons + 1] - self.indptr[persons]
        idx = np.arange(counts.sum()) + np.repeat(lo - np.cumsum(counts) + counts, counts)
        nbr = self.nbr[idx][self.nbr_since[idx] <= t]
        np.add.at(self.exposure, nbr, 1.0)
        np.add.at(self.exposure, persons, 0.5)
