"""Issuing warnings from a scoring round, and escalating the ones nobody moved in time.

Both are pure: they read warnings, scores, the policy, the roster and the clock, and return
the events to apply (:func:`~riskwarn.loop.apply_event`) and store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from riskwarn.clock import Clock, get_clock
from riskwarn.errors import ConfigError
from riskwarn.vocab import OWNER_LEVELS, TIERS, tier_rank

from ._policy import RoutingPolicy
from ._roster import Roster
from ._warnings import Tier, WarningEvent, WarningRecord, level_above, warning_id

DEFAULT_MIN_TIER = "orange"
RESCORE_RISK_CHANGE = 0.25
"""A re-score is recorded on a warning when its risk moved by at least this share of the
risk recorded last (or its tier changed, or a key fact appeared): not once per snapshot."""


class ScoredCase(BaseModel):
    """One case of a scoring round, as ``RiskModel.score`` and the case's place give it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dispute_id: str
    risk: float = Field(ge=0, le=1)
    tier: Tier = Field(description="The tier after key facts' floors and any raise by a person.")
    model_version: str
    tier_policy_version: str | None = None
    key_facts: tuple[str, ...] = ()
    county: str | None = None
    township: str | None = None
    grid: str | None = None


def scored_cases(
    scores: pd.DataFrame,
    places: pd.DataFrame,
    *,
    tier_policy_version: str | None = None,
) -> list[ScoredCase]:
    """A scoring round (``riskwarn score``'s frame: ``dispute_id``, ``risk``, ``tier``,
    ``model_version``, ``key_fact_codes`` joined by ``;``) as :class:`ScoredCase` rows,
    placed by ``places`` (``dispute_id`` with ``county``, ``township``, ``grid_id``)."""
    where = places.assign(dispute_id=places["dispute_id"].astype(str)).set_index("dispute_id")
    out = []
    for row in scores.itertuples(index=False):
        d = str(row.dispute_id)
        at = where.loc[d] if d in where.index else None
        codes = str(getattr(row, "key_fact_codes", "") or "")
        out.append(
            ScoredCase(
                dispute_id=d,
                risk=float(row.risk),
                tier=row.tier,
                model_version=str(row.model_version),
                tier_policy_version=tier_policy_version,
                key_facts=tuple(c for c in codes.split(";") if c),
                county=_text(at, "county"),
                township=_text(at, "township"),
                grid=_text(at, "grid_id"),
            )
        )
    return out


def _text(row: pd.Series | None, column: str) -> str | None:
    if row is None or column not in row.index or pd.isna(row[column]):
        return None
    return str(row[column])


def issue_warnings(
    scores: Iterable[ScoredCase],
    open_warnings: Mapping[str, WarningRecord],
    policy: RoutingPolicy,
    roster: Roster,
    *,
    min_tier: str = DEFAULT_MIN_TIER,
    clock: Clock | None = None,
    load: Mapping[str, int] | None = None,
    min_risk_change: float = RESCORE_RISK_CHANGE,
) -> list[WarningEvent]:
    """The events a scoring round causes.

    A case at or above ``min_tier`` with no open warning (``open_warnings`` by dispute id)
    gets an ``issue`` event, routed to its tier's level and an owner from ``roster``; a
    case with an open warning gets a ``rescore`` when the score changed materially
    (:func:`rescore_needed`): a higher tier escalates it; a lower one never drops it.
    Cases below ``min_tier`` without a warning cause nothing.
    """
    if min_tier not in TIERS:
        raise ConfigError(f"expected --min-tier as one of {', '.join(TIERS)}, got {min_tier!r}")
    now = (clock or get_clock()).utc_now()
    load = dict(load or {})
    events: list[WarningEvent] = []
    for case in scores:
        current = open_warnings.get(case.dispute_id)
        common = {
            "at": now,
            "tier": case.tier,
            "risk": case.risk,
            "model_version": case.model_version,
            "tier_policy_version": case.tier_policy_version,
            "key_facts": case.key_facts,
        }
        if current is not None and current.is_open:
            if not rescore_needed(current, case, min_risk_change):
                continue
            owner = None
            if tier_rank(case.tier) > tier_rank(current.tier):
                level = max(current.owner_level, policy.route(case.tier).level, key=_level_rank)
                owner = _owner(roster, level, case.tier, current, load)
            events.append(
                WarningEvent(warning_id=current.warning_id, kind="rescore", owner=owner, **common)
            )
        elif tier_rank(case.tier) >= tier_rank(min_tier):
            level = policy.route(case.tier).level
            owner = _owner(roster, level, case.tier, case, load)
            events.append(
                WarningEvent(
                    warning_id=warning_id(case.dispute_id, now),
                    kind="issue",
                    dispute_id=case.dispute_id,
                    county=case.county,
                    township=case.township,
                    grid=case.grid,
                    owner_level=level,
                    owner=owner,
                    **common,
                )
            )
    return events


def rescore_needed(
    warning: WarningRecord, case: ScoredCase, min_risk_change: float = RESCORE_RISK_CHANGE
) -> bool:
    """Whether a new score of an open warning's case is worth an event on its timeline:
    its tier differs from the tier scored last, a key fact appeared, or its risk moved by
    at least ``min_risk_change`` of the risk recorded last (relative; risks below 1% count
    as 1%, so noise on a tiny risk is not a change)."""
    if case.tier != (warning.scored_tier or warning.tier):
        return True
    if set(case.key_facts) - set(warning.key_facts):
        return True
    return abs(case.risk - warning.risk) >= min_risk_change * max(warning.risk, 0.01)


def raise_event(
    warning: WarningRecord,
    tier: str,
    reason: str,
    *,
    by: str,
    policy: RoutingPolicy,
    roster: Roster,
    clock: Clock | None = None,
    load: Mapping[str, int] | None = None,
) -> WarningEvent:
    """A person's ``raise`` of an open warning to ``tier`` with the ``reason``; when the
    higher tier's route moves it up a level, an owner there from ``roster``. (Whether
    ``tier`` is higher is :func:`~riskwarn.loop.apply_event`'s to refuse.)"""
    now = (clock or get_clock()).utc_now()
    owner = None
    if tier in TIERS and tier_rank(tier) > tier_rank(warning.tier):
        level = max(warning.owner_level, policy.route(tier).level, key=_level_rank)
        if level != warning.owner_level:
            owner = _owner(roster, level, tier, warning, dict(load or {}))
    return WarningEvent(
        warning_id=warning.warning_id,
        kind="raise",
        at=now,
        by=by,
        tier=tier,
        owner=owner,
        note=reason,
    )


def escalations(
    warnings: Iterable[WarningRecord],
    policy: RoutingPolicy,
    roster: Roster,
    *,
    clock: Clock | None = None,
    load: Mapping[str, int] | None = None,
) -> list[WarningEvent]:
    """``escalate`` events for the open warnings that need one now.

    - Overdue (its pending step's deadline passed): one level up, to an owner there, with
      a fresh window for the step; at the county it is escalated once and stays overdue.
    - Unowned longer than its tier's ``unowned_within_hours`` after issue (red: 24 hours):
      one level up to find an owner.
    """
    now = (clock or get_clock()).utc_now()
    load = dict(load or {})
    events = []
    for w in warnings:
        why = _why_escalate(w, policy, now)
        if why is None:
            continue
        level = level_above(w.owner_level)
        owner = _owner(roster, level, w.tier, w, load)
        events.append(
            WarningEvent(
                warning_id=w.warning_id,
                kind="escalate",
                at=now,
                owner_level=level,
                owner=owner,
                note=why,
            )
        )
    return events


def _why_escalate(w: WarningRecord, policy: RoutingPolicy, now: dt.datetime) -> str | None:
    if not w.is_open:
        return None
    if w.overdue(now) and w.escalated_due_at != w.due_at:
        return f"overdue: {w.due_step} was due at {w.due_at:%Y-%m-%d %H:%M} UTC"
    hours = policy.route(w.tier).unowned_within_hours
    if hours is None or w.owner is not None:
        return None
    since = w.escalated_at or w.issued_at
    at_top = level_above(w.owner_level) == w.owner_level
    if now >= since + dt.timedelta(hours=hours) and not (at_top and w.escalated_at is not None):
        return f"unowned {hours:g} hours after {'escalation' if w.escalated_at else 'issue'}"
    return None


def _level_rank(level: str) -> int:
    return OWNER_LEVELS.index(level)


def _owner(roster: Roster, level: str, tier: str, place, load: dict[str, int]) -> str | None:
    """Pick an owner and count the warning against them, so one round spreads its load."""
    owner = roster.pick(
        level, tier=tier, county=place.county, township=place.township, grid=place.grid, load=load
    )
    if owner is not None:
        load[owner] = load.get(owner, 0) + 1
    return owner
