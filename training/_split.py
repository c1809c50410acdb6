"""Split rows by time into train, validation and test windows, a horizon apart.

A snapshot at ``as_of`` carries a label about ``(as_of, as_of + horizon]``. So that no label
window straddles two parts, every training row satisfies ``as_of + horizon <= validation
start`` and every validation row ``as_of + horizon <= test start``; rows in those gaps are
left out. Shares are of rows, counted from the end (test is the most recent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwarn.errors import ConfigError


@dataclass(frozen=True)
class Split:
    """Boolean row masks for the three windows and their boundaries."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    validation_start: pd.Timestamp
    test_start: pd.Timestamp
    gap: pd.Timedelta

    def windows(self, time: np.ndarray | pd.Series) -> dict[str, dict[str, str | int]]:
        """First and last ``as_of`` and row count of each window, for logs and the card."""
        t = pd.to_datetime(pd.Series(np.asarray(time)))
        out: dict[str, dict[str, str | int]] = {}
        for part in ("train", "validation", "test"):
            mask = getattr(self, part)
            sel = t[mask]
            out[part] = {
                "start": sel.min().isoformat(),
                "end": sel.max().isoformat(),
                "rows": int(mask.sum()),
            }
        return out


def time_split(
    time: np.ndarray | pd.Series,
    *,
    horizon_days: int,
    validation_share: float = 0.2,
    test_share: float = 0.2,
) -> Split:
    """Cut rows into train / validation / test by their time, with one horizon between parts.

    >>> t = pd.date_range("2024-01-01", periods=1000, freq="D")
    >>> s = time_split(t, horizon_days=30)
    >>> bool((t[s.train] + pd.Timedelta(days=30) <= s.validation_start).all())
    True
    """
    t = pd.to_datetime(pd.Series(np.asarray(time))).to_numpy()
    n = len(t)
    if n == 0 or pd.isna(t).any():
        raise ConfigError(
            f"expected a non-empty time column without gaps, got {n} rows with "
            f"{int(pd.isna(t).sum()) if n else 0} missing times; drop or fill them first."
        )
    gap = pd.Timedelta(days=horizon_days)
    ordered = np.sort(t)
    test_start = ordered[min(n - 1, int(np.floor(n * (1 - test_share))))]
    eligible = ordered[ordered + gap <= test_start]
    n_val = max(1, round(n * validation_share))
    if len(eligible) <= n_val:
        raise _too_short(n, t, horizon_days)
    validation_start = eligible[len(eligible) - n_val]
    test = t >= test_start
    validation = (t >= validation_start) & (t + gap <= test_start)
    train = t + gap <= validation_start
    if not train.any() or not validation.any() or not test.any():
        raise _too_short(n, t, horizon_days)
    return Split(
        train=train,
        validation=validation,
        test=test,
        validation_start=pd.Timestamp(validation_start),
        test_start=pd.Timestamp(test_start),
        gap=gap,
    )


def _too_short(n: int, t: np.ndarray, horizon_days: int) -> ConfigError:
    span = (pd.Timestamp(t.max()) - pd.Timestamp(t.min())).days if n else 0
    return ConfigError(
        f"expected data spanning well over two horizons ({2 * horizon_days} days) so train, "
        f"validation and test can be {horizon_days} days apart, got {n} rows over {span} "
        "days; use more data, a shorter horizon, or smaller validation/test shares."
    )
