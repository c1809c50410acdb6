"""The county simulator: deterministic, contract-valid, realistic in its base rates and drivers."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

import riskwarn
from riskwarn import simulate
from riskwarn.features import build_snapshots

START = pd.Timestamp("2022-01-01")
YEARS = 3
N_DAYS = 1096  # 2022-01-01 .. 2024-12-31
END = START + pd.Timedelta(days=N_DAYS)
PERSONS = 15_000  # ~50 incidents in 3 years: every incident kind appears (at 10,000 one seed in five misses one)

# the enums of docs/contract.md, spelt out so that a change to either is seen here
ENUMS = {
    ("persons", "gender"): {"male", "female", "unknown"},
    ("person_flags", "flag"): {
        "severe_mental_disorder", "community_correction", "released_prisoner", "drug_user",
        "key_youth", "other",
    },
    ("relationships", "kind"): {
        "spouse", "former_spouse", "partner", "parent_child", "sibling", "relative", "neighbor",
        "colleague", "creditor_debtor", "landlord_tenant", "other",
    },
    ("disputes", "category"): {
        "marriage_family", "neighbor", "debt", "land_property", "labor_wage", "medical",
        "property_management", "contract", "other",
    },
    ("disputes", "source"): {
        "grid_visit", "hotline", "police_call", "petition", "mediation_center", "walk_in", "other",
    },
    ("dispute_parties", "role"): {"claimant", "respondent", "other"},
    ("dispute_events", "kind"): {
        "visit", "mediation_attempt", "mediation_success", "mediation_failure", "escalation",
        "threat", "police_call", "referral", "closed", "reopened",
    },
    ("petitions", "channel"): {"visit", "letter", "online", "hotline"},
    ("petitions", "level"): {"township", "county", "city", "province", "national"},
    ("incidents", "kind"): {
        "homicide", "attempted_homicide", "serious_injury", "self_harm", "arson", "other_extreme",
    },
    ("incident_persons", "role"): {"perpetrator", "victim", "other"},
}  # fmt: skip


@pytest.fixture(scope="module")
def county() -> riskwarn.Dataset:
    return simulate(persons=PERSONS, years=YEARS, seed=11, start="2022-01-01")


def snapshot_labels(ds: riskwarn.Dataset) -> pd.DataFrame:
    """Monthly snapshots of open disputes whose 90-day label is known (the feature library's)."""
    snaps = build_snapshots(ds, start=START, every=30, horizon=90)
    snaps = snaps[snaps["label_known"]]
    return snaps.assign(label=snaps["label"].astype(int))[["dispute_id", "as_of", "label"]]


@pytest.fixture(scope="module")
def snapshots(county) -> pd.DataFrame:
    return snapshot_labels(county).merge(county.disputes, on="dispute_id")


# -- determinism -------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_another_seed_differs():
    one = simulate(persons=2000, years=1, seed=5)
    two = simulate(persons=2000, years=1, seed=5)
    for name, frame in one.tables().items():
        pd.testing.assert_frame_equal(frame, two.table(name), obj=name)
    assert one.digest() == two.digest()
    assert simulate(persons=2000, years=1, seed=6).digest() != one.digest()


# Digests of counties simulated before the simulator learnt mechanisms, drift, interventions
# and provinces: with no new option the output must stay exactly what it was.
BEFORE_OPTIONS = {
    (2000, 1, 5): ("6a24fd1ff0955f16", "a64786ec6f68667f"),
    (3000, 2, 1): ("a3f460665c0ce57f", "b2d7e3b1d0f1953c"),
    (100, 0.5, 6): ("c37ff5dc9763af0b", "84ad006026e880db"),
}


@pytest.mark.parametrize(("persons", "years", "seed"), list(BEFORE_OPTIONS))
def test_default_output_is_byte_for_byte_what_it_was(persons, years, seed, tmp_path):
    ds = simulate(persons=persons, years=years, seed=seed)
    out = riskwarn.write_dataset(ds, tmp_path / "county")
    files = hashlib.sha256()
    for f in sorted(out.glob("*.csv")):
        files.update(f.name.encode())
        files.update(f.read_bytes())
    assert (ds.digest(), files.hexdigest()[:16]) == BEFORE_OPTIONS[(persons, years, seed)]
    assert not (out / "_truth").exists()


def test_a_tiny_short_county_is_still_valid_and_reports_progress(tmp_path):
    calls = []
    ds = simulate(persons=100, years=0.5, seed=6, progress=lambda *a: calls.append(a))
    riskwarn.write_dataset(ds, tmp_path / "tiny")
    assert riskwarn.validate_dataset(tmp_path / "tiny").ok
    assert calls[-1][0] == calls[-1][1]  # done == total at the end
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_rejects_a_county_too_small_to_simulate():
    with pytest.raises(ValueError, match="persons"):
        simulate(persons=10)


# -- the contract --------------------------------------------------------------------------------


def test_every_enum_value_of_every_table_appears(county):
    for (table, column), values in ENUMS.items():
        assert set(county.table(table)[column].dropna().unique()) == values, (table, column)


def test_written_county_passes_the_validator(county, tmp_path):
    riskwarn.write_dataset(county, tmp_path / "county")
    report = riskwarn.validate_dataset(tmp_path / "county")
    assert report.ok, report.format(limit=10)


def test_references_are_valid(county):
    persons = set(county.persons["person_id"])
    disputes = set(county.disputes["dispute_id"])
    assert set(county.persons["grid_id"]) == set(county.grids["grid_id"])
    assert set(county.disputes["grid_id"]) <= set(county.grids["grid_id"])
    for table, cols in {
        "person_flags": ["person_id"],
        "relationships": ["person_a", "person_b"],
        "dispute_parties": ["person_id"],
        "petitions": ["person_id"],
        "incident_persons": ["person_id"],
    }.items():
        for col in cols:
            assert set(county.table(table)[col]) <= persons, (table, col)
    for table in ("dispute_parties", "dispute_events", "petitions", "incidents"):
        assert set(county.table(table)["dispute_id"].dropna()) <= disputes, table
    assert set(county.incident_persons["incident_id"]) == set(county.incidents["incident_id"])
    for table, key in {"persons": "person_id", "disputes": "dispute_id", "grids": "grid_id",
                       "petitions": "petition_id", "incidents": "incident_id"}.items():  # fmt: skip
        assert county.table(table)[key].is_unique, table


def test_ids_are_pseudonymous_codes(county):
    patterns = {
        ("persons", "person_id"): r"P\d{6}", ("persons", "household_id"): r"H\d{5,}",
        ("grids", "grid_id"): r"G\d{3,}", ("disputes", "dispute_id"): r"D\d{5,}",
        ("petitions", "petition_id"): r"PT\d{6,}", ("incidents", "incident_id"): r"I\d{5,}",
    }  # fmt: skip
    for (table, col), pattern in patterns.items():
        assert county.table(table)[col].str.fullmatch(pattern).all(), (table, col)


def test_timestamps_lie_in_the_period(county):
    stamps = {
        "disputes": ["reported_at"], "dispute_events": ["at"], "petitions": ["filed_at"],
        "incidents": ["occurred_at"], "person_flags": ["start_date", "end_date"],
        "relationships": ["since", "until"],
    }  # fmt: skip
    for table, cols in stamps.items():
        for col in cols:
            s = county.table(table)[col].dropna()
            assert len(s) and s.min() >= START and s.max() < END, (table, col)
    hours = county.disputes["reported_at"].dt.hour
    assert hours.between(8, 18).mean() > 0.7  # registered mostly in working hours
    assert (hours < 6).mean() > 0.005  # police calls come at night too


def test_events_follow_registration_in_a_plausible_order(county):
    ev = county.dispute_events.merge(
        county.disputes[["dispute_id", "reported_at"]], on="dispute_id"
    )
    assert (ev["at"] > ev["reported_at"]).all()
    ev = ev.sort_values(["dispute_id", "at"], kind="stable")
    # closed and reopened alternate, starting with closed; nothing happens while closed
    step = ev["kind"].map({"closed": 1, "reopened": -1}).fillna(0).astype(int)
    before = step.groupby(ev["dispute_id"]).cumsum() - step
    assert before.isin([0, 1]).all()
    assert ((before == 1) == (ev["kind"] == "reopened")).all()
    # every recorded mediation outcome follows a recorded attempt in the same dispute
    attempts = (ev["kind"] == "mediation_attempt").groupby(ev["dispute_id"]).cumsum()
    outcome = ev["kind"].isin(["mediation_success", "mediation_failure"])
    assert (attempts[outcome] > 0).all()
    inc = county.incidents.dropna(subset=["dispute_id"]).merge(county.disputes, on="dispute_id")
    assert (inc["occurred_at"] > inc["reported_at"]).all()


def test_divorces_end_a_marriage_and_begin_a_former_spouse_tie(county):
    r = county.relationships
    ended = r[(r["kind"] == "spouse") & r["until"].notna()]
    began = r[(r["kind"] == "former_spouse") & r["since"].notna()]
    assert len(ended) > 10
    joined = ended.merge(began, on=["person_a", "person_b"], suffixes=("", "_former"))
    assert len(joined) >= 0.9 * len(ended)
    assert (joined["until"] == joined["since_former"]).all()


# -- base rates --------------------------------------------------------------------------------


def test_people_households_and_grids_look_like_a_county(county):
    p = county.persons
    age = 2022 - p["birth_year"].dropna()
    assert 0.10 < (age >= 65).mean() < 0.22  # China 2020: 13.5% aged 65+
    assert 0.12 < (age < 15).mean() < 0.22  # China 2020: 18%
    assert 0.0 < (p["gender"] == "unknown").mean() < 0.02
    assert 2.2 < p.groupby("household_id").size().mean() < 3.2
    g = county.grids
    assert 220 <= g["population"].mean() <= 400
    assert g["county"].nunique() == 1 and 10 <= g["township"].nunique() <= 20
    assert g["population"].sum() == len(p)


def test_disputes_come_at_a_plausible_rate(county):
    per_100_year = 100 * len(county.disputes) / PERSONS / YEARS
    assert 3.0 <= per_100_year <= 5.0
    parties = county.dispute_parties.groupby("dispute_id").size()
    assert (parties > 2).mean() > 0.05  # several parties in some
    closed = county.dispute_events.query("kind == 'closed'").groupby("dispute_id")["at"].min()
    days = (closed - county.disputes.set_index("dispute_id")["reported_at"]).dt.days.dropna()
    assert 5 <= days.median() <= 45  # most close within weeks
    assert (days > 180).mean() > 0.01  # some drag on


def test_special_populations_are_rare(county):
    share = county.person_flags.groupby("flag")["person_id"].nunique() / PERSONS
    assert (share > 0).all() and (share < 0.01).all()
    levels = county.person_flags.query("flag == 'severe_mental_disorder'")["level"]
    assert levels.notna().all() and set(levels) <= set(range(6))


def test_debts_form_over_time_and_some_owe_many(county):
    debts = county.relationships.query("kind == 'creditor_debtor'")
    assert debts["since"].notna().mean() > 0.3
    assert (debts.groupby("person_b").size() >= 5).sum() >= 3


def test_petitions_climb_and_land_and_wage_cases_petition_collectively(county):
    pet = county.petitions.dropna(subset=["dispute_id"])
    levels = pet.groupby("dispute_id")["level"].nunique()
    assert (levels >= 2).sum() >= 5
    collective = pet[pet["collective"]].merge(county.disputes, on="dispute_id")
    assert set(collective["category"]) <= {"land_property", "labor_wage", "property_management"}
    assert {"land_property", "labor_wage"} <= set(collective["category"])


def test_incidents_mostly_grow_out_of_disputes(county):
    inc = county.incidents
    linked = inc["dispute_id"].notna().mean()
    assert 0.5 < linked < 0.97
    ip = county.incident_persons
    self_harm = ip.merge(inc, on="incident_id").query("kind == 'self_harm'")
    assert (self_harm["role"] == "perpetrator").all()
    assert (self_harm.groupby("incident_id").size() == 1).all()


def test_violent_perpetrators_are_held_and_do_not_strike_again_soon(county):
    ip = county.incident_persons.merge(county.incidents, on="incident_id")
    perp = ip[ip["role"] == "perpetrator"].sort_values("occurred_at")
    violent = perp[perp["kind"].isin(["homicide", "attempted_homicide"])]
    later = perp.merge(violent[["person_id", "occurred_at"]], on="person_id", suffixes=("", "_v"))
    assert not (later["occurred_at"] > later["occurred_at_v"]).any()
    assert perp.groupby("person_id").size().max() <= 4


def test_a_few_percent_of_monthly_snapshots_are_positive(snapshots):
    assert len(snapshots) > 1000
    assert 0.01 <= snapshots["label"].mean() <= 0.04


# -- drivers and drift -------------------------------------------------------------------------


def test_threats_at_registration_raise_the_label_rate(snapshots):
    rate = snapshots.groupby("threat_reported")["label"].mean()
    assert rate[True] > 1.8 * rate[False]


def test_recorded_threats_and_failures_before_a_snapshot_predict_it(county, snapshots):
    ev = county.dispute_events
    for kind in ("threat", "mediation_failure"):
        first = ev[ev["kind"] == kind].groupby("dispute_id")["at"].min().rename("first")
        s = snapshots.merge(first, on="dispute_id", how="left")
        seen = s["first"] <= s["as_of"]
        assert s.loc[seen, "label"].mean() > 1.5 * s.loc[~seen, "label"].mean(), kind


def test_reporting_habits_shift_in_the_last_year(county):
    d = county.disputes
    last = d["reported_at"] >= END - pd.Timedelta(days=365)
    hotline = (d["source"] == "hotline").groupby(last).mean()
    threat = d["threat_reported"].groupby(last).mean()
    assert hotline[True] > 1.25 * hotline[False]
    assert threat[True] > 1.15 * threat[False]
    ev = county.dispute_events.merge(d[["dispute_id", "reported_at"]], on="dispute_id")
    early = ev[(ev["at"] - ev["reported_at"]) < pd.Timedelta(days=14)]
    visits = (
        (early["kind"] == "visit")
        .groupby(early["reported_at"] >= END - pd.Timedelta(days=365))
        .sum()
    )
    per_dispute = visits / d.groupby(last).size()
    assert per_dispute[True] < 0.75 * per_dispute[False]


def test_grids_differ_in_how_much_they_record(county):
    ev = county.dispute_events.merge(county.disputes[["dispute_id", "grid_id"]], on="dispute_id")
    visits = ev[ev["kind"] == "visit"].groupby("grid_id").size()
    per_dispute = (visits / county.disputes.groupby("grid_id").size()).fillna(0)
    assert per_dispute.quantile(0.9) > 2 * per_dispute.quantile(0.1)
