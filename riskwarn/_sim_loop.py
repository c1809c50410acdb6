"""A warning system inside the simulator, with a planted effect of handling (issue 14).

Every few weeks a transparent score computed only from what the grid *recorded* ranks the
open disputes; those at or above fixed thresholds get an orange or red warning in the
townships where the loop has started (all at once, or township group by group: a stepped
rollout). A share of the warnings is handled (a visit, mediation sessions, referrals,
protective measures: rows of the ``interventions`` table), and handling multiplies the
dispute's incident hazard by ``1 - effect`` from the first action on. Everything the loop
decided is kept as ground truth (``_truth/warnings.parquet``), so an evaluation of the
loop (a regression discontinuity at a threshold, a comparison across rollout steps) can
be checked against the effect that was planted.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskwarn._contract import CATEGORIES, INTERVENTION_CHANNELS, INTERVENTION_KINDS
from riskwarn._sim_time import Clock, times_in

# The observable score: points for what the register shows, recent records weighing more.
# (weight, decay in days): a record of age ``a`` days counts ``weight * exp(-a / decay)``.
SCORE_EVENTS = {
    "threat": (2.0, 60.0),
    "police_call": (1.0, 60.0),
    "mediation_failure": (1.0, 120.0),
    "escalation": (1.0, 120.0),
}
SCORE_PETITION = (0.5, 180.0)  # per petition level (1 township .. 5 national)
SCORE_REGISTRATION = {"threat": 2.0, "violence": 2.0, "weapon": 3.0}  # facts recorded then
SCORE_REGISTRATION_DECAY = 90.0  # ... fading with the dispute's age in days
SCORE_FLAG = 1.0  # per point of the larger recorded flag score of the two sides
SCORE_PERPETRATOR = 2.0  # a side perpetrated an earlier (recorded) extreme incident
SCORE_EXPOSURE = 0.5  # per unit of exposure to recent recorded incidents (up to 3)

TIER_CODES = ("orange", "red")  # warning tiers the loop issues; code 0 orange, 1 red
KIND = {k: i for i, k in enumerate(INTERVENTION_KINDS)}
CHANNEL = {k: i for i, k in enumerate(INTERVENTION_CHANNELS)}
# the channel a mediation session goes through, by dispute category
MEDIATION_CHANNEL = {
    "labor_wage": "arbitration",
    "land_property": "administrative_mediation",
    "property_management": "administrative_mediation",
    "debt": "court_mediation",
    "contract": "court_mediation",
}
_NOTES = {
    "visit": ("按{tier}预警上门走访", "预警推送后入户核实情况"),
    "mediation_session": ("组织专项调解", "召集双方调解"),
    "referral": ("转介相关部门处置",),
    "protective_measure": ("落实稳控措施", "安排专人稳控"),
    "other": ("跟进处置",),
}
_TIER_ZH = {"orange": "橙色", "red": "红色"}


class WarningLoop(BaseModel):
    """The simulated warning system and the planted effect of handling its warnings.

    >>> WarningLoop(handled_share=0.6, effect=0.3, rollout="stepped").rollout_groups
    4
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    handled_share: float = Field(
        0.6, ge=0, le=1, description="Share of new warnings that are handled."
    )
    effect: float = Field(
        0.3,
        ge=0,
        lt=1,
        description="Handling multiplies the dispute's incident hazard by (1 - effect).",
    )
    rollout: Literal["stepped", "all"] = Field(
        "stepped",
        description="'stepped': township groups start one step apart; 'all': together.",
    )
    rollout_start: dt.date | None = Field(
        None,
        description="When the first townships start; default one year after the first day "
        "(a third of the period when shorter).",
    )
    rollout_step_days: int = Field(91, ge=1, description="Days between rollout steps.")
    rollout_groups: int = Field(4, ge=1, description="Township groups of a stepped rollout.")
    every_weeks: int = Field(4, ge=1, description="Weeks between scoring rounds.")
    orange_threshold: float = Field(5.0, gt=0, description="Score for an orange warning.")
    red_threshold: float = Field(8.0, gt=0, description="Score for a red warning.")

    @model_validator(mode="after")
    def _ordered(self) -> WarningLoop:
        if self.red_threshold <= self.orange_threshold:
            raise ValueError(
                f"red_threshold ({self.red_threshold}) must be above orange_threshold "
                f"({self.orange_threshold}): red asks for the higher score"
            )
        return self

    def start_day(self, clock: Clock) -> float:
        """The first rollout day, in days since the first day."""
        if self.rollout_start is None:
            return 365.0 if clock.n_days >= 730 else float(np.floor(clock.n_days / 3.0))
        return float((self.rollout_start - clock.start.date()).days)


def _decay(key: str) -> float:
    return SCORE_PETITION[1] if key == "petition" else SCORE_EVENTS[key][1]


class LoopState:
    """The loop while the course runs: recorded history per dispute, warnings, handling."""

    def __init__(self, config: WarningLoop, rng: np.random.Generator, c, p, clock: Clock) -> None:
        self.cfg, self.rng = config, rng
        n, n_town = len(c), len(p.townships)
        first = config.start_day(clock)
        if config.rollout == "stepped":
            group = rng.permutation(n_town) % config.rollout_groups
            self.rollout_day = first + group * float(config.rollout_step_days)
        else:
            self.rollout_day = np.full(n_town, first)
        self.town = p.grid_township[c.grid]
        self.sums = {k: np.zeros(n) for k in (*SCORE_EVENTS, "petition")}
        self.week_rows: list[tuple[np.ndarray, np.ndarray, str, np.ndarray]] = []
        self.week_closed: list[tuple[np.ndarray, np.ndarray]] = []
        self.tier = np.full(n, -1, np.int8)  # highest warning so far: -1 none, 0 orange, 1 red
        self.handled_at = np.full(n, np.inf)
        self.rows: list[tuple] = []  # (case, t, score, by_score, started, warned, tier, ...)
        self.actions: list[tuple] = []  # (case, at, kind, channel, tier, note)

    # -- what the register shows -------------------------------------------------------
    def saw(self, case: np.ndarray, at: np.ndarray, kind: str, kept: np.ndarray) -> None:
        """Events written this week, with their recorded mask."""
        if kind in SCORE_EVENTS and case.size:
            self.week_rows.append((case[kept], at[kept], kind, np.ones(int(kept.sum()))))

    def petitioned(self, case, at, level, linked) -> None:
        """Petition rows filed this week; one petition counts once, when linked to its dispute."""
        ok = linked & (case >= 0)
        if ok.any():
            key = np.column_stack([case[ok], at[ok]])
            _, first = np.unique(key, axis=0, return_index=True)
            rows = np.flatnonzero(ok)[first]
            self.week_rows.append((case[rows], at[rows], "petition", level[rows] + 1.0))

    def closed(self, case: np.ndarray, at: np.ndarray) -> None:
        if case.size:
            self.week_closed.append((case, at))

    def end_week(self, t0: float, t1: float) -> None:
        """Fold the week's records into the decayed sums. Events after a closure in the same
        week are dropped from the tables, so they do not count here either."""
        if self.week_closed:
            cc = np.concatenate([x[0] for x in self.week_closed])
            ca = np.concatenate([x[1] for x in self.week_closed])
            order = np.argsort(cc, kind="stable")
            cc, ca = cc[order], ca[order]
        for key, total in self.sums.items():
            total *= np.exp(-(t1 - t0) / _decay(key))
        for case, at, key, weight in self.week_rows:
            if self.week_closed and key != "petition":
                pos = np.minimum(np.searchsorted(cc, case), cc.size - 1)
                end = np.where(cc[pos] == case, ca[pos], np.inf)
                keep = at <= end
                case, at, weight = case[keep], at[keep], weight[keep]
            np.add.at(self.sums[key], case, weight * np.exp(-(t1 - at) / _decay(key)))
        self.week_rows, self.week_closed = [], []

    def score(self, sim, d: np.ndarray, t0: float) -> np.ndarray:
        """The observable score of open disputes ``d`` at ``t0`` (docs/simulator.md)."""
        c, w = sim.c, sim.world
        a, b = c.a[d], c.b[d]
        fresh = np.exp(-(t0 - c.day[d]) / SCORE_REGISTRATION_DECAY)
        reg = SCORE_REGISTRATION
        out = fresh * (
            reg["threat"] * c.threat_rec[d]
            + reg["violence"] * c.violence_rec[d]
            + reg["weapon"] * c.weapon_rec[d]
        )
        for kind, (weight, _) in SCORE_EVENTS.items():
            out = out + weight * self.sums[kind][d]
        out = out + SCORE_PETITION[0] * self.sums["petition"][d]
        out = out + SCORE_FLAG * np.maximum(w.flag[a], w.flag[b])
        out = out + SCORE_PERPETRATOR * ((w.perp[a] + w.perp[b]) > 0)
        return out + SCORE_EXPOSURE * np.minimum(w.exposure[a] + w.exposure[b], 3)

    # -- a scoring round -----------------------------------------------------------------
    def round(self, sim, week: int, t0: float) -> None:
        if week == 0 or week % self.cfg.every_weeks:
            return
        d = np.flatnonzero((sim.status == 1) & (sim.c.day < t0))
        if d.size == 0:
            return
        cfg = self.cfg
        score = self.score(sim, d, t0)
        by_score = np.where(
            score >= cfg.red_threshold, 1, np.where(score >= cfg.orange_threshold, 0, -1)
        ).astype(np.int8)
        started = self.rollout_day[self.town[d]] <= t0
        warned = started & (by_score > self.tier[d])
        before = np.isfinite(self.handled_at[d])
        take = warned & ~before
        handled = np.zeros(d.size, bool)
        handled[take] = self.rng.random(int(take.sum())) < cfg.handled_share
        at = np.full(d.size, np.inf)
        at[handled] = times_in(
            self.rng, np.full(handled.sum(), t0 + 0.3), np.full(handled.sum(), t0 + 3.0), "office"
        )
        self.tier[d[warned]] = by_score[warned]
        self.handled_at[d[handled]] = at[handled]
        self.rows.append((d, t0, score, by_score, started, warned, handled, at, before))
        self._act(sim, d[handled], at[handled], by_score[handled])

    def _act(self, sim, d: np.ndarray, at: np.ndarray, tier: np.ndarray) -> None:
        """The actions of handled warnings: a visit first, then by tier mediation, referral
        and (for red cases with threats or weapons) a protective measure."""
        rng, c, w = self.rng, sim.c, sim.world
        k = d.size
        if k == 0:
            return
        red = tier == 1

        def act(which: np.ndarray, days: tuple[float, float], kind: str, channel) -> None:
            later = at + rng.uniform(*days, k)
            channel = np.broadcast_to(np.asarray(channel, dtype=np.int64), (k,))
            self.actions.append(
                (d[which], later[which], np.full(int(which.sum()), KIND[kind]), channel[which],
                 tier[which])
            )  # fmt: skip

        act(np.ones(k, bool), (0.0, 0.0), "visit", -1)
        cat = np.asarray(CATEGORIES, dtype=object)[c.cat[d]]
        mediation = [CHANNEL[MEDIATION_CHANNEL.get(x, "people_mediation")] for x in cat]
        act(red | (rng.random(k) < 0.7), (1.0, 10.0), "mediation_session", mediation)
        flagged = np.maximum(w.flag[c.a[d]], w.flag[c.b[d]]) >= 0.6
        refer = np.where(flagged, CHANNEL["mental_health_social"], CHANNEL["legal_aid"])
        act(rng.random(k) < np.where(red, 0.5, 0.2), (2.0, 21.0), "referral", refer)
        danger = red & (c.threat_rec[d] | c.weapon_rec[d] | (self.sums["threat"][d] > 0.5))
        act(danger, (0.0, 2.0), "protective_measure", CHANNEL["police"])

    # -- the planted effect ----------------------------------------------------------------
    def log_multiplier(self, d: np.ndarray, t0: float, t1: float) -> np.ndarray:
        """log of the hazard multiplier of disputes ``d`` over the week ``[t0, t1)``: handling
        multiplies the hazard by ``1 - effect`` from its first action on."""
        after = np.clip((t1 - np.maximum(self.handled_at[d], t0)) / max(t1 - t0, 1e-9), 0.0, 1.0)
        return np.log(np.maximum(1.0 - self.cfg.effect * after, 1e-12))


def action_notes(rng: np.random.Generator, kind: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """A short note per action, naming the warning's colour on a visit (a fifth left empty)."""
    out = np.empty(kind.size, dtype=object)
    for k, name in enumerate(INTERVENTION_KINDS):
        m = np.flatnonzero(kind == k)
        choices = np.asarray(_NOTES[name], dtype=object)
        out[m] = choices[rng.integers(0, choices.size, m.size)]
    colour = np.asarray([_TIER_ZH[t] for t in TIER_CODES], dtype=object)[tier]
    out = np.array([n.format(tier=c) for n, c in zip(out, colour, strict=True)], dtype=object)
    out[rng.random(kind.size) < 0.2] = None
    return out
