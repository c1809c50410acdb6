"""Monitoring a model on a simulated county: point in time, months and maturity, alarms on
planted drift and silence without it, the report, and the MLflow run through the CLI."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from riskwarn.cli import main
from riskwarn.errors import ConfigError
from riskwarn.features import REGISTRY
from riskwarn.training import (
    Calibrator,
    RiskModel,
    latest_monitor,
    monitor,
    parse_config,
    render_html,
    train,
)

from ._monitoring import FAST, model_until, more_incidents

AS_OF = "2024-09-30"


@pytest.fixture(scope="module")
def model(county) -> RiskModel:  # type: ignore[no-untyped-def]
    return model_until(county, "2023-12-31")


@pytest.fixture(scope="module")
def result(county, model):  # type: ignore[no-untyped-def]
    return monitor(county, model, AS_OF, n_boot=50)


def test_monitoring_reads_nothing_dated_after_as_of(county, model, result) -> None:  # type: ignore[no-untyped-def]
    as_of = pd.Timestamp(AS_OF) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    assert result.as_of == as_of
    # the county holds three months more than AS_OF; without them, or with a burst of
    # incidents planted after AS_OF, the result is the same to the last figure
    blind = monitor(county.cut(as_of), model, AS_OF, n_boot=50)
    planted = monitor(more_incidents(county, AS_OF, share=0.5), model, AS_OF, n_boot=50)
    assert blind.model_dump() == result.model_dump()
    assert planted.model_dump() == result.model_dump()
    # while a later as_of does see the planted incidents
    later = monitor(more_incidents(county, AS_OF, share=0.5), model, n_boot=50)
    assert later.as_of > as_of and len(later.months) > len(result.months)


def test_months_follow_the_training_data_and_mature_after_the_horizon(model, result) -> None:  # type: ignore[no-untyped-def]
    reference = model.metadata.windows["test"]
    assert result.reference.start == reference.start and result.reference.end == reference.end
    assert result.months and all(m.as_of > reference.end for m in result.months)
    steps = np.diff([pd.Timestamp(m.as_of) for m in result.months])
    assert (steps == pd.Timedelta(days=30)).all()
    horizon = pd.Timedelta(days=90)
    for m in result.months:
        assert m.matured == (pd.Timestamp(m.as_of) + horizon <= pd.Timestamp(result.as_of))
        assert set(m.estimated) == {
            "event_rate",
            "precision_red",
            "precision_orange",
            "roc_auc",
            "pr_auc",
        }
        assert bool(m.realised) == m.matured and (m.events is not None) == m.matured
    assert any(m.matured for m in result.months) and not result.months[-1].matured
    realised = next(m for m in result.months if m.matured).realised
    assert {
        "roc_auc",
        "pr_auc",
        "observed_expected",
        "calibration_intercept",
        "calibration_slope",
        "ece",
        "precision_red",
        "recall_orange",
    } <= set(realised)
    # drift: every model feature every month, ranked; groups over the latest matured window
    assert len(result.drift) == len(result.months) * len(model.feature_names)
    assert {g.group for g in result.groups} == {"gender", "age_band", "township", "category"}
    assert result.group_window is not None and result.group_window.events is not None


def test_silence_from_labels_without_a_change(result) -> None:  # type: ignore[no-untyped-def]
    # nothing was planted: no rule that reads labels fires (single PSI alarms on the
    # case and people features of this small county mean little; the report says so)
    assert [m for m in result.months if m.matured]
    assert [a.message for a in result.alarms if a.kind != "feature_psi"] == []
    assert not any(
        "riskwarn recalibrate" in line or "riskwarn train" in line for line in result.advice
    )


def test_area_rates_are_ranked_by_drift_but_raise_no_psi_alarm(model, result) -> None:  # type: ignore[no-untyped-def]
    area = set(REGISTRY.names("area")) & set(model.feature_names)
    assert area
    moved = {d.feature for d in result.drift if d.feature in area and d.psi > 0.25}
    assert moved  # the county's area rates do move far (its disputes grow)...
    assert not [a for a in result.alarms if a.feature in area]  # ...and stay unalarmed


def test_risks_that_run_high_raise_the_observed_expected_alarm(county, model, result) -> None:  # type: ignore[no-untyped-def]
    assert not [a for a in result.alarms if a.kind == "observed_expected"]
    high = Calibrator("sigmoid")
    high.a_, high.b_ = 1.0, 2.5  # risks about twelve times too high
    planted = monitor(county, RiskModel(model.estimator, high, model.metadata), AS_OF, n_boot=50)
    fired = [a for a in planted.alarms if a.kind == "observed_expected"]
    assert fired and all(a.value < 1 for a in fired)
    assert any("recalibrate" in line for line in planted.advice)


def test_a_change_in_how_risk_works_raises_the_alarm_the_estimate_cannot(county, model) -> None:  # type: ignore[no-untyped-def]
    changed = more_incidents(county, "2023-12-31", share=0.3)
    found = monitor(changed, model, AS_OF, n_boot=50)
    fired = [a for a in found.alarms if a.kind == "observed_expected"]
    assert fired and all(a.value > 1 for a in fired)
    # the pre-label estimate sees only the mix of cases, so it barely moves
    same = {
        m.as_of: m.estimated["event_rate"] for m in monitor(county, model, AS_OF, n_boot=0).months
    }
    for m in found.months:
        assert m.estimated["event_rate"] == pytest.approx(same[m.as_of], rel=0.25)


def test_as_of_inside_the_training_data_is_a_clear_error(county, model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="after the model's training data"):
        monitor(county, model, "2023-06-30")


def test_the_report_holds_the_three_charts_and_the_alarms(result) -> None:  # type: ignore[no-untyped-def]
    html = render_html(result)
    assert html.count("data:image/png;base64,") == 3
    for heading in (
        "Alarms",
        "Predicted against observed",
        "Drift",
        "Calibration by month",
        "By group",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "What these figures cannot see" in html


def test_the_monitor_command_logs_a_run_tagged_with_the_model_version(  # type: ignore[no-untyped-def]
    county_dir, store, tmp_path, capsys
) -> None:
    train(county_dir, parse_config(FAST), train_until="2023-12-31", tracking_uri=store)
    report = tmp_path / "out" / "monitor.html"
    status = main(
        [
            "monitor",
            str(county_dir),
            "--model",
            "models:/riskwarn/1",
            "--as-of",
            AS_OF,
            "--report",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "Per month" in out and "drifted features" in out and "MLflow run" in out
    assert report.read_text(encoding="utf-8").startswith("<!doctype html>")
    client = mlflow.MlflowClient(store)
    runs = client.search_runs([mlflow.get_experiment_by_name("riskwarn-monitoring").experiment_id])
    (run,) = runs
    assert run.data.tags["riskwarn.model_version"] == "1"
    found = latest_monitor("1", store)
    assert found is not None and found.as_of == pd.Timestamp(AS_OF) + pd.Timedelta("23:59:59")
    history = client.get_metric_history(run.info.run_id, "estimated_event_rate")
    assert [h.step for h in history] == list(range(len(found.months)))
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "monitor")}
    assert {"monitor/report.html", "monitor/result.json", "monitor/charts"} <= artifacts
    assert latest_monitor("99", store) is None
