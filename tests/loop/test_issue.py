"""Issuing warnings from a scoring round, routing them to owners, escalating in time."""

from __future__ import annotations

import datetime as dt

import pytest

from riskwarn.clock import FixedClock
from riskwarn.errors import ConfigError
from riskwarn.loop import (
    Member,
    Roster,
    ScoredCase,
    WarningEvent,
    apply_event,
    escalations,
    issue_warnings,
    load_policy,
    raise_event,
    rescore_needed,
    scored_cases,
)

POLICY = load_policy()
T0 = dt.datetime(2025, 3, 1, 0, 0)
ROSTER = Roster(
    members=(
        Member(name="网格员甲", role="mediator", level="grid", township="东关", grid="G1"),
        Member(name="调解员乙", role="mediator", level="township", township="东关"),
        Member(name="所长丙", role="officer", level="township", township="东关"),
        Member(name="县干部丁", role="officer", level="county"),
        Member(name="县领导戊", role="lead", level="county"),
        Member(name="调解员己", role="mediator", level="township", township="西湖"),
    )
)


def case(dispute: str, tier: str, risk: float = 0.1, township: str = "东关") -> ScoredCase:
    return ScoredCase(
        dispute_id=dispute, risk=risk, tier=tier, model_version="7", township=township, grid="G1",
        tier_policy_version="capacity", key_facts=("recent_threat",),
    )  # fmt: skip


def run(events: list[WarningEvent], warnings: dict | None = None) -> dict:
    out = dict(warnings or {})
    for e in events:
        before = out.get(e.warning_id)
        out[e.warning_id] = apply_event(before, e, POLICY)
    return out


def test_cases_at_or_above_the_tier_get_one_routed_warning_each():
    clock = FixedClock(T0)
    round_ = [case("D1", "red"), case("D2", "orange"), case("D3", "yellow"), case("D4", "blue")]
    events = issue_warnings(round_, {}, POLICY, ROSTER, clock=clock)
    assert [(e.kind, e.dispute_id, e.tier) for e in events] == [
        ("issue", "D1", "red"), ("issue", "D2", "orange"),
    ]  # fmt: skip
    red, orange = (apply_event(None, e, POLICY) for e in events)
    assert (red.owner_level, red.owner) == ("county", "县领导戊")
    assert (orange.owner_level, orange.owner) == ("county", "县干部丁")
    assert red.due_at == T0 + dt.timedelta(hours=4) and red.issued_at == T0
    assert (red.model_version, red.tier_policy_version, red.risk) == ("7", "capacity", 0.1)
    # a lower threshold tier, and an unknown one refused
    assert len(issue_warnings(round_, {}, POLICY, ROSTER, clock=clock, min_tier="blue")) == 4
    with pytest.raises(ConfigError, match="purple"):
        issue_warnings(round_, {}, POLICY, ROSTER, clock=clock, min_tier="purple")


def test_yellow_goes_to_the_township_and_blue_to_the_grid_with_load_spread():
    clock = FixedClock(T0)
    events = issue_warnings(
        [case("D3", "yellow"), case("D4", "blue"), case("D5", "yellow", township="北山")],
        {}, POLICY, ROSTER, clock=clock, min_tier="blue", load={"调解员乙": 3},
    )  # fmt: skip
    ws = [apply_event(None, e, POLICY) for e in events]
    assert [(w.owner_level, w.owner) for w in ws] == [
        ("township", "调解员乙"), ("grid", "网格员甲"), ("township", None),
    ]  # fmt: skip
    # the role a tier asks for comes first; among equals, the least loaded, then the name
    two = Roster(members=(*ROSTER.members, Member(name="调解员庚", role="mediator",
                                                  level="township", township="东关")))  # fmt: skip
    picked = [
        two.pick("township", tier="yellow", township="东关", load={"调解员乙": n}) for n in (0, 1)
    ]
    assert picked == ["调解员乙", "调解员庚"]
    events = issue_warnings([case("D6", "yellow"), case("D7", "yellow")], {}, POLICY, two,
                            clock=clock, min_tier="yellow")  # fmt: skip
    assert [e.owner for e in events] == ["调解员乙", "调解员庚"]


def test_rescoring_updates_escalates_and_never_drops_an_open_warning():
    clock = FixedClock(T0)
    first = run(issue_warnings([case("D2", "orange", 0.1)], {}, POLICY, ROSTER, clock=clock))
    by_case = {w.dispute_id: w for w in first.values()}
    clock.advance(days=28)
    events = issue_warnings([case("D2", "red", 0.4)], by_case, POLICY, ROSTER, clock=clock)
    assert [e.kind for e in events] == ["rescore"]
    w = run(events, first)[events[0].warning_id]
    assert (w.tier, w.risk, w.owner_level) == ("red", 0.4, "county")
    clock.advance(days=28)
    by_case = {w.dispute_id: w}
    events = issue_warnings([case("D2", "blue", 0.01)], by_case, POLICY, ROSTER, clock=clock)
    w = run(events, {w.warning_id: w})[w.warning_id]
    assert (w.tier, w.state, w.risk) == ("red", "issued", 0.01)


def test_overdue_warnings_escalate_one_level_up_on_time():
    clock = FixedClock(T0)
    w = next(iter(run(issue_warnings(
        [case("D4", "blue")], {}, POLICY, ROSTER, clock=clock, min_tier="blue"
    )).values()))  # fmt: skip
    assert (w.owner_level, w.due_at) == ("grid", T0 + dt.timedelta(hours=168))
    clock.advance(hours=168)
    assert escalations([w], POLICY, ROSTER, clock=clock) == []  # due, not yet overdue
    clock.advance(seconds=1)
    [e] = escalations([w], POLICY, ROSTER, clock=clock)
    assert (e.kind, e.owner_level, e.owner) == ("escalate", "township", "调解员乙")
    assert "acknowledge" in e.note
    w = apply_event(w, e, POLICY)
    assert w.due_at == clock.utc_now() + dt.timedelta(hours=168) and w.escalations == 1
    assert escalations([w], POLICY, ROSTER, clock=clock) == []
    clock.advance(hours=169)
    w = apply_event(w, escalations([w], POLICY, ROSTER, clock=clock)[0], POLICY)
    assert (w.owner_level, w.owner) == ("county", "县干部丁")
    clock.advance(hours=169)  # overdue at the county: escalated once more, then it stays
    w = apply_event(w, escalations([w], POLICY, ROSTER, clock=clock)[0], POLICY)
    assert (w.owner_level, w.escalations, w.overdue(clock.utc_now())) == ("county", 3, True)
    clock.advance(hours=500)
    assert escalations([w], POLICY, ROSTER, clock=clock) == []


def test_an_unowned_red_warning_escalates_within_24_hours():
    clock = FixedClock(T0)
    nobody = Roster()
    w = next(
        iter(run(issue_warnings([case("D1", "red")], {}, POLICY, nobody, clock=clock)).values())
    )
    assert w.owner is None
    w = apply_event(
        w, WarningEvent(warning_id=w.warning_id, kind="acknowledge", at=clock.utc_now()), POLICY
    )
    clock.advance(hours=23, minutes=59)
    assert escalations([w], POLICY, ROSTER, clock=clock) == []
    clock.advance(minutes=1)
    [e] = escalations([w], POLICY, ROSTER, clock=clock)
    assert e.note.startswith("unowned 24 hours") and e.owner == "县领导戊"
    w = apply_event(w, e, POLICY)
    assert w.owner == "县领导戊" and escalations([w], POLICY, ROSTER, clock=clock) == []


def test_an_owned_or_closed_warning_does_not_escalate_for_want_of_an_owner():
    clock = FixedClock(T0)
    w = next(
        iter(run(issue_warnings([case("D1", "red")], {}, POLICY, ROSTER, clock=clock)).values())
    )
    w = apply_event(
        w, WarningEvent(warning_id=w.warning_id, kind="acknowledge", at=clock.utc_now()), POLICY
    )
    clock.advance(hours=23)
    assert escalations([w], POLICY, ROSTER, clock=clock) == []


def test_a_nightly_scoring_frame_becomes_placed_cases():
    import pandas as pd

    frame = pd.DataFrame(
        {"dispute_id": ["D1", "D2"], "risk": [0.4, 0.01], "tier": ["red", "blue"],
         "model_version": ["7", "7"], "key_fact_codes": ["recent_threat;pair_homicide", ""]}
    )  # fmt: skip
    places = pd.DataFrame({"dispute_id": ["D1"], "county": ["城关区"], "township": ["东关"],
                           "grid_id": ["G1"]})  # fmt: skip
    cases = scored_cases(frame, places, tier_policy_version="capacity")
    assert cases[0].key_facts == ("recent_threat", "pair_homicide")
    assert (cases[0].township, cases[0].grid, cases[0].county) == ("东关", "G1", "城关区")
    assert cases[1].township is None and cases[1].key_facts == ()
    [e] = issue_warnings(cases, {}, POLICY, ROSTER, clock=FixedClock(T0))
    assert (e.dispute_id, e.owner, e.tier_policy_version) == ("D1", "县领导戊", "capacity")


def test_a_warning_is_rescored_only_when_its_score_changed_materially():
    clock = FixedClock(T0)
    w = next(iter(run(issue_warnings([case("D2", "orange", 0.10)], {}, POLICY, ROSTER,
                                     clock=clock)).values()))  # fmt: skip

    def kinds(scored: ScoredCase) -> list[str]:
        return [e.kind for e in issue_warnings([scored], {"D2": w}, POLICY, ROSTER, clock=clock)]

    assert kinds(case("D2", "orange", 0.11)) == []  # the same, as snapshot after snapshot
    assert kinds(case("D2", "orange", 0.13)) == ["rescore"]  # up by 30%
    assert kinds(case("D2", "orange", 0.07)) == ["rescore"]  # down by 30%
    assert kinds(case("D2", "red", 0.11)) == ["rescore"]  # a higher tier
    with_fact = case("D2", "orange", 0.10).model_copy(
        update={"key_facts": ("weapon", "recent_threat")}
    )
    assert kinds(with_fact) == ["rescore"]  # a key fact appeared
    # a lower tier is recorded once (the warning keeps its tier), then not at every snapshot
    [down] = issue_warnings([case("D2", "yellow", 0.06)], {"D2": w}, POLICY, ROSTER, clock=clock)
    w = apply_event(w, down, POLICY)
    assert (w.tier, w.scored_tier, w.risk) == ("orange", "yellow", 0.06)
    assert kinds(case("D2", "yellow", 0.065)) == []
    assert rescore_needed(w, case("D2", "yellow", 0.0), min_risk_change=0.5)
    # tiny risks: noise below 1% of a percent is no change
    assert not rescore_needed(w.model_copy(update={"risk": 0.001}), case("D2", "yellow", 0.002))


def test_escalation_still_fires_for_a_warning_whose_score_holds_still():
    clock = FixedClock(T0)
    w = next(iter(run(issue_warnings([case("D1", "red", 0.3)], {}, POLICY, ROSTER,
                                     clock=clock)).values()))  # fmt: skip
    clock.advance(hours=5)  # red: acknowledge within 4 hours
    assert issue_warnings([case("D1", "red", 0.3)], {"D1": w}, POLICY, ROSTER, clock=clock) == []
    [e] = escalations([w], POLICY, ROSTER, clock=clock)
    assert e.kind == "escalate" and "acknowledge" in e.note


def test_a_raise_names_an_owner_at_the_higher_level():
    clock = FixedClock(T0)
    events = issue_warnings([case("D3", "yellow")], {}, POLICY, ROSTER, clock=clock,
                            min_tier="yellow")  # fmt: skip
    w = apply_event(None, events[0], POLICY)
    assert (w.owner_level, w.owner) == ("township", "调解员乙")
    clock.advance(hours=1)
    e = raise_event(w, "red", "扬言报复", by="督导", policy=POLICY, roster=ROSTER, clock=clock)
    assert (e.kind, e.tier, e.owner, e.note, e.by) == (
        "raise",
        "red",
        "县领导戊",
        "扬言报复",
        "督导",
    )
    w = apply_event(w, e, POLICY)
    assert (w.tier, w.owner_level, w.owner) == ("red", "county", "县领导戊")
    same_level = raise_event(w, "red", "x", by="督导", policy=POLICY, roster=ROSTER, clock=clock)
    assert same_level.owner is None


def test_everyone_serving_a_place_can_be_assigned_lowest_level_first():
    names = [m.name for m in ROSTER.serving(township="东关", grid="G1")]
    assert names == ["网格员甲", "所长丙", "调解员乙", "县干部丁", "县领导戊"]
    assert [m.name for m in ROSTER.serving(township="西湖", grid="G9")] == [
        "调解员己", "县干部丁", "县领导戊",
    ]  # fmt: skip
