"""Warnings and their events as plain records, and the one pure function that moves a
warning through its states.

    issued -> acknowledged -> assigned -> in_hand -> resolved -> closed
                                           ^  (actions)   (return visit)   |
                                           +------------- reopen ----------+

Beside the steps: ``rescore`` (the system scored the case again: only when its tier or
risk changed materially, see :func:`~riskwarn.loop.issue_warnings`), ``raise`` (a person
raised its tier, with the reason: never lowered), ``note`` (a person's note, in any state)
and ``escalate`` (overdue or unowned too long: one level up).

A store keeps both records as rows: :class:`WarningEvent` is the audit trail (every
change is an event), :class:`WarningRecord` the current state, always
``apply_event(previous, event, policy)``. No state is skipped; a warning is closed only
after a return visit (回访) recorded after its resolution; a closed warning can be
reopened. Times are UTC without a zone (``riskwarn.clock``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskwarn.errors import WarningStateError
from riskwarn.vocab import (
    ACTION_RESULTS,
    INTERVENTION_CHANNELS,
    INTERVENTION_KINDS,
    OWNER_LEVELS,
    TIERS,
    WARNING_STATES,
    higher_tier,
    tier_rank,
)

from ._policy import STEPS, RoutingPolicy

# field types read from the one vocabulary (a tuple inside Literal[...] spreads its values)
Tier = Literal[TIERS]  # type: ignore[valid-type]
Level = Literal[OWNER_LEVELS]  # type: ignore[valid-type]
State = Literal[WARNING_STATES]  # type: ignore[valid-type]
ActionKind = Literal[INTERVENTION_KINDS]  # type: ignore[valid-type]
Channel = Literal[INTERVENTION_CHANNELS]  # type: ignore[valid-type]
ActionResult = Literal[ACTION_RESULTS]  # type: ignore[valid-type]
Step = Literal[STEPS]  # type: ignore[valid-type]
EventKind = Literal[
    "issue",
    "rescore",
    "acknowledge",
    "assign",
    "act",
    "resolve",
    "revisit",
    "close",
    "reopen",
    "escalate",
    "raise",
    "note",
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]
OPEN_STATES = WARNING_STATES[:-1]

# the states each event may be applied in, and what to do instead
_FROM: dict[str, tuple[tuple[str, ...], str]] = {
    "rescore": (OPEN_STATES, "a closed warning is not re-scored; a new one is issued"),
    "acknowledge": (("issued",), "it is acknowledged only once, right after its issue"),
    "assign": (
        ("acknowledged", "assigned", "in_hand"),
        "acknowledge it first (issued -> acknowledged -> assigned)",
    ),
    "act": (("assigned", "in_hand"), "assign an owner first (acknowledge, then assign)"),
    "resolve": (("in_hand",), "record at least one action first (it must be in hand)"),
    "revisit": (("resolved",), "resolve it first; a return visit follows the resolution"),
    "close": (("resolved",), "resolve it and record a return visit first"),
    "reopen": (("closed",), "only a closed warning is reopened"),
    "escalate": (OPEN_STATES, "a closed warning does not escalate"),
    "raise": (OPEN_STATES, "reopen it first; a closed warning keeps the tier it had"),
    "note": (WARNING_STATES, ""),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "issue": ("dispute_id", "tier", "risk", "model_version", "owner_level"),
    "rescore": ("tier", "risk", "model_version"),
    "assign": ("owner",),
    "act": ("action",),
    "reopen": ("note",),
    "escalate": ("owner_level", "note"),
    "raise": ("tier", "note"),
    "note": ("note",),
}

_RECORD = ConfigDict(extra="forbid", frozen=True)


class WarningEvent(BaseModel):
    """One thing that happened to a warning (the audit trail's row).

    ``at`` is when it happened (UTC); ``by`` who did it (``"system"`` for issues,
    re-scores and escalations). The other fields are filled as the kind needs them.
    """

    model_config = _RECORD

    warning_id: str = Field(min_length=1)
    kind: EventKind
    at: dt.datetime
    by: str = Field("system", min_length=1, max_length=64)
    dispute_id: str | None = None
    county: str | None = None
    township: str | None = None
    grid: str | None = None
    tier: Tier | None = None
    risk: float | None = Field(None, ge=0, le=1)
    model_version: str | None = None
    tier_policy_version: str | None = None
    key_facts: tuple[str, ...] = ()
    owner: str | None = None
    owner_level: Level | None = None
    action: ActionKind | None = None
    channel: Channel | None = None
    result: ActionResult | None = None
    note: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _complete(self) -> WarningEvent:
        missing = [f for f in _REQUIRED.get(self.kind, ()) if getattr(self, f) in (None, "")]
        if missing:
            raise ValueError(
                f"a {self.kind!r} event needs {', '.join(missing)}; give "
                f"{' and '.join(missing)} and send it again"
            )
        if self.kind == "act" and self.action == "referral" and self.channel is None:
            raise ValueError("a referral needs the channel it went through; give channel")
        return self


class WarningRecord(BaseModel):
    """A warning as it stands now (the store's row), the result of its events."""

    model_config = _RECORD

    warning_id: str
    dispute_id: str
    county: str | None = None
    township: str | None = None
    grid: str | None = None
    tier: Tier
    risk: float
    scored_tier: Tier | None = Field(
        None, description="The tier of the latest score recorded (the warning's tier never falls)."
    )
    model_version: str
    tier_policy_version: str | None = None
    routing_version: str
    key_facts: tuple[str, ...] = ()
    state: State
    owner_level: Level
    owner: str | None = None
    issued_at: dt.datetime
    updated_at: dt.datetime
    due_step: Step | None = None
    due_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    assigned_at: dt.datetime | None = None
    first_action_at: dt.datetime | None = None
    last_action_at: dt.datetime | None = None
    actions: int = 0
    resolved_at: dt.datetime | None = None
    revisit_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    reopened: int = 0
    escalations: int = 0
    escalated_at: dt.datetime | None = None
    escalated_due_at: dt.datetime | None = None
    tier_raised_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state != "closed"

    def overdue(self, now: dt.datetime) -> bool:
        """Whether its pending step's deadline has passed at ``now`` (UTC)."""
        return self.is_open and self.due_at is not None and now > self.due_at


def warning_id(dispute_id: str, at: dt.datetime) -> str:
    """A warning's id: stable for the same case and moment, e.g. ``W20250301-3f2a9c1b``."""
    digest = hashlib.sha1(f"{dispute_id}|{at.isoformat()}".encode()).hexdigest()[:8]
    return f"W{at:%Y%m%d}-{digest}"


def level_above(level: str) -> str:
    """The next owning level up; the county stays the county."""
    i = OWNER_LEVELS.index(level)
    return OWNER_LEVELS[min(i + 1, len(OWNER_LEVELS) - 1)]


def _refuse(warning: WarningRecord | None, event: WarningEvent, why: str) -> WarningStateError:
    where = f"warning {event.warning_id}"
    state = f" is {warning.state}" if warning is not None else ""
    return WarningStateError(f"cannot {event.kind} {where}:{state}; {why}")


def apply_event(
    warning: WarningRecord | None, event: WarningEvent, policy: RoutingPolicy
) -> WarningRecord:
    """The warning after ``event``, or :class:`~riskwarn.errors.WarningStateError` saying
    why the event cannot happen now and what to do first. ``warning`` is ``None`` only
    for an ``issue`` event."""
    if event.kind == "issue":
        if warning is not None:
            raise _refuse(warning, event, "it was issued already; send a rescore event")
        return _issue(event, policy)
    if warning is None:
        raise WarningStateError(
            f"cannot {event.kind} warning {event.warning_id}: it does not exist; issue it first"
        )
    if event.warning_id != warning.warning_id:
        raise WarningStateError(
            f"event for warning {event.warning_id} applied to warning {warning.warning_id}; "
            "apply each event to its own warning"
        )
    allowed, why = _FROM[event.kind]
    if warning.state not in allowed:
        raise _refuse(warning, event, why)
    if event.at < warning.issued_at:
        raise _refuse(
            warning, event, f"{event.at} is before its issue at {warning.issued_at}; fix the time"
        )
    changes = _CHANGES[event.kind](warning, event, policy)
    return warning.model_copy(update={"updated_at": max(warning.updated_at, event.at), **changes})


def _issue(event: WarningEvent, policy: RoutingPolicy) -> WarningRecord:
    route = policy.route(event.tier)  # type: ignore[arg-type]
    return WarningRecord(
        warning_id=event.warning_id,
        dispute_id=event.dispute_id,  # type: ignore[arg-type]
        county=event.county,
        township=event.township,
        grid=event.grid,
        tier=event.tier,  # type: ignore[arg-type]
        risk=event.risk,  # type: ignore[arg-type]
        scored_tier=event.tier,
        model_version=event.model_version,  # type: ignore[arg-type]
        tier_policy_version=event.tier_policy_version,
        routing_version=policy.version,
        key_facts=event.key_facts,
        state="issued",
        owner_level=event.owner_level,  # type: ignore[arg-type]
        owner=event.owner,
        issued_at=event.at,
        updated_at=event.at,
        due_step="acknowledge",
        due_at=event.at + route.within("acknowledge"),
    )


def _rescore(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    """New risk and model; a higher tier escalates (never lowered: a person closes it)."""
    out: dict = {
        "risk": e.risk,
        "scored_tier": e.tier,
        "model_version": e.model_version,
        "key_facts": e.key_facts,
    }
    if e.tier_policy_version is not None:
        out["tier_policy_version"] = e.tier_policy_version
    tier = higher_tier(w.tier, e.tier)
    if tier_rank(tier) > tier_rank(w.tier):
        out |= _raised(w, e, tier, policy)
    return out


def _raise(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    """A person raised the tier, with the reason in the note: only ever up."""
    if tier_rank(e.tier) <= tier_rank(w.tier):
        raise _refuse(
            w,
            e,
            f"its tier is {w.tier} and a tier can only be raised, never lowered; raise it "
            "above that, or say in a note why the risk is overstated",
        )
    return _raised(w, e, e.tier, policy)  # type: ignore[arg-type]


def _raised(w: WarningRecord, e: WarningEvent, tier: str, policy: RoutingPolicy) -> dict:
    """A higher tier: its route's level (never a lower one than now) and the pending
    step due by the higher tier's (shorter) window, never later."""
    route = policy.route(tier)
    level = max(w.owner_level, route.level, key=OWNER_LEVELS.index)
    out: dict = {"tier": tier, "tier_raised_at": e.at, "owner_level": level}
    if level != w.owner_level:
        out["owner"] = e.owner
    if w.due_step is not None and w.due_at is not None:
        start = w.resolved_at if w.due_step == "revisit" else w.issued_at
        sooner = max(e.at, start + route.within(w.due_step))  # type: ignore[operator]
        out["due_at"] = min(w.due_at, sooner)
    return out


def _note(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    return {}


def _acknowledge(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    route = policy.route(w.tier)
    return {
        "state": "acknowledged",
        "acknowledged_at": e.at,
        "due_step": "first_action",
        "due_at": w.issued_at + route.within("first_action"),
    }


def _assign(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    out: dict = {"owner": e.owner, "assigned_at": e.at}
    if e.owner_level is not None:
        out["owner_level"] = e.owner_level
    if w.state == "acknowledged":
        out["state"] = "assigned"
    return out


def _act(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    route = policy.route(w.tier)
    if e.channel is not None and e.channel not in route.channels:
        raise _refuse(
            w,
            e,
            f"channel {e.channel!r} is not offered for {w.tier} warnings (offered: "
            f"{', '.join(route.channels)}); choose one of them or change the routing policy",
        )
    first = e.at if w.first_action_at is None else min(w.first_action_at, e.at)
    last = e.at if w.last_action_at is None else max(w.last_action_at, e.at)
    out: dict = {"state": "in_hand", "actions": w.actions + 1}
    out |= {"first_action_at": first, "last_action_at": last}
    if w.due_step == "first_action":
        out |= {"due_step": None, "due_at": None}
    return out


def _resolve(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    if w.last_action_at is not None and e.at < w.last_action_at:
        raise _refuse(w, e, f"its last action was at {w.last_action_at}; resolve after it")
    route = policy.route(w.tier)
    return {
        "state": "resolved",
        "resolved_at": e.at,
        "revisit_at": None,
        "due_step": "revisit",
        "due_at": e.at + route.within("revisit"),
    }


def _revisit(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    if w.resolved_at is not None and e.at <= w.resolved_at:
        raise _refuse(
            w, e, f"a return visit comes after the resolution at {w.resolved_at}; fix its time"
        )
    return {"revisit_at": e.at, "due_step": None, "due_at": None}


def _close(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    if w.revisit_at is None or (w.resolved_at is not None and w.revisit_at <= w.resolved_at):
        raise _refuse(w, e, "record a return visit (回访) after the resolution first")
    return {"state": "closed", "closed_at": e.at, "due_step": None, "due_at": None}


def _reopen(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    route = policy.route(w.tier)
    return {
        "state": "assigned" if w.owner else "acknowledged",
        "reopened": w.reopened + 1,
        "resolved_at": None,
        "revisit_at": None,
        "closed_at": None,
        "due_step": "first_action",
        "due_at": e.at + route.within("first_action"),
    }


def _escalate(w: WarningRecord, e: WarningEvent, policy: RoutingPolicy) -> dict:
    """One level up with a fresh window for the pending step; at the county the deadline
    stays (still overdue, shown on the overview) and is not escalated again."""
    route = policy.route(w.tier)
    out: dict = {
        "owner_level": e.owner_level,
        "owner": e.owner if e.owner is not None else w.owner,
        "escalations": w.escalations + 1,
        "escalated_at": e.at,
        "escalated_due_at": w.due_at,
    }
    if e.owner_level != w.owner_level and w.due_step is not None:
        out["due_at"] = e.at + route.within(w.due_step)
        out["escalated_due_at"] = None
    return out


_CHANGES = {
    "rescore": _rescore,
    "acknowledge": _acknowledge,
    "assign": _assign,
    "act": _act,
    "resolve": _resolve,
    "revisit": _revisit,
    "close": _close,
    "reopen": _reopen,
    "escalate": _escalate,
    "raise": _raise,
    "note": _note,
}
