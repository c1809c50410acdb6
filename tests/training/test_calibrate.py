from __future__ import annotations

import numpy as np
import pytest

from riskwarn.errors import NotFittedError
from riskwarn.training import Calibrator, choose_calibrator, ece


def _overconfident(n: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true = rng.beta(1, 12, n)
    y = (rng.random(n) < true).astype(float)
    raw = np.clip(true * 2.5, 0, 1)  # scores 2.5 times too high
    return raw, y


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibration_brings_risk_to_observed_rates(method: str) -> None:
    raw, y = _overconfident()
    cal = Calibrator(method).fit(raw[:10000], y[:10000])
    risk = cal.predict(raw[10000:])
    held = y[10000:]
    assert ece(held, raw[10000:]) > 0.05
    assert ece(held, risk) < 0.02 < ece(held, raw[10000:]) / 3
    assert risk.mean() == pytest.approx(held.mean(), abs=0.01)
    assert np.all(np.diff(cal.predict(np.linspace(0, 1, 101))) >= 0)


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrator_round_trips_through_json_numbers(method: str) -> None:
    raw, y = _overconfident(5000)
    cal = Calibrator(method).fit(raw, y)
    again = Calibrator.from_dict(cal.to_dict())
    probe = np.linspace(0, 1, 57)
    np.testing.assert_array_equal(cal.predict(probe), again.predict(probe))


def test_auto_choice_follows_cross_validated_brier() -> None:
    raw, y = _overconfident(8000)
    cal, scores = choose_calibrator(raw, y, "auto")
    assert set(scores) == {"isotonic", "sigmoid"}
    assert cal.method == min(scores, key=scores.__getitem__)
    forced, only = choose_calibrator(raw, y, "sigmoid")
    assert forced.method == "sigmoid" and set(only) == {"sigmoid"}


def test_unfitted_calibrator_says_so() -> None:
    with pytest.raises(NotFittedError, match="call fit"):
        Calibrator("sigmoid").predict(np.array([0.1]))


def test_sigmoid_stays_finite_on_few_distinct_and_separable_scores() -> None:
    raw = np.repeat([0.0025, 0.004, 0.07], [400, 50, 10])
    y = np.zeros(raw.size)
    y[-10:] = 1  # the top score is always an event: separable
    cal = Calibrator("sigmoid").fit(raw, y)
    risk = cal.predict(raw)
    assert np.isfinite([cal.a_, cal.b_]).all()
    assert risk[-1] > 0.8 and risk[0] < 0.05


def test_snapshots_of_one_case_stay_in_one_calibration_fold() -> None:
    # each case seen 6 times with the same score and outcome, like monthly snapshots
    raw, y = _overconfident(3000, seed=3)
    ids = np.arange(raw.size)
    copies = 6
    _, single = choose_calibrator(raw, y, "isotonic", groups=ids)
    _, grouped = choose_calibrator(
        np.repeat(raw, copies), np.repeat(y, copies), "isotonic", groups=np.repeat(ids, copies)
    )
    # grouped folds score the repeated table as they score the plain one ...
    assert grouped["isotonic"] == pytest.approx(single["isotonic"], rel=1e-9)
    # ... and choose as on the plain table, while splitting a case's rows across folds
    # flatters isotonic into being chosen
    plain, _ = choose_calibrator(raw, y, "auto", groups=ids)
    cal, _ = choose_calibrator(
        np.repeat(raw, copies), np.repeat(y, copies), "auto", groups=np.repeat(ids, copies)
    )
    leaky_cal, leaky = choose_calibrator(np.repeat(raw, copies), np.repeat(y, copies), "auto")
    assert leaky["isotonic"] < grouped["isotonic"]
    assert cal.method == plain.method == "sigmoid" != leaky_cal.method
