"""LightGBM's own TreeSHAP (pred_contrib) is what shap.TreeExplainer computes; the logistic
regression's linear SHAP is what shap.LinearExplainer computes on its design."""

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
    cfg = parse_config(
        {"bootstrap": 0, "baselines": False, "model": "lightgbm", "search": {"grid": {}}}
    )
    model = fit_evaluate(data, cfg).model
    booster = model.estimator.booster
    x = model.matrix(table.head(200))
    contrib, base = model.contributions(table.head(200))
    explainer = _shap().TreeExplainer(booster)
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
    raw = booster.predict(x, raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, raw, atol=1e-6)


def test_linear_shap_is_coefficient_times_the_standardised_deviation(table: pd.DataFrame) -> None:
    data = table_data(
        table, label="label", time="as_of", id="case", drop=["leak"], group=["gender"]
    )
    model = fit_evaluate(
        data, parse_config({"bootstrap": 0, "model": "logistic", "search": {"grid": {}}})
    ).model
    assert model.kind == "logistic"
    linear = model.estimator
    rows = table.head(300)
    x = model.matrix(rows)
    contrib, base = model.contributions(rows)
    # they add up to the logit of the raw probability, feature by feature
    np.testing.assert_allclose(contrib.sum(axis=1) + base, linear.logit(x), atol=1e-9)
    # and are what shap's own LinearExplainer gives on the standardised design
    z = linear.design(x)
    explainer = _shap().LinearExplainer(
        (np.asarray(linear.coef_), linear.intercept_), np.zeros((1, z.shape[1]))
    )
    per_column = explainer.shap_values(z)
    owners = linear._owners()  # which feature each design column belongs to
    expected = np.zeros_like(contrib)
    for k, j in enumerate(owners):
        expected[:, j] += per_column[:, k]
    np.testing.assert_allclose(contrib, expected, atol=1e-9)
    # x1 (the strongest signal) moves risk up; a category's levels share its contribution
    j = model.feature_names.index("x1")
    assert np.corrcoef(x[:, j], contrib[:, j])[0, 1] > 0.99
