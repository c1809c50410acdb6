"""The same evaluation by group (gender, age band, township, category, or any --group
column), so a disparity is seen before anyone relies on the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from riskwarn.training._metrics import ece
from riskwarn.vocab import TIERS

_MIN_ROWS = 20


def group_report(
    y: np.ndarray, risk: np.ndarray, tiers: np.ndarray, groups: pd.DataFrame
) -> list[dict]:
    """One row per (group column, level): n, positives, AUC, mean risk against observed rate,
    ECE, share flagged red/orange, and false positive rate at red/orange.

    AUC is left empty (None) when a level has fewer than 20 rows or only one class.
    """
    y = np.asarray(y, dtype=np.float64)
    risk = np.asarray(risk, dtype=np.float64)
    flagged = np.isin(np.asarray(tiers), TIERS[:2])
    rows: list[dict] = []
    for col in groups.columns:
        values = groups[col].astype("object").where(groups[col].notna(), "(missing)").to_numpy()
        for level in sorted({str(v) for v in values}):
            m = values.astype(str) == level
            ym, rm, fm = y[m], risk[m], flagged[m]
            both = 0 < ym.sum() < len(ym)
            negatives = int((ym == 0).sum())
            rows.append(
                {
                    "group": str(col),
                    "level": level,
                    "n": int(m.sum()),
                    "positives": int(ym.sum()),
                    "auc": float(roc_auc_score(ym, rm)) if both and len(ym) >= _MIN_ROWS else None,
                    "mean_risk": float(rm.mean()),
                    "observed_rate": float(ym.mean()),
                    "ece": ece(ym, rm, bins=min(10, max(1, len(ym) // 50))),
                    "share_red_orange": float(fm.mean()),
                    "false_positive_rate": float((fm & (ym == 0)).sum() / negatives)
                    if negatives
                    else None,
                }
            )
    return rows
