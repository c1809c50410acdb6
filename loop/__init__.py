"""riskwarn.loop: the closed loop (闭环) after a score: warnings routed to an owner with
deadlines, handled, visited again, closed, and evaluated against what happened.

    >>> from riskwarn.loop import load_policy, issue_warnings, apply_event
    >>> policy = load_policy()                                   # the four-colour defaults
    >>> events = issue_warnings(scored, open_warnings, policy, roster)   # doctest: +SKIP
    >>> warning = apply_event(None, events[0], policy)                    # doctest: +SKIP

Everything here is pure: records in, records out. The service's store persists
:class:`WarningRecord` rows and their :class:`WarningEvent` audit trail; :func:`apply_event` is the
only way a warning changes.
"""

from __future__ import annotations

from ._estimate import Estimate, discontinuity, naive_comparison, stepped_rollout
from ._evaluate import (
    CAUTION,
    CAUTION_ZH,
    Evaluation,
    evaluate_rounds,
    process_measures,
    rates,
    warning_outcomes,
)
from ._issue import (
    DEFAULT_MIN_TIER,
    RESCORE_RISK_CHANGE,
    ScoredCase,
    escalations,
    issue_warnings,
    raise_event,
    rescore_needed,
    scored_cases,
)
from ._policy import STEPS, RoutingPolicy, TierRoute, load_policy, parse_policy
from ._roster import MEMBER_ROLES, Member, Roster
from ._rounds import evaluate_warnings, model_rounds, truth_rounds
from ._warnings import (
    EVENT_KINDS,
    OPEN_STATES,
    WarningEvent,
    WarningRecord,
    apply_event,
    level_above,
    warning_id,
)

__all__ = [  # noqa: RUF022 - plain sorted(), as tests/test_exported_members.py checks
    "CAUTION",
    "CAUTION_ZH",
    "DEFAULT_MIN_TIER",
    "EVENT_KINDS",
    "Estimate",
    "Evaluation",
    "MEMBER_ROLES",
    "Member",
    "OPEN_STATES",
    "RESCORE_RISK_CHANGE",
    "Roster",
    "RoutingPolicy",
    "STEPS",
    "ScoredCase",
    "TierRoute",
    "WarningEvent",
    "WarningRecord",
    "apply_event",
    "discontinuity",
    "escalations",
    "evaluate_rounds",
    "evaluate_warnings",
    "issue_warnings",
    "level_above",
    "load_policy",
    "model_rounds",
    "naive_comparison",
    "parse_policy",
    "process_measures",
    "raise_event",
    "rates",
    "rescore_needed",
    "scored_cases",
    "stepped_rollout",
    "truth_rounds",
    "warning_id",
    "warning_outcomes",
]
