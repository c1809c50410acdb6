from __future__ import annotations

import numpy as np
import pytest

from riskwarn.errors import ConfigError
from riskwarn.training import TierConfig, assign_tiers, parse_config, tier_thresholds


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
