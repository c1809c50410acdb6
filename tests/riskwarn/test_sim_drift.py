"""Named drift scenarios: the none world before their start, a measurable change after it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import riskwarn
from riskwarn import simulate, simulate_with_truth
from riskwarn.errors import ConfigError

PERSONS, YEARS, SEED = 20_000, 3, 4
START = pd.Timestamp(
    "2024-01-06"
)  # default: the last 365 days (from 2024-01-02), on a week boundary


@pytest.fixture(scope="module")
def none() -> riskwarn.Simulation:
    return simulate_with_truth(persons=PERSONS, years=YEARS, seed=SEED)


@pytest.fixture(scope="module")
def drifted() -> dict[str, riskwarn.Simulation]:
    return {
        name: simulate_with_truth(persons=PERSONS, years=YEARS, seed=SEED, drift=name)
        for name in ("covariate", "concept", "recording")
    }


@pytest.mark.parametrize("name", ["covariate", "concept", "recording"])
def test_before_its_start_a_drifted_county_is_the_none_county(none, drifted, name, tmp_path):
    sim = drifted[name]
    assert sim.truth.scenario["drift"]["start"] == START.isoformat()
    assert sim.truth.scenario["drift"]["requested_start"] == "2024-01-02"
    just_before = START - pd.Timedelta(seconds=1)
    early, same = sim.dataset.cut(just_before), none.dataset.cut(just_before)
    for table, frame in same.tables().items():
        pd.testing.assert_frame_equal(early.table(table), frame, obj=table)
    assert sim.dataset.digest() != none.dataset.digest()
    written = riskwarn.write_dataset(sim.dataset, tmp_path / name)
    assert riskwarn.validate_dataset(written).ok


def _threat_gap(sim: riskwarn.Simulation) -> tuple[float, float]:
    """Mean log hazard of disputes registered with a threat minus without, in the year before
    and the year after the drift start (from the oracle: the hazard the simulator drew)."""
    oracle = sim.truth.oracle
    threat = sim.dataset.disputes.set_index("dispute_id")["threat_reported"]
    log_h = np.log(-np.log1p(-oracle["hazard_week"]))
    has = threat.loc[oracle["dispute_id"]].to_numpy()
    after = (oracle["as_of"] >= START).to_numpy()
    before = (oracle["as_of"] >= START - pd.Timedelta(days=365)).to_numpy() & ~after
    return tuple(float(log_h[w & has].mean() - log_h[w & ~has].mean()) for w in (before, after))


def test_concept_drift_lowers_the_weight_of_threats_after_its_start(none, drifted):
    plain_before, plain_after = _threat_gap(none)
    drift_before, drift_after = _threat_gap(drifted["concept"])
    assert drift_before == pytest.approx(plain_before)
    # threat_at_registration 0.9 -> 0.3 (and threat events 0.5 -> 0.15): the gap shrinks
    # against the none county's after the start (the built-in change of recording habits
    # in the last year moves both alike)
    assert drift_after < plain_after - 0.25


def test_covariate_drift_brings_more_debt_and_older_parties_after_its_start(none, drifted):
    def mix(ds: riskwarn.Dataset) -> tuple[float, float, float]:
        d = ds.disputes[ds.disputes["reported_at"] >= START]
        parties = ds.dispute_parties.merge(d[["dispute_id"]]).merge(ds.persons, on="person_id")
        age = (2022 - parties["birth_year"].dropna()).mean()
        return len(d), (d["category"] == "debt").mean(), age

    n0, debt0, age0 = mix(none.dataset)
    n1, debt1, age1 = mix(drifted["covariate"].dataset)
    assert n1 > 1.1 * n0
    assert debt1 > 1.3 * debt0
    assert age1 > age0 + 1.0


def test_recording_drift_silences_visits_in_the_changed_grids(none, drifted):
    sim = drifted["recording"]
    changed = set(sim.truth.scenario["drift"]["changed_grids"])
    assert 0.2 < len(changed) / len(sim.dataset.grids) < 0.4

    def visits(ds: riskwarn.Dataset) -> pd.Series:
        ev = ds.dispute_events.merge(ds.disputes[["dispute_id", "grid_id"]], on="dispute_id")
        ev = ev[ev["kind"] == "visit"]
        return ev.groupby([ev["grid_id"].isin(changed), ev["at"] >= START]).size()

    plain, silent = visits(none.dataset), visits(sim.dataset)
    assert silent.get((True, True), 0) == 0 < plain[(True, True)]
    assert silent[(True, False)] == plain[(True, False)]
    assert silent[(False, True)] == plain[(False, True)]  # the other grids record as before
    # the true course does not depend on recording: same incidents, same disputes
    pd.testing.assert_frame_equal(sim.dataset.incidents, none.dataset.incidents)


def test_drift_through_the_cli_writes_its_scenario(tmp_path, cli):
    out = tmp_path / "drifted"
    result = cli(
        "simulate", str(out), "--persons", "3000", "--years", "2", "--drift", "concept",
        "--drift-start", "2023-03-01",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    scenario = json.loads((out / "_truth" / "scenario.json").read_text(encoding="utf-8"))
    assert scenario["drift"]["scenario"] == "concept"
    assert scenario["drift"]["requested_start"] == "2023-03-01"
    assert scenario["drift"]["start"] == "2023-03-04T00:00:00"  # the next week boundary
    assert scenario["drift"]["parameters"]["hazard"]["threat_at_registration"] == 0.3
    assert riskwarn.validate_dataset(out).ok
    bad = cli("simulate", str(out), "--persons", "3000", "--drift", "concpt")
    assert bad.returncode != 0 and "Did you mean 'concept'?" in bad.stderr


def test_a_drift_start_outside_the_period_or_without_a_drift_is_refused():
    with pytest.raises(ConfigError, match="inside the simulated period"):
        simulate(persons=500, years=1, drift="concept", drift_start="2030-01-01")
    with pytest.raises(ConfigError, match="inside the simulated period"):
        simulate(persons=500, years=1, drift="recording", drift_start="2021-06-01")
    with pytest.raises(ConfigError, match="give --drift too"):
        simulate(persons=500, years=1, drift_start="2022-06-01")


def test_options_combine_and_a_drift_still_begins_on_time():
    """A drift in a province with the warning loop: equal to the same run without the drift
    before its start, and contract-valid."""
    options = {"persons": 6000, "years": 2, "seed": 9, "counties": 2, "interventions": True}
    plain = simulate(**options)
    drifted = simulate_with_truth(**options, drift="covariate", drift_start="2023-06-01")
    start = pd.Timestamp(drifted.truth.scenario["drift"]["start"])
    before = start - pd.Timedelta(seconds=1)
    assert drifted.dataset.cut(before).digest() == plain.cut(before).digest()
    assert len(drifted.dataset.interventions) > 0
    assert drifted.truth.scenario["counties"] == 2
    assert drifted.truth.scenario["interventions"]["effect"] == 0.3
