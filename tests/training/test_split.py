from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskwarn.errors import ConfigError
from riskwarn.training import time_split


def test_windows_are_ordered_and_one_horizon_apart() -> None:
    t = pd.date_range("2023-01-01", periods=1000, freq="D").repeat(3)
    s = time_split(t, horizon_days=60, validation_share=0.2, test_share=0.2)
    gap = pd.Timedelta(days=60)
    assert (t[s.train] + gap <= s.validation_start).all()
    assert (t[s.validation] >= s.validation_start).all()
    assert (t[s.validation] + gap <= s.test_start).all()
    assert (t[s.test] >= s.test_start).all()
    assert not (s.train & s.validation).any() and not (s.validation & s.test).any()
    # rows in the gaps are left out, and only those
    dropped = ~(s.train | s.validation | s.test)
    assert dropped.sum() == pytest.approx(2 * 60 * 3, abs=6)
    assert s.test.mean() == pytest.approx(0.2, abs=0.01)
    assert s.validation.mean() == pytest.approx(0.2, abs=0.01)


def test_row_order_does_not_change_the_split() -> None:
    t = pd.date_range("2023-01-01", periods=500, freq="D").to_numpy()
    perm = np.random.default_rng(0).permutation(len(t))
    a = time_split(t, horizon_days=30)
    b = time_split(t[perm], horizon_days=30)
    assert (a.test[perm] == b.test).all() and (a.train[perm] == b.train).all()


def test_too_short_data_is_refused_with_advice() -> None:
    t = pd.date_range("2023-01-01", periods=100, freq="D")
    with pytest.raises(ConfigError, match="shorter horizon"):
        time_split(t, horizon_days=90)


def test_windows_report_rows_and_dates() -> None:
    t = pd.date_range("2023-01-01", periods=400, freq="D")
    s = time_split(t, horizon_days=10)
    w = s.windows(t)
    assert w["train"]["end"] < w["validation"]["start"] < w["test"]["start"]
    assert sum(w[p]["rows"] for p in w) == int((s.train | s.validation | s.test).sum())
