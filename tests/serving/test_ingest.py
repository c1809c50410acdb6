"""Checking new records: contract rules, references into the store, ids already held."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskwarn import load_dataset
from riskwarn.errors import ContractError, RequestError
from riskwarn.serving import check_records, extend

NEW_DISPUTE = {
    "dispute_id": "D9",
    "reported_at": "2024-05-01T08:00:00",
    "grid_id": "G1",
    "category": "neighbor",
    "source": "hotline",
    "threat_reported": True,
    "violence_reported": False,
    "weapon_mentioned": False,
}


def test_a_good_batch_comes_back_typed_and_extends_the_history(good: Path) -> None:
    current = load_dataset(good)
    frames = check_records(
        {
            "persons": [{"person_id": "P9", "gender": "female", "grid_id": "G1"}],
            "disputes": [NEW_DISPUTE],
            "dispute_parties": [
                {"dispute_id": "D9", "person_id": "P9", "role": "claimant"},
                {"dispute_id": "D9", "person_id": "P1", "role": "respondent"},
            ],
        },
        current,
    )
    assert frames["disputes"]["reported_at"].dtype == "datetime64[ns]"
    grown = extend(current, frames)
    assert len(grown.disputes) == len(current.disputes) + 1
    assert len(grown.dispute_parties) == len(current.dispute_parties) + 2
    assert grown.persons["person_id"].iloc[-1] == "P9"


def test_a_bad_record_names_table_record_and_field(good: Path) -> None:
    current = load_dataset(good)
    bad = {**NEW_DISPUTE, "category": "noise"}
    with pytest.raises(ContractError) as info:
        check_records({"disputes": [NEW_DISPUTE | {"dispute_id": "D8"}, bad]}, current)
    [issue] = [i for i in info.value.issues if i.severity == "error"]
    assert (issue.table, issue.row, issue.column, issue.value) == (
        "disputes",
        2,
        "category",
        "noise",
    )


def test_references_must_exist_in_the_batch_or_the_store(good: Path) -> None:
    with pytest.raises(ContractError) as info:
        check_records(
            {"dispute_parties": [{"dispute_id": "D1", "person_id": "P404", "role": "other"}]},
            load_dataset(good),
        )
    assert [(i.table, i.row, i.column) for i in info.value.issues] == [
        ("dispute_parties", 1, "person_id")
    ]


def test_ids_the_store_holds_are_refused(good: Path) -> None:
    with pytest.raises(ContractError, match="already holds") as info:
        check_records({"disputes": [NEW_DISPUTE | {"dispute_id": "D2"}]}, load_dataset(good))
    [issue] = info.value.issues
    assert (issue.table, issue.row, issue.column, issue.value) == (
        "disputes",
        1,
        "dispute_id",
        "D2",
    )


def test_an_empty_batch_is_a_request_error(good: Path) -> None:
    with pytest.raises(RequestError, match="at least one record"):
        check_records({"persons": []}, load_dataset(good))


def test_fields_of_the_wrong_json_kind_or_unknown_are_named(good: Path) -> None:
    with pytest.raises(ContractError) as info:
        check_records(
            {
                "persons": [
                    {"person_id": "P9", "gender": "female", "grid_id": "G1", "birth_yeer": 1990},
                    {"person_id": True, "gender": "male", "grid_id": "G1", "birth_year": "1990"},
                ]
            },
            load_dataset(good),
        )
    found = [(i.row, i.column, i.expected) for i in info.value.issues]
    assert (
        found[0][:2] == (1, "birth_yeer")
        and "did you mean 'birth_year'" in info.value.issues[0].message
    )
    assert (2, "person_id", "a string id") in found
    assert (2, "birth_year", "a whole number") in found


def test_a_whole_number_stays_whole_when_another_record_leaves_it_empty(good: Path) -> None:
    frames = check_records(
        {
            "persons": [
                {"person_id": "P8", "gender": "male", "grid_id": "G1", "birth_year": 1975},
                {"person_id": "P9", "gender": "female", "grid_id": "G1"},
            ]
        },
        load_dataset(good),
    )
    assert frames["persons"]["birth_year"].tolist()[0] == 1975


def test_values_pandas_cannot_hold_are_named_not_crashed_on(good: Path) -> None:
    with pytest.raises(ContractError) as info:
        check_records(
            {
                "persons": [
                    {"person_id": "P8", "gender": "male", "grid_id": "G1", "birth_year": 10**30}
                ],
                "disputes": [NEW_DISPUTE | {"reported_at": "9999-01-01T00:00:00"}],
            },
            load_dataset(good),
        )
    found = {(i.table, i.column, i.message) for i in info.value.issues}
    assert found == {("persons", "birth_year", "too large")}  # JSON's own limits first
    with pytest.raises(ContractError) as info:
        check_records(
            {"disputes": [NEW_DISPUTE | {"reported_at": "9999-01-01T00:00:00"}]},
            load_dataset(good),
        )
    found = {(i.table, i.column, i.message) for i in info.value.issues}
    assert found == {("disputes", "reported_at", "out of range")}
