"""The store's warnings, on SQLite and PostgreSQL: events applied and written with their
audit rows in one transaction, refused events writing nothing, lists and filters, the
roster, stored routing policies and escalation on a controlled clock."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from riskwarn.clock import FixedClock, use_clock
from riskwarn.errors import ConfigError, UnknownRecordError, WarningStateError
from riskwarn.loop import Member, WarningEvent, load_policy, parse_policy
from riskwarn.serving import Store

T0 = dt.datetime(2026, 3, 1, 8, 0)
POLICY = load_policy()


def _issue(wid: str, tier: str = "orange", level: str = "county", **more: object) -> WarningEvent:
    fields = {
        "warning_id": wid,
        "kind": "issue",
        "at": T0,
        "dispute_id": f"D-{wid}",
        "tier": tier,
        "risk": 0.2,
        "model_version": "3",
        "owner_level": level,
        "township": "东关街道",
        "grid": "G1",
        **more,
    }
    return WarningEvent(**fields)


def _event(wid: str, kind: str, hours: float, **more: object) -> WarningEvent:
    return WarningEvent(warning_id=wid, kind=kind, at=T0 + dt.timedelta(hours=hours), **more)


def _counts(store: Store) -> tuple[int, int, int]:
    with store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("warnings", "warning_events", "audit_log")
        )


def test_events_are_applied_written_and_audited_together(store: Store) -> None:
    with use_clock(FixedClock(T0 + dt.timedelta(hours=1))):
        [w] = store.apply_warning_events(
            [_issue("W1", owner="officer-1")], POLICY, by="platform", request_id="r1"
        )
        assert (w.state, w.owner, w.due_step) == ("issued", "officer-1", "acknowledge")
        store.apply_warning_events(
            [
                _event("W1", "acknowledge", 1, by="chief"),
                _event("W1", "assign", 2, owner="mediator-7", by="chief"),
            ],
            POLICY,
            by="county-centre",
            request_id="r2",
        )
    record, history = store.warning("W1")
    assert (record.state, record.owner) == ("assigned", "mediator-7")
    assert [e.kind for e in history] == ["issue", "acknowledge", "assign"]
    audit = [e for e in store.audit_entries() if e["action"].startswith("warning:")]
    assert [e["action"] for e in reversed(audit)] == [
        "warning:issue",
        "warning:acknowledge",
        "warning:assign",
    ]
    assert {e["dispute_id"] for e in audit} == {"D-W1"}
    assert all("mediator-7" not in (e["detail"] or "") for e in audit)  # names stay out
    assert store.warnings_for("D-W1")[0].warning_id == "W1"
    assert set(store.open_warnings(["D-W1", "D-other"])) == {"D-W1"}


def test_a_refused_event_writes_nothing(store: Store) -> None:
    store.apply_warning_events([_issue("W1")], POLICY)
    before, record = _counts(store), store.warning("W1")[0]
    with pytest.raises(WarningStateError, match="resolve it and record a return visit first"):
        store.apply_warning_events([_event("W1", "close", 1)], POLICY)
    # a good event before a refused one in the same call is not kept either
    with pytest.raises(WarningStateError, match="acknowledged only once"):
        store.apply_warning_events(
            [_event("W1", "acknowledge", 1), _event("W1", "acknowledge", 2)], POLICY
        )
    assert _counts(store) == before and store.warning("W1")[0] == record
    with pytest.raises(UnknownRecordError, match="W-none"):
        store.apply_warning_events([_event("W-none", "acknowledge", 1)], POLICY)
    with pytest.raises(UnknownRecordError, match="W-none"):
        store.warning("W-none")


def test_a_snapshot_and_its_warnings_are_one_transaction(store: Store) -> None:
    store.apply_warning_events([_issue("W1")], POLICY)
    before = _counts(store)
    snap = [
        {
            "dispute_id": "D-W1",
            "as_of": T0,
            "model_version": "3",
            "risk": 0.3,
            "tier": "red",
            "reasons": [],
        }
    ]
    seen = []

    def refused(state):  # type: ignore[no-untyped-def]
        seen.append(state)
        return [_issue("W1")]  # issued twice: refused

    with pytest.raises(WarningStateError):
        store.add_snapshots_warned(snap, refused, POLICY)
    assert _counts(store) == before and store.snapshots_for("D-W1") == []
    assert set(seen[0].open_warnings) == {"D-W1"}

    stored, events = store.add_snapshots_warned(
        snap,
        lambda state: [_event("W1", "rescore", 1, tier="red", risk=0.3, model_version="4")],
        POLICY,
    )
    assert stored == 1 and [e.kind for e in events] == ["rescore"]
    assert store.warning("W1")[0].tier == "red" and len(store.snapshots_for("D-W1")) == 1


def test_lists_filter_and_page(store: Store) -> None:
    store.apply_warning_events(
        [
            _issue("W1", "orange"),
            _issue("W2", "red", township="西城镇"),
            _issue("W3", "yellow", "township"),
            _issue("W4", "orange"),
        ],
        POLICY,
    )
    store.apply_warning_events([_event("W4", "acknowledge", 1)], POLICY)
    total, page = store.warnings_page()
    assert total == 4 and page[0].warning_id == "W2"  # red first
    assert [w.tier for w in page] == ["red", "orange", "orange", "yellow"]
    total, page = store.warnings_page(limit=2, offset=2)
    assert total == 4 and [w.tier for w in page] == ["orange", "yellow"]
    assert store.warnings_page(township="西城镇")[0] == 1
    assert store.warnings_page(tier="orange", state="acknowledged")[1][0].warning_id == "W4"
    assert store.warnings_page(state="open")[0] == 4
    # orange: acknowledge within 24 h, yellow 72 h; W4's first action is due at 72 h
    with use_clock(FixedClock(T0 + dt.timedelta(hours=30))):
        late = {w.warning_id for w in store.warnings_page(overdue=True)[1]}
        on_time = {w.warning_id for w in store.warnings_page(overdue=False)[1]}
        counts = store.warning_counts()
    assert late == {"W1", "W2"} and on_time == {"W3", "W4"}
    assert counts["overdue"] == {"orange": 1, "red": 1, "yellow": 0}
    assert counts["open"]["orange"] == {"issued": 1, "acknowledged": 1}
    assert counts["unowned"]["red"] == 1 and counts["closed"] == 0


def test_overdue_warnings_escalate_one_level_up_to_the_roster(store: Store) -> None:
    store.replace_roster(
        [
            Member(
                name="grid-mediator", role="mediator", level="grid", township="东关街道", grid="G1"
            ),
            Member(name="town-officer", role="officer", level="township", township="东关街道"),
        ],
        by="ops",
    )
    assert {m.name for m in store.roster().members} == {"grid-mediator", "town-officer"}
    store.apply_warning_events([_issue("W1", "blue", "grid", owner="grid-mediator")], POLICY)
    with use_clock(FixedClock(T0 + dt.timedelta(hours=100))):  # blue: acknowledge in 168 h
        assert store.escalate_warnings(POLICY) == []
    with use_clock(FixedClock(T0 + dt.timedelta(hours=169))):
        [event] = store.escalate_warnings(POLICY, by="cron", request_id="c1")
        assert (event.owner_level, event.owner) == ("township", "town-officer")
        assert store.escalate_warnings(POLICY) == []  # a fresh window at the new level
    record = store.warning("W1")[0]
    assert (record.owner_level, record.escalations) == ("township", 1)
    assert record.due_at == T0 + dt.timedelta(hours=169 + 168)
    [entry] = [e for e in store.audit_entries() if e["action"] == "warning:escalate"]
    assert (entry["key_name"], entry["request_id"]) == ("cron", "c1")


def test_routing_policies_are_stored_in_versions(store: Store) -> None:
    assert store.routing_policy() is None
    data = POLICY.model_dump(mode="json")
    data["version"] = "2027-01"
    data["tiers"]["red"]["acknowledge_hours"] = 2
    store.add_routing_policy(parse_policy(data), by="ops")
    held = store.routing_policy()
    assert held is not None and held.version == "2027-01"
    assert held.route("red").acknowledge_hours == 2
    assert any(e["action"] == "warning:policy" for e in store.audit_entries())
    data["tiers"]["red"]["channels"] = ["telepathy"]
    with pytest.raises(ConfigError, match="unknown channel 'telepathy'"):
        parse_policy(data)
