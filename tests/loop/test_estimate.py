"""The effect estimators on generated case-rounds whose true effect is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskwarn.loop import discontinuity, naive_comparison, stepped_rollout


def rounds(effect: float, seed: int, *, towns: int = 30, stepped: bool = True) -> pd.DataFrame:
    """Eligible case-rounds: township and period effects, townships starting the loop in
    four steps, 80% of eligible cases handled where it runs, riskier cases more often."""
    rng = np.random.default_rng(seed)
    n = 60_000
    town = rng.integers(0, towns, n)
    as_of = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 720, n), unit="D")
    start = pd.Timestamp("2023-04-01") + pd.to_timedelta(
        (np.arange(towns) % 4 if stepped else np.zeros(towns, int)) * 120, unit="D"
    )
    started = as_of >= start[town]
    risk = rng.gamma(2.0, 0.5, n)
    treated = started & (rng.random(n) < np.clip(0.6 + 0.2 * risk, 0, 1))
    base = 0.04 * risk * np.exp(0.3 * np.sin(town)) * (1 + 0.2 * (as_of.month > 6))
    y = rng.random(n) < base * np.where(treated, 1 - effect, 1.0)
    return pd.DataFrame(
        {"township": town.astype(str), "as_of": as_of, "started": started,
         "treated": treated, "y": y.astype(float), "risk": risk}
    )  # fmt: skip


@pytest.mark.parametrize(("effect", "seed"), [(0.3, 1), (0.0, 2), (0.6, 3)])
def test_a_stepped_rollout_recovers_the_planted_effect(effect, seed):
    est = stepped_rollout(rounds(effect, seed), bootstrap=200)
    assert est.allowed and est.low <= effect <= est.high
    assert abs(est.effect - effect) < 0.15 and est.high - est.low < 0.5
    assert 0.75 < est.detail["handled_share_where_started"] < 0.9


def test_the_naive_comparison_is_biased_when_riskier_cases_are_handled():
    data = rounds(0.0, 4)
    naive = naive_comparison(data[data["started"]], bootstrap=200)
    assert naive.high < -0.05  # handled cases look worse although handling does nothing
    assert stepped_rollout(data, bootstrap=200).low <= 0.0


def test_a_rollout_all_at_once_is_not_a_stepped_rollout():
    data = rounds(0.3, 5, stepped=False)
    data["started"] = True
    est = stepped_rollout(data)
    assert not est.allowed and "stepped rollout is needed" in est.reason
    assert "not estimable" in est.line()


def test_a_discontinuity_at_the_threshold_recovers_a_large_effect():
    rng = np.random.default_rng(6)
    n = 80_000
    running = rng.uniform(-2, 2, n)
    treated = (running >= 0) & (rng.random(n) < 0.8)
    base = 0.05 * np.exp(0.3 * running)
    y = (rng.random(n) < base * np.where(treated, 0.4, 1.0)).astype(float)
    est = discontinuity(pd.DataFrame({"running": running, "treated": treated, "y": y}))
    assert est.allowed and est.low <= 0.6 <= est.high and est.effect > 0.3
    none = discontinuity(pd.DataFrame({"running": running, "treated": False, "y": y}))
    assert not none.allowed and "no jump" in none.reason
