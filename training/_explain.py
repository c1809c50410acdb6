"""Global summaries of SHAP contributions (the estimators compute them: LightGBM's own
TreeSHAP, ``pred_contrib=True``, or exact linear SHAP), in log-odds of the raw model."""

from __future__ import annotations

import numpy as np
import pandas as pd


def global_importance(contrib: np.ndarray, names: list[str]) -> list[dict[str, float | str]]:
    """Mean absolute contribution per feature, largest first."""
    mean_abs = np.abs(contrib).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [{"feature": names[i], "mean_abs_shap": float(mean_abs[i])} for i in order]


def importance_by_group(
    contrib: np.ndarray, names: list[str], groups: pd.DataFrame, top: int = 5
) -> list[dict]:
    """For each group level, its ``top`` features by mean absolute contribution."""
    rows: list[dict] = []
    for col in groups.columns:
        values = groups[col].astype("object").where(groups[col].notna(), "(missing)")
        values = values.astype(str).to_numpy()
        for level in sorted(set(values)):
            m = values == level
            mean_abs = np.abs(contrib[m]).mean(axis=0)
            for i in np.argsort(-mean_abs, kind="stable")[:top]:
                rows.append(
                    {
                        "group": str(col),
                        "level": level,
                        "feature": names[i],
                        "mean_abs_shap": float(mean_abs[i]),
                    }
                )
    return rows
