"""Each drift measure against a small case worked out by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from riskwarn.training import chi_square, feature_drift, ks, missing_share, psi_levels, psi_numbers

FLOOR = 1e-4  # an empty bin's share, by the PSI convention


def test_psi_over_levels() -> None:
    # reference a, a, b, b (0.5, 0.5); current a, a, a, b (0.75, 0.25)
    expected = 0.25 * math.log(0.75 / 0.5) + (-0.25) * math.log(0.25 / 0.5)
    assert psi_levels(np.array(["a", "a", "b", "b"]), np.array(["a", "a", "a", "b"])) == (
        pytest.approx(expected)
    )
    assert expected == pytest.approx(0.274653, abs=1e-6)


def test_psi_levels_counts_missing_and_new_levels_as_bins() -> None:
    ref = np.array(["a", "b", None, None], dtype=object)
    cur = np.array(["a", "c", "c", None], dtype=object)
    # bins a, b, c, missing: ref 0.25, 0.25, 0, 0.5; cur 0.25, 0, 0.5, 0.25
    e = np.array([0.25, 0.25, FLOOR, 0.5])
    a = np.array([0.25, FLOOR, 0.5, 0.25])
    assert psi_levels(ref, cur) == pytest.approx(float(np.sum((a - e) * np.log(a / e))))


def test_psi_of_numbers_uses_reference_deciles_and_a_missing_bin() -> None:
    ref = np.arange(100, dtype=float)  # deciles 9, 19, ..., 89: ten bins of 0.1
    cur = np.concatenate([np.arange(50, dtype=float), np.full(50, np.nan)])
    # current: 0.1 in each of the five lower bins, none in the five upper, half missing
    by_hand = (
        5 * 0.0 + 5 * (FLOOR - 0.1) * math.log(FLOOR / 0.1) + (0.5 - FLOOR) * math.log(0.5 / FLOOR)
    )
    assert psi_numbers(ref, cur) == pytest.approx(by_hand)
    assert psi_numbers(ref, ref) == 0.0


def test_psi_of_a_count_with_many_zeros_makes_one_bin_of_them() -> None:
    ref = np.array([0.0] * 8 + [1.0, 2.0])  # deciles collapse to 0, 1: bins {0}, {1}, >1
    cur = np.array([0.0] * 5 + [1.0] * 5)
    e = np.array([0.8, 0.1, 0.1, FLOOR])
    a = np.array([0.5, 0.5, FLOOR, FLOOR])
    assert psi_numbers(ref, cur) == pytest.approx(float(np.sum((a - e) * np.log(a / e))))


def test_ks_is_the_largest_gap_between_the_two_distribution_functions() -> None:
    stat, p = ks(np.array([1.0, 2.0, 3.0, 4.0, np.nan]), np.array([3.0, 4.0, 5.0, 6.0]))
    assert stat == pytest.approx(0.5)  # at 2: F_ref = 0.5, F_cur = 0 (missing left out)
    assert 0 < p <= 1
    assert math.isnan(ks(np.array([np.nan]), np.array([1.0]))[0])


def test_ks_p_value_is_exact_for_small_samples() -> None:
    ref, cur = [1.0, 2.0, 3.0, 4.0], [2.5, 3.5, 5.0, 6.0]
    stat, p = ks(np.array(ref), np.array(cur))
    assert stat == pytest.approx(0.5)  # at 2, 3 and 4

    # by hand: of the 70 ways to split the 8 pooled values 4 + 4, those whose gap is at
    # least as large, assuming both samples come from one distribution
    def gap(a: list[float], b: list[float]) -> float:
        return max(abs(np.mean(np.less_equal(a, x)) - np.mean(np.less_equal(b, x))) for x in a + b)

    pooled = ref + cur
    splits = list(itertools.combinations(range(8), 4))
    as_large = sum(
        gap([pooled[i] for i in c], [pooled[i] for i in range(8) if i not in c]) >= 0.5 - 1e-12
        for c in splits
    )
    assert (as_large, len(splits)) == (54, 70)
    assert p == pytest.approx(54 / 70)


def test_chi_square_of_level_counts() -> None:
    ref = np.array(["a"] * 30 + ["b"] * 10)
    cur = np.array(["a"] * 10 + ["b"] * 10)
    # table [[30, 10], [10, 10]]: expected [[26.67, 13.33], [13.33, 6.67]]
    by_hand = (10 / 3) ** 2 * (1 / (80 / 3) + 2 / (40 / 3) + 1 / (20 / 3))
    stat, p = chi_square(ref, cur)
    assert by_hand == pytest.approx(3.75)
    assert stat == pytest.approx(by_hand)
    assert p == pytest.approx(0.0528, abs=1e-4)  # chi-square tail, 1 degree of freedom
    assert chi_square(np.array(["a", "a"]), np.array(["a"])) == (0.0, 1.0)


def test_missing_share() -> None:
    assert missing_share(np.array([1.0, np.nan, 3.0, np.nan])) == 0.5


def test_feature_drift_ranks_by_drift_weighted_by_importance() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    ref = np.column_stack(
        [
            rng.normal(size=n),  # moves a lot, matters little
            rng.normal(size=n),  # moves a little, matters most
            rng.integers(0, 2, n).astype(float),  # a 0/1 flag
            rng.integers(0, 3, n).astype(float),  # a category (codes)
        ]
    )
    cur = ref[:500].copy()
    cur[:, 0] += 2.0
    cur[:, 1] += 0.3
    table = feature_drift(ref, cur, ["far", "near", "flag", "kind"], {"kind"}, [0.01, 1, 0, 0])
    by_name = table.set_index("feature")
    assert by_name.loc["far", "psi"] > by_name.loc["near", "psi"] > 0
    assert list(table["feature"][:2]) == ["near", "far"]  # importance turns the order
    assert dict(by_name["kind"]) == {
        "far": "number",
        "near": "number",
        "flag": "flag",
        "kind": "category",
    }
    assert by_name.loc["flag", "test"] == "chi_square" and by_name.loc["far", "test"] == "ks"
    assert by_name.loc["near", "importance"] == pytest.approx(1 / 1.01)
