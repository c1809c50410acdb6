"""Feature values on a hand-made case, the single-case paths and their errors."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from riskwarn import Dataset, simulate
from riskwarn.errors import RequestError, UnknownRecordError
from riskwarn.features import FeatureBuilder, build_features, build_snapshots, snapshot_groups

T0 = pd.Timestamp("2024-01-01")


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def dispute(did: str, at: pd.Timestamp, **extra) -> dict:
    row = dict(
        dispute_id=did,
        reported_at=at,
        grid_id="G1",
        category="marriage_family",
        source="police_call",
        threat_reported=True,
        violence_reported=False,
        weapon_mentioned=True,
        amount_involved=999.0,
        summary=None,
    )
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def ds() -> Dataset:
    persons = pd.DataFrame(
        {
            "person_id": ["A", "B", "C", "N"],
            "birth_year": [1960, 1990, None, 2000],
            "gender": ["male", "female", "male", "female"],
            "grid_id": ["G1", "G1", "G2", "G2"],
            "household_id": ["H", "H", None, None],
        }
    )
    grids = pd.DataFrame(
        {"grid_id": ["G1", "G2"], "township": ["T", "T"], "county": "C", "population": [1000, 500]}
    )
    disputes = pd.DataFrame(
        [
            dispute("D", day(0)),
            dispute("OLD", day(-400), category="debt"),
            dispute("PAIR", day(-100), category="neighbor"),
            dispute("OTHER", day(10), grid_id="G2"),
        ]
    )
    parties = pd.DataFrame(
        [
            ("D", "A", "claimant"),
            ("D", "B", "respondent"),
            ("D", "B", "other"),
            ("OLD", "A", "claimant"),
            ("PAIR", "A", "claimant"),
            ("PAIR", "B", "respondent"),
            ("OTHER", "C", "claimant"),
            ("OTHER", "B", "other"),
        ],
        columns=["dispute_id", "person_id", "role"],
    )
    events = pd.DataFrame(
        [
            ("D", day(5), "mediation_attempt"),
            ("D", day(6), "mediation_failure"),
            ("D", day(20), "mediation_success"),
            ("D", day(40), "mediation_failure"),
            ("D", day(50), "mediation_failure"),
            ("D", day(55), "threat"),
            ("D", day(58), "police_call"),
            ("D", day(70), "visit"),
        ],
        columns=["dispute_id", "at", "kind"],
    )
    petitions = pd.DataFrame(
        [
            ("p1", "A", day(10), "visit", "county", False, False, "D"),
            ("p2", "A", day(30), "online", "township", True, False, "D"),
            ("p3", "A", day(45), "visit", "city", True, True, None),
            ("p4", "B", day(-500), "letter", "province", False, False, None),
        ],
        columns=[
            "petition_id",
            "person_id",
            "filed_at",
            "channel",
            "level",
            "repeat",
            "collective",
            "dispute_id",
        ],
    )
    flags = pd.DataFrame(
        [
            ("A", "severe_mental_disorder", 3, day(-10), None),
            ("A", "drug_user", None, day(-100), day(30)),
            ("B", "released_prisoner", 1, day(61), None),
        ],
        columns=["person_id", "flag", "level", "start_date", "end_date"],
    )
    ties = pd.DataFrame(
        [("A", "B", "spouse", None, None), ("B", "C", "sibling", day(-5), None)],
        columns=["person_a", "person_b", "kind", "since", "until"],
    )
    incidents = pd.DataFrame(
        [("I1", day(-30), "serious_injury", None), ("I2", day(40), "self_harm", None)],
        columns=["incident_id", "occurred_at", "kind", "dispute_id"],
    )
    incident_persons = pd.DataFrame(
        [("I1", "A", "perpetrator"), ("I1", "B", "victim"), ("I2", "C", "victim")],
        columns=["incident_id", "person_id", "role"],
    )
    return Dataset.from_frames(
        persons=persons,
        grids=grids,
        disputes=disputes,
        dispute_parties=parties,
        dispute_events=events,
        petitions=petitions,
        person_flags=flags,
        relationships=ties,
        incidents=incidents,
        incident_persons=incident_persons,
    )


def test_values_of_a_hand_made_case(ds) -> None:
    f = FeatureBuilder(ds).features_for("D", day(60))
    assert f["case_category"] == "marriage_family" and f["case_source"] == "police_call"
    assert (
        f["case_threat_reported"] and f["case_weapon_mentioned"] and not f["case_violence_reported"]
    )
    assert f["case_amount_log"] == pytest.approx(math.log1p(999.0))
    assert f["case_age_days"] == 60.0
    assert (
        f["case_parties"],
        f["case_claimants"],
        f["case_respondents"],
        f["case_other_parties"],
    ) == (2, 1, 1, 1)
    # history at day 60: failures at 6, 40, 50; success at 20; threat 55; police call 58
    assert f["events_mediation_failure_ever"] == 3 and f["events_mediation_failure_30d"] == 2
    assert f["events_mediation_failure_streak"] == 2
    assert f["events_mediation_failure_days_since"] == 10.0
    assert math.isnan(f["events_visit_days_since"])  # the visit is at day 70: the future
    assert f["events_all_30d"] == 4 and f["events_trend_30d"] == 4 - 3
    assert f["events_alarm_30d"] == 4 and f["events_alarm_trend_30d"] == 4 - 1
    # petitions: about D county then township; A's city petition on another matter
    assert f["petitions_case_ever"] == 2 and f["petitions_case_level_max"] == 2
    assert not f["petitions_case_level_climbed"]
    assert f["petitions_party_ever_sum"] == 4 and f["petitions_party_ever_max"] == 3
    assert f["petitions_party_365d_sum"] == 3 and f["petitions_party_level_max"] == 4
    assert f["petitions_party_level_climbed"]  # A: township (day 30) then city (day 45)
    assert f["petitions_party_repeat_sum"] == 2 and f["petitions_party_collective_sum"] == 1
    assert f["petitions_party_days_since"] == 15.0
    # parties
    assert (f["party_age_min"], f["party_age_max"]) == (34.0, 64.0)
    assert f["party_male_share"] == 0.5 and f["party_same_household"]
    assert f["party_flags_active"] == 1 and f["party_flag_level_max"] == 3.0
    assert f["party_flag_severe_mental_disorder"] and not f["party_flag_drug_user"]
    assert not f["party_flag_released_prisoner"]  # starts at day 61
    assert f["party_disputes_ever_sum"] == 4  # A: OLD, PAIR; B: PAIR, OTHER
    assert f["party_disputes_365d_sum"] == 3 and f["party_disputes_ever_max"] == 2
    assert f["party_pair_disputes_ever"] == 1 and f["party_pair_disputes_365d"] == 1
    assert f["party_incidents_perpetrator_ever"] == 1 and f["party_incidents_victim_ever"] == 1
    assert f["party_incidents_days_since"] == 90.0
    assert f["party_pair_incidents_ever"] == 1 and f["party_self_harm_ever"] == 0
    # graph: B's sister C (and co-party in OTHER) was in an incident 20 days ago
    assert f["ties_spouse_sum"] == 2 and f["ties_sibling_sum"] == 1 and f["ties_between_spouse"]
    assert f["graph_neighbors"] == 1 and f["graph_component_size"] == 3
    assert f["ego_incidents_1hop_30d"] == 1
    assert f["ego_incident_hops_180d"] == 0  # A and B themselves were in I1 (day -30)
    assert f["ego_open_disputes_1hop"] == 3  # OLD, PAIR and OTHER are all still open
    # area: G1 has D, PAIR in the last year over 1,000 residents, shrunk toward the county
    assert 0 < f["area_grid_disputes_365d_rate"] < 1000 * 4 / 1500 * 2


def test_features_for_case_with_a_new_person_matches_the_dataset_holding_it(ds) -> None:
    new_case = dispute("NEW", day(30) + pd.Timedelta(hours=9), category="neighbor")
    parties = [
        {"person_id": "A", "role": "claimant"},
        {
            "person_id": "X",
            "role": "respondent",
            "birth_year": 1985,
            "gender": "male",
            "grid_id": "G1",
            "household_id": None,
        },
    ]
    events = [{"at": day(35), "kind": "mediation_failure"}]
    as_of = day(60)
    got = FeatureBuilder(ds).features_for_case(new_case, parties, events, as_of)

    frames = {k: v for k, v in ds.tables().items()}
    frames["persons"] = pd.concat(
        [
            ds.persons,
            pd.DataFrame(
                [
                    {
                        "person_id": "X",
                        "birth_year": 1985,
                        "gender": "male",
                        "grid_id": "G1",
                        "household_id": None,
                    }
                ]
            ),
        ]
    )
    frames["disputes"] = pd.concat([ds.disputes, pd.DataFrame([new_case])])
    frames["dispute_parties"] = pd.concat(
        [
            ds.dispute_parties,
            pd.DataFrame(
                [{"dispute_id": "NEW", **{k: p[k] for k in ("person_id", "role")}} for p in parties]
            ),
        ]
    )
    frames["dispute_events"] = pd.concat(
        [ds.dispute_events, pd.DataFrame([{"dispute_id": "NEW", **e} for e in events])]
    )
    held = Dataset.from_frames(**frames)
    row = build_features(held, pd.DataFrame({"dispute_id": ["NEW"], "as_of": [as_of]})).iloc[0]
    for name, value in got.items():
        same = (isinstance(value, float) and math.isnan(value) and math.isnan(row[name])) or row[
            name
        ] == value
        assert same, (name, row[name], value)
    assert got["party_age_min"] == 39.0 and got["events_mediation_failure_streak"] == 1


def test_errors_say_what_was_expected(ds) -> None:
    builder = FeatureBuilder(ds)
    with pytest.raises(UnknownRecordError, match="features_for_case"):
        builder.features_for("NOPE", day(1))
    with pytest.raises(RequestError, match="reported at or before as_of"):
        builder.features_for("OTHER", day(5))
    with pytest.raises(RequestError, match="dispute category"):
        builder.features_for_case(dispute("Q", day(0), category="murder"), [], [], day(1))
    with pytest.raises(RequestError, match="as_of"):
        builder.features_for("D", "not a date")
    with pytest.raises(UnknownRecordError):
        build_features(ds, pd.DataFrame({"dispute_id": ["NOPE"], "as_of": [day(1)]}))


def test_progress_is_reported(ds) -> None:
    seen = []
    snaps = pd.DataFrame({"dispute_id": ["D", "D", "PAIR"], "as_of": [day(30), day(60), day(60)]})
    FeatureBuilder(ds).transform(
        snaps, progress=lambda done, total, what: seen.append((done, total))
    )
    assert seen[-1] == (3, 3)


def test_progress_is_reported_for_one_kind_alone(ds) -> None:
    seen = []
    snaps = pd.DataFrame({"dispute_id": ["D", "D", "PAIR"], "as_of": [day(30), day(60), day(60)]})
    FeatureBuilder(ds).transform(
        snaps, progress=lambda done, total, what: seen.append((done, total)), kinds=("day",)
    )
    assert seen == [(1, 3), (3, 3)]


def test_the_kinds_built_together_equal_the_kinds_built_apart() -> None:
    """transform builds the graph days on a second thread beside the case rows; the table
    must be the one each kind gives alone, in input order."""
    sim = simulate(persons=3000, years=1.5, seed=4)
    snaps = build_snapshots(sim, every=10).sample(frac=1.0, random_state=0)
    snaps = snaps[["dispute_id", "as_of"]]
    whole = FeatureBuilder(sim).transform(snaps)
    day_part = FeatureBuilder(sim).transform(snaps, kinds=("day",))
    case_part = FeatureBuilder(sim).transform(snaps, kinds=("case",))
    apart = pd.concat([day_part, case_part.drop(columns=["dispute_id", "as_of"])], axis=1)
    assert len(whole) == len(snaps) > 400
    pd.testing.assert_frame_equal(whole, apart[whole.columns])


def test_snapshot_groups_use_the_primary_party(ds) -> None:
    snaps = pd.DataFrame(
        {"dispute_id": ["D", "OTHER", "OLD"], "as_of": [day(60), day(60), day(60)]}
    )
    groups = snapshot_groups(ds, snaps)
    assert list(groups.columns) == [
        "dispute_id",
        "as_of",
        "gender",
        "age_band",
        "township",
        "category",
    ]
    # D: respondent B; OTHER: no respondent, so B (smallest id) over C; OLD: A
    assert groups["gender"].tolist() == ["female", "female", "male"]
    assert groups["age_band"].tolist() == ["30-44", "30-44", "60+"]
    assert groups["township"].tolist() == ["T", "T", "T"]
    assert groups["category"].tolist() == ["marriage_family", "marriage_family", "debt"]


def test_ends_are_judged_by_the_day_whatever_the_time_of_as_of() -> None:
    """``end_date`` is the last day under management; ``until`` is the day a tie ended.

    A flag ending on day 30 is active all of day 30 (12:00 and 23:59 too) and gone on day
    31; a tie with ``until`` day 30 counts on day 29 at 23:59 and no longer on day 30, at
    any hour. The dataset cut at as_of gives the same values.
    """
    persons = pd.DataFrame(
        {
            "person_id": ["A", "B"],
            "birth_year": [1970, 1980],
            "gender": ["male", "female"],
            "grid_id": ["G1", "G1"],
            "household_id": [None, None],
        }
    )
    ds = Dataset.from_frames(
        persons=persons,
        disputes=pd.DataFrame([dispute("D", day(0))]),
        dispute_parties=pd.DataFrame(
            [("D", "A", "claimant")], columns=["dispute_id", "person_id", "role"]
        ),
        person_flags=pd.DataFrame(
            [("A", "drug_user", 2, day(-10), day(30))],
            columns=["person_id", "flag", "level", "start_date", "end_date"],
        ),
        relationships=pd.DataFrame(
            [("A", "B", "spouse", None, day(30))],
            columns=["person_a", "person_b", "kind", "since", "until"],
        ),
    )
    hour = pd.Timedelta(hours=1)
    moments = {
        day(29) + 23 * hour + pd.Timedelta(minutes=59): (True, True),
        day(30): (True, False),
        day(30) + 12 * hour: (True, False),
        day(30) + 23 * hour + pd.Timedelta(minutes=59): (True, False),
        day(31): (False, False),
        day(31) + 6 * hour: (False, False),
    }
    for as_of, (flagged, tied) in moments.items():
        for data in (ds, ds.cut(as_of)):
            f = FeatureBuilder(data).features_for("D", as_of)
            assert f["party_flag_drug_user"] is flagged, as_of
            assert f["party_flags_active"] == int(flagged), as_of
            assert f["ties_spouse_sum"] == int(tied), as_of
            assert f["graph_neighbors"] == int(tied), as_of
            assert f["ties_ended_365d_sum"] == int(not tied), as_of


def test_area_rates_shrink_toward_their_own_county() -> None:
    """Two counties, each with one township called "T": a busy county C1 and a quiet C2.

    Two small grids with the same single dispute get different rates, each pulled toward
    its own county's rate; without counties both are pulled toward the pooled rate alike.
    """
    grids = pd.DataFrame(
        {
            "grid_id": ["G1a", "G1b", "G1s", "G2a", "G2b", "G2s"],
            "township": "T",
            "county": ["C1", "C1", "C1", "C2", "C2", "C2"],
            "population": [1000, 1000, 50, 1000, 1000, 50],
        }
    )
    persons = pd.DataFrame(
        {
            "person_id": ["A", "B"],
            "birth_year": [1970, 1980],
            "gender": ["male", "female"],
            "grid_id": ["G1s", "G2s"],
            "household_id": [None, None],
        }
    )
    busy = [dispute(f"X{i}", day(-i), grid_id=("G1a", "G1b")[i % 2]) for i in range(60)]
    rows = [dispute("D1", day(0), grid_id="G1s"), dispute("D2", day(0), grid_id="G2s")]
    rows += [*busy, dispute("Q", day(-3), grid_id="G2a")]
    parties = [(r["dispute_id"], "A" if r["grid_id"].startswith("G1") else "B") for r in rows]
    frames = dict(
        persons=persons,
        grids=grids,
        disputes=pd.DataFrame(rows),
        dispute_parties=pd.DataFrame(
            [(d, p, "claimant") for d, p in parties], columns=["dispute_id", "person_id", "role"]
        ),
    )
    snaps = pd.DataFrame({"dispute_id": ["D1", "D2"], "as_of": [day(1), day(1)]})

    def rates(grids: pd.DataFrame) -> pd.DataFrame:
        table = build_features(Dataset.from_frames(**{**frames, "grids": grids}), snaps)
        return table.set_index("dispute_id")

    by_county = rates(grids)
    c1, c2, raw = 1000 * 61 / 2050, 1000 * 2 / 2050, 1000 * 1 / 50
    g1, g2 = by_county["area_grid_disputes_365d_rate"]
    assert raw - 1e-9 <= g1 <= c1 + 1e-9  # between its own rate and busy C1's
    assert c2 - 1e-9 <= g2 <= raw + 1e-9  # between quiet C2's and its own
    assert g2 < raw < g1
    t1, t2 = by_county["area_township_disputes_365d_rate"]
    assert t1 == pytest.approx(c1) and t2 == pytest.approx(c2)  # one township per county

    pooled = rates(grids.assign(county=None))
    assert (
        pooled.loc["D1", "area_grid_disputes_365d_rate"]
        == pooled.loc["D2", "area_grid_disputes_365d_rate"]
    )
    assert (
        pooled.loc["D1", "area_township_disputes_365d_rate"]
        == pooled.loc["D2", "area_township_disputes_365d_rate"]
        == pytest.approx(1000 * 63 / 4100)
    )
