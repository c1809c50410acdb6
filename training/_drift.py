"""Drift between a reference sample (the model's training window) and a current one.

Each measure keeps its textbook definition so a drift library can replace it later
(docs/monitoring.md writes the formulas out):

- **population stability index** (PSI), ``sum_i (a_i - e_i) ln(a_i / e_i)`` over bins, with
  ``e_i`` the reference share and ``a_i`` the current share of bin ``i``. Numbers are cut
  at the reference deciles, categories and 0/1 flags use their levels; missing values are
  a bin of their own, and a share of 0 counts as ``1e-4`` (the usual floor), so an empty
  bin adds a large but finite term. Rule of thumb: under 0.1 stable, 0.1-0.25 a moderate
  shift, above 0.25 a large one.
- **Kolmogorov-Smirnov** for numbers: the largest gap between the two empirical
  distribution functions of the values present (``scipy.stats.ks_2samp``), and its p-value.
- **chi-square** for categories and flags: Pearson's test of homogeneity of the 2 x K table
  of level counts, missing as a level (``scipy.stats.chi2_contingency``).
- **missing share**: the share of rows without a value, in each sample.

Functions take plain arrays and return plain numbers; :func:`feature_drift` runs them over
every column of a model's feature matrix (:func:`reference` prepares the reference once
when many months are compared with it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

PSI_FLOOR = 1e-4
"""A bin share of 0 counts as this much in the PSI (the usual convention)."""
DECILES = 10


def _shares(codes: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(codes, minlength=k).astype(np.float64) / max(len(codes), 1)


def psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of two share vectors over the same bins: ``sum (a - e) ln(a / e)``."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def decile_edges(reference: np.ndarray, bins: int = DECILES) -> np.ndarray:
    """Inner bin edges at the reference's quantiles (distinct values only, so a value held
    by many rows, such as 0 for a count, makes one bin rather than several empty ones)."""
    x = np.asarray(reference, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return np.array([], dtype=np.float64)
    return np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1], method="lower"))


def number_bins(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: ``(-inf, e1], (e1, e2], ..., (ek, inf)``, then one bin for missing."""
    x = np.asarray(x, dtype=np.float64)
    out = np.searchsorted(edges, x, side="left")
    out[np.isnan(x)] = len(edges) + 1
    return out


def psi_numbers(reference: np.ndarray, current: np.ndarray, bins: int = DECILES) -> float:
    """PSI of a numeric feature: reference deciles as bins, missing as a bin of its own."""
    edges = decile_edges(reference, bins)
    k = len(edges) + 2
    return psi_from_shares(
        _shares(number_bins(reference, edges), k), _shares(number_bins(current, edges), k)
    )


def level_codes(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of the levels of both samples (missing is a level), and how many there are."""
    ref = pd.Series(np.asarray(reference, dtype=object)).astype("object")
    cur = pd.Series(np.asarray(current, dtype=object)).astype("object")
    both = pd.concat([ref, cur], ignore_index=True)
    both = both.where(both.notna(), "\x00missing")
    codes, uniques = pd.factorize(both.astype(str), sort=True)
    return codes[: len(ref)], codes[len(ref) :], len(uniques)


def psi_levels(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI over the levels of a category (missing is a level)."""
    ref, cur, k = level_codes(reference, current)
    return psi_from_shares(_shares(ref, k), _shares(cur, k))


def chi_square(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity of the level counts (missing a level):
    the statistic and its p-value; (0, 1) when both samples hold one level only."""
    ref, cur, k = level_codes(reference, current)
    return chi_square_counts(np.bincount(ref, minlength=k), np.bincount(cur, minlength=k))


def chi_square_counts(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """:func:`chi_square` from the two samples' counts per level."""
    table = np.vstack([np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value on the values present; NaN when
    either sample has none."""
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(current, dtype=np.float64)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan")
    # the exact p-value for small samples, the asymptotic one where exact would be slow
    method = "exact" if a.size * b.size <= 10_000 else "asymp"
    result = stats.ks_2samp(a, b, method=method)
    return float(result.statistic), float(result.pvalue)


def missing_share(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.isnan(x).mean()) if x.size else float("nan")


def is_flag(reference: np.ndarray) -> bool:
    """True for a 0/1 column (compared by its levels, not by deciles)."""
    x = np.asarray(reference, dtype=np.float64)
    present = x[~np.isnan(x)]
    return bool(present.size) and bool(np.isin(present, (0.0, 1.0)).all())


@dataclass(frozen=True)
class Reference:
    """What the current samples are compared with, prepared once: each feature's kind
    ('number', 'category' or 'flag'), its bins and reference shares, its values for KS."""

    names: list[str]
    kinds: list[str]
    edges: list[np.ndarray]
    shares: list[np.ndarray]
    values: np.ndarray
    rows: int
    importance: np.ndarray


def reference(
    x: np.ndarray, names: list[str], categories: set[str], importance: np.ndarray
) -> Reference:
    """Prepare the reference matrix ``x`` (rows, features in ``names`` order; category
    features as codes, as the model reads them). ``importance``: one weight per feature."""
    kinds, edges, shares = [], [], []
    for j, name in enumerate(names):
        col = x[:, j]
        kind = "category" if name in categories else "flag" if is_flag(col) else "number"
        if kind == "number":
            e = decile_edges(col)
            s = _shares(number_bins(col, e), len(e) + 2)
        else:
            e = np.unique(col[~np.isnan(col)])
            s = _shares(_level_bins(col, e), len(e) + 2)
        kinds.append(kind)
        edges.append(e)
        shares.append(s)
    return Reference(
        list(names), kinds, edges, shares, x, len(x), np.asarray(importance, dtype=float)
    )


def _level_bins(col: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Bin of each coded value among the reference ``levels``; a level the reference never
    had gets the bin before missing, missing the last."""
    if len(levels) == 0:
        return np.where(np.isnan(col), 1, 0)
    pos = np.searchsorted(levels, col)
    known = (pos < len(levels)) & (levels[np.minimum(pos, len(levels) - 1)] == col)
    out = np.where(known, pos, len(levels))
    out[np.isnan(col)] = len(levels) + 1
    return out


def feature_drift(
    reference_rows: np.ndarray,
    current_rows: np.ndarray,
    names: list[str],
    categories: set[str] | frozenset[str] = frozenset(),
    importance: np.ndarray | list[float] | None = None,
) -> pd.DataFrame:
    """Drift of each column of two matrices (rows, features in ``names`` order; category
    features, named in ``categories``, as codes): see :func:`drift_table`.
    ``importance``: one weight per feature (default equal)."""
    weights = np.ones(len(names)) if importance is None else np.asarray(importance, float)
    ref = reference(np.asarray(reference_rows, float), list(names), set(categories), weights)
    return drift_table(ref, np.asarray(current_rows, dtype=np.float64))


def drift_table(ref: Reference, x: np.ndarray) -> pd.DataFrame:
    """Drift of every feature between the reference and the current matrix ``x``: kind,
    PSI, KS (numbers) or chi-square (categories, flags) with p-value, missing shares, the
    feature's importance share and ``weighted`` = PSI x importance share (the ranking key),
    sorted by it, largest first."""
    total = ref.importance.sum()
    weight = ref.importance / total if total > 0 else np.zeros_like(ref.importance)
    rows = []
    for j, name in enumerate(ref.names):
        col, kind, e = x[:, j], ref.kinds[j], ref.edges[j]
        k = len(e) + 2
        if kind == "number":
            current = _shares(number_bins(col, e), k)
            stat, p = ks(ref.values[:, j], col)
            test = "ks"
        else:
            current = _shares(_level_bins(col, e), k)
            stat, p = chi_square_counts(ref.shares[j] * ref.rows, current * len(col))
            test = "chi_square"
        psi = psi_from_shares(ref.shares[j], current)
        rows.append(
            {
                "feature": name,
                "kind": kind,
                "psi": psi,
                "test": test,
                "statistic": stat,
                "p_value": p,
                "missing_reference": float(ref.shares[j][-1]),
                "missing_current": missing_share(col),
                "importance": float(weight[j]),
                "weighted": psi * float(weight[j]),
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values(["weighted", "psi"], ascending=False, kind="stable").reset_index(
        drop=True
    )


def score_drift(reference_risk: np.ndarray, risk: np.ndarray) -> dict[str, float]:
    """PSI (reference deciles) and KS of the calibrated risk."""
    stat, p = ks(reference_risk, risk)
    return {"psi": psi_numbers(reference_risk, risk), "ks": stat, "ks_p_value": p}
