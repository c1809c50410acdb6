"""Realised calibration measures against small cases worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from riskwarn.training import calibration_measures, realised_performance


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_observed_expected_and_its_exact_poisson_interval() -> None:
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    p = np.full(8, 0.125)  # expects 1 event, 2 happened
    out = calibration_measures(y, p, np.full(8, "blue"), np.arange(8))
    oe = out["observed_expected"]
    assert oe["value"] == pytest.approx(2.0)
    assert oe["lo"] == pytest.approx(stats.chi2.ppf(0.025, 4) / 2)  # Garwood, O = 2, E = 1
    assert oe["hi"] == pytest.approx(stats.chi2.ppf(0.975, 6) / 2)
    # no event: the interval still reaches above 1 when few were expected
    none = calibration_measures(np.zeros(8), p, np.full(8, "blue"), np.arange(8))
    assert none["observed_expected"]["value"] == 0
    assert none["observed_expected"]["hi"] == pytest.approx(stats.chi2.ppf(0.975, 2) / 2)


def test_observed_expected_is_bootstrapped_when_disputes_repeat() -> None:
    y = np.array([1, 1, 0, 0, 0, 0])
    p = np.full(6, 0.25)
    out = calibration_measures(y, p, np.full(6, "blue"), np.array([1, 1, 2, 2, 3, 3]))
    oe = out["observed_expected"]
    assert oe["value"] == pytest.approx(2 / 1.5)
    assert oe["lo"] == pytest.approx(0.0)  # draws without dispute 1 have no event
    assert oe["hi"] == pytest.approx(4.0)  # dispute 1 drawn three times: 6 events / 1.5


def test_calibration_intercept_and_slope_of_a_saturated_case() -> None:
    # risk 0.2 for ten cases with one event (observed 0.1), risk 0.5 for two with one (0.5):
    # the logistic line through both groups' observed log-odds has intercept 0 and slope
    # logit(0.1) / logit(0.2)
    p = np.array([0.2] * 10 + [0.5] * 2)
    y = np.array([1] + [0] * 9 + [1, 0])
    out = calibration_measures(y, p, np.full(12, "blue"), np.arange(12), n_boot=50)
    assert out["calibration_slope"]["value"] == pytest.approx(_logit(0.1) / _logit(0.2), abs=1e-6)
    # the intercept with the slope held at 1 solves sum y = sum expit(a + logit p)
    a = out["calibration_intercept"]["value"]
    expected = 10 / (1 + math.exp(-(a + _logit(0.2)))) + 2 / (1 + math.exp(-a))
    assert expected == pytest.approx(2.0, abs=1e-8)
    calibrated = calibration_measures(
        np.array([1] + [0] * 4 + [1, 0]),
        np.array([0.2] * 5 + [0.5] * 2),
        np.full(7, "x"),
        np.arange(7),
    )
    assert calibrated["calibration_slope"]["value"] == pytest.approx(1.0, abs=1e-6)
    assert calibrated["calibration_intercept"]["value"] == pytest.approx(0.0, abs=1e-6)


def test_precision_and_recall_of_each_tier() -> None:
    tiers = np.array(["red", "red", "orange", "orange", "orange", "yellow", "blue", "blue"])
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0])
    out = calibration_measures(y, np.full(8, 0.1), tiers, np.arange(8), n_boot=20)
    assert out["precision_red"]["value"] == pytest.approx(1 / 2)
    assert out["precision_orange"]["value"] == pytest.approx(1 / 3)
    assert out["precision_yellow"]["value"] == 0
    assert out["recall_red"]["value"] == pytest.approx(1 / 3)
    assert out["recall_blue"]["value"] == pytest.approx(1 / 3)


def test_realised_performance_adds_training_metrics_with_intervals() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(1, 15, 3000)
    y = (rng.random(3000) < p).astype(int)
    out = realised_performance(y, p, np.full(3000, "blue"), np.arange(3000), n_boot=50)
    for key in ("roc_auc", "pr_auc", "brier", "ece", "observed_expected", "calibration_slope"):
        assert out[key]["lo"] <= out[key]["value"] <= out[key]["hi"], key
    # labels drawn from the risks: both near 1 (sd about 0.1 at this size)
    assert abs(out["observed_expected"]["value"] - 1) < 0.2
    assert abs(out["calibration_slope"]["value"] - 1) < 0.3
