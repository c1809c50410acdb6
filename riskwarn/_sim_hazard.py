"""The hazard of an extreme incident, and the person-level state it reads week by week.

The weekly hazard of an open dispute is ``1 - exp(-exp(eta))``; ``eta`` adds the terms of
:class:`~riskwarn._sim_mechanisms.Hazard` (what the field knows drives escalation,
domain.md) to hidden ones. The person state (active flags, debts, separations, exposure
to incidents among close ties, earlier perpetration) changes over the period and is
brought up to date at each week. Every number is invented; docs/simulator.md says where
its direction comes from.
"""

from __future__ import annotations

import numpy as np

from riskwarn._contract import FLAGS, INCIDENT_KINDS
from riskwarn._sim_mechanisms import Hazard
from riskwarn._sim_people import K, People

F = {f: i for i, f in enumerate(FLAGS)}

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

    def __init__(self, p: People, hazard: Hazard):
        self.p = p
        f = p.flags
        score = np.array(hazard.flags.by_flag())[f.flag]
        smd = f.flag == F["severe_mental_disorder"]
        score[smd] = np.array(hazard.flags.severe_mental_disorder)[np.clip(f.level[smd], 0, 5)]
        self.flag_cap = hazard.flags.cap
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
        self.decay = np.exp(-7.0 / hazard.exposure_decay_days)
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
        self.flag = np.minimum(
            np.bincount(person[on], score[on], minlength=self.p.n), self.flag_cap
        )
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
