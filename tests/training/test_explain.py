"""LightGBM's own TreeSHAP (pred_contrib) is what shap.TreeExplainer computes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from riskwarn.training import fit_evaluate, parse_config, table_data


def _shap():
    with warnings.catch_warnings():
        # shap 0.51 calls Colormap.set_bad/set_over/set_under at import, which matplotlib 3.11 marks as
        # pending deprecation; not ours, and only at import.
        warnings.filterwarnings(
            "ignore",
            message=r"The set_\w+ function will be deprecated",
            category=PendingDeprecationWarning,
        )
        import shap
    return shap


def test_pred_contrib_equals_shap_tree_explainer(table: pd.DataFrame) -> None:
    data = table_data(
        table, label="label", time="as_of", id="case", drop=["leak"], group=["gender"]
    )
    result = fit_evaluate(data, parse_config({"bootstrap": 0, "baselines": False}))
    model = result.model
    x = model.matrix(table.head(200))
    contrib, base = model.contributions(table.head(200))
    explainer = _shap().TreeExplainer(model.booster)
    with warnings.catch_warnings():
        # shap announces that LightGBM binary output is now a list (one array per class)
        warnings.filterwarnings(
            "ignore", message="LightGBM binary classifier", category=UserWarning
        )
        values = explainer.shap_values(x)
    expected = values[1] if isinstance(values, list) else values
    expected_base = np.atleast_1d(explainer.expected_value)[-1]
    np.testing.assert_allclose(contrib, expected, atol=1e-6)
    np.testing.assert_allclose(base, np.full(200, expected_base), atol=1e-6)
    raw = model.booster.predict(x, raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, raw, atol=1e-6)
