"""The warning state machine: every step in order, a return visit before closing, reopen."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from riskwarn.errors import WarningStateError
from riskwarn.loop import WarningEvent, WarningRecord, apply_event, load_policy, warning_id

T0 = dt.datetime(2025, 3, 1, 8, 0)
POLICY = load_policy()


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def event(kind: str, hours: float, **fields) -> WarningEvent:
    return WarningEvent(warning_id="W1", kind=kind, at=at(hours), **fields)


def issued(tier: str = "orange") -> WarningRecord:
    return apply_event(
        None,
        event(
            "issue", 0, dispute_id="D1", tier=tier, risk=0.2, model_version="3",
            owner_level=POLICY.route(tier).level, owner="李强", key_facts=("recent_threat",),
        ),
        POLICY,
    )  # fmt: skip


def walk(w: WarningRecord, *steps: WarningEvent) -> WarningRecord:
    for step in steps:
        w = apply_event(w, step, POLICY)
    return w


ACK = event("acknowledge", 1, by="supervisor")
ASSIGN = event("assign", 2, owner="王芳", by="supervisor")
VISIT = event("act", 3, action="visit", result="follow_up", by="王芳")
MEDIATE = event(
    "act", 30, action="mediation_session", channel="people_mediation", result="agreement"
)
RESOLVE = event("resolve", 40)
REVISIT = event("revisit", 200, action="visit", result="agreement")
CLOSE = event("close", 201)


def test_a_warning_walks_every_state_in_order_with_its_deadlines():
    w = issued()
    assert (w.state, w.due_step, w.due_at) == ("issued", "acknowledge", at(24))
    assert w.routing_version == POLICY.version and w.key_facts == ("recent_threat",)
    w = walk(w, ACK)
    assert (w.state, w.due_step, w.due_at) == ("acknowledged", "first_action", at(72))
    w = walk(w, ASSIGN)
    assert (w.state, w.owner) == ("assigned", "王芳")
    w = walk(w, VISIT, MEDIATE)
    assert (w.state, w.actions, w.first_action_at, w.due_at) == ("in_hand", 2, at(3), None)
    w = walk(w, RESOLVE)
    assert (w.state, w.due_step, w.due_at) == ("resolved", "revisit", at(40 + 336))
    w = walk(w, REVISIT, CLOSE)
    assert (w.state, w.closed_at, w.revisit_at) == ("closed", at(201), at(200))
    assert not w.is_open and not w.overdue(at(10_000))


@pytest.mark.parametrize(
    ("done", "step", "hint"),
    [
        ((), ASSIGN, "acknowledge it first"),
        ((), VISIT, "assign an owner first"),
        ((ACK,), VISIT, "assign an owner first"),
        ((ACK, ASSIGN), RESOLVE, "record at least one action first"),
        ((ACK, ASSIGN, VISIT), CLOSE, "resolve it and record a return visit first"),
        ((ACK, ASSIGN, VISIT), REVISIT, "resolve it first"),
        ((ACK,), ACK, "acknowledged only once"),
        ((), event("reopen", 5, note="again"), "only a closed warning is reopened"),
    ],
)
def test_no_state_is_skipped(done, step, hint):
    w = walk(issued(), *done)
    with pytest.raises(WarningStateError, match=hint) as caught:
        apply_event(w, step, POLICY)
    assert caught.value.http_status_code() == 409
    assert "W1" in str(caught.value)


def test_closing_needs_a_return_visit_after_the_resolution():
    w = walk(issued(), ACK, ASSIGN, VISIT, RESOLVE)
    with pytest.raises(WarningStateError, match="record a return visit"):
        apply_event(w, CLOSE, POLICY)
    with pytest.raises(WarningStateError, match="after the resolution"):
        apply_event(w, event("revisit", 39), POLICY)
    assert walk(w, REVISIT, CLOSE).state == "closed"


def test_a_closed_warning_is_reopened_and_must_be_resolved_and_revisited_again():
    w = walk(issued(), ACK, ASSIGN, VISIT, RESOLVE, REVISIT, CLOSE)
    w = walk(w, event("reopen", 300, note="双方再次冲突"))
    assert (w.state, w.owner, w.reopened, w.revisit_at, w.closed_at) == (
        "assigned", "王芳", 1, None, None,
    )  # fmt: skip
    assert w.due_at == at(300 + 72)
    with pytest.raises(WarningStateError, match="record at least one action"):
        apply_event(w, event("resolve", 301), POLICY)
    w = walk(w, event("act", 302, action="visit", result="partial"), event("resolve", 303))
    with pytest.raises(WarningStateError, match="record a return visit"):
        apply_event(w, event("close", 304), POLICY)


def test_a_higher_score_escalates_and_a_lower_one_never_drops_the_warning():
    w = walk(issued("orange"), ACK)
    up = event("rescore", 5, tier="red", risk=0.5, model_version="4", owner="县领导")
    w = walk(w, up)
    assert (w.tier, w.risk, w.model_version, w.tier_raised_at) == ("red", 0.5, "4", at(5))
    assert w.due_at == at(24)  # red's first action is due 24 h after issue, sooner than 72 h
    down = event("rescore", 6, tier="blue", risk=0.01, model_version="4")
    w = walk(w, down)
    assert (w.tier, w.state, w.risk) == ("red", "acknowledged", 0.01)


def test_actions_use_the_channels_the_tier_offers_and_referrals_name_one():
    w = walk(issued("blue"), ACK, ASSIGN)
    with pytest.raises(WarningStateError, match="not offered for blue"):
        apply_event(
            w, event("act", 3, action="mediation_session", channel="arbitration", result="agreement"), POLICY
        )  # fmt: skip
    with pytest.raises(ValidationError, match="referral needs the channel"):
        event("act", 3, action="referral", result="referred")
    with pytest.raises(ValidationError, match="needs action"):
        event("act", 3, result="agreement")
    # the case platform may report an action without a structured result
    assert apply_event(w, event("act", 3, action="visit", note="入户"), POLICY).actions == 1


def test_events_are_checked_against_their_warning_and_time():
    w = issued()
    with pytest.raises(WarningStateError, match="issue it first"):
        apply_event(None, ACK, POLICY)
    with pytest.raises(WarningStateError, match="issued already"):
        apply_event(w, event("issue", 1, dispute_id="D1", tier="red", risk=0.1,
                             model_version="1", owner_level="county"), POLICY)  # fmt: skip
    with pytest.raises(WarningStateError, match="before its issue"):
        apply_event(w, event("acknowledge", -1), POLICY)
    other = WarningEvent(warning_id="W2", kind="acknowledge", at=at(1))
    with pytest.raises(WarningStateError, match="its own warning"):
        apply_event(w, other, POLICY)


def test_warning_ids_are_stable_and_records_round_trip_as_plain_rows():
    assert warning_id("D1", T0) == warning_id("D1", T0) != warning_id("D2", T0)
    w = walk(issued(), ACK, ASSIGN, VISIT)
    assert WarningRecord.model_validate(w.model_dump()) == w
    assert WarningEvent.model_validate_json(VISIT.model_dump_json()) == VISIT


def test_a_person_raises_a_tier_only_upward_with_a_reason():
    w = walk(issued("yellow"), ACK)
    assert (w.owner_level, w.due_at) == ("township", at(168))
    with pytest.raises(ValidationError, match="needs note"):
        event("raise", 2, tier="red", by="督导")
    for same_or_lower in ("yellow", "blue"):
        with pytest.raises(WarningStateError, match="never lowered"):
            apply_event(w, event("raise", 2, tier=same_or_lower, note="复核"), POLICY)
    w = walk(w, event("raise", 2, tier="red", note="当事人扬言报复", by="督导", owner="县领导"))
    # red's route: the county owns it, its first action is due 24 h after issue
    assert (w.tier, w.tier_raised_at, w.owner_level, w.owner) == ("red", at(2), "county", "县领导")
    assert w.due_at == at(24) and w.scored_tier == "yellow"  # the score did not say red
    closed = walk(issued("red"), ACK, ASSIGN, VISIT, RESOLVE, REVISIT, CLOSE)
    with pytest.raises(WarningStateError, match="reopen it first"):
        apply_event(closed, event("raise", 300, tier="red", note="x"), POLICY)


def test_a_note_changes_nothing_but_is_kept_in_any_state():
    w = walk(issued(), ACK)
    noted = walk(w, event("note", 3, note="已电话联系双方", by="督导"))
    assert noted.model_dump(exclude={"updated_at"}) == w.model_dump(exclude={"updated_at"})
    assert noted.updated_at == at(3)
    closed = walk(issued(), ACK, ASSIGN, VISIT, RESOLVE, REVISIT, CLOSE)
    assert walk(closed, event("note", 400, note="回访后补记")).state == "closed"
    with pytest.raises(ValidationError, match="needs note"):
        event("note", 3)
