"""Time inside the simulator: float days since the first day, times of day, seasons.

Every timestamp is held as a float number of days since ``start`` (midnight) until the
frames are built, where :meth:`Clock.stamps` and :meth:`Clock.dates` turn them into
datetimes and dates. Times of day come from hourly profiles (office hours for visits and
mediation, a wider day for the hotline, the evening peak of police calls).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Relative weight of each hour 0..23 at which a kind of record is made.
_PROFILES = {
    "office": [0, 0, 0, 0, 0, 0, 0, 0.2, 1.2, 2.0, 2.0, 1.6, 0.5, 0.5, 1.5, 1.8, 1.6, 1.0,
               0.3, 0.1, 0, 0, 0, 0],
    "hotline": [0.1, 0.05, 0.03, 0.03, 0.05, 0.1, 0.3, 0.8, 1.5, 2.0, 2.0, 1.6, 1.2, 1.3,
                1.7, 1.7, 1.5, 1.2, 1.0, 1.0, 0.9, 0.7, 0.4, 0.2],
    "police": [0.8, 0.6, 0.4, 0.3, 0.2, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0,
               1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 1.7, 1.4, 1.1],
    "waking": [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
               1.0, 1.0, 1.1, 1.3, 1.5, 1.6, 1.4, 0.9, 0.5],
}  # fmt: skip
PROFILE_NAMES = tuple(_PROFILES)
_CDF = {k: np.cumsum(v) / np.sum(v) for k, v in _PROFILES.items()}


@dataclass(frozen=True)
class Clock:
    """The simulated period: ``n_days`` days from ``start`` (a midnight)."""

    start: pd.Timestamp
    n_days: int
    drift_day: float  # reporting habits change from this day on (the last year)

    @classmethod
    def of(cls, start: pd.Timestamp, years: float) -> Clock:
        n_days = max(round(years * 365.25), 30)
        drift = n_days - 365.0 if n_days >= 730 else n_days * 2.0 / 3.0
        return cls(start=start, n_days=n_days, drift_day=drift)

    @property
    def years(self) -> float:
        return self.n_days / 365.25

    def weekday(self, days: np.ndarray) -> np.ndarray:
        """0 = Monday .. 6 = Sunday for each (float) day."""
        return (np.floor(days).astype(np.int64) + self.start.weekday()) % 7

    def month(self, days: np.ndarray) -> np.ndarray:
        """Calendar month 1..12 of each (float) day."""
        months = pd.date_range(self.start, periods=self.n_days + 1, freq="D").month.to_numpy()
        idx = np.clip(np.floor(days).astype(np.int64), 0, self.n_days)
        return months[idx]

    def stamps(self, days: np.ndarray) -> np.ndarray:
        """Float days to ``datetime64[s]`` (whole seconds, never past the last second)."""
        secs = np.floor(np.asarray(days, dtype=np.float64) * 86400.0)
        secs = np.clip(secs, 0, self.n_days * 86400 - 1).astype(np.int64)
        return self.start.to_datetime64().astype("datetime64[s]") + secs.astype("timedelta64[s]")

    def dates(self, days: np.ndarray) -> np.ndarray:
        """Float days to ``datetime64[D]``; NaN stays NaT."""
        days = np.asarray(days, dtype=np.float64)
        out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        ok = ~np.isnan(days)
        whole = np.clip(np.floor(days[ok]), 0, self.n_days - 1).astype(np.int64)
        out[ok] = self.start.to_datetime64().astype("datetime64[D]") + whole.astype(
            "timedelta64[D]"
        )
        return out


def hour_of_day(rng: np.random.Generator, n: int, profile: str) -> np.ndarray:
    """Fractions of a day (0..1) drawn from an hourly profile, uniform within the hour."""
    hours = np.searchsorted(_CDF[profile], rng.random(n), side="right")
    return (np.minimum(hours, 23) + rng.random(n)) / 24.0


def times_in(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, profile: str, tries: int = 4
) -> np.ndarray:
    """A time in ``[lo, hi)`` for each pair, on a day in range and an hour from ``profile``.

    Draws a whole day uniformly and an hour from the profile; pairs whose draw falls
    outside the window (a window that starts in the afternoon, say) are drawn again, and
    after ``tries`` rounds placed uniformly in the window.
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    out = np.full(lo.shape, np.nan)
    todo = np.arange(lo.size)
    for _ in range(tries):
        if todo.size == 0:
            break
        d0 = np.floor(lo[todo])
        span = np.maximum(np.ceil(hi[todo]) - d0, 1.0)
        t = d0 + np.floor(rng.random(todo.size) * span) + hour_of_day(rng, todo.size, profile)
        ok = (t >= lo[todo]) & (t < hi[todo])
        out[todo[ok]] = t[ok]
        todo = todo[~ok]
    if todo.size:
        out[todo] = lo[todo] + rng.random(todo.size) * (hi[todo] - lo[todo])
    return out


def seasonal_days(
    rng: np.random.Generator,
    lo: np.ndarray,
    hi: np.ndarray,
    clock: Clock,
    by_month: np.ndarray | None,
) -> np.ndarray:
    """Uniform days in ``[lo, hi)``, thinned by a 12-month multiplier (index 0 = January)."""
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    days = lo + rng.random(lo.size) * (hi - lo)
    if by_month is None:
        return days
    top = float(np.max(by_month))
    todo = np.arange(lo.size)
    for _ in range(30):
        keep = rng.random(todo.size) < by_month[clock.month(days[todo]) - 1] / top
        todo = todo[~keep]
        if todo.size == 0:
            break
        days[todo] = lo[todo] + rng.random(todo.size) * (hi[todo] - lo[todo])
    return days


def pick_in_group(
    rng: np.random.Generator, member_group: np.ndarray, n_groups: int, query_group: np.ndarray
) -> np.ndarray:
    """For each query, a random member of the same group (-1 where the group is empty).

    ``member_group[i]`` is the group of member ``i``; returns member indices.
    """
    if member_group.size == 0:
        return np.full(query_group.size, -1, dtype=np.int64)
    order = np.argsort(member_group, kind="stable")
    counts = np.bincount(member_group, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    c = counts[query_group]
    pos = starts[query_group] + np.floor(rng.random(query_group.size) * np.maximum(c, 1)).astype(
        np.int64
    )
    out = order[np.minimum(pos, order.size - 1)]
    return np.where(c > 0, out, -1)
