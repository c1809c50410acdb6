"""Snapshots and labels follow docs/contract.md exactly, on hand-made cases."""

from __future__ import annotations

import pandas as pd
import pytest

from riskwarn import Dataset
from riskwarn.errors import ConfigError
from riskwarn.features import (
    REGISTRY,
    build_features,
    build_snapshots,
    label_cases,
    open_disputes,
    snapshot_groups,
)

T0 = pd.Timestamp("2024-01-01")


def day(n: int, hours: float = 0) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n) + pd.Timedelta(hours=hours)


def dataset(events=(), incidents=(), incident_persons=(), disputes=None, parties=None) -> Dataset:
    persons = pd.DataFrame(
        {
            "person_id": ["A", "B", "C", "Z"],
            "birth_year": [1980, 1990, None, 1970],
            "gender": ["male", "female", "unknown", "male"],
            "grid_id": ["G1", "G1", "G2", "G2"],
            "household_id": [None, None, None, None],
        }
    )
    disputes = disputes or [("D1", day(0, 10)), ("D2", day(5)), ("D3", day(40))]
    parties = parties or [
        ("D1", "A", "claimant"),
        ("D1", "B", "respondent"),
        ("D2", "C", "claimant"),
        ("D3", "Z", "claimant"),
    ]
    frames = {
        "persons": persons,
        "disputes": pd.DataFrame(
            {
                "dispute_id": [d for d, _ in disputes],
                "reported_at": [t for _, t in disputes],
                "grid_id": "G1",
                "category": "neighbor",
                "source": "hotline",
                "threat_reported": False,
                "violence_reported": False,
                "weapon_mentioned": False,
                "amount_involved": None,
                "summary": None,
            }
        ),
        "dispute_parties": pd.DataFrame(parties, columns=["dispute_id", "person_id", "role"]),
        "dispute_events": pd.DataFrame(
            [(d, t, k, None) for d, t, k in events], columns=["dispute_id", "at", "kind", "note"]
        ),
        "incidents": pd.DataFrame(
            [(i, t, "serious_injury", d) for i, t, d in incidents],
            columns=["incident_id", "occurred_at", "kind", "dispute_id"],
        ),
        "incident_persons": pd.DataFrame(
            list(incident_persons), columns=["incident_id", "person_id", "role"]
        ),
    }
    return Dataset.from_frames(**frames)


def labels(snaps: pd.DataFrame, dispute: str) -> dict[pd.Timestamp, object]:
    rows = snaps[snaps["dispute_id"] == dispute]
    return dict(zip(rows["as_of"], rows["label"], strict=True))


def test_grid_starts_on_the_first_dispute_day_and_columns_are_typed() -> None:
    ds = dataset(events=[("D1", day(200), "visit")])
    snaps = build_snapshots(ds, every=30, horizon=90)
    assert list(snaps.columns) == ["dispute_id", "as_of", "label", "label_known"]
    assert snaps["as_of"].min() == day(30)  # D1 reported 10:00 on day 0: open from day 30
    assert (snaps["as_of"] == snaps["as_of"].dt.normalize()).all()
    assert str(snaps["label"].dtype) == "Int8"
    assert snaps["label_known"].dtype == bool
    assert snaps["dispute_id"].dtype == "str"
    assert str(snaps["as_of"].dtype) == "datetime64[ns]"
    assert sorted(set(snaps["as_of"])) == [day(n) for n in range(30, 201, 30)]


def test_label_by_dispute_id_by_party_and_on_the_horizon_boundary() -> None:
    ds = dataset(
        events=[("D1", day(400), "visit")],
        incidents=[
            ("I1", day(60) + pd.Timedelta(days=90), "D2"),  # D2 by id, exactly as_of + 90
            ("I2", day(120, 1), None),  # A: party of D1
            ("I3", day(300), None),  # nobody's
        ],
        incident_persons=[("I2", "A", "victim"), ("I3", "Z", "other")],
    )
    snaps = build_snapshots(ds, start=day(0), every=30, horizon=90)
    d1, d2 = labels(snaps, "D1"), labels(snaps, "D2")
    assert d2[day(60)] == 1  # on the boundary: (as_of, as_of + H] includes the end
    assert d2[day(150)] == 0  # the incident is at as_of exactly: not in the future
    assert d1[day(30)] == 0 and d1[day(60)] == 1 and d1[day(90)] == 1 and d1[day(120)] == 1
    assert d1[day(150)] == 0
    # Z's incident at day 300 belongs to D3 (a party) from as_of 210 on
    assert labels(snaps, "D3")[day(210)] == 1 and labels(snaps, "D3")[day(180)] == 0


def test_label_is_unknown_when_the_horizon_runs_past_the_data() -> None:
    ds = dataset(events=[("D1", day(200), "visit")])
    snaps = build_snapshots(ds, start=day(0), every=10, horizon=90)
    known = snaps["as_of"] + pd.Timedelta(days=90) <= ds.end
    assert (snaps["label_known"] == known).all()
    assert snaps.loc[~known, "label"].isna().all()
    assert snaps.loc[known, "label"].notna().all()


def test_any_case_and_moment_is_labelled_as_its_snapshot_would_be() -> None:
    ds = dataset(
        events=[("D1", day(400), "visit")],
        incidents=[("I1", day(60) + pd.Timedelta(days=90), "D2"), ("I2", day(120, 1), None)],
        incident_persons=[("I2", "A", "victim")],
    )
    snaps = build_snapshots(ds, start=day(0), every=30, horizon=90)
    # the same pairs, shuffled and at moments off the grid too
    pairs = snaps.sample(frac=1.0, random_state=1).reset_index(drop=True)
    got = label_cases(ds, pairs["dispute_id"], pairs["as_of"], 90)
    pd.testing.assert_frame_equal(got, pairs[["dispute_id", "as_of", "label", "label_known"]])
    off = label_cases(ds, ["D2", "D2"], [day(60, 5), day(150)], 90)
    assert off["label"].tolist() == [1, 0]
    with pytest.raises(ConfigError, match="'D9' is not in the dataset"):
        label_cases(ds, ["D9"], [day(60)], 90)


def test_closed_cases_leave_and_reopened_cases_come_back() -> None:
    ds = dataset(
        events=[
            ("D1", day(45), "closed"),
            ("D1", day(75, 3), "reopened"),
            ("D1", day(100), "closed"),
            ("D1", day(100), "reopened"),  # closed and reopened at once: open
            ("D2", day(20), "closed"),
            ("D2", day(60), "closed"),
            ("D2", day(80), "reopened"),
            ("D2", day(150), "closed"),  # closed exactly at as_of: closed
            ("D3", day(300), "visit"),
        ]
    )
    snaps = build_snapshots(ds, start=day(0), every=30, horizon=30)
    assert set(labels(snaps, "D1")) == {
        day(30),
        day(90),
        day(120),
        day(150),
        day(180),
        day(210),
        day(240),
        day(270),
        day(300),
    }
    assert set(labels(snaps, "D2")) == {day(90), day(120)}
    assert open_disputes(ds, day(60)) == ["D3"]
    assert open_disputes(ds, day(76)) == ["D1", "D3"]
    assert open_disputes(ds, day(45) - pd.Timedelta(seconds=1)) == ["D1", "D3"]


def test_start_end_every_options_and_bad_values() -> None:
    ds = dataset(events=[("D1", day(200), "visit")])
    snaps = build_snapshots(ds, start="2024-01-11", end="2024-03-01", every=7)
    assert snaps["as_of"].min() == day(10) and snaps["as_of"].max() <= day(60)
    assert set(snaps["as_of"]) <= {day(10 + 7 * k) for k in range(8)}
    with pytest.raises(ConfigError, match="every"):
        build_snapshots(ds, every=0)
    with pytest.raises(ConfigError, match="horizon"):
        build_snapshots(ds, horizon=0)
    with pytest.raises(ConfigError, match="start"):
        build_snapshots(ds, start="not a date")


def test_a_dataset_without_disputes_gives_empty_typed_tables() -> None:
    persons = pd.DataFrame(
        {
            "person_id": ["A"],
            "birth_year": [None],
            "gender": ["male"],
            "grid_id": ["G"],
            "household_id": [None],
        }
    )
    ds = Dataset.from_frames(persons=persons)
    snaps = build_snapshots(ds)
    assert snaps.empty and str(snaps["label"].dtype) == "Int8"
    table = build_features(ds, snaps)
    assert list(table.columns) == ["dispute_id", "as_of", *REGISTRY.names()]
    assert isinstance(table["case_category"].dtype, pd.CategoricalDtype)
    assert open_disputes(ds, "2024-01-01") == []
    assert snapshot_groups(ds, snaps).empty
