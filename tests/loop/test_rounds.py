"""Scoring rounds from a model (no simulator truth): the loop's start per township is read
from the interventions the warnings prompted, and the evaluation runs on them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from riskwarn import WarningLoop, simulate_with_truth
from riskwarn.loop import evaluate_rounds, model_rounds, truth_rounds
from riskwarn.training import build_table, fit_evaluate, parse_config, training_data

FAST = {"bootstrap": 0, "baselines": False, "lgbm": {"n_estimators": 60}, "search": {"grid": {}}}


@pytest.fixture(scope="module")
def looped():  # type: ignore[no-untyped-def]
    loop = WarningLoop(handled_share=0.8, effect=0.5, rollout_start=dt.date(2022, 7, 1))
    return simulate_with_truth(20000, 3, 11, interventions=loop, oracle=False)


@pytest.mark.slow
def test_a_model_rescoring_the_data_gives_rounds_to_evaluate(looped) -> None:  # type: ignore[no-untyped-def]
    ds = looped.dataset
    cfg = parse_config(FAST)
    model = fit_evaluate(training_data(build_table(ds, train_until="2023-06-30"), cfg), cfg).model
    rounds = model_rounds(ds, model, every_days=91)
    assert set(rounds.columns) == {"dispute_id", "as_of", "township", "tier", "score", "threshold"}
    assert rounds["as_of"].nunique() >= 10 and rounds["township"].notna().all()
    assert (rounds["threshold"] == model.thresholds["orange"]).all()
    first = rounds.groupby("as_of").size()
    assert first.min() > 0
    ev = evaluate_rounds(ds, rounds, bootstrap=50)
    assert len(ev.warnings) > 0 and set(ev.warnings["tier"]) <= {"red", "orange"}
    # no truth: each township starts with its first warning-prompted intervention
    acts = ds.interventions[ds.interventions["warning_tier"].notna()]
    assert ev.warnings["issued_at"].min() >= acts["at"].min() - pd.Timedelta(days=91)
    assert "stepped rollout" in ev.text()


def test_truth_rounds_carry_the_transparent_score_and_the_rollout(looped) -> None:  # type: ignore[no-untyped-def]
    rounds = truth_rounds(looped.truth.warnings)
    assert (rounds["threshold"] == 5.0).all()
    eligible = rounds["tier"].notna()
    assert (rounds.loc[eligible, "score"] >= 5.0).all()
    assert (rounds.loc[~eligible, "score"] < 5.0).all()
    assert rounds["rollout_at"].nunique() == 4
