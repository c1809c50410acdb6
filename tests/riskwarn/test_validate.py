"""The contract reader and validator: each kind of break is caught and located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from riskwarn import (
    ContractWarning,
    Dataset,
    load_dataset,
    parse_records,
    validate_dataset,
    write_dataset,
)
from riskwarn.errors import ContractError, DatasetNotFoundError


def _edit(root: Path, table: str, old: str, new: str) -> None:
    path = root / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {table}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _only_error(root: Path):
    report = validate_dataset(root)
    assert not report.ok
    assert len(report.errors) == 1, report.format()
    return report.errors[0]


def test_a_good_dataset_is_valid_and_typed(good: Path) -> None:
    report = validate_dataset(good)
    assert report.ok, report.format()
    assert report.rows["disputes"] == 3
    ds = load_dataset(good)
    assert isinstance(ds, Dataset)
    assert ds.disputes["reported_at"].dtype == "datetime64[ns]"
    assert ds.disputes["threat_reported"].tolist() == [True, True, False]
    assert ds.persons["birth_year"].isna().tolist() == [False, True, False]
    assert ds.disputes.loc[0, "summary"] == '邻里"漏水", 多次\n协调未果'
    assert ds.dispute_events["at"].iloc[1] == pd.Timestamp("2024-01-20")
    assert ds.relationships["since"].isna().sum() == 1


@pytest.mark.parametrize(
    ("table", "old", "new", "row", "column", "value", "hint"),
    [
        ("persons", "P2,,female", "P2,,femal", 3, "gender", "femal", "did you mean 'female'"),
        ("persons", "P2,,female", "P2,19x0,female", 3, "birth_year", "19x0", "whole number"),
        ("persons", "G2,\n", "G2,\nP1,1970,male,G1,\n", 5, "person_id", "P1", "duplicate"),
        ("persons", "P3,1999,unknown,G2", "P3,1999,unknown,G9", 4, "grid_id", "G9", "grids"),
        ("disputes", "D2,2024-02-03", "D2,2024-02-30", 4, "reported_at", "2024-02-30", "datetime"),
        ("disputes", "D2,2024-02-03", "D2,03/02/2024", 4, "reported_at", "03/02/2024", "datetime"),
        ("disputes", ",walk_in,1,", ",walk_in,yes,", 4, "threat_reported", "yes", "true/false"),
        ("disputes", "labor_wage", "labour_wage", 5, "category", "labour_wage", "labor_wage"),
        ("disputes", ",labor_wage,", ",,", 5, "category", None, "must not be empty"),
        ("disputes", ",52000,", ",52k,", 5, "amount_involved", "52k", "number"),
        (
            "dispute_parties",
            "D3,P3,respondent",
            "D3,P7,respondent",
            6,
            "person_id",
            "P7",
            "persons",
        ),
        ("dispute_parties", "D2,P3", "D4,P3", 4, "dispute_id", "D4", "disputes"),
        (
            "dispute_events",
            "mediation_failure",
            "mediation_fail",
            3,
            "kind",
            None,
            "mediation_failure",
        ),
        ("petitions", ",city,", ",City Hall,", 3, "level", "City Hall", "one of"),
        ("petitions", "PT2,P3", "PT1,P3", 3, "petition_id", "PT1", "duplicate"),
        ("person_flags", "2023-05-01", "2023-5-1", 2, "start_date", "2023-5-1", "YYYY-MM-DD"),
        ("relationships", "creditor_debtor", "creditor", 4, "kind", "creditor", "creditor_debtor"),
        ("incidents", "serious_injury", "murder", 2, "kind", "murder", "homicide"),
        ("incident_persons", "I1,P2", "I2,P2", 3, "incident_id", "I2", "incidents"),
    ],
)
def test_each_break_is_located(good, table, old, new, row, column, value, hint) -> None:
    _edit(good, table, old, new)
    issue = _only_error(good)
    assert issue.file == f"{table}.csv"
    assert issue.row == row
    assert issue.column == column
    if value is not None:
        assert issue.value == value
    assert hint in str(issue)


def test_line_numbers_count_multiline_quoted_values(good: Path) -> None:
    # D1's summary spans two lines, so D2 sits on line 4 of the file and D3 on line 5
    _edit(good, "disputes", "D3,2024-03-01 08:30:00", "D3,2024-13-01 08:30:00")
    issue = _only_error(good)
    assert (issue.row, issue.column) == (5, "reported_at")


def test_all_errors_are_collected_not_only_the_first(good: Path) -> None:
    _edit(good, "persons", "P2,,female", "P2,,femal")
    _edit(good, "disputes", "labor_wage", "labour")
    _edit(good, "dispute_parties", "D2,P3", "D2,P8")
    report = validate_dataset(good)
    assert {(i.table, i.column) for i in report.errors} == {
        ("persons", "gender"),
        ("disputes", "category"),
        ("dispute_parties", "person_id"),
    }


def test_many_bad_rows_are_counted_not_all_listed(good: Path, sample_tables) -> None:
    rows = "".join(f"Q{i},1980,mle,G1,\n" for i in range(1000))
    (good / "persons.csv").write_text(sample_tables["persons"] + rows, encoding="utf-8")
    report = validate_dataset(good)
    assert len(report.errors) <= 5
    assert report.error_count() == 1000
    assert "995 more rows like it" in report.format()


def test_missing_table_and_column_are_named_with_suggestions(good: Path) -> None:
    (good / "dispute_parties.csv").rename(good / "dispute_party.csv")
    _edit(good, "persons", "household_id", "houshold_id")
    report = validate_dataset(good)
    text = report.format()
    assert "required table 'dispute_parties' is missing; did you mean 'dispute_party'?" in text
    assert "did you mean 'houshold_id'?" in text
    assert not report.ok


def test_extra_columns_warn_but_do_not_fail(good: Path, sample_tables) -> None:
    lines = sample_tables["persons"].splitlines()
    extra = [lines[0] + ",nickname"] + [line + ",x" for line in lines[1:]]
    (good / "persons.csv").write_text("\n".join(extra) + "\n", encoding="utf-8")
    report = validate_dataset(good)
    assert report.ok
    assert [w.column for w in report.warnings] == ["nickname"]
    with pytest.warns(ContractWarning, match="nickname"):
        load_dataset(good)


def test_grid_references_are_checked_only_when_grids_are_given(good: Path) -> None:
    _edit(good, "persons", "G2,\n", "G7,\n")
    assert not validate_dataset(good).ok
    (good / "grids.csv").unlink()
    assert validate_dataset(good).ok


def test_incident_persons_need_incidents(good: Path) -> None:
    (good / "incidents.csv").unlink()
    messages = [i.message for i in validate_dataset(good).errors]
    assert any("without the incidents table" in m for m in messages)


def test_load_refuses_an_invalid_dataset_with_a_located_message(good: Path) -> None:
    _edit(good, "disputes", "labor_wage", "labour_wage")
    with pytest.raises(ContractError, match=r"disputes.csv, row 5, column 'category'"):
        load_dataset(good)


def test_missing_directory_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"persons\.csv"):
        load_dataset(tmp_path / "nowhere")


def test_csv_and_parquet_load_to_the_same_tables(good: Path, tmp_path: Path) -> None:
    from_csv = load_dataset(good)
    as_parquet = write_dataset(from_csv, tmp_path / "pq", "parquet")
    mixed = tmp_path / "mixed"
    shutil.copytree(good, mixed)
    for name in ("disputes", "petitions"):
        (mixed / f"{name}.csv").unlink()
        shutil.copy(as_parquet / f"{name}.parquet", mixed / f"{name}.parquet")
    for other in (load_dataset(as_parquet), load_dataset(mixed)):
        for name, frame in from_csv.tables().items():
            pd.testing.assert_frame_equal(frame, other.table(name))
        assert other.digest() == from_csv.digest()


def test_parquet_breaks_are_located_too(good: Path, tmp_path: Path) -> None:
    ds = load_dataset(good)
    bad = ds.persons.astype({"gender": "object"})
    bad.loc[1, "gender"] = "F"
    root = write_dataset(ds, tmp_path / "pq", "parquet")
    bad.to_parquet(root / "persons.parquet", index=False)
    issue = _only_error(root)
    assert (issue.file, issue.row, issue.column, issue.value) == (
        "persons.parquet",
        2,
        "gender",
        "F",
    )


def test_one_file_per_table(good: Path) -> None:
    ds = load_dataset(good)
    ds.persons.to_parquet(good / "persons.parquet", index=False)
    assert "keep one" in validate_dataset(good).format()


def test_parse_records_types_new_rows_against_a_store(good: Path) -> None:
    ds = load_dataset(good)
    frames = parse_records(
        {
            "disputes": [
                {
                    "dispute_id": "D9",
                    "reported_at": "2024-05-01T09:00:00",
                    "grid_id": "G1",
                    "category": "debt",
                    "source": "hotline",
                    "threat_reported": True,
                    "violence_reported": False,
                    "weapon_mentioned": False,
                }
            ],
            "dispute_parties": [{"dispute_id": "D9", "person_id": "P1", "role": "claimant"}],
        },
        against=ds,
    )
    assert frames["disputes"]["reported_at"].iloc[0] == pd.Timestamp("2024-05-01 09:00")
    assert pd.isna(frames["disputes"]["amount_involved"].iloc[0])
    with pytest.raises(ContractError) as info:
        parse_records(
            {"dispute_parties": [{"dispute_id": "D1", "person_id": "P404", "role": "x"}]},
            against=ds,
        )
    located = {(i.table, i.row, i.column) for i in info.value.issues}
    assert located == {("dispute_parties", 1, "role"), ("dispute_parties", 1, "person_id")}


def test_dataset_cut_keeps_only_what_was_known(good: Path) -> None:
    ds = load_dataset(good)
    cut = ds.cut("2024-02-15")
    assert cut.disputes["dispute_id"].tolist() == ["D1", "D2"]
    assert set(cut.dispute_parties["dispute_id"]) == {"D1", "D2"}
    assert len(cut.incidents) == len(cut.incident_persons) == 0
    assert cut.petitions.empty
    spouse = cut.relationships[cut.relationships["kind"] == "spouse"]
    assert spouse["until"].isna().all()  # the divorce was not known yet
    assert "former_spouse" not in set(cut.relationships["kind"])
    assert cut.person_flags["end_date"].isna().all()
    later = ds.cut("2024-07-01")
    assert later.person_flags["end_date"].notna().sum() == 1


def test_parse_records_keeps_ints_beside_empty_fields_and_mixed_bools(good: Path) -> None:
    ds = load_dataset(good)
    frames = parse_records(
        {
            "persons": [
                {"person_id": "P10", "birth_year": 1975, "gender": "male", "grid_id": "G1"},
                {"person_id": "P11", "gender": "female", "grid_id": "G1"},
            ],
            "petitions": [
                {"petition_id": "PT9", "person_id": "P10", "filed_at": "2024-05-01",
                 "channel": "online", "level": "county", "repeat": True, "collective": "false"},
            ],
        },
        against=ds,
    )  # fmt: skip
    assert frames["persons"]["birth_year"].tolist()[0] == 1975
    assert frames["persons"]["birth_year"].isna().tolist() == [False, True]
    assert frames["petitions"][["repeat", "collective"]].iloc[0].tolist() == [True, False]


@pytest.mark.parametrize(
    ("table", "record", "column", "hint"),
    [
        ("incidents", {"incident_id": "I9", "occurred_at": "2500-01-01", "kind": "arson"},
         "occurred_at", "years 1900-2199"),
        ("persons", {"person_id": "P12", "birth_year": 10**20, "gender": "male", "grid_id": "G1"},
         "birth_year", "whole number"),
        ("persons", {"person_id": "P12", "birth_year": True, "gender": "male", "grid_id": "G1"},
         "birth_year", "whole number"),
    ],
)  # fmt: skip
def test_parse_records_refuses_out_of_range_values_cleanly(good, table, record, column, hint):
    with pytest.raises(ContractError) as info:
        parse_records({table: [record]}, against=load_dataset(good))
    (issue,) = info.value.issues
    assert (issue.row, issue.column) == (1, column)
    assert hint in str(issue)


def test_out_of_range_dates_in_files_are_errors(good: Path) -> None:
    _edit(good, "dispute_events", "2024-01-20,", "2924-01-20,")
    issue = _only_error(good)
    assert (issue.file, issue.row, issue.column) == ("dispute_events.csv", 3, "at")


def test_line_numbers_count_blank_lines(good: Path) -> None:
    _edit(good, "persons", "P2,,female", "\nP2,,femal")
    issue = _only_error(good)
    assert (issue.row, issue.column) == (4, "gender")


def test_a_row_with_too_many_fields_is_located_and_the_rest_still_checked(good: Path) -> None:
    _edit(good, "persons", "P2,,female,G1,H1", "P2,,female,G1,H1,extra")
    _edit(good, "persons", "P3,1999,unknown", "P3,1999,unknwn")
    report = validate_dataset(good)
    located = {(i.row, i.column) for i in report.errors}
    assert (3, None) in located  # the broken row, on its own line
    assert (4, "gender") in located  # the next row keeps its own line number
    assert "wrong number of fields" in report.format()


def test_a_byte_order_mark_is_not_part_of_the_first_column(good: Path) -> None:
    path = good / "persons.csv"
    text = path.read_text(encoding="utf-8").replace("P1,", "007,").replace("P2,", "008,")
    path.write_text(text, encoding="utf-8-sig")
    for table in ("dispute_parties", "incident_persons", "person_flags"):
        other = good / f"{table}.csv"
        other.write_text(
            other.read_text(encoding="utf-8").replace("P1,", "007,").replace("P2,", "008,"),
            encoding="utf-8",
        )
    ties = good / "relationships.csv"
    ties.write_text(
        ties.read_text(encoding="utf-8").replace("P1,", "007,").replace("P2,", "008,"),
        encoding="utf-8",
    )
    assert validate_dataset(good).ok, validate_dataset(good).format()
    assert load_dataset(good).persons["person_id"].tolist()[:2] == ["007", "008"]


def test_a_file_that_is_not_utf8_names_its_line_and_buries_nothing(good: Path) -> None:
    path = good / "disputes.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    report = validate_dataset(good)
    (issue,) = report.errors  # no false "missing disputes row" errors for the parties
    assert (issue.file, issue.row) == ("disputes.csv", 2)
    assert "not UTF-8" in issue.message and "GBK" in issue.message


def test_a_missing_column_does_not_hide_the_other_columns(good: Path) -> None:
    path = good / "persons.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cut = [",".join(line.split(",")[:-1]) for line in lines]  # drop household_id
    path.write_text("\n".join(cut).replace("P2,,female", "P2,,femal") + "\n", encoding="utf-8")
    report = validate_dataset(good)
    assert {i.column for i in report.errors} == {"household_id", "gender"}


def test_every_unknown_enum_value_is_counted(good: Path, sample_tables) -> None:
    rows = "".join(f"Q{i},1980,g{i},G1,\n" for i in range(8))
    (good / "persons.csv").write_text(sample_tables["persons"] + rows, encoding="utf-8")
    report = validate_dataset(good)
    assert report.error_count() == 8
    assert "3 more distinct values" in report.format()


def test_empty_ids_are_not_also_duplicates(good: Path) -> None:
    _edit(good, "petitions", "PT1,", " ,")
    _edit(good, "petitions", "PT2,", " ,")
    messages = [i.message for i in validate_dataset(good).errors]
    assert messages == ["empty id", "empty id"]


def test_an_empty_enum_lists_the_allowed_values(good: Path) -> None:
    _edit(good, "persons", "P2,,female", "P2,,")
    assert "one of male, female, unknown" in str(_only_error(good))


def test_parquet_timestamps_keep_whole_seconds_and_refuse_zones(good: Path, tmp_path) -> None:
    ds = load_dataset(good)
    root = write_dataset(ds, tmp_path / "pq", "parquet")
    events = ds.dispute_events.copy()
    events["at"] = events["at"] + pd.Timedelta(milliseconds=250)
    events.to_parquet(root / "dispute_events.parquet", index=False)
    assert load_dataset(root).dispute_events["at"].tolist() == ds.dispute_events["at"].tolist()
    events["at"] = events["at"].dt.tz_localize("Asia/Shanghai")
    events.to_parquet(root / "dispute_events.parquet", index=False)
    issue = _only_error(root)
    assert (issue.file, issue.column) == ("dispute_events.parquet", "at")
    assert "Asia/Shanghai" in issue.message and "without a zone" in issue.message


# value ranges (docs/contract.md) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "old", "new", "row", "column", "found"),
    [
        ("persons", "P1,1980,", "P1,99999,", 2, "birth_year", "99999"),
        ("persons", "P1,1980,", "P1,-1,", 2, "birth_year", "-1"),
        ("persons", "P1,1980,", "P1,1899,", 2, "birth_year", "1899"),
        ("grids", "城关区,300", "城关区,-5", 2, "population", "-5"),
        ("disputes", ",100.5,", ",1e999,", 2, "amount_involved", "inf"),
        ("disputes", ",100.5,", ",-0.5,", 2, "amount_involved", "-0.5"),
        ("persons", "P1,1980,male,G1,H1", "P1,1980,male,G1,H\x07", 2, "household_id", "H\x07"),
        ("persons", "P1,1980,male,G1,H1", "P1,1980,male,G1," + "H" * 129, 2, "household_id", None),
        (
            "dispute_events",
            "D1,2024-01-06T09:00:00,visit,",
            "D1,2024-01-06T09:00:00,visit," + "长" * 10_001,
            2,
            "note",
            None,
        ),
    ],
)
def test_values_outside_the_contracts_ranges_are_located_errors(
    good: Path, table: str, old: str, new: str, row: int, column: str, found: str | None
) -> None:
    _edit(good, table, old, new)
    issue = _only_error(good)
    assert (issue.file, issue.row, issue.column, issue.message) == (
        f"{table}.csv",
        row,
        column,
        "out of range",
    )
    if found is not None:
        assert issue.value == found
    else:
        assert issue.value.endswith("...") and len(issue.value) == 43


def test_values_at_the_ends_of_the_ranges_are_valid(good: Path) -> None:
    _edit(good, "persons", "P1,1980,", "P1,1900,")
    _edit(good, "grids", "城关区,300", "城关区,0")
    _edit(good, "disputes", ",100.5,", ",0,")
    _edit(
        good,
        "dispute_events",
        "D1,2024-01-06T09:00:00,visit,",
        "D1,2024-01-06T09:00:00,visit," + "长" * 10_000,
    )
    report = validate_dataset(good)
    assert report.ok, report.format()


def test_records_are_held_to_the_same_ranges(good: Path) -> None:
    with pytest.raises(ContractError) as info:
        parse_records(
            {
                "persons": [
                    {"person_id": "P9", "birth_year": 99999, "gender": "male", "grid_id": "G1"}
                ]
            },
            against=load_dataset(good),
        )
    [issue] = info.value.issues
    assert (issue.column, issue.message, issue.expected) == (
        "birth_year",
        "out of range",
        "a whole number from 1900 to 2100",
    )


def test_an_event_before_its_disputes_registration_is_a_warning(good: Path) -> None:
    """Back-filled records exist: the dataset stays valid and the warning names the row."""
    from riskwarn import ContractWarning

    _edit(good, "dispute_events", "D1,2024-01-06T09:00:00,visit,", "D1,2023-12-01T09:00:00,visit,")
    report = validate_dataset(good)
    assert report.ok
    [warning] = report.warnings
    assert (warning.file, warning.row, warning.column) == ("dispute_events.csv", 2, "at")
    assert "dated before dispute 'D1' was registered" in warning.message
    with pytest.warns(ContractWarning, match="dated before dispute 'D1'"):
        load_dataset(good)
    found: list = []
    parse_records(
        {"dispute_events": [{"dispute_id": "D1", "at": "2020-01-01T00:00:00", "kind": "visit"}]},
        against=_loaded_quietly(good),
        warnings=found,
    )
    [issue] = found
    assert (issue.table, issue.row, issue.column) == ("dispute_events", 1, "at")


def _loaded_quietly(root: Path) -> Dataset:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(root)


def test_a_field_too_long_for_any_record_names_its_file_and_line(good: Path) -> None:
    """A 50 MB file with no newline: one located error, not a crash without a file name."""
    (good / "petitions.csv").write_bytes(b"x" * (50 * 1024 * 1024))
    report = validate_dataset(good)
    [issue] = report.errors
    assert (issue.file, issue.row) == ("petitions.csv", 1)
    assert "field larger than field limit" in issue.message and "10,000" in issue.message
