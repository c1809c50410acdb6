"""The simulated warning loop: warnings from recorded facts, handling, a planted effect."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pydantic import ValidationError

import riskwarn
from riskwarn import WarningLoop, simulate, simulate_with_truth
from riskwarn.errors import ConfigError


@pytest.fixture(scope="module")
def looped() -> riskwarn.Simulation:
    loop = WarningLoop(handled_share=0.5, effect=0.9, rollout="stepped")
    return simulate_with_truth(persons=200_000, years=3, seed=5, interventions=loop, oracle=False)


def test_without_the_loop_there_are_no_interventions():
    assert simulate(persons=2000, years=1, seed=5).interventions.empty


def test_interventions_follow_the_contract(looped, tmp_path):
    iv = looped.dataset.interventions
    assert len(iv) > 300 and iv["intervention_id"].is_unique
    assert set(iv["kind"]) == {"visit", "mediation_session", "referral", "protective_measure"}
    assert set(iv["warning_tier"]) == {"red", "orange"}
    assert iv.loc[iv["kind"] == "visit", "channel"].isna().all()
    assert iv.loc[iv["kind"] == "protective_measure", "channel"].eq("police").all()
    assert iv["at"].is_monotonic_increasing and iv["at"].max() < pd.Timestamp("2025-01-01")
    assert set(iv["dispute_id"]) <= set(looped.dataset.disputes["dispute_id"])
    out = riskwarn.write_dataset(looped.dataset, tmp_path / "looped")
    assert (out / "interventions.csv").is_file()
    assert riskwarn.validate_dataset(out).ok
    assert riskwarn.load_dataset(out).digest() == looped.dataset.digest()


def test_the_truth_says_what_the_loop_decided(looped):
    w = looped.truth.warnings
    assert {"dispute_id", "as_of", "score", "orange_threshold", "red_threshold", "warned",
            "tier", "township", "county", "rollout_at", "handled", "effect"} <= set(w.columns)  # fmt: skip
    assert (w["effect"] == 0.9).all() and (w["orange_threshold"] == 5.0).all()
    # a warning only where the loop has started, and only at or above a threshold
    assert not w.loc[w["warned"], "loop_started"].eq(False).any()
    assert (w["loop_started"] == (w["as_of"] >= w["rollout_at"])).all()
    assert (w.loc[w["warned"], "score"] >= 5.0).all()
    assert (w.loc[w["tier"] == "red", "score"] >= 8.0).all()
    # a stepped rollout: four township groups one quarter apart, from a year in
    starts = w.groupby("township")["rollout_at"].first()
    assert sorted(starts.unique()) == list(pd.date_range("2023-01-01", periods=4, freq="91D"))
    # about half of the new warnings handled, each with a visit on its handling day
    new = w[w["warned"] & ~w["handled_before"]]
    assert 0.4 < new["handled"].mean() < 0.6
    visits = looped.dataset.interventions.query("kind == 'visit'")
    assert len(visits) == new["handled"].sum()
    assert set(visits["dispute_id"]) == set(new.loc[new["handled"], "dispute_id"])


def test_handled_warnings_are_followed_by_fewer_incidents(looped):
    """The planted effect (90% less hazard) shows in the data: among new warnings, handled
    ones (chosen at random) have far fewer incidents in the next 90 days (the contract's
    label: an incident in the dispute, or one touching a party)."""
    ds, w = looped.dataset, looped.truth.warnings
    new = w[w["warned"] & ~w["handled_before"]][["dispute_id", "as_of", "handled"]]
    touching = pd.concat(
        [
            ds.incidents.dropna(subset=["dispute_id"])[["incident_id", "dispute_id"]],
            ds.incident_persons.merge(ds.dispute_parties, on="person_id")[
                ["incident_id", "dispute_id"]
            ],
        ]
    ).drop_duplicates()
    touching = touching.merge(ds.incidents[["incident_id", "occurred_at"]], on="incident_id")
    joined = new.merge(touching, on="dispute_id", how="left")
    joined["hit"] = (joined["occurred_at"] > joined["as_of"]) & (
        joined["occurred_at"] <= joined["as_of"] + pd.Timedelta(days=90)
    )
    hits = joined.groupby(["dispute_id", "as_of", "handled"])["hit"].any()
    counts = hits.groupby(level="handled").agg(["sum", "count"])
    assert counts.loc[False, "sum"] >= 20 and counts.loc[True, "count"] >= 200
    rate = counts["sum"] / counts["count"]
    assert rate[True] < 0.5 * rate[False]


def test_the_loop_through_the_cli(tmp_path, cli):
    out = tmp_path / "loop"
    result = cli(
        "simulate", str(out), "--persons", "20000", "--years", "2", "--interventions",
        "--handled-share", "0.8", "--effect", "0.5", "--rollout", "all",
        "--rollout-start", "2022-07-01",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert riskwarn.validate_dataset(out).ok
    w = pd.read_parquet(out / "_truth" / "warnings.parquet")
    assert (w["rollout_at"] == pd.Timestamp("2022-07-01")).all() and w["warned"].any()
    scenario = json.loads((out / "_truth" / "scenario.json").read_text(encoding="utf-8"))
    assert scenario["interventions"]["handled_share"] == 0.8
    assert scenario["interventions"]["rollout"] == "all"
    assert len(pd.read_csv(out / "interventions.csv")) > 0
    lonely = cli("simulate", str(out), "--persons", "500", "--effect", "0.5")
    assert lonely.returncode != 0 and "give --interventions too" in lonely.stderr
    wrong = cli("simulate", str(out), "--persons", "500", "--interventions", "--effect", "1.5")
    assert wrong.returncode != 0 and "--effect" in wrong.stderr


def test_the_loop_is_configured_strictly():
    with pytest.raises(ValidationError, match="red_threshold"):
        WarningLoop(orange_threshold=6.0, red_threshold=5.0)
    with pytest.raises(ValidationError, match="extra"):
        WarningLoop(handled_shar=0.5)


def test_a_rollout_outside_the_period_is_refused():
    with pytest.raises(ConfigError, match="outside the simulated period"):
        simulate(persons=500, years=1, interventions=WarningLoop(rollout_start="2030-01-01"))
