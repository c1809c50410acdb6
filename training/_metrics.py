"""Test-window metrics with bootstrap confidence intervals.

Discrimination (ROC-AUC, PR-AUC), probability quality (Brier, expected calibration error)
and what a worker with a fixed list sees (recall and precision in the top 1%, 5% and 10%
of open cases). The top share is taken within each snapshot date when dates are given, as
the nightly list is; intervals come from a bootstrap over disputes (clusters) when ids are
given, since snapshots of one dispute are not independent.
"""

from __future__ import annotations

import itertools

import numpy as np

SHARES = (0.01, 0.05, 0.10)
ECE_BINS = 10


def ece(
    y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None, bins: int = ECE_BINS
) -> float:
    """Expected calibration error over equal-count bins of predicted risk.

    Equal-count bins (not equal-width) because with rare events almost every case sits
    below 0.1, and equal-width bins would put them all in one.
    """
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(p) if weight is None else np.asarray(weight, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    edges = np.linspace(0, len(p), bins + 1).astype(int)
    total = w.sum()
    err = 0.0
    for lo, hi in itertools.pairwise(edges):
        idx = order[lo:hi]
        wb = w[idx].sum()
        if wb > 0:
            err += (
                wb
                / total
                * abs(np.average(p[idx], weights=w[idx]) - np.average(y[idx], weights=w[idx]))
            )
    return float(err)


def calibration_points(
    y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS
) -> list[dict[str, float]]:
    """Mean predicted risk against observed rate in equal-count bins (the calibration curve)."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    edges = np.linspace(0, len(p), bins + 1).astype(int)
    return [
        {
            "predicted": float(p[order[lo:hi]].mean()),
            "observed": float(y[order[lo:hi]].mean()),
            "n": int(hi - lo),
        }
        for lo, hi in itertools.pairwise(edges)
        if hi > lo
    ]


def top_flags(
    score: np.ndarray, share: float, groups: np.ndarray | None = None, seed: int = 0
) -> np.ndarray:
    """True for the top ``share`` of rows by score (at least one), within each group.

    Ties are broken at random with a fixed seed, so a tied score (the checklist rule) is
    neither favoured nor penalised by row order.
    """
    s = np.asarray(score, dtype=np.float64)
    g = (
        np.zeros(len(s), dtype=np.int64)
        if groups is None
        else np.unique(groups, return_inverse=True)[1]
    )
    tie = np.random.default_rng(seed).random(len(s))
    order = np.lexsort((tie, -s, g))
    flags = np.zeros(len(s), dtype=bool)
    counts = np.bincount(g)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for start, n in zip(starts, counts, strict=True):
        if n:
            k = max(1, int(np.ceil(share * n)))
            flags[order[start : start + k]] = True
    return flags


def _ranking(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row order by descending score and the last position of each run of tied scores;
    fixed across bootstrap draws, which only change weights."""
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    ends = np.concatenate([np.flatnonzero(np.diff(ps) != 0), [len(ps) - 1]])
    return order, ends


def auc_ap(
    y: np.ndarray, w: np.ndarray, order: np.ndarray, ends: np.ndarray
) -> tuple[float, float]:
    """Weighted ROC-AUC (trapezoids) and average precision (step sum, as scikit-learn)."""
    ys, ws = y[order], w[order]
    tp = np.cumsum(ws * ys)[ends]
    fp = np.cumsum(ws * (1 - ys))[ends]
    pos, neg = tp[-1], fp[-1]
    if pos <= 0 or neg <= 0:
        return float("nan"), float("nan")
    tpr = np.concatenate([[0.0], tp / pos])
    fpr = np.concatenate([[0.0], fp / neg])
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    flagged = tp + fp
    precision = np.divide(tp, flagged, out=np.zeros_like(tp), where=flagged > 0)
    ap = float(np.sum(np.diff(tpr) * precision))
    return auc, ap


def _point(
    y: np.ndarray,
    p: np.ndarray,
    flags: dict[float, np.ndarray],
    w: np.ndarray,
    ranking: tuple[np.ndarray, np.ndarray],
) -> dict[str, float]:
    out: dict[str, float] = {}
    out["roc_auc"], out["pr_auc"] = auc_ap(y, w, *ranking)
    out["brier"] = float(np.average((p - y) ** 2, weights=w))
    out["ece"] = ece(y, p, w)
    pos = np.sum(w * y)
    for share, f in flags.items():
        tag = f"top{round(share * 100)}"
        hit = np.sum(w * y * f)
        out[f"recall_{tag}"] = float(hit / pos) if pos > 0 else float("nan")
        flagged = np.sum(w * f)
        out[f"precision_{tag}"] = float(hit / flagged) if flagged > 0 else float("nan")
    return out


def evaluate(
    y: np.ndarray,
    p: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
    shares: tuple[float, ...] = SHARES,
) -> dict[str, dict[str, float]]:
    """Each metric as ``{"value", "lo", "hi"}`` (95% percentile bootstrap interval).

    The bootstrap reweights rows by how often their cluster was drawn, so the flagged top
    shares stay those of the real nightly lists.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    flags = {s: top_flags(p, s, groups, seed) for s in shares}
    ranking = _ranking(p)
    point = _point(y, p, flags, np.ones_like(p), ranking)
    codes = (
        np.arange(len(y))
        if clusters is None
        else np.unique(np.asarray(clusters), return_inverse=True)[1]
    )
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters)
        w = counts[codes].astype(np.float64)
        for k, v in _point(y, p, flags, w, ranking).items():
            draws[k].append(v)
    out: dict[str, dict[str, float]] = {}
    for k, v in point.items():
        arr = np.asarray(draws[k], dtype=np.float64)
        arr = arr[~np.isnan(arr)]
        lo, hi = np.quantile(arr, [0.025, 0.975]) if arr.size else (np.nan, np.nan)
        out[k] = {"value": v, "lo": float(lo), "hi": float(hi)}
    return out
