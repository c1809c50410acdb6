"""Named drift scenarios (issue 15): the world changes from a start date on.

- ``covariate``: more disputes come in (debt, and a surging category), from older people;
- ``concept``: hazard terms change (threats matter less, exposure to incidents more);
- ``recording``: some grids stop recording visits and record fewer mediation attempts.

The change begins at the first simulated week boundary on or after the requested date
(weeks run from the first day, so at most six days later). A drifted dataset is the
``none`` dataset of the same seed before that moment, row for row, and the drifted world
from it: the simulator runs both worlds (they draw identically until the drift begins)
and joins them at that moment, so streams that run ahead (event notes, petition
channels, petitions outside disputes) cannot make the early records differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwarn._contract import CATEGORIES
from riskwarn._sim_cases import Cases, Window, cumcount, extra_cases
from riskwarn._sim_mechanisms import Mechanisms
from riskwarn._sim_people import People
from riskwarn._sim_text import ids
from riskwarn._sim_time import Clock
from riskwarn.errors import ConfigError

DRIFTS = ("none", "covariate", "concept", "recording")


@dataclass(frozen=True)
class Scenario:
    """A drift scenario of one run: its name, the day asked for and the day it begins."""

    name: str
    requested: float  # days since the first day
    day: float  # the first week boundary on or after ``requested``

    def describe(self, clock: Clock, m: Mechanisms) -> dict:
        params = getattr(m.drift, self.name).model_dump(mode="json")
        return {
            "scenario": self.name,
            "requested_start": str((clock.start + pd.Timedelta(days=self.requested)).date()),
            "start": (clock.start + pd.Timedelta(days=self.day)).isoformat(),
            "parameters": params,
            "equal_to_none_before_start": True,
        }


def resolve_drift(name: str, start: str | dt.date | None, clock: Clock) -> Scenario | None:
    """The scenario ``name`` beginning at ``start`` (default: the last year of the period);
    None for ``"none"``. A ConfigError for an unknown name or a date outside the period."""
    if name not in DRIFTS:
        import difflib

        close = difflib.get_close_matches(str(name), DRIFTS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"drift must be one of {', '.join(DRIFTS)}, got {name!r}.{hint}")
    if name == "none":
        if start is not None:
            raise ConfigError("a drift start needs a drift scenario: give --drift too")
        return None
    if start is None:
        requested = clock.drift_day
    else:
        try:
            when = pd.Timestamp(start).normalize()
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"drift start must be a date YYYY-MM-DD, got {start!r}") from exc
        requested = float((when - clock.start).days)
    day = 7.0 * np.ceil(requested / 7.0)
    last = clock.start + pd.Timedelta(days=clock.n_days - 1)
    if requested <= 0 or day >= clock.n_days:
        raise ConfigError(
            f"drift start must fall inside the simulated period, after its first day "
            f"({clock.start.date()}) and at least a week before its last ({last.date()}); "
            f"got {(clock.start + pd.Timedelta(days=requested)).date()}"
        )
    return Scenario(name, requested, float(day))


def covariate_cases(
    rng: np.random.Generator, p: People, clock: Clock, m: Mechanisms, base: Cases, day: float
) -> tuple[Cases, np.ndarray]:
    """``base`` with the covariate drift's extra disputes from ``day`` on; and a mask of
    the added ones (in the merged order)."""
    change = m.drift.covariate
    years = (clock.n_days - day) / 365.25
    per_year = m.disputes.per_100_persons_per_year / 100.0 * p.n
    shares = dict(zip(CATEGORIES, m.disputes.category_share.values(), strict=True))
    targets = {"debt": change.extra_debt * shares["debt"] * per_year * years}
    surge = change.surge * shares[change.surge_category] * per_year * years
    targets[change.surge_category] = targets.get(change.surge_category, 0.0) + surge
    window = Window(day, float(clock.n_days), change.older)
    extra = extra_cases(rng, p, clock, m, targets, window, base.tie_pair_w)
    return merge_cases(base, extra)


_PER_CASE = (
    "day", "cat", "grid", "a", "b", "tie", "n_claimants", "prior_pair", "sigma", "pair_w",
    "threat", "violence", "weapon", "threat_rec", "violence_rec", "weapon_rec", "source",
    "amount",
)  # fmt: skip


def merge_cases(base: Cases, extra: Cases) -> tuple[Cases, np.ndarray]:
    """The disputes of both, in order of registration (``base`` first on a tie)."""
    n_base = len(base)
    day = np.concatenate([base.day, extra.day])
    order = np.argsort(day, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    cols = {f: np.concatenate([getattr(base, f), getattr(extra, f)])[order] for f in _PER_CASE}
    pair = np.stack([np.minimum(cols["a"], cols["b"]), np.maximum(cols["a"], cols["b"])], 1)
    _, inverse = np.unique(pair, axis=0, return_inverse=True)
    cols["prior_pair"] = cumcount(inverse.ravel())
    party_case = rank[np.concatenate([base.party_case, extra.party_case + n_base])]
    merged = Cases(
        **cols,
        party_case=party_case,
        party_person=np.concatenate([base.party_person, extra.party_person]),
        party_role=np.concatenate([base.party_role, extra.party_role]),
        tie_pair_w=base.tie_pair_w,
    )
    is_extra = np.zeros(order.size, bool)
    is_extra[rank[n_base:]] = True
    return merged, is_extra


def silenced_grids(rng: np.random.Generator, n_grids: int, m: Mechanisms) -> np.ndarray:
    """The grids that change their recording under the ``recording`` drift."""
    k = max(1, round(m.drift.recording.grid_share * n_grids))
    out = np.zeros(n_grids, bool)
    out[rng.choice(n_grids, k, replace=False)] = True
    return out


# --------------------------------------------------------------------------- joining


def join_at(
    before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame], at: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """Contract tables: ``before``'s rows dated before ``at``, ``after``'s from ``at`` on.

    Both worlds hold the same people; ids numbered in time order (petitions, incidents,
    interventions) are numbered again over the joined rows, so the early ones keep theirs.
    """
    out = {name: after[name] for name in ("persons", "grids", "person_flags", "relationships")}

    def split(name: str, col: str) -> pd.DataFrame:
        early = before[name][before[name][col] < at]
        late = after[name][after[name][col] >= at]
        return pd.concat([early, late], ignore_index=True)

    out["disputes"] = split("disputes", "reported_at")
    early_ids = before["disputes"]["dispute_id"][before["disputes"]["reported_at"] < at]
    late_ids = after["disputes"]["dispute_id"][after["disputes"]["reported_at"] >= at]
    bp, ap = before["dispute_parties"], after["dispute_parties"]
    out["dispute_parties"] = pd.concat(
        [bp[bp["dispute_id"].isin(early_ids)], ap[ap["dispute_id"].isin(late_ids)]],
        ignore_index=True,
    )
    out["dispute_events"] = split("dispute_events", "at")
    out["petitions"] = _renumber(split("petitions", "filed_at"), "petition_id", "PT", 6)
    bi, ai = before["incidents"], after["incidents"]
    early_inc = bi[bi["occurred_at"] < at]
    late_inc = ai[ai["occurred_at"] >= at]
    incidents = pd.concat([early_inc, late_inc], ignore_index=True)
    new_ids = ids("I", np.arange(len(incidents)), 5)
    k = len(early_inc)
    renamed = []
    for persons, old, new in (
        (before["incident_persons"], early_inc["incident_id"], new_ids[:k]),
        (after["incident_persons"], late_inc["incident_id"], new_ids[k:]),
    ):
        mine = persons[persons["incident_id"].isin(old)]
        to_new = pd.Series(new, index=old.to_numpy())
        renamed.append(mine.assign(incident_id=mine["incident_id"].map(to_new).to_numpy()))
    out["incidents"] = incidents.assign(incident_id=new_ids)
    out["incident_persons"] = pd.concat(renamed, ignore_index=True)
    if "interventions" in after:
        out["interventions"] = _renumber(split("interventions", "at"), "intervention_id", "IV", 6)
    return out


def _renumber(frame: pd.DataFrame, col: str, prefix: str, width: int) -> pd.DataFrame:
    return frame.assign(**{col: ids(prefix, np.arange(len(frame)), width)})
