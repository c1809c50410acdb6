"""The store, on SQLite and on PostgreSQL: history round trip, all-or-nothing writes,
append-only audit, snapshots, actions, and values PostgreSQL would refuse refused on both
as riskwarn errors naming what was wrong."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from riskwarn import load_dataset
from riskwarn.errors import ContractError, RequestError
from riskwarn.serving import Store

from .conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres"))
    made = Store(url).create()
    yield made
    made.close()


def test_history_round_trips_every_table(store: Store, good: Path) -> None:
    dataset = load_dataset(good)
    counts = store.append_history(dataset.tables())
    assert counts == {k: v for k, v in dataset.summary().items() if v}
    back = store.read_dataset()
    assert back.digest() == dataset.digest()
    assert back.summary() == dataset.summary()


def test_a_failing_batch_leaves_nothing_behind(store: Store, good: Path) -> None:
    dataset = load_dataset(good)
    store.append_history(dataset.tables())
    before = store.history_counts()
    new_person = dataset.persons.iloc[:1].assign(person_id="P99")
    clash = dataset.disputes.iloc[:1]  # dispute_id D1 is held already: nothing is written
    with pytest.raises(ContractError, match="already holds") as info:
        store.append_history({"persons": new_person, "disputes": clash})
    [issue] = info.value.issues
    assert (issue.table, issue.row, issue.column, issue.value) == (
        "disputes",
        1,
        "dispute_id",
        "D1",
    )
    assert store.history_counts() == before


def test_a_duplicate_that_slips_past_the_check_is_still_a_contract_error(
    store: Store, good: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers at once: the check finds nothing, the primary key refuses the insert."""
    import riskwarn.serving._store as store_module

    dataset = load_dataset(good)
    store.append_history(dataset.tables())
    real, calls = store_module._taken_ids, []

    def late(conn: sa.Connection, frames: dict) -> list:
        calls.append(1)  # the first check misses: the other writer has not committed yet
        return [] if len(calls) == 1 else real(conn, frames)

    monkeypatch.setattr(store_module, "_taken_ids", late)
    with pytest.raises(ContractError, match="already holds") as info:
        store.append_history({"disputes": dataset.disputes.iloc[1:2]})
    assert [(i.table, i.column, i.value) for i in info.value.issues] == [
        ("disputes", "dispute_id", "D2")
    ]
    assert len(calls) == 2 and isinstance(info.value.__cause__, sa.exc.IntegrityError)


@pytest.mark.parametrize(
    ("dispute_id", "problem"),
    [("NEW\x00X", "contains a NUL character"), ("D" * 129, "129 characters")],
)
def test_ids_postgresql_cannot_keep_are_located_issues(
    store: Store, good: Path, dispute_id: str, problem: str
) -> None:
    dataset = load_dataset(good)
    store.append_history({"grids": dataset.grids})
    bad = dataset.disputes.iloc[:2].copy()
    bad.loc[bad.index[1], "dispute_id"] = dispute_id
    with pytest.raises(ContractError) as info:
        store.append_history({"disputes": bad})
    [issue] = info.value.issues
    assert (issue.table, issue.row, issue.column, issue.message) == (
        "disputes",
        2,
        "dispute_id",
        problem,
    )
    assert store.history_counts()["disputes"] == 0


def test_a_nul_in_free_text_is_refused_too(store: Store, good: Path) -> None:
    dataset = load_dataset(good)
    store.append_history({"grids": dataset.grids})
    bad = dataset.disputes.iloc[:1].assign(summary="漏水\x00")
    with pytest.raises(ContractError, match="NUL") as info:
        store.append_history({"disputes": bad})
    assert info.value.issues[0].column == "summary"


def test_the_audit_log_is_append_only(store: Store) -> None:
    store.audit([{"key_name": "k1", "action": "score", "request_id": "r1", "risk": 0.2}])
    statements = ["UPDATE audit_log SET key_name = 'someone else'", "DELETE FROM audit_log"]
    if store.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
            c.exec_driver_sql(statement)
    [entry] = store.audit_entries()
    assert entry["key_name"] == "k1" and entry["risk"] == 0.2


def test_an_audit_log_made_before_its_triggers_gets_them(store: Store) -> None:
    """An older store's audit_log: create() adds the triggers, and again changes nothing."""
    from riskwarn.serving._store import audit_log

    with store.engine.begin() as conn:
        conn.execute(sa.schema.DropTable(audit_log))
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP FUNCTION audit_log_append_only()")
        conn.execute(sa.schema.CreateTable(audit_log))  # the bare table, no trigger
    store.create().create()
    store.audit([{"key_name": "k1", "action": "score", "request_id": "r1"}])
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM audit_log")
    assert len(store.audit_entries()) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("dispute_id", "NEW\x00X"), ("dispute_id", "D" * 129), ("key_name", "k\x00")],
)
def test_audit_refuses_ids_the_store_cannot_keep(store: Store, field: str, value: str) -> None:
    entry = {"key_name": "k1", "action": "score", "request_id": "r1", field: value}
    with pytest.raises(RequestError, match=field):
        store.audit([entry])
    assert store.audit_entries() == []


def test_audit_clamps_unknown_actions_and_tiers(store: Store) -> None:
    """The workbench logs ``ui:refused:{kind}`` with kind from the URL, and the form's tier."""
    store.audit(
        [
            {"key_name": "k", "action": "ui:refused:" + "x\x00" * 40, "request_id": "r1"},
            {"key_name": "k", "action": "ui:refused:raise_tier", "request_id": "r2", "tier": "紫"},
            {"key_name": "k", "action": "explain", "request_id": "r3", "tier": "red"},
            {"key_name": "k", "action": "ui:refused:note", "request_id": "r4", "detail": "a\x00"},
        ]
    )
    entries = {e["request_id"]: e for e in store.audit_entries()}
    assert entries["r1"]["action"] == "ui:refused:unknown"
    assert (entries["r2"]["action"], entries["r2"]["tier"]) == ("ui:refused:raise_tier", None)
    assert entries["r3"]["tier"] == "red"
    assert entries["r4"]["detail"] == "a\ufffd"
    with pytest.raises(ValueError, match="audit action"):
        store.audit([{"key_name": "k", "action": "drop table", "request_id": "r5"}])


def _snap(dispute: str, day: str, risk: float, tier: str) -> dict:
    return {
        "dispute_id": dispute,
        "as_of": dt.datetime.fromisoformat(day),
        "model_version": "3",
        "risk": risk,
        "tier": tier,
        "reasons": [{"feature": "f", "text_zh": "原因"}],
    }


def test_latest_snapshots_carry_the_previous_risk(store: Store) -> None:
    store.add_snapshots(
        [
            _snap("D1", "2024-01-01", 0.1, "blue"),
            _snap("D1", "2024-02-01", 0.4, "red"),
            _snap("D2", "2024-02-01", 0.2, "yellow"),
        ]
    )
    latest = {s["dispute_id"]: s for s in store.latest_snapshots()}
    assert latest["D1"]["risk"] == 0.4 and latest["D1"]["previous_risk"] == 0.1
    assert latest["D2"]["previous_risk"] is None
    assert latest["D1"]["reasons"] == [{"feature": "f", "text_zh": "原因"}]
    assert [s["risk"] for s in store.snapshots_for("D1")] == [0.1, 0.4]


def test_actions_are_stored_with_an_audit_entry_without_free_text(store: Store) -> None:
    assigned = store.add_action(
        {"dispute_id": "D1", "kind": "assign", "key_name": "sup", "assignee": "李"}, "r9"
    )
    store.add_action(
        {"dispute_id": "D1", "kind": "note", "key_name": "sup", "note": "王某说要去他家"}, "r10"
    )
    store.add_action(
        {"dispute_id": "D1", "kind": "raise_tier", "key_name": "sup", "tier": "red"}, "r11"
    )
    stored = store.actions_for("D1")
    assert [a["kind"] for a in stored] == ["assign", "note", "raise_tier"]
    assert stored[0]["assignee"] == "李" and stored[1]["note"] == "王某说要去他家"
    audit = store.audit_entries(dispute_id="D1")
    assert [a["action"] for a in audit] == ["action:raise_tier", "action:note", "action:assign"]
    assert json.loads(audit[-1]["detail"]) == {"action_id": assigned["id"]}
    assert audit[0]["tier"] == "red" and audit[-1]["key_name"] == "sup"
    logged = json.dumps([{k: str(v) for k, v in e.items()} for e in audit], ensure_ascii=False)
    assert "李" not in logged and "王某" not in logged
    with pytest.raises(ValueError, match="action kind must be one of"):
        store.add_action({"dispute_id": "D1", "kind": "lower_tier", "key_name": "sup"}, "r12")
    with pytest.raises(RequestError, match="note"):
        store.add_action({"dispute_id": "D1", "kind": "note", "key_name": "s", "note": "\x00"}, "r")
    with pytest.raises(RequestError, match="tier"):
        store.add_action(
            {"dispute_id": "D1", "kind": "raise_tier", "key_name": "s", "tier": "x"}, "r"
        )
    assert len(store.actions_for("D1")) == 3


def test_clear_history_keeps_keys_and_audit(store: Store, good: Path) -> None:
    store.append_history(load_dataset(good).tables())
    store.add_key("abc", "ops", "admin", "0" * 64)
    store.audit([{"key_name": "ops", "action": "reload", "request_id": "r"}])
    store.clear_history()
    assert sum(store.history_counts().values()) == 0
    assert [k["name"] for k in store.list_keys()] == ["ops"]
    assert len(store.audit_entries()) == 1


def test_a_wrong_url_says_what_was_expected() -> None:
    with pytest.raises(Exception, match="expected a store URL"):
        Store("nonsense://x")


def test_read_dataset_gives_contract_dtypes(store: Store, good: Path) -> None:
    store.append_history(load_dataset(good).tables())
    back = store.read_dataset()
    assert back.disputes["reported_at"].dtype == "datetime64[ns]"
    assert back.persons["birth_year"].dtype == "Int64"
    assert pd.isna(back.persons.set_index("person_id").loc["P2", "birth_year"])
