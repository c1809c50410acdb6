"""Performance before labels arrive: what calibrated risks alone expect (the confidence-based
estimate, CBPE in the literature).

If the risks are calibrated, case ``i`` is an event with probability ``p_i``. Then the
expected event rate is ``mean(p)``, the expected precision of a tier is the mean risk of
its cases, and the expected ROC curve at each cut-off ``t`` has
``TPR(t) = sum_{s_i >= t} p_i / sum_i p_i`` and ``FPR(t) = sum_{s_i >= t} (1 - p_i) /
sum_i (1 - p_i)``: the realised curve with each case counted as a ``p_i`` share of an
event and a ``1 - p_i`` share of a non-event. Its area is the expected ROC-AUC.

What it cannot see: the estimate trusts the model's risks. It follows shifts in *who comes
in* (more debt disputes, older parties: the mix of risks changes and so does what they
imply) but not changes in *how risk works* (a threat that used to matter and no longer
does): the risks stay where they were and so does the estimate. Only labels show those.
"""

from __future__ import annotations

import numpy as np

from riskwarn.training._metrics import _ranking, auc_ap

ESTIMATES = ("event_rate", "precision_red", "precision_orange", "roc_auc", "pr_auc")


def expected_performance(risk: np.ndarray, tiers: np.ndarray) -> dict[str, float]:
    """Expected event rate, precision of the red and orange tiers, ROC-AUC and PR-AUC of
    rows with calibrated ``risk`` and their ``tiers``; NaN where undefined (no rows in a
    tier, or risks all 0 or all 1)."""
    p = np.asarray(risk, dtype=np.float64)
    t = np.asarray(tiers)
    if p.size == 0:
        return dict.fromkeys(ESTIMATES, float("nan"))
    auc, ap = auc_ap(p, np.ones_like(p), *_ranking(p))
    out = {"event_rate": float(p.mean())}
    for tier in ("red", "orange"):
        held = t == tier
        out[f"precision_{tier}"] = float(p[held].mean()) if held.any() else float("nan")
    out["roc_auc"], out["pr_auc"] = auc, ap
    return out
