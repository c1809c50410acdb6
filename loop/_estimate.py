"""The fairer comparisons of handled and unhandled cases, as plain numpy on tables.

- :func:`stepped_rollout`: townships that started the loop at different times. A Poisson
  model of the events among warning-eligible case-rounds with township and period
  effects gives the rate ratio of "loop started" (intention to treat); divided by the
  share of eligible cases actually handled where it had started, it is the effect of
  handling (a Wald ratio). 95% interval: township-cluster bootstrap.
- :func:`discontinuity`: cases just above and just below a tier threshold, local linear
  on each side; the jump in events over the jump in the share handled (fuzzy regression
  discontinuity). 95% interval: bootstrap over cases.
- :func:`naive_comparison`: handled against unhandled, as a reader of "outcomes by handling" would
  compare them (biased: handled cases were chosen because they looked riskier).

Every estimate is a relative reduction of the event rate of handled cases (0.3 = 30% fewer
events), with the numbers it rests on; ``None`` with a reason when the data do not allow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BOOTSTRAP = 400
MIN_EVENTS = 20


@dataclass(frozen=True)
class Estimate:
    """An estimated reduction of the event rate by handling, with its 95% interval."""

    method: str
    effect: float | None
    low: float | None
    high: float | None
    rows: int
    events: int
    detail: dict = field(default_factory=dict)
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.effect is not None

    def line(self) -> str:
        if not self.allowed:
            return f"{self.method}: not estimable ({self.reason})"
        return (
            f"{self.method}: handling reduces the event rate by {self.effect:.1%} (95% "
            f"interval {self.low:.1%} to {self.high:.1%}; {self.rows:,} rows, "
            f"{self.events:,} events; a negative reduction is a rise)"
        )


def _refuse(method: str, rows: int, events: int, reason: str) -> Estimate:
    return Estimate(method, None, None, None, rows, events, reason=reason)


def poisson_fe(y: np.ndarray, n: np.ndarray, x: np.ndarray, *groups: np.ndarray) -> float:
    """The coefficient of ``x`` in a Poisson model of counts ``y`` over exposures ``n`` with
    one fixed effect per level of each of ``groups`` (IRLS on the cells)."""
    cols = [np.ones_like(y, dtype=float), x.astype(float)]
    for g in groups:
        levels = np.unique(g)
        cols += [(g == lv).astype(float) for lv in levels[1:]]
    design = np.column_stack(cols)
    keep = n > 0
    design, y, n = design[keep], y[keep].astype(float), n[keep].astype(float)
    beta = np.zeros(design.shape[1])
    beta[0] = np.log(max(y.sum(), 0.5) / n.sum())
    for _ in range(100):
        mu = n * np.exp(np.clip(design @ beta, -30, 30))
        grad = design.T @ (y - mu)
        hess = design.T @ (design * mu[:, None]) + 1e-9 * np.eye(design.shape[1])
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-9:
            break
    return float(beta[1])


def stepped_rollout(
    rows: pd.DataFrame, *, period_days: int = 91, bootstrap: int = BOOTSTRAP, seed: int = 0
) -> Estimate:
    """The effect of handling from a stepped rollout.

    ``rows``: warning-eligible case-rounds with ``township``, ``as_of``, ``started`` (the
    township's loop had started), ``treated`` (the case was handled by then) and ``y``
    (an event within the horizon, 0/1).
    """
    method = "stepped rollout (Poisson, township and period effects, Wald ratio)"
    y = rows["y"].to_numpy(float)
    n_rows, n_events = len(rows), int(y.sum())
    started = rows["started"].to_numpy(bool)
    if n_events < MIN_EVENTS:
        return _refuse(method, n_rows, n_events, f"fewer than {MIN_EVENTS} events")
    period = ((rows["as_of"] - rows["as_of"].min()).dt.days // period_days).to_numpy()
    town = rows["township"].astype(str).to_numpy()
    mixed = pd.Series(started).groupby(period).nunique().gt(1)
    if not mixed.any() or started.all() or not started.any():
        return _refuse(
            method,
            n_rows,
            n_events,
            "no period with townships both started and not yet started (all at once, or "
            "never); a stepped rollout is needed",
        )
    treated = rows["treated"].to_numpy(float)
    frame = pd.DataFrame(
        {"town": town, "period": period, "started": started, "y": y, "n": 1.0, "treated": treated}
    )
    cells = frame.groupby(["town", "period", "started"], as_index=False).sum()

    c_y, c_n = cells["y"].to_numpy(float), cells["n"].to_numpy(float)
    c_on, c_t = cells["started"].to_numpy(bool), cells["treated"].to_numpy(float)
    c_period = cells["period"].to_numpy()
    towns, c_town = np.unique(cells["town"].to_numpy(), return_inverse=True)
    rows_of = [np.flatnonzero(c_town == k) for k in range(towns.size)]

    def one(idx: np.ndarray, town_of: np.ndarray) -> tuple[float, float, float]:
        on = c_on[idx]
        beta = poisson_fe(c_y[idx], c_n[idx], on, town_of, c_period[idx])
        share = c_t[idx][on].sum() / max(c_n[idx][on].sum(), 1.0)
        return beta, share, (1 - np.exp(beta)) / max(share, 1e-9)

    beta, share, effect = one(np.arange(len(cells)), c_town)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(bootstrap):  # townships drawn with replacement, each draw its own cluster
        pick = rng.integers(0, towns.size, towns.size)
        idx = np.concatenate([rows_of[k] for k in pick])
        town_of = np.repeat(np.arange(pick.size), [rows_of[k].size for k in pick])
        if 0 < c_on[idx].sum() < idx.size:
            draws.append(one(idx, town_of)[2])
    low, high = np.percentile(draws, [2.5, 97.5])
    detail = {
        "itt_rate_ratio": float(np.exp(beta)),
        "handled_share_where_started": float(share),
        "townships": int(towns.size),
        "periods": int(np.unique(period).size),
        "bootstrap": len(draws),
    }
    return Estimate(method, float(effect), float(low), float(high), n_rows, n_events, detail)


def _jump(x: np.ndarray, v: np.ndarray, above: np.ndarray) -> tuple[float, float]:
    """Local linear fits of ``v`` on ``x`` on each side of 0: (value below, value above)."""
    out = []
    for side in (~above, above):
        xs, vs = x[side], v[side]
        if xs.size == 0:
            out.append(np.nan)
            continue
        if xs.size < 3 or np.ptp(xs) == 0:
            out.append(float(vs.mean()))
            continue
        _, intercept = np.polyfit(xs, vs, 1)
        out.append(float(intercept))
    return out[0], out[1]


def discontinuity(
    rows: pd.DataFrame,
    *,
    bandwidth: float | None = None,
    bootstrap: int = BOOTSTRAP,
    seed: int = 0,
) -> Estimate:
    """The effect of handling at a tier threshold (fuzzy regression discontinuity).

    ``rows``: case-rounds where the loop runs and the case was not warned before, with
    ``running`` (score minus the threshold), ``treated`` and ``y``. ``bandwidth`` defaults
    to the middle half of ``|running|`` around the threshold.
    """
    method = "regression discontinuity at the threshold (local linear, fuzzy)"
    x = rows["running"].to_numpy(float)
    if bandwidth is None:
        bandwidth = float(np.quantile(np.abs(x), 0.25)) if x.size else 0.0
    near = np.abs(x) <= bandwidth
    x, y, t = x[near], rows["y"].to_numpy(float)[near], rows["treated"].to_numpy(float)[near]
    above = x >= 0
    n_rows, n_events = int(near.sum()), int(y.sum())
    if min(y[above].sum(), y[~above].sum()) < MIN_EVENTS / 2:
        return _refuse(
            method, n_rows, n_events, f"fewer than {MIN_EVENTS // 2} events on a side of it"
        )

    def one(idx: np.ndarray) -> float:
        xs, a = x[idx], above[idx]
        y0, y1 = _jump(xs, y[idx], a)
        t0, t1 = _jump(xs, t[idx], a)
        if not (t1 - t0 > 0.05 and y0 > 0):  # also NaN: a side without rows
            return np.nan
        return -(y1 - y0) / (t1 - t0) / y0

    effect = one(np.arange(x.size))
    if not np.isfinite(effect):
        return _refuse(method, n_rows, n_events, "no jump in the share handled at the threshold")
    rng = np.random.default_rng(seed)
    draws = np.array([one(rng.integers(0, x.size, x.size)) for _ in range(bootstrap)])
    draws = draws[np.isfinite(draws)]
    low, high = np.percentile(draws, [2.5, 97.5])
    t0, t1 = _jump(x, t, above)
    detail = {"bandwidth": bandwidth, "handled_below": t0, "handled_above": t1}
    return Estimate(method, float(effect), float(low), float(high), n_rows, n_events, detail)


def naive_comparison(rows: pd.DataFrame, *, bootstrap: int = BOOTSTRAP, seed: int = 0) -> Estimate:
    """1 - (event rate of handled) / (event rate of unhandled), with a bootstrap interval:
    what "outcomes by handling" suggests, and why it must not be read as the effect."""
    method = "naive: handled against unhandled"
    y = rows["y"].to_numpy(float)
    t = rows["treated"].to_numpy(bool)
    if y[t].sum() < 1 or y[~t].sum() < 1:
        return _refuse(method, len(rows), int(y.sum()), "no events among handled or unhandled")

    def one(idx: np.ndarray) -> float:
        yy, tt = y[idx], t[idx]
        if tt.all() or not tt.any():
            return np.nan
        return 1 - yy[tt].mean() / max(yy[~tt].mean(), 1e-12)

    rng = np.random.default_rng(seed)
    draws = np.array([one(rng.integers(0, y.size, y.size)) for _ in range(bootstrap)])
    low, high = np.percentile(draws[np.isfinite(draws)], [2.5, 97.5])
    detail = {"rate_handled": float(y[t].mean()), "rate_unhandled": float(y[~t].mean())}
    return Estimate(
        method, one(np.arange(y.size)), float(low), float(high), len(y), int(y.sum()), detail
    )
