"""People's data rights on the store (SQLite and PostgreSQL): corrections by supersession
(chains, refusals that write nothing, the history as known on a day), expiry (a dry run
that changes nothing, idempotent, audited), and lineage on a small hand-made graph."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from riskwarn import RetentionPolicy, TableRetention, expiry, load_dataset, load_retention
from riskwarn.errors import ContractError, RequestError, UnknownRecordError
from riskwarn.serving import Store, influenced_disputes, record_key

from .conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, good: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres"))
    made = Store(url).create()
    made.append_history(load_dataset(good).tables())
    yield made
    made.close()


def _persons(store: Store) -> pd.DataFrame:
    return store.read_dataset().persons.set_index("person_id")


def test_a_correction_of_a_correction_keeps_the_chain_and_every_day_known(store: Store) -> None:
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    first = store.correct(
        "persons", "P1", {"birth_year": "1981"}, reason="ID card checked", by="ops"
    )
    between = first["at"]
    second = store.correct("persons", "P1", {"birth_year": "1982"}, reason="typo in fix", by="ops")
    assert _persons(store).loc["P1", "birth_year"] == 1982
    chain = store.record_versions("persons", "P1")
    assert [v["id"] for v in chain] == [first["version"], second["version"]]
    assert chain[1]["supersedes"] == first["version"] and chain[0]["supersedes"] is None
    assert json.loads(chain[0]["old_row"])["birth_year"] == 1980
    assert json.loads(chain[1]["old_row"])["birth_year"] == 1981
    assert [v["key_name"] for v in chain] == ["ops", "ops"]
    assert [v["reason"] for v in chain] == ["ID card checked", "typo in fix"]
    # what we knew: before any correction, between the two, now
    assert (
        store.read_dataset_known_at(start).persons.set_index("person_id").loc["P1", "birth_year"]
        == 1980
    )
    assert (
        store.read_dataset_known_at(between).persons.set_index("person_id").loc["P1", "birth_year"]
        == 1981
    )
    assert store.read_dataset_known_at(second["at"]).digest() == store.read_dataset().digest()
    audited = [e for e in store.audit_entries() if e["action"] == "records:correct"]
    assert len(audited) == 2 and json.loads(audited[0]["detail"])["columns"] == ["birth_year"]
    assert "typo" not in audited[0]["detail"]  # the audit log holds no free text


def test_a_record_without_an_id_is_named_by_its_natural_key(store: Store) -> None:
    key = "P1|community_correction|2023-01-01"
    assert [record_key("person_flags", r) for r in store.find_records("person_flags", key)] == [key]
    done = store.correct("person_flags", key, {"end_date": "2024-03-31"}, reason="ended early")
    assert done["new_key"] == key
    flags = store.read_dataset().person_flags
    assert str(flags.loc[flags["person_id"] == "P1", "end_date"].iloc[0].date()) == "2024-03-31"
    moved = store.correct("person_flags", key, {"start_date": "2023-02-01"}, reason="date")
    assert moved["new_key"] == "P1|community_correction|2023-02-01"
    assert (
        store.record_versions("person_flags", moved["new_key"])[-1]["supersedes"]
        == (done["version"])
    )


@pytest.mark.parametrize(
    ("table", "key", "changes", "located"),
    [
        ("persons", "P1", {"gender": "mle"}, ("persons", "gender", "male")),
        ("persons", "P1", {"grid_id": "G9"}, ("persons", "grid_id", "missing grids")),
        ("dispute_parties", "D1|P1", {"person_id": "P404"}, ("dispute_parties", "person_id", "")),
        ("disputes", "D2", {"reported_at": "2024-13-01"}, ("disputes", "reported_at", "")),
    ],
)
def test_a_refused_correction_says_where_and_writes_nothing(
    store: Store, table: str, key: str, changes: dict, located: tuple
) -> None:
    before = (store.read_dataset().digest(), len(store.audit_entries()))
    with pytest.raises(ContractError) as refused:
        store.correct(table, key, changes, reason="test")
    issue = refused.value.issues[0]
    assert (issue.table, issue.column) == located[:2]
    assert located[2] in str(refused.value)
    assert (store.read_dataset().digest(), len(store.audit_entries())) == before
    assert store.record_versions() == []


def test_corrections_refuse_unknown_records_ids_columns_and_no_reason(store: Store) -> None:
    with pytest.raises(UnknownRecordError, match="P404"):
        store.correct("persons", "P404", {"gender": "male"}, reason="x")
    with pytest.raises(RequestError, match="is the record's id"):
        store.correct("persons", "P1", {"person_id": "P9"}, reason="x")
    with pytest.raises(RequestError, match="Did you mean 'birth_year'"):
        store.correct("persons", "P1", {"birth_yaer": "1970"}, reason="x")
    with pytest.raises(RequestError, match="reason"):
        store.correct("persons", "P1", {"gender": "female"}, reason="  ")
    with pytest.raises(ContractError, match="Did you mean 'persons'"):
        store.correct("person", "P1", {"gender": "female"}, reason="x")
    assert store.record_versions() == []


def test_expiry_dry_run_changes_nothing_and_apply_is_idempotent_and_audited(store: Store) -> None:
    at = pd.Timestamp("2030-01-01")
    policy = load_retention()
    expired = expiry(store.read_dataset(), policy).rows(at)
    # P1's correction ended 2024-06-30 (+3 years), P1-P2's marriage ended 2024-03-01 and both
    # petitions were filed in 2024 (+5 years); D1 was reopened; the injury is kept 15 years
    assert {k: len(v) for k, v in expired.items()} == {
        "person_flags": 1,
        "relationships": 1,
        "petitions": 2,
    }
    before = (store.read_dataset().digest(), len(store.audit_entries()))
    assert store.expire(expired, policy="default", apply=False) == {
        "person_flags": 1,
        "relationships": 1,
        "petitions": 2,
    }
    assert (store.read_dataset().digest(), len(store.audit_entries())) == before
    assert store.record_versions() == []

    store.expire(expired, policy="default", apply=True, by="ops")
    after = store.read_dataset()
    assert sorted(after.petitions["petition_id"]) == []
    assert list(after.person_flags["person_id"]) == ["P2"]
    assert list(after.relationships["kind"]) == ["former_spouse", "creditor_debtor"]
    tombstones = store.record_versions()
    assert {(v["kind"], v["table_name"]) for v in tombstones} == {
        ("expiry", "person_flags"),
        ("expiry", "relationships"),
        ("expiry", "petitions"),
    }
    assert all(v["old_row"] is None and v["new_row"] is None for v in tombstones)
    [entry] = [e for e in store.audit_entries() if e["action"] == "records:expire"]
    assert json.loads(entry["detail"])["expired"] == {
        "person_flags": 1,
        "relationships": 1,
        "petitions": 2,
    }
    again = expiry(store.read_dataset(), policy).rows(at)
    assert again == {}
    assert store.expire(again, policy="default", apply=True) == {}
    assert len([e for e in store.audit_entries() if e["action"] == "records:expire"]) == 1


def test_an_expired_dispute_takes_its_rows_and_unlinks_its_petitions(store: Store) -> None:
    policy = RetentionPolicy(disputes=TableRetention(years=1), petitions=TableRetention())
    store.correct(
        "dispute_events", "D1|2024-02-10T12:00:00|reopened", {"kind": "visit"}, reason="was a visit"
    )
    expired = expiry(store.read_dataset(), policy).rows("2025-06-01")
    assert list(expired["disputes"]["dispute_id"]) == ["D1"]
    store.expire(expired, policy="test", apply=True)
    after = store.read_dataset()
    assert "D1" not in set(after.disputes["dispute_id"])
    assert "D1" not in set(after.dispute_parties["dispute_id"])
    assert "D1" not in set(after.dispute_events["dispute_id"])
    assert after.incidents["dispute_id"].isna().all()  # I1 named D1; it stays, unlinked


def test_lineage_reaches_two_links_and_no_further(good: Path) -> None:
    """P3 -> P1 (creditor) -> P2 (spouse) -> P4 (a tie added here) -> P5: a petition of P3
    reaches D2 and D3 (P3's own), D1 (P1, P2) and not D4 (P4, P5, three links away)."""
    ds = load_dataset(good)
    frames = ds.tables()
    frames["persons"] = pd.concat(
        [
            frames["persons"],
            pd.DataFrame(
                {"person_id": ["P4", "P5"], "gender": ["male"] * 2, "grid_id": ["G1"] * 2}
            ),
        ],
        ignore_index=True,
    )
    frames["relationships"] = pd.concat(
        [
            frames["relationships"],
            pd.DataFrame({"person_a": ["P2"], "person_b": ["P4"], "kind": ["neighbor"]}),
        ],
        ignore_index=True,
    )
    frames["disputes"] = pd.concat(
        [frames["disputes"], frames["disputes"].iloc[[0]].assign(dispute_id="D4")],
        ignore_index=True,
    )
    frames["dispute_parties"] = pd.concat(
        [
            frames["dispute_parties"],
            pd.DataFrame(
                {
                    "dispute_id": ["D4", "D4"],
                    "person_id": ["P4", "P5"],
                    "role": ["claimant", "respondent"],
                }
            ),
        ],
        ignore_index=True,
    )
    from riskwarn import Dataset

    graph = Dataset.from_frames(**frames)
    petition = graph.petitions.iloc[1].to_dict()  # PT2, P3's, about no dispute
    own, near = influenced_disputes([("petitions", petition)], graph)
    assert (own, near) == ({"D2", "D3"}, {"D1"})
    flag = graph.person_flags.iloc[0].to_dict()  # P2's
    own, near = influenced_disputes([("person_flags", flag)], graph)
    assert (own, near) == ({"D1"}, {"D2", "D3", "D4"})
    assert influenced_disputes([("persons", {"person_id": "P5"})], graph) == ({"D4"}, {"D1"})
