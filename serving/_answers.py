"""What an answer about a case says, from its scores: pure functions the service calls.

Every answer (score, batch item, explanation) has the same fields: the risk, the model's
tier and the tier to act on (a key fact's floor or a supervisor's raise lifts it, never
lowers it), the key facts, the case's status, the store's newest record and the warnings;
and the audit log records each answer with the tier it gave.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskwarn.serving._facts import Facts, case_status
from riskwarn.serving._keys import Caller
from riskwarn.serving._schemas import KeyFactOut, Reason, iso
from riskwarn.serving._scorer import Target
from riskwarn.training import Scores
from riskwarn.vocab import higher_tier, tier_rank

_MOVES = ("closed", "reopened")


@dataclass
class Assessed:
    """One case's answer before it is shaped for an endpoint."""

    case: Target
    row: int  # the case's row in the scores
    fields: dict[str, Any]  # the answer's fields but its reasons


def _status(case: Target, facts: Facts, stale_days: int) -> tuple[dict, list[dict]]:
    """The case's status at its ``as_of`` and the answer's warnings."""
    new = case.new_case
    if new is None:
        status = facts.status(case.dispute_id, case.as_of)
        return status, facts.warnings(case.dispute_id, case.as_of, status, stale_days)
    reported = pd.Timestamp(new.dispute.reported_at)
    moves = sorted(
        ((pd.Timestamp(e.at), e.kind) for e in new.events if e.kind in _MOVES),
        key=lambda m: (m[0], m[1] == "reopened"),
    )
    status = case_status(reported, moves, case.as_of)
    warned = facts.warnings(case.dispute_id, case.as_of, status, stale_days, new.events, reported)
    return status, warned


def assess(
    cases: list[Target],
    scores: Scores,
    raised: Mapping[str, Mapping[str, Any]],
    facts: Facts,
    version: str,
    stale_days: int,
) -> list[Assessed]:
    """The fields of each case's answer; ``raised``: the supervisors' raises in force."""
    out = []
    for i, case in enumerate(cases):
        model_tier, floored = str(scores.tier_model[i]), str(scores.tier[i])
        override = raised.get(case.dispute_id)
        if override is not None and tier_rank(override["tier"]) <= tier_rank(floored):
            override = None
        status, warned = _status(case, facts, stale_days)
        fields = {
            "dispute_id": case.dispute_id,
            "as_of": iso(case.as_of),
            "risk": float(scores.risk[i]),
            "tier_model": model_tier,
            "tier": higher_tier(floored, override and override["tier"]),
            "tier_floor_reason": scores.tier_floor_reason[i],
            "key_facts": [KeyFactOut(**f.to_dict()) for f in scores.key_facts[i]],
            "override": None
            if override is None
            else {**override, "at": f"{override['at']:%Y-%m-%dT%H:%M:%S}Z"},
            "model_version": version,
            "status": status,
            "data_as_of": None if facts.newest is None else iso(facts.newest),
            "warnings": warned,
        }
        out.append(Assessed(case, i, fields))
    return out


def audit_entries(
    caller: Caller, action: str, request_id: str, assessed: list[Assessed]
) -> list[dict[str, Any]]:
    """The audit log's record of each answer, with the tier it gave."""
    return [
        {
            "key_name": caller.name,
            "action": action,
            "request_id": request_id,
            "dispute_id": a.fields["dispute_id"],
            "as_of": a.case.as_of.to_pydatetime(),
            "model_version": a.fields["model_version"],
            "risk": a.fields["risk"],
            "tier": a.fields["tier"],
        }
        for a in assessed
    ]


def top_reasons(scores: Scores, a: Assessed, k: int | None) -> list[Reason]:
    """The ``k`` strongest reasons pushing an assessed case's risk up (as scored, with at
    least ``k``), or every feature by absolute contribution when ``k`` is None."""
    found = scores.explain(a.row) if k is None else scores.reasons[a.row][:k]
    return [Reason(**r.to_dict()) for r in found]
