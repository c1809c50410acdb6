from __future__ import annotations

import numpy as np
import pytest

from riskwarn.errors import ConfigError
from riskwarn.training import (
    Calibrator,
    TierConfig,
    assign_tiers,
    parse_config,
    tier_thresholds,
)

CAPACITY = TierConfig(mode="capacity", red=0.01, orange=0.05, yellow=0.2)


def _shares(risk: np.ndarray, th: dict[str, float]) -> dict[str, float]:
    tiers = assign_tiers(risk, th)
    return {t: float((tiers == t).mean()) for t in ("red", "orange", "yellow", "blue")}


def test_capacity_tiers_take_the_configured_shares() -> None:
    risk = np.random.default_rng(0).beta(1, 20, 100_000)
    cfg = TierConfig(mode="capacity", red=0.01, orange=0.05, yellow=0.2)
    th = tier_thresholds(risk, cfg)
    assert th["red"] > th["orange"] > th["yellow"]
    tiers = assign_tiers(risk, th)
    assert (tiers == "red").mean() == pytest.approx(0.01, abs=0.001)
    assert np.isin(tiers, ["red", "orange"]).mean() == pytest.approx(0.05, abs=0.002)
    assert (tiers != "blue").mean() == pytest.approx(0.2, abs=0.003)


def test_probability_tiers_are_the_configured_risks() -> None:
    cfg = TierConfig(mode="probability", red=0.3, orange=0.1, yellow=0.02)
    th = tier_thresholds(np.array([]), cfg)
    assert th == {"red": 0.3, "orange": 0.1, "yellow": 0.02}
    got = assign_tiers([0.3, 0.29, 0.1, 0.05, 0.02, 0.019], th)
    assert got.tolist() == ["red", "orange", "orange", "yellow", "yellow", "blue"]


def test_scalar_risk_gets_one_tier() -> None:
    assert assign_tiers(0.5, {"red": 0.4, "orange": 0.2, "yellow": 0.1}).tolist() == ["red"]


def test_misordered_tiers_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="red < orange < yellow"):
        parse_config({"tiers": {"mode": "capacity", "red": 0.1, "orange": 0.05}})
    with pytest.raises(ConfigError, match="red > orange > yellow"):
        parse_config({"tiers": {"mode": "probability", "red": 0.01, "orange": 0.05, "yellow": 0.2}})


def test_a_block_of_tied_risks_does_not_swallow_the_tier_below() -> None:
    # 4.4% of cases share the top risk (the model cannot tell them apart), the rest differ
    risk = np.concatenate([np.full(44, 0.5), np.linspace(0.0, 0.3, 956)])
    th = tier_thresholds(risk, CAPACITY)
    got = _shares(risk, th)
    # the tied block cannot be split: red takes it whole or not at all; 0% is nearer to 1%
    # than 4.4% is; orange then holds the block and the next cases up to its 5%
    assert got["red"] == 0.0
    assert got["orange"] == pytest.approx(0.05)
    assert got["red"] + got["orange"] + got["yellow"] == pytest.approx(0.2, abs=0.001)
    assert th["red"] > th["orange"] > th["yellow"]


def test_capacity_shares_hold_as_closely_as_ties_allow() -> None:
    risk = np.round(np.random.default_rng(1).beta(1, 20, 20_000), 3)  # many ties
    got = _shares(risk, tier_thresholds(risk, CAPACITY))
    largest_tie = np.unique(risk, return_counts=True)[1].max() / risk.size
    assert got["red"] == pytest.approx(0.01, abs=largest_tie / 2)
    assert got["red"] + got["orange"] == pytest.approx(0.05, abs=largest_tie / 2)
    assert got["blue"] == pytest.approx(0.8, abs=largest_tie / 2)


def test_calibrated_risk_keeps_the_raw_ranking_inside_flat_steps() -> None:
    rng = np.random.default_rng(2)
    raw = rng.random(2000)
    y = (raw > 0.9).astype(float)  # the top raw scores are all events: isotonic gives 1.0
    for method in ("isotonic", "sigmoid"):
        risk = Calibrator(method).fit(raw, y).predict(np.sort(raw))
        assert np.all(np.diff(risk) > 0), method
        assert risk.min() >= 0.0 and risk.max() <= 1.0
    top = Calibrator("isotonic").fit(raw, y).predict(raw)
    got = _shares(top, tier_thresholds(top, CAPACITY))
    assert got["red"] == pytest.approx(0.01, abs=0.001)
