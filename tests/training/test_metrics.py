from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from riskwarn.training import ece, evaluate, top_flags


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_and_ap_match_scikit_learn_with_ties_and_weights(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    p = np.round(rng.random(n), 2)  # many ties
    y = (rng.random(n) < p * 0.3).astype(float)
    m = evaluate(y, p, n_boot=0)
    assert m["roc_auc"]["value"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["pr_auc"]["value"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert m["brier"]["value"] == pytest.approx(np.mean((p - y) ** 2))


def test_bootstrap_interval_brackets_the_value_and_narrows_with_data() -> None:
    rng = np.random.default_rng(0)

    def width(n: int) -> float:
        p = rng.random(n)
        y = (rng.random(n) < p).astype(float)
        m = evaluate(y, p, n_boot=100, clusters=np.arange(n) // 3)
        assert m["roc_auc"]["lo"] <= m["roc_auc"]["value"] <= m["roc_auc"]["hi"]
        return m["roc_auc"]["hi"] - m["roc_auc"]["lo"]

    assert width(4000) < width(400)


def test_ece_is_small_for_calibrated_and_large_for_shifted_risk() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(1, 10, 50_000)
    y = (rng.random(p.size) < p).astype(float)
    assert ece(y, p) < 0.005
    assert ece(y, np.clip(p + 0.05, 0, 1)) == pytest.approx(0.05, abs=0.005)


def test_top_flags_are_taken_within_each_date() -> None:
    score = np.concatenate([np.linspace(0, 1, 100), np.linspace(0, 0.1, 100)])
    dates = np.repeat(["2024-01-01", "2024-02-01"], 100)
    flags = top_flags(score, 0.05, dates)
    assert flags[:100].sum() == 5 and flags[100:].sum() == 5
    assert flags[95:100].all() and flags[195:200].all()
    pooled = top_flags(score, 0.05)
    assert pooled.sum() == 10 and not pooled[100:].any()


def test_recall_and_precision_at_top_share() -> None:
    y = np.zeros(1000)
    y[:20] = 1
    p = np.linspace(1, 0, 1000)  # the first ten rows are the top 1%
    m = evaluate(y, p, n_boot=0)
    assert m["precision_top1"]["value"] == 1.0
    assert m["recall_top1"]["value"] == pytest.approx(10 / 20)
    assert m["recall_top5"]["value"] == 1.0
