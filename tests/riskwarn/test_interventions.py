"""The optional interventions table: checked like every contract table, additive to version 1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import riskwarn
from riskwarn import CONTRACT_TABLES, Dataset, load_dataset, parse_records, validate_dataset

INTERVENTIONS = """intervention_id,dispute_id,at,kind,channel,warning_tier,note
IV1,D1,2024-01-07T10:00:00,visit,,orange,按橙色预警上门走访
IV2,D1,2024-01-09 15:00:00,mediation_session,people_mediation,orange,
IV3,D3,2024-03-02,referral,legal_aid,,
"""


def test_a_dataset_without_interventions_is_still_valid_and_unchanged(good: Path):
    report = validate_dataset(good)
    assert report.ok and "interventions" not in report.rows
    ds = load_dataset(good)
    assert ds.interventions.empty
    assert list(ds.interventions.columns) == list(CONTRACT_TABLES["interventions"].column_names)
    assert CONTRACT_TABLES["interventions"].extension and riskwarn.CONTRACT_VERSION == 1


def test_interventions_are_read_typed_and_known_from_their_time(good: Path):
    plain = load_dataset(good)
    (good / "interventions.csv").write_text(INTERVENTIONS, encoding="utf-8")
    report = validate_dataset(good)
    assert report.ok, report.format()
    ds = load_dataset(good)
    iv = ds.interventions
    assert list(iv["kind"]) == ["visit", "mediation_session", "referral"]
    assert iv["channel"].isna().tolist() == [True, False, False]
    assert iv["at"].dtype == "datetime64[ns]"
    assert iv["at"].iloc[2] == pd.Timestamp("2024-03-02")
    # point in time: a row counts from its ``at``
    assert list(ds.cut("2024-01-08").interventions["intervention_id"]) == ["IV1"]
    # the digest sees interventions once there are any, and not while there are none
    without = Dataset.from_frames(**{**ds.tables(), "interventions": iv.iloc[:0]})
    assert ds.digest() != without.digest() == plain.digest()


def test_bad_interventions_are_named_by_file_row_and_column(good: Path):
    bad = (
        INTERVENTIONS.replace("people_mediation", "people_mediaton").replace("IV3,D3", "IV3,D9")
        + "IV1,D2,2024-02-05,vist,,purple,\n"
    )
    (good / "interventions.csv").write_text(bad, encoding="utf-8")
    report = validate_dataset(good)
    text = report.format()
    assert not report.ok
    assert "interventions.csv, row 3, column 'channel'" in text
    assert "did you mean 'people_mediation'?" in text
    assert "interventions.csv, row 4, column 'dispute_id'" in text and "D9" in text
    assert "did you mean 'visit'?" in text
    assert "column 'warning_tier'" in text and "purple" in text
    assert "duplicate id" in text


def test_records_of_interventions_are_checked_against_a_store(good: Path):
    held = load_dataset(good)
    frames = parse_records(
        {
            "interventions": [
                {"intervention_id": "IV9", "dispute_id": "D2", "at": "2024-02-06T09:00:00",
                 "kind": "protective_measure", "channel": "police", "warning_tier": "red"},
            ]
        },
        against=held,
    )  # fmt: skip
    assert frames["interventions"]["warning_tier"].tolist() == ["red"]
    assert frames["interventions"]["note"].isna().all()
