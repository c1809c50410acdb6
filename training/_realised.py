"""Performance once labels have matured: training's metrics (ROC-AUC, PR-AUC, Brier, ECE,
top shares) beside the calibration measures a monitor needs, all with 95% bootstrap
intervals over disputes.

- observed / expected: ``sum y / sum p`` (1 when the risks add up to the events); its
  interval is the exact Poisson (Garwood) one, ``[chi2_{0.025}(2O) / 2, chi2_{0.975}(2O + 2)
  / 2] / E``, when every dispute appears once (one snapshot date: the standard interval
  of an observed/expected ratio, which stays honest at a handful of events and at none,
  where a percentile bootstrap collapses to [0, 0]); over windows that hold a dispute at
  several dates it is bootstrapped, as everything else;
- calibration intercept (calibration-in-the-large): ``a`` in
  ``logit P(y = 1) = a + logit(p)``, the slope held at 1 (0 when calibrated);
- calibration slope: ``b`` in ``logit P(y = 1) = a + b logit(p)`` (1 when calibrated;
  below 1, risks too extreme, as when a model is applied where its signals matter less);
- precision of a tier: the share of its cases followed by an event; recall of a tier: the
  share of all events that were in it.

The intercept and slope are maximum-likelihood logistic fits (Newton's method), done for
every bootstrap draw at once. The bootstrap reweights rows by how often their dispute was
drawn, as :func:`riskwarn.training.evaluate` does.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import expit

from riskwarn.training._metrics import evaluate
from riskwarn.vocab import TIERS

_EPS = 1e-6
_ITERATIONS = 30
MEASURES = (
    "observed_expected",
    "calibration_intercept",
    "calibration_slope",
    *(f"precision_{t}" for t in TIERS),
    *(f"recall_{t}" for t in TIERS),
)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def bootstrap_weights(clusters: np.ndarray, n_boot: int, seed: int = 0) -> np.ndarray:
    """(n_boot, n) row weights: how often each row's cluster was drawn, clusters drawn
    with replacement as many times as there are clusters."""
    codes = np.unique(np.asarray(clusters), return_inverse=True)[1].ravel()
    if n_boot == 0 or codes.size == 0:
        return np.zeros((n_boot, codes.size))
    k = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, k, k), minlength=k) for _ in range(n_boot)])
    return counts[:, codes].astype(np.float64)


def calibration_intercept(y: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Calibration-in-the-large ``a`` per row of weights ``w`` (k, n): the root of
    ``sum w (y - expit(a + z)) = 0``; NaN when a weighting holds no event or no non-event."""
    w = np.atleast_2d(w)
    events, total = w @ y, w.sum(axis=1)
    a = np.log(np.maximum(events, _EPS) / np.maximum(w @ expit(z), _EPS))
    for _ in range(_ITERATIONS):
        q = expit(a[:, None] + z[None, :])
        grad = events - (w * q).sum(axis=1)
        hess = (w * q * (1 - q)).sum(axis=1)
        step = grad / np.maximum(hess, 1e-12)
        a = a + step
        if np.all(np.abs(step) < 1e-10):
            break
    a[(events <= 0) | (events >= total)] = np.nan
    return a


def calibration_line(y: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intercept and slope ``(a, b)`` of ``logit P(y) = a + b z`` per row of weights ``w``
    (k, n), by Newton's method with step halving; NaN when a weighting holds no event or
    no non-event, or the fit does not settle (separated data)."""
    w = np.atleast_2d(w)
    k = w.shape[0]
    a, b = np.zeros(k), np.ones(k)

    def loglik(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        eta = a[:, None] + b[:, None] * z[None, :]
        return (w * (y[None, :] * eta - np.logaddexp(0.0, eta))).sum(axis=1)

    current = loglik(a, b)
    done = np.zeros(k, dtype=bool)
    for _ in range(_ITERATIONS):
        q = expit(a[:, None] + b[:, None] * z[None, :])
        r = w * (y[None, :] - q)
        g = np.stack([r.sum(axis=1), (r * z).sum(axis=1)], axis=1)
        v = w * q * (1 - q)
        h00, h01, h11 = v.sum(axis=1), (v * z).sum(axis=1), (v * z * z).sum(axis=1)
        det = np.maximum(h00 * h11 - h01**2, 1e-12)
        da = (h11 * g[:, 0] - h01 * g[:, 1]) / det
        db = (h00 * g[:, 1] - h01 * g[:, 0]) / det
        scale = np.ones(k)
        new_a, new_b = a + da, b + db
        new = loglik(new_a, new_b)
        for _ in range(20):  # halve until the likelihood does not fall
            worse = (new < current - 1e-12) & ~done
            if not worse.any():
                break
            scale[worse] /= 2
            new_a, new_b = a + scale * da, b + scale * db
            new = loglik(new_a, new_b)
        settled = np.abs(new - current) < 1e-10
        a = np.where(done, a, new_a)
        b = np.where(done, b, new_b)
        current = np.where(done, current, new)
        done |= settled
        if done.all():
            break
    events, total = w @ y, w.sum(axis=1)
    bad = (events <= 0) | (events >= total) | ~done | (np.abs(b) > 50)
    a[bad] = np.nan
    b[bad] = np.nan
    return a, b


def _measures(y: np.ndarray, p: np.ndarray, tiers: np.ndarray, w: np.ndarray) -> dict:
    """Every measure of :data:`MEASURES` per row of weights ``w`` (k, n), as arrays (k,)."""
    z = logit(p)
    events = w @ y
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"observed_expected": events / (w @ p)}
        out["calibration_intercept"] = calibration_intercept(y, z, w)
        out["calibration_slope"] = calibration_line(y, z, w)[1]
        for tier in TIERS:
            held = (tiers == tier).astype(np.float64)
            hits = w @ (y * held)
            out[f"precision_{tier}"] = hits / (w @ held)
            out[f"recall_{tier}"] = hits / events
    return {k: np.where(np.isfinite(v), v, np.nan) for k, v in out.items()}


def poisson_ratio(observed: float, expected: float) -> dict[str, float]:
    """``observed / expected`` with the exact (Garwood) 95% Poisson interval of the count."""
    if expected <= 0:
        return {"value": float("nan"), "lo": float("nan"), "hi": float("nan")}
    lo = stats.chi2.ppf(0.025, 2 * observed) / 2 if observed > 0 else 0.0
    hi = stats.chi2.ppf(0.975, 2 * observed + 2) / 2
    return {"value": observed / expected, "lo": float(lo) / expected, "hi": float(hi) / expected}


def interval(point: float, draws: np.ndarray) -> dict[str, float]:
    """``{"value", "lo", "hi"}``: the point figure and the 2.5% and 97.5% quantiles of its
    bootstrap draws (NaN draws left out; NaN bounds when none remain)."""
    d = np.asarray(draws, dtype=np.float64)
    d = d[~np.isnan(d)]
    lo, hi = np.quantile(d, [0.025, 0.975]) if d.size else (np.nan, np.nan)
    return {"value": float(point), "lo": float(lo), "hi": float(hi)}


def calibration_measures(
    y: np.ndarray,
    p: np.ndarray,
    tiers: np.ndarray,
    clusters: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Observed/expected, calibration intercept and slope, and each tier's precision and
    recall, each as ``{"value", "lo", "hi"}`` (see the module for the intervals)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    t = np.asarray(tiers)
    point = _measures(y, p, t, np.ones((1, len(y))))
    draws = _measures(y, p, t, bootstrap_weights(clusters, n_boot, seed))
    out = {k: interval(point[k][0], draws[k]) for k in MEASURES}
    if len(np.unique(np.asarray(clusters))) == len(y):
        out["observed_expected"] = poisson_ratio(float(y.sum()), float(p.sum()))
    return out


def realised_performance(
    y: np.ndarray,
    p: np.ndarray,
    tiers: np.ndarray,
    clusters: np.ndarray,
    *,
    dates: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Training's test metrics (:func:`riskwarn.training.evaluate`: ROC-AUC, PR-AUC,
    Brier, ECE, top shares; top shares within each date of ``dates``) and
    :func:`calibration_measures`, every one with its interval."""
    out = evaluate(y, p, groups=dates, clusters=clusters, n_boot=n_boot, seed=seed)
    return out | calibration_measures(y, p, tiers, clusters, n_boot=n_boot, seed=seed)
