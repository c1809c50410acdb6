"""The store, on SQLite and on PostgreSQL: history round trip, all-or-nothing writes,
append-only audit, snapshots, actions, and values PostgreSQL would refuse refused on both
as riskwarn errors naming what was wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from riskwarn import load_dataset
from riskwarn.errors import ContractError, RequestError
from riskwarn.serving import Store

from .conftest import fresh_database


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
    with pytest.raises(RequestError, match="reason"):  # a raise says why
        store.add_action(
            {"dispute_id": "D1", "kind": "raise_tier", "key_name": "sup", "tier": "red"}, "r"
        )
    store.add_action(
        {
            "dispute_id": "D1",
            "kind": "raise_tier",
            "key_name": "sup",
            "tier": "red",
            "reason": "扬言报复",
        },
        "r11",
    )
    stored = store.actions_for("D1")
    assert [a["kind"] for a in stored] == ["assign", "note", "raise_tier"]
    assert stored[0]["assignee"] == "李" and stored[1]["note"] == "王某说要去他家"
    audit = store.audit_entries(dispute_id="D1")
    assert [a["action"] for a in audit] == ["action:raise_tier", "action:note", "action:assign"]
    assert json.loads(audit[-1]["detail"]) == {"action_id": assigned["id"]}
    assert audit[0]["tier"] == "red" and audit[-1]["key_name"] == "sup"
    logged = json.dumps([{k: str(v) for k, v in e.items()} for e in audit], ensure_ascii=False)
    assert "李" not in logged and "王某" not in logged and "扬言" not in logged
    assert stored[2]["reason"] == "扬言报复"
    with pytest.raises(ValueError, match="action kind must be one of"):
        store.add_action({"dispute_id": "D1", "kind": "lower_tier", "key_name": "sup"}, "r12")
    with pytest.raises(RequestError, match="note"):
        store.add_action({"dispute_id": "D1", "kind": "note", "key_name": "s", "note": "\x00"}, "r")
    with pytest.raises(RequestError, match="tier"):
        store.add_action(
            {"dispute_id": "D1", "kind": "raise_tier", "key_name": "s", "tier": "x", "reason": "r"},
            "r",
        )
    assert len(store.actions_for("D1")) == 3


def test_replace_history_keeps_keys_and_audit(store: Store, good: Path) -> None:
    dataset = load_dataset(good)
    store.append_history(dataset.tables())
    store.add_key("abc", "ops", "admin", "0" * 64)
    store.audit([{"key_name": "ops", "action": "reload", "request_id": "r"}])
    counts = store.replace_history({"grids": dataset.grids}, by="cli", request_id="load-2")
    assert store.history_counts()["grids"] == counts["grids"]
    assert store.history_counts()["disputes"] == 0
    assert [k["name"] for k in store.list_keys()] == ["ops"]
    assert [e["action"] for e in store.audit_entries()] == [
        "history:load",
        "reload",
        "keys:create",
        "ingest",
    ]


def test_a_wrong_url_says_what_was_expected() -> None:
    with pytest.raises(Exception, match="expected a store URL"):
        Store("nonsense://x")


def test_read_dataset_gives_contract_dtypes(store: Store, good: Path) -> None:
    store.append_history(load_dataset(good).tables())
    back = store.read_dataset()
    assert back.disputes["reported_at"].dtype == "datetime64[ns]"
    assert back.persons["birth_year"].dtype == "Int64"
    assert pd.isna(back.persons.set_index("person_id").loc["P2", "birth_year"])


# every write with its audit row -----------------------------------------------------------


def test_every_write_commits_with_its_audit_row(store: Store, good: Path) -> None:
    """Ingest, keys, snapshots, actions and sign-outs each write their audit row in the same
    transaction, under the request's id."""
    dataset = load_dataset(good)
    store.append_history(dataset.tables(), by="ops", request_id="w1")
    store.add_key("k1", "platform", "scorer", "0" * 64, by="ops", request_id="w2")
    store.revoke_key("platform", by="ops", request_id="w3")
    store.add_snapshots([_snap("D1", "2024-02-01", 0.4, "red")], by="ops", request_id="w4")
    store.add_action(
        {"dispute_id": "D1", "kind": "acknowledge", "key_name": "sup"}, request_id="w5"
    )
    store.end_session("s1", by="sup", request_id="w6", keep=dt.timedelta(hours=1))
    done = {e["request_id"]: e for e in store.audit_entries()}
    assert {k: done[k]["action"] for k in ("w1", "w2", "w3", "w4", "w5", "w6")} == {
        "w1": "ingest",
        "w2": "keys:create",
        "w3": "keys:revoke",
        "w4": "snapshot",
        "w5": "action:acknowledge",
        "w6": "ui:signout",
    }
    assert json.loads(done["w1"]["detail"])["disputes"] == len(dataset.disputes)
    assert store.session_ended("s1") and not store.session_ended("s2")


def test_a_write_whose_audit_row_fails_leaves_nothing(
    store: Store, good: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit insert is part of the write's transaction: when it fails, the rows go too."""
    import riskwarn.serving._store as store_module

    real = store_module.audit_row

    def refused(entry: dict, at: dt.datetime) -> dict:
        raise RuntimeError("the disk filled up while writing the audit row")

    monkeypatch.setattr(store_module, "audit_row", refused)
    with pytest.raises(RuntimeError, match="disk"):
        store.append_history(load_dataset(good).tables(), by="ops", request_id="x")
    with pytest.raises(RuntimeError, match="disk"):
        store.add_key("k1", "platform", "scorer", "0" * 64)
    monkeypatch.setattr(store_module, "audit_row", real)
    assert sum(store.history_counts().values()) == 0 and store.list_keys() == []
    assert store.audit_entries() == []


# raises, as the answers' override ------------------------------------------------------------


def test_raises_give_the_highest_tier_with_who_when_and_why(store: Store) -> None:
    def raise_to(tier: str, by: str) -> None:
        row = {
            "dispute_id": "D1",
            "kind": "raise_tier",
            "key_name": by,
            "tier": tier,
            "reason": f"to {tier}",
        }
        store.add_action(row, request_id="r")

    raise_to("orange", "a")
    raise_to("red", "b")
    found = store.raises(["D1", "D2"], dt.datetime(2100, 1, 1))
    assert set(found) == {"D1"}
    assert (found["D1"]["tier"], found["D1"]["by"], found["D1"]["reason"]) == ("red", "b", "to red")
    assert store.raises(["D1"], dt.datetime(2000, 1, 1)) == {}  # none recorded by then


# the schema, versioned -----------------------------------------------------------------------


def test_a_new_store_is_at_the_newest_revision_and_matches_the_tables(store: Store) -> None:
    """What the migrations make is what the code's tables say (nothing for Alembic to add)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from riskwarn.serving._migrate import head
    from riskwarn.serving._schema import metadata

    assert store.revision() == head()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": "riskwarn_schema_version"}
        )
        diff = [
            d
            for d in compare_metadata(context, metadata)
            if not (d[0] == "remove_table" and d[1].name == "riskwarn_schema_version")
        ]
    assert diff == []


@pytest.mark.parametrize("signouts", [True, False])
def test_a_store_made_before_versioning_is_upgraded_in_place(
    request: pytest.FixtureRequest, tmp_path: Path, good: Path, signouts: bool
) -> None:
    """A store of today's schema (no version table; the sign-out table only once a
    supervisor signed out), with data in it, on SQLite and PostgreSQL."""
    from ._legacy import make_legacy_store

    for dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            url = f"sqlite:///{tmp_path / f'old-{signouts}.db'}"
        else:
            url = fresh_database(request.getfixturevalue("postgres"))
        engine = make_legacy_store(url, signouts=signouts)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO api_keys (key_id, name, role, key_hash, created_at) VALUES "
                "('k1', 'ops', 'admin', 'h', '2024-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO audit_log (at, key_name, action, request_id) VALUES "
                "('2024-01-01 00:00:00', 'ops', 'score', 'old-1')"
            )
        engine.dispose()
        upgraded = Store.open(url)
        from riskwarn.serving._migrate import head

        assert upgraded.revision() == head(), dialect
        assert [k["name"] for k in upgraded.list_keys()] == ["ops"]
        upgraded.append_history(load_dataset(good).tables())
        row = {
            "dispute_id": "D1",
            "kind": "raise_tier",
            "key_name": "s",
            "tier": "red",
            "reason": "why",
        }
        upgraded.add_action(row, request_id="r")
        upgraded.end_session("s1", by="s", request_id="r", keep=dt.timedelta(hours=1))
        assert [e["request_id"] for e in upgraded.audit_entries()][-1] == "old-1"
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), upgraded.engine.begin() as c:
            c.exec_driver_sql("DELETE FROM audit_log")
        Store.open(url).close()  # once at the newest revision, opening changes nothing
        upgraded.close()


def test_an_unversioned_store_without_its_triggers_gets_them(tmp_path: Path) -> None:
    from ._legacy import make_legacy_store

    url = f"sqlite:///{tmp_path / 'old.db'}"
    make_legacy_store(url, triggers=False).dispose()
    store = Store.open(url)
    store.audit([{"key_name": "k1", "action": "score", "request_id": "r1"}])
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM audit_log")


def test_open_refuses_no_store_and_a_store_that_is_not_riskwarns(tmp_path: Path) -> None:
    from riskwarn.errors import ConfigError

    missing = tmp_path / "gone.db"
    with pytest.raises(ConfigError, match=r"no store at .*history load"):
        Store.open(f"sqlite:///{missing}")
    assert not missing.exists()  # opening never makes one
    (tmp_path / "empty.db").touch()
    with pytest.raises(ConfigError, match="no store at"):
        Store.open(f"sqlite:///{tmp_path / 'empty.db'}")
    foreign = tmp_path / "mlflow.db"
    engine = sa.create_engine(f"sqlite:///{foreign}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE experiments (id INTEGER)")
    for make in (Store.open, lambda url: Store(url).create()):
        with pytest.raises(ConfigError, match=r"is not a riskwarn store .*experiments"):
            make(f"sqlite:///{foreign}")


def test_a_store_file_deleted_or_replaced_while_open_is_unavailable(tmp_path: Path) -> None:
    from riskwarn.errors import StoreUnavailableError

    path = tmp_path / "service.db"
    store = Store(f"sqlite:///{path}").create()
    store.check()
    path.rename(tmp_path / "moved.db")
    for call in (
        store.check,
        store.list_keys,
        lambda: store.audit([{"key_name": "k", "action": "score", "request_id": "r"}]),
    ):
        with pytest.raises(StoreUnavailableError, match="deleted or replaced") as info:
            call()
        assert info.value.http_status_code() == 503
    Store(f"sqlite:///{path}").create()  # a new, empty store where the old one was
    with pytest.raises(StoreUnavailableError):
        store.list_keys()


def test_a_locked_store_answers_unavailable_within_its_wait(tmp_path: Path) -> None:
    """Another process holds the write lock: writes give up after ``wait`` seconds with a
    503 error, reads still answer (WAL), and readiness says no within a second or so."""
    import sqlite3
    import time

    from riskwarn.errors import StoreUnavailableError

    path = tmp_path / "service.db"
    store = Store(f"sqlite:///{path}", wait=0.5).create()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=r"did not answer within 0\.5 s") as info:
            store.audit([{"key_name": "k", "action": "score", "request_id": "r"}])
        assert 0.4 < time.monotonic() - started < 3 and info.value.retry_after >= 1
        assert store.list_keys() == []
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            store.check()
        assert time.monotonic() - started < 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.audit([{"key_name": "k", "action": "score", "request_id": "r"}])
    store.check()


def test_a_request_waits_for_a_locked_store_from_its_arrival(tmp_path: Path) -> None:
    """Within ``waits_from``, the wait is counted from when the request arrived: one that
    queued behind others gets what is left of it, none when it is spent; a free store still
    takes its write however late the request."""
    import sqlite3
    import time

    from riskwarn.errors import StoreUnavailableError
    from riskwarn.serving._store import waits_from

    path = tmp_path / "service.db"
    store = Store(f"sqlite:///{path}", wait=2.0).create()
    entry = {"key_name": "k", "action": "score", "request_id": "r"}
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for queued, most in [(1.5, 1.3), (5.0, 0.5)]:
            started = time.monotonic()
            with waits_from(started - queued), pytest.raises(StoreUnavailableError):
                store.audit([entry])
            assert time.monotonic() - started < most, queued
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with waits_from(time.monotonic() - 60):
        store.audit([entry])
    assert len(store.audit_entries()) == 1


def test_sqlite_connections_keep_a_small_page_cache(tmp_path: Path) -> None:
    """A burst opens many pooled connections; each keeps its own page cache, so a worker's
    memory stays flat only if every one of them is small (SQLite's default is 2 MiB)."""
    store = Store(f"sqlite:///{tmp_path / 'service.db'}").create()
    with store.engine.connect() as conn:
        kib = -conn.exec_driver_sql("PRAGMA cache_size").scalar()
    assert 0 < kib <= 512
