"""Retention in the features, proven over random tables, policies and dates.

After ``expire`` (the expired rows gone from the data, as ``riskwarn records expire
--apply`` leaves a store), no feature of any snapshot dated at or after the expiry reads an
expired row, and every snapshot dated before it is what it was with every row in place.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskwarn import Dataset, RetentionPolicy, TableRetention, expiry
from riskwarn.features import REGISTRY, build_features

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = pd.Timestamp("2024-01-01")

# terms short enough that rows of a 240-day dataset expire inside it (or None: kept)
terms = st.none() | st.integers(10, 200).map(lambda days: days / 365.25)
policies = st.builds(
    lambda d, f, r, p, i: RetentionPolicy(
        disputes=TableRetention(years=d),
        person_flags=TableRetention(years=f),
        relationships=TableRetention(years=r),
        petitions=TableRetention(years=p),
        incidents=TableRetention(years=i),
    ),
    terms,
    terms,
    terms,
    terms,
    terms,
)


def snapshots_at(ds: Dataset, policy: RetentionPolicy, dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Every dispute known at each date and not expired by then."""
    gone = expiry(ds, policy).dates["disputes"]
    rows = []
    for t in dates:
        live = (ds.disputes["reported_at"] <= t).to_numpy() & ~(gone <= t).to_numpy()
        rows += [(d, t) for d in sorted(ds.disputes.loc[live, "dispute_id"])]
    frame = pd.DataFrame(rows, columns=["dispute_id", "as_of"])
    return frame.astype({"dispute_id": "str", "as_of": "datetime64[ns]"})


@SETTINGS
@given(st.integers(0, 10_000), policies, st.integers(30, 230), st.data())
def test_after_expire_no_snapshot_reads_an_expired_row_and_earlier_ones_stand(
    kit, seed, policy, expire_day, data
) -> None:
    ds = kit.random_dataset(seed, persons=12, disputes=9)
    expired_at = BASE + pd.Timedelta(days=expire_day)
    found = expiry(ds, policy)
    after_expire = found.retained(expired_at)  # what the store holds after `expire --apply`
    days = data.draw(st.lists(st.integers(1, 239), min_size=1, max_size=4, unique=True))
    dates = [BASE + pd.Timedelta(days=d, hours=13) for d in sorted(days)]

    later = snapshots_at(ds, policy, [t for t in dates if t >= expired_at])
    if len(later):
        kit.assert_same_features(
            build_features(ds, later, retention=policy),
            build_features(after_expire, later, retention=policy),
        )
    earlier = snapshots_at(ds, policy, [t for t in dates if t < expired_at])
    if len(earlier):
        with_all_rows = pd.concat(
            [
                build_features(found.retained(t), earlier[earlier["as_of"] == t])
                for t in earlier["as_of"].unique()
            ],
            ignore_index=True,
        )
        kit.assert_same_features(build_features(ds, earlier, retention=policy), with_all_rows)


def test_an_expired_row_leaves_the_features_on_its_expiry_day() -> None:
    """A petition filed on day 0 with a 100-day term counts on day 99 and not on day 100."""
    frames = {
        "persons": pd.DataFrame(
            {"person_id": ["A", "B"], "gender": ["male", "female"], "grid_id": ["G", "G"]}
        ),
        "disputes": pd.DataFrame(
            {
                "dispute_id": ["D"],
                "reported_at": [BASE],
                "grid_id": ["G"],
                "category": ["neighbor"],
                "source": ["hotline"],
                "threat_reported": [False],
                "violence_reported": [False],
                "weapon_mentioned": [False],
            }
        ),
        "dispute_parties": pd.DataFrame(
            {"dispute_id": ["D", "D"], "person_id": ["A", "B"], "role": ["claimant", "respondent"]}
        ),
        "petitions": pd.DataFrame(
            {
                "petition_id": ["PT"],
                "person_id": ["A"],
                "filed_at": [BASE],
                "channel": ["visit"],
                "level": ["county"],
                "repeat": [False],
                "collective": [False],
            }
        ),
    }
    ds = Dataset.from_frames(**frames)
    policy = RetentionPolicy(petitions=TableRetention(years=100 / 365.25))
    snaps = pd.DataFrame(
        {
            "dispute_id": pd.array(["D", "D"], dtype="str"),
            "as_of": [BASE + pd.Timedelta(days=99), BASE + pd.Timedelta(days=100)],
        }
    )
    kept = build_features(ds, snaps, retention=policy)
    assert kept["petitions_party_ever_sum"].tolist() == [1, 0]
    assert build_features(ds, snaps)["petitions_party_ever_sum"].tolist() == [1, 1]


def test_every_ever_count_has_a_bounded_alternative_in_the_registry() -> None:
    ever = [s for s in REGISTRY if "_ever" in s.name]
    assert ever and all(s.bounded for s in ever)
    for s in ever:
        twin = REGISTRY.get(s.bounded)
        assert twin.window == 1826 and twin.direction == s.direction and not twin.bounded
        assert "5" in twin.description_en and "近5年" in twin.description_zh
