"""The pre-label (confidence-based) estimate against a small case worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskwarn.training import expected_performance


def test_expected_figures_of_four_cases() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4])
    tiers = np.array(["blue", "orange", "red", "red"])
    out = expected_performance(p, tiers)
    assert out["event_rate"] == pytest.approx(0.25)
    assert out["precision_red"] == pytest.approx(0.35)
    assert out["precision_orange"] == pytest.approx(0.2)
    # each case is a p-share of an event and a (1 - p)-share of a non-event: pairs ranked
    # right count 1, a case against itself ties and counts 1/2
    right = 0.2 * 0.9 + 0.3 * (0.9 + 0.8) + 0.4 * (0.9 + 0.8 + 0.7)
    ties = 0.5 * float(np.sum(p * (1 - p)))
    assert out["roc_auc"] == pytest.approx((right + ties) / (p.sum() * (1 - p).sum()))
    assert out["roc_auc"] == pytest.approx(2 / 3)


def test_a_tier_without_cases_has_no_precision() -> None:
    out = expected_performance(np.array([0.1, 0.2]), np.array(["blue", "yellow"]))
    assert math.isnan(out["precision_red"]) and math.isnan(out["precision_orange"])


def test_the_estimate_matches_labels_drawn_from_the_risks() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(0.6, 20, 200_000)
    y = rng.random(p.size) < p
    from sklearn.metrics import roc_auc_score

    out = expected_performance(p, np.full(p.size, "blue"))
    assert out["event_rate"] == pytest.approx(y.mean(), rel=0.03)
    assert out["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=0.01)
