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


def test_one_roster_is_loaded_edited_and_keeps_who_left(store: Store) -> None:
    town = Member(name="王芳", role="mediator", level="township", township="东关街道")
    grid = Member(name="李强", role="mediator", level="grid", township="东关街道", grid="G1")
    lead = Member(name="赵县长", role="lead", level="county")
    assert store.replace_roster([town, grid], by="ops") == 2
    added = store.add_member(lead, by="admin-1", request_id="r1")
    assert store.add_member(lead, by="admin-1", request_id="r2")["id"] == added["id"]  # once
    assert [m.name for m in store.roster().serving(township="东关街道", grid="G1")] == [
        "李强", "王芳", "赵县长",
    ]  # fmt: skip
    assert [m["name"] for m in store.members("东关街道")] == ["李强", "王芳"]
    assert store.remove_member(added["id"], by="admin-1", request_id="r3")
    assert not store.remove_member(added["id"], by="admin-1", request_id="r4")
    # a reload keeps who stays as added, takes off who is gone, adds who is new
    first = {m["name"]: m["id"] for m in store.members()}
    store.replace_roster([town, lead], by="ops-2")
    now = {m["name"]: m for m in store.members()}
    assert set(now) == {"王芳", "赵县长"} and now["王芳"]["id"] == first["王芳"]
    assert now["赵县长"]["added_by"] == "ops-2"
    with store.engine.connect() as conn:
        gone = conn.execute(
            sa.text("SELECT name, removed_by FROM roster WHERE removed_at IS NOT NULL ORDER BY id")
        ).all()
    assert [tuple(g) for g in gone] == [("李强", "ops-2"), ("赵县长", "admin-1")]
    actions = [e["action"] for e in store.audit_entries()]
    assert {"roster:load", "roster:add", "roster:remove"} <= set(actions)


def test_migration_0006_carries_the_mediators_onto_the_roster(
    request: pytest.FixtureRequest, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from riskwarn.serving._migrate import head, upgrade

    from .conftest import fresh_database

    for dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            url = f"sqlite:///{tmp_path / 'at-0005.db'}"
        else:
            url = fresh_database(request.getfixturevalue("postgres"))
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            upgrade(conn, "0005")
            conn.execute(
                sa.text(
                    "INSERT INTO roster (name, role, level, township, grid) VALUES "
                    "('王芳', 'mediator', 'township', '东关街道', NULL), "
                    "('县干部', 'officer', 'county', NULL, NULL)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO mediators (township, name, added_at, added_by, removed_at, "
                    "removed_by) VALUES "
                    "('东关街道', '王芳', '2026-01-02 03:00:00', 'admin-1', NULL, NULL), "
                    "('西湖乡', '陈刚', '2026-01-03 03:00:00', 'admin-1', NULL, NULL), "
                    "('西湖乡', '旧人', '2026-01-01 03:00:00', 'admin-1', "
                    "'2026-01-05 03:00:00', 'admin-2')"
                )
            )
        engine.dispose()
        with use_clock(FixedClock(T0)):
            store = Store.open(url)
        assert store.revision() == head(), dialect
        with store.engine.connect() as conn:
            assert not sa.inspect(conn).has_table("mediators"), dialect
        listed = {(m["name"], m["role"], m["level"], m["township"]): m for m in store.members()}
        assert set(listed) == {
            ("王芳", "mediator", "township", "东关街道"),  # listed twice before: once now
            ("县干部", "officer", "county", None),
            ("陈刚", "mediator", "township", "西湖乡"),
        }, dialect
        chen = listed[("陈刚", "mediator", "township", "西湖乡")]
        assert (chen["added_by"], chen["added_at"]) == ("admin-1", dt.datetime(2026, 1, 3, 3))
        assert listed[("县干部", "officer", "county", None)]["added_at"] == T0
        assert store.roster().pick("township", tier="yellow", township="西湖乡") == "陈刚"
        store.close()


def test_a_workbench_action_and_its_warning_event_are_written_together(store: Store) -> None:
    store.apply_warning_events([_issue("W1")], POLICY)
    row = {"dispute_id": "D-W1", "key_name": "chief", "kind": "acknowledge"}
    [w] = store.add_actions_warned(
        [row], [_event("W1", "acknowledge", 1, by="chief")], POLICY, by="chief", request_id="r1"
    )
    assert w.state == "acknowledged" and store.actions_for("D-W1")[0]["kind"] == "acknowledge"
    [entry] = [e for e in store.audit_entries() if e["request_id"] == "r1"]
    assert entry["action"] == "warning:acknowledge" and "action_ids" in str(entry["detail"])
    before = _counts(store), len(store.actions_for())
    with pytest.raises(WarningStateError, match="acknowledged only once"):
        store.add_actions_warned(
            [row], [_event("W1", "acknowledge", 2, by="chief")], POLICY, by="chief", request_id="r2"
        )
    assert [w.warning_id for w in store.warning_records("东关街道")] == ["W1"]
    assert store.warning_records("西湖乡") == []
    assert (_counts(store), len(store.actions_for())) == before  # nothing written
