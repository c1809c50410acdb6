"""Point in time, proven: what happens after as_of never reaches the features of as_of.

Property-based over random small datasets and dates (hypothesis draws the seeds, the
moment and whether it is a midnight, and the later rows themselves, field by field, so a
failure shrinks to the rows that matter): appending rows dated after as_of to every dated
table, cutting the dataset at as_of, shuffling rows and rebuilding all leave the features
unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskwarn.features import FeatureBuilder, build_features

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def known_snapshots(ds, t: pd.Timestamp) -> pd.DataFrame:
    """Every dispute known at ``t`` (open or not), as snapshots at ``t``."""
    ids = sorted(ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"])
    return pd.DataFrame({"dispute_id": pd.array(ids, dtype="str"), "as_of": [t] * len(ids)})


moments = st.tuples(
    st.integers(0, 10_000),  # dataset seed
    st.integers(20, 230),  # day of as_of after the start
    st.booleans(),  # midnight or not
    st.integers(0, 86_399),  # seconds into the day when not midnight
)


def moment(day: int, midnight: bool, seconds: int) -> pd.Timestamp:
    t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
    return t if midnight else t + pd.Timedelta(seconds=seconds)


@SETTINGS
@given(moments, st.data())
def test_rows_dated_after_as_of_change_nothing(kit, m, data) -> None:
    seed, day, midnight, seconds = m
    ds = kit.random_dataset(seed)
    t = moment(day, midnight, seconds)
    snaps = known_snapshots(ds, t)
    rows = data.draw(kit.future_rows(ds, t), label="rows dated after as_of")
    later = kit.appended(ds, rows)
    for table in kit.dated_tables:
        assert len(later.table(table)) > len(ds.table(table)), table
    kit.assert_same_features(build_features(ds, snaps), build_features(later, snaps))


@SETTINGS
@given(moments)
def test_cut_at_as_of_gives_the_same_features(kit, m) -> None:
    seed, day, midnight, seconds = m
    ds = kit.random_dataset(seed)
    t = moment(day, midnight, seconds)
    snaps = known_snapshots(ds, t)
    kit.assert_same_features(build_features(ds, snaps), build_features(ds.cut(t), snaps))


@SETTINGS
@given(moments, st.integers(0, 10_000))
def test_row_order_changes_nothing_and_output_is_deterministic(kit, m, perm_seed) -> None:
    seed, day, midnight, seconds = m
    ds = kit.random_dataset(seed)
    t = moment(day, midnight, seconds)
    snaps = known_snapshots(ds, t)
    first = build_features(ds, snaps)
    kit.assert_same_features(first, build_features(ds, snaps))
    kit.assert_same_features(first, build_features(kit.shuffled(ds, perm_seed), snaps))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 10_000),
    st.lists(st.tuples(st.integers(20, 230), st.booleans()), min_size=3, max_size=8),
)
def test_one_builder_over_many_dates_in_any_order_matches_fresh_builds(kit, seed, days) -> None:
    """The forward sweep and its day cache give what a fresh build gives, in any date order."""
    ds = kit.random_dataset(seed)
    frames = []
    for day, midnight in days:
        t = moment(day, midnight, 3_600)
        frames.append(known_snapshots(ds, t))
    snaps = pd.concat(frames, ignore_index=True)
    together = FeatureBuilder(ds, cache_days=1).transform(snaps)
    for frame in frames:
        alone = build_features(ds, frame)
        rows = together.loc[
            together["as_of"].isin(frame["as_of"])
            & together["dispute_id"].isin(frame["dispute_id"])
        ].drop_duplicates(subset=["dispute_id", "as_of"])
        kit.assert_same_features(rows, alone)


@SETTINGS
@given(moments)
def test_features_for_equals_the_transform_row(kit, m) -> None:
    seed, day, midnight, seconds = m
    ds = kit.random_dataset(seed)
    t = moment(day, midnight, seconds)
    snaps = known_snapshots(ds, t)
    builder = FeatureBuilder(ds)
    table = builder.transform(snaps)
    for i, did in enumerate(snaps["dispute_id"]):
        one = builder.features_for(did, t)
        row = table.iloc[i]
        for name, value in one.items():
            assert kit.same_value(_plain(row[name]), _plain(value)), (did, name, row[name], value)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _case_rows(ds, did: str):
    dispute = ds.disputes.loc[ds.disputes["dispute_id"] == did].iloc[0].to_dict()
    parties = ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == did].to_dict("records")
    events = ds.dispute_events.loc[ds.dispute_events["dispute_id"] == did].to_dict("records")
    return dispute, parties, events


def _without(ds, did: str, drop_people: list[str]):
    """``ds`` without dispute ``did`` (and, optionally, some of its people)."""
    from riskwarn import Dataset

    frames = dict(ds.tables())
    frames["disputes"] = ds.disputes[ds.disputes["dispute_id"] != did]
    frames["dispute_parties"] = ds.dispute_parties[ds.dispute_parties["dispute_id"] != did]
    frames["dispute_events"] = ds.dispute_events[ds.dispute_events["dispute_id"] != did]
    for table, col in (
        ("dispute_parties", "person_id"),
        ("petitions", "person_id"),
        ("person_flags", "person_id"),
        ("incident_persons", "person_id"),
        ("relationships", "person_a"),
        ("relationships", "person_b"),
    ):
        frames[table] = frames[table][~frames[table][col].isin(drop_people)]
    frames["persons"] = ds.persons[~ds.persons["person_id"].isin(drop_people)]
    return Dataset.from_frames(**frames)


def _unlinked(ds, did: str):
    """``ds`` with petitions and incidents no longer pointing at ``did`` (a new case has none)."""
    from riskwarn import Dataset

    frames = dict(ds.tables())
    for table in ("petitions", "incidents"):
        f = frames[table]
        frames[table] = f.assign(dispute_id=f["dispute_id"].where(f["dispute_id"] != did, None))
    return Dataset.from_frames(**frames)


@SETTINGS
@given(moments, st.booleans())
def test_features_for_case_equals_transform_on_the_dataset_that_holds_it(
    kit, m, new_person
) -> None:
    seed, day, midnight, seconds = m
    ds = kit.random_dataset(seed)
    t = moment(day, midnight, seconds)
    snaps = known_snapshots(ds, t)
    if snaps.empty:
        return
    did = snaps["dispute_id"].iloc[-1]
    dispute, parties, events = _case_rows(ds, did)
    # a party that appears in no other row can come as a new person, described in its dict
    others = set(ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] != did, "person_id"])
    for table, col in (
        ("petitions", "person_id"),
        ("person_flags", "person_id"),
        ("incident_persons", "person_id"),
        ("relationships", "person_a"),
        ("relationships", "person_b"),
    ):
        others |= set(ds.table(table)[col])
    lonely = [p["person_id"] for p in parties if p["person_id"] not in others] if new_person else []
    full = _unlinked(ds, did)
    expected = build_features(full, snaps.loc[snaps["dispute_id"] == did])
    for person in parties:
        if person["person_id"] in lonely:
            info = ds.persons.loc[ds.persons["person_id"] == person["person_id"]].iloc[0]
            person.update({k: info[k] for k in ("birth_year", "gender", "grid_id", "household_id")})
    for builder in (FeatureBuilder(_without(full, did, lonely)), FeatureBuilder(full)):
        got = builder.features_for_case(dispute, parties, events, t)
        row = expected.iloc[0]
        for name, value in got.items():
            assert kit.same_value(_plain(row[name]), _plain(value)), (did, name, row[name], value)
