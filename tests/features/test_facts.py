"""Key facts: each fact on a small hand-made dataset, point in time (rows dated after as_of
change nothing), and the three paths (snapshots, a held case, a case given as rows) agree."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskwarn import Dataset
from riskwarn.errors import RequestError
from riskwarn.features import FACT_CODES, FACTS, FeatureBuilder, KeyFact, build_facts, fact_spec

T0 = pd.Timestamp("2024-01-01")


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def _dispute(did: str, at: pd.Timestamp, **extra) -> dict:
    row = dict(
        dispute_id=did,
        reported_at=at,
        grid_id="G1",
        category="neighbor",
        source="hotline",
        threat_reported=False,
        violence_reported=False,
        weapon_mentioned=False,
        amount_involved=None,
        summary=None,
    )
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def ds() -> Dataset:
    """A, B quarrel (dispute D); they had a homicide attempt and an injury before; C alone
    (dispute SOLO) threatened at registration; E under management and freshly released."""
    persons = pd.DataFrame(
        {
            "person_id": ["A", "B", "C", "E"],
            "birth_year": [1970, 1980, 1990, 1975],
            "gender": ["male", "female", "male", "male"],
            "grid_id": ["G1", "G1", "G1", "G1"],
            "household_id": [None, None, None, None],
        }
    )
    grids = pd.DataFrame({"grid_id": ["G1"], "township": ["T"], "county": "C", "population": [100]})
    disputes = pd.DataFrame(
        [
            _dispute("D", day(0), weapon_mentioned=True),
            _dispute("SOLO", day(50), threat_reported=True),
            _dispute("FLAGGED", day(0)),
        ]
    )
    parties = pd.DataFrame(
        {
            "dispute_id": ["D", "D", "SOLO", "FLAGGED", "FLAGGED"],
            "person_id": ["A", "B", "C", "C", "E"],
            "role": ["claimant", "respondent", "claimant", "claimant", "respondent"],
        }
    )
    events = pd.DataFrame(
        {
            "dispute_id": ["D", "D"],
            "at": [day(20), day(40)],
            "kind": ["threat", "mediation_failure"],
            "note": [None, None],
        }
    )
    incidents = pd.DataFrame(
        {
            "incident_id": ["I1", "I2", "I3"],
            "occurred_at": [day(-400), day(30) + pd.Timedelta(hours=5), day(35)],
            "kind": ["attempted_homicide", "serious_injury", "self_harm"],
            "dispute_id": [None, "D", None],
        }
    )
    incident_persons = pd.DataFrame(
        {
            "incident_id": ["I1", "I1", "I2", "I2", "I3"],
            "person_id": ["A", "B", "A", "B", "C"],
            "role": ["perpetrator", "victim", "perpetrator", "victim", "other"],
        }
    )
    flags = pd.DataFrame(
        {
            "person_id": ["E", "E", "C"],
            "flag": ["severe_mental_disorder", "released_prisoner", "community_correction"],
            "level": [4, None, None],
            "start_date": [day(5), day(-100), day(-700)],
            "end_date": [None, None, day(-200)],
        }
    )
    empty = {
        "petitions": pd.DataFrame(
            columns=[
                "petition_id",
                "person_id",
                "filed_at",
                "channel",
                "level",
                "repeat",
                "collective",
                "dispute_id",
            ]
        ),
        "relationships": pd.DataFrame(columns=["person_a", "person_b", "kind", "since", "until"]),
    }
    return Dataset.from_frames(
        persons=persons,
        grids=grids,
        disputes=disputes,
        dispute_parties=parties,
        dispute_events=events,
        incidents=incidents,
        incident_persons=incident_persons,
        person_flags=flags,
        **empty,
    )


def codes(facts: list[KeyFact]) -> list[str]:
    return [f.code for f in facts]


def test_every_fact_is_declared_once_with_both_languages() -> None:
    assert len(set(FACT_CODES)) == len(FACTS) == 7
    for spec in FACTS:
        assert spec.text_en and spec.text_zh and spec.description_en and spec.description_zh
    with pytest.raises(KeyError, match="Did you mean 'pair_homicide'"):
        fact_spec("pair_homicde")


def test_earlier_incidents_between_the_parties_and_recent_ones(ds) -> None:
    b = FeatureBuilder(ds)
    before = b.facts_for("D", day(10))  # only the old attempt so far; a weapon at registration
    assert codes(before) == ["pair_homicide", "pair_incident", "weapon_mentioned"]
    homicide = before[0]
    assert homicide.text_zh == "双方之间已发生命案或杀人未遂1起，最近一次在2022-11-27"
    assert homicide.text_en.startswith("1 homicide or attempted homicide between the parties")
    assert homicide.at == day(-400)
    assert before[2].at == day(0) and before[2].text_zh == "2024-01-01登记时提及凶器"

    after = b.facts_for("D", day(31))
    assert codes(after) == [
        "pair_homicide",
        "pair_incident",
        "party_incident_180d",
        "weapon_mentioned",
    ]
    pair = after[1]
    assert pair.text_zh == "双方之间已发生极端事件2起（杀人未遂、致人重伤），最近一次在2024-01-31"
    assert pair.at == day(30) + pd.Timedelta(hours=5)
    recent = after[2]
    assert "perpetrator or victim of 1 extreme incident in the last 180 days" in recent.text_en
    assert "serious injury" in recent.text_en
    # 180 days after the injury it is no longer recent; the history between them stays
    late = b.facts_for("D", day(30) + pd.Timedelta(days=181))
    assert "party_incident_180d" not in codes(late) and "pair_incident" in codes(late)
    # an incident in which a party was neither perpetrator nor victim does not count
    assert "party_incident_180d" not in codes(b.facts_for("SOLO", day(60)))


def test_threats_in_the_last_seven_days(ds) -> None:
    b = FeatureBuilder(ds)
    assert "threat_7d" not in codes(b.facts_for("D", day(19)))
    threat = next(f for f in b.facts_for("D", day(26)) if f.code == "threat_7d")
    assert threat.text_zh == "近7天有威胁1次（事件记录），最近一次在2024-01-21"
    assert "threat_7d" not in codes(b.facts_for("D", day(27) + pd.Timedelta(seconds=1)))
    at_registration = next(f for f in b.facts_for("SOLO", day(52)) if f.code == "threat_7d")
    assert at_registration.text_en == (
        "1 threat in the last 7 days (at registration), the latest on 2024-02-20"
    )
    assert "threat_7d" not in codes(b.facts_for("SOLO", day(58)))


def test_danger_level_release_and_community_correction(ds) -> None:
    b = FeatureBuilder(ds)
    # before the management record started (day 5), no danger level is known
    assert codes(b.facts_for("FLAGGED", day(4))) == ["released_or_correction_1y"]
    facts = {f.code: f for f in b.facts_for("FLAGGED", day(6))}
    assert set(facts) == {"danger_level_3", "released_or_correction_1y"}
    assert (
        facts["danger_level_3"].text_zh
        == "有当事人为在管严重精神障碍患者，危险等级4级，自2024-01-06起"
    )
    # the release (day -100) is later than the end of C's correction (day -200)
    assert facts["released_or_correction_1y"].text_en == (
        "a party was released from prison on 2023-09-23"
    )
    assert facts["released_or_correction_1y"].at == day(-100)
    far = b.facts_for("FLAGGED", day(300))  # release more than a year ago, correction too
    assert codes(far) == ["danger_level_3"]


def test_a_case_reported_after_as_of_is_refused(ds) -> None:
    with pytest.raises(RequestError, match="key facts exist only for disputes known at as_of"):
        FeatureBuilder(ds).facts_for("SOLO", day(10))


def test_facts_serialise_to_plain_json(ds) -> None:
    fact = FeatureBuilder(ds).facts_for("D", day(31))[1]
    assert fact.to_dict() == {
        "code": "pair_incident",
        "text_zh": fact.text_zh,
        "text_en": fact.text_en,
        "at": "2024-01-31T05:00:00",
    }


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
moments = st.tuples(st.integers(0, 10_000), st.integers(20, 230), st.integers(0, 86_399))


def _known(ds: Dataset, t: pd.Timestamp) -> pd.DataFrame:
    ids = sorted(ds.disputes.loc[ds.disputes["reported_at"] <= t, "dispute_id"])
    return pd.DataFrame({"dispute_id": pd.array(ids, dtype="str"), "as_of": [t] * len(ids)})


@SETTINGS
@given(moments, st.data())
def test_rows_dated_after_as_of_change_nothing(kit, m, data) -> None:
    seed, d, seconds = m
    ds = kit.random_dataset(seed)
    t = day(d) + pd.Timedelta(seconds=seconds)
    snaps = _known(ds, t)
    later = kit.appended(ds, data.draw(kit.future_rows(ds, t), label="rows after as_of"))
    assert build_facts(ds, snaps) == build_facts(later, snaps) == build_facts(ds.cut(t), snaps)


@SETTINGS
@given(moments)
def test_the_three_paths_agree(kit, m) -> None:
    seed, d, seconds = m
    ds = kit.random_dataset(seed)
    t = day(d) + pd.Timedelta(seconds=seconds)
    snaps = _known(ds, t)
    builder = FeatureBuilder(ds)
    batch = builder.facts(snaps)
    for did, facts in zip(snaps["dispute_id"], batch, strict=True):
        assert builder.facts_for(did, t) == facts
        dispute = ds.disputes.loc[ds.disputes["dispute_id"] == did].iloc[0].to_dict()
        parties = ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == did]
        events = ds.dispute_events.loc[ds.dispute_events["dispute_id"] == did]
        rows = builder.facts_for_case(
            dispute, parties.to_dict("records"), events.to_dict("records"), t
        )
        assert rows == facts


def test_random_datasets_produce_facts(kit) -> None:
    """The property tests above compare something: random datasets do hold facts."""
    found = set()
    for seed in range(40):
        ds = kit.random_dataset(seed)
        found |= {f.code for fs in build_facts(ds, _known(ds, day(200))) for f in fs}
    assert {"pair_incident", "weapon_mentioned", "party_incident_180d"} <= found
