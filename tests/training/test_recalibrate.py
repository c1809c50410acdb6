"""Recalibration on a county where risk changed after training: the candidates, what earns
registration, tiers that keep their cases, and a challenger that is never promoted by it."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from riskwarn import write_dataset
from riskwarn.cli import main
from riskwarn.errors import ConfigError
from riskwarn.training import (
    Calibrator,
    RiskModel,
    load_model,
    monitor,
    parse_config,
    recalibrate_model,
    train,
)

from ._monitoring import FAST, model_until, more_incidents

WINDOWS = {"window_days": 180, "validation_days": 90}


@pytest.fixture(scope="module")
def model(county) -> RiskModel:  # type: ignore[no-untyped-def]
    return model_until(county, "2023-12-31")


@pytest.fixture(scope="module")
def changed(county):  # type: ignore[no-untyped-def]
    """Risk works differently from 2024: many more incidents than the model learned."""
    return more_incidents(county, "2023-12-31", share=0.3)


@pytest.fixture(scope="module")
def outcome(changed, model):  # type: ignore[no-untyped-def]
    return recalibrate_model(changed, model, **WINDOWS)


def test_fits_in_order_of_freedom_and_judges_on_newer_snapshots(outcome, model) -> None:  # type: ignore[no-untyped-def]
    after = pd.Timestamp(model.metadata.windows["test"].end)
    fit, val = outcome.fit_window, outcome.validation_window
    assert after < fit.start and fit.end < val.start
    assert val.end - val.start <= pd.Timedelta(days=90) and fit.end - fit.start <= pd.Timedelta(
        days=180
    )
    methods = [c.method for c in outcome.candidates]
    assert methods[:2] == ["intercept", "logistic"]
    assert ("isotonic" in methods) == (fit.events >= 100) and (
        "isotonic" in methods or "isotonic" in outcome.skipped
    )


def test_a_recalibration_that_beats_the_current_model_is_chosen(outcome) -> None:  # type: ignore[no-untyped-def]
    assert outcome.registered, outcome.reason
    best = outcome.chosen
    assert best.validation_logloss < outcome.current_logloss
    assert best.validation_logloss == min(c.validation_logloss for c in outcome.candidates)
    # the current risks run far too low; the chosen ones add up much better
    before = outcome.current_validation["observed_expected"]["value"]
    after = best.validation["observed_expected"]["value"]
    assert before > 1.5 and abs(after - 1) < abs(before - 1)
    assert not any(g.worse for g in outcome.groups)
    new = outcome.model
    assert new.metadata.recalibration.method == best.method
    assert new.metadata.labels_end >= pd.Timestamp(outcome.validation_window.end) + pd.Timedelta(
        days=90
    )


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_the_new_calibrator_is_the_old_one_composed_with_the_map(changed, model, method) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    raw = np.sort(rng.beta(1, 20, 4000))
    base = Calibrator(method).fit(raw, (rng.random(4000) < raw).astype(float))
    current = RiskModel(model.estimator, base, model.metadata)
    found = recalibrate_model(changed, current, **WINDOWS)
    for c in found.candidates:
        if c.method == "isotonic":
            continue
        a, b = c.parameters["a"], c.parameters["b"]
        grid = base.x_ if method == "isotonic" else raw  # isotonic: exact at its knots
        want = expit(a + b * logit(np.clip(base.predict(grid), 1e-6, 1 - 1e-6)))
        assert c.calibrator.predict(grid) == pytest.approx(want, rel=1e-4, abs=1e-6)


def test_capacity_tiers_keep_their_cases(outcome, model) -> None:  # type: ignore[no-untyped-def]
    x = outcome.validation.x
    before = model.tiers(model.predict_risk(x))
    after = outcome.model.tiers(outcome.model.predict_risk(x))
    assert (before == after).mean() > 0.99


def test_nothing_matured_after_training_is_a_clear_error(county, model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="expected matured snapshots after the model's training"):
        recalibrate_model(county, model, "2023-12-31", **WINDOWS)


def test_the_command_registers_a_challenger_and_never_promotes_it(  # type: ignore[no-untyped-def]
    county_dir, changed, store, tmp_path, capsys
) -> None:
    train(county_dir, parse_config(FAST), train_until="2023-12-31", tracking_uri=store)
    assert main(["promote"]) == 0
    data = write_dataset(changed, tmp_path / "changed", "parquet")
    capsys.readouterr()
    status = main(["recalibrate", str(data), "--window", "180", "--validation", "90"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "registered version 2 as 'challenger'" in out and "champion unchanged" in out
    client = mlflow.MlflowClient(store)
    assert str(client.get_model_version_by_alias("riskwarn", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("riskwarn", "challenger").version) == "2"
    assert client.get_model_version("riskwarn", "2").tags["recalibrated_from"] == "1"
    challenger = load_model("models:/riskwarn@challenger")
    assert challenger.metadata.recalibration.parent_version == "1"
    # the challenger is monitored from after the labels it was recalibrated on
    result = monitor(changed, challenger, n_boot=0)
    assert all(
        m.as_of > challenger.metadata.recalibration.validation_window.end for m in result.months
    )
    # promote decides as for any challenger
    assert main(["promote"]) == 0
    assert "champion" in capsys.readouterr().out
