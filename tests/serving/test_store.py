"""The store: history round trip, all-or-nothing writes, append-only audit, snapshots, actions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from riskwarn import load_dataset
from riskwarn.serving import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'service.db'}").create()


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
    clash = dataset.disputes.iloc[:1]  # dispute_id D1 is held already: the insert fails
    with pytest.raises(sa.exc.IntegrityError):
        store.append_history({"persons": new_person, "disputes": clash})
    assert store.history_counts() == before


def test_the_audit_log_is_append_only(store: Store) -> None:
    store.audit([{"key_name": "k1", "action": "score", "request_id": "r1", "risk": 0.2}])
    for statement in ("UPDATE audit_log SET key_name = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
            c.exec_driver_sql(statement)
    [entry] = store.audit_entries()
    assert entry["key_name"] == "k1" and entry["risk"] == 0.2


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


def test_actions_are_stored_with_an_audit_entry(store: Store) -> None:
    store.add_action(
        {"dispute_id": "D1", "kind": "assign", "key_name": "sup", "assignee": "李"}, "r9"
    )
    store.add_action(
        {"dispute_id": "D1", "kind": "raise_tier", "key_name": "sup", "tier": "red"}, "r10"
    )
    kinds = [a["kind"] for a in store.actions_for("D1")]
    assert kinds == ["assign", "raise_tier"]
    audit = store.audit_entries(dispute_id="D1")
    assert [a["action"] for a in audit] == ["action:raise_tier", "action:assign"]
    with pytest.raises(ValueError, match="action kind must be one of"):
        store.add_action({"dispute_id": "D1", "kind": "lower_tier", "key_name": "sup"}, "r11")


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
