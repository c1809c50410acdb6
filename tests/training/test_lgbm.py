"""Monotone where the field knows the direction: on real snapshots, raising any +1 feature
never lowers the model's risk, and raising any -1 feature never raises it, for LightGBM
and for the logistic regression alike."""

from __future__ import annotations

import numpy as np
import pytest

from riskwarn.features import REGISTRY
from riskwarn.training import build_table, fit_evaluate, parse_config, training_data


@pytest.fixture(scope="module")
def snapshots(county):  # type: ignore[no-untyped-def]
    return build_table(county)


@pytest.mark.parametrize("kind", ["lightgbm", "logistic"])
def test_raising_a_feature_moves_risk_only_its_declared_way(snapshots, kind: str) -> None:
    cfg = parse_config({"bootstrap": 0, "search": {"grid": {}}, "model": kind})
    model = fit_evaluate(training_data(snapshots, cfg), cfg).model
    assert model.kind == kind
    rows = snapshots.features.sample(400, random_state=0).reset_index(drop=True)
    x = model.matrix(rows)
    base = model.predict_risk(x)
    checked = 0
    for j, name in enumerate(model.feature_names):
        sign = REGISTRY.get(name).direction
        if not sign:
            continue
        dtype = REGISTRY.get(name).dtype
        for step in (1.0,) if dtype == "bool" else (1.0, 5.0, 60.0):
            raised = x.copy()
            col = raised[:, j]
            if dtype == "bool":
                raised[:, j] = 1.0
            else:
                raised[:, j] = np.where(np.isnan(col), np.nan, col + step)
            risk = model.predict_risk(raised)
            if sign > 0:
                assert (risk >= base - 1e-12).all(), (name, step)
            else:
                assert (risk <= base + 1e-12).all(), (name, step)
        checked += 1
    assert checked >= 40
    # and the constraint bites: without it some +1 feature lowers some risk
    if kind == "lightgbm":
        free = parse_config(
            {"bootstrap": 0, "search": {"grid": {}}, "model": kind, "monotone": False}
        )
        loose = fit_evaluate(training_data(snapshots, free), free).model
        lowered = 0
        for j, name in enumerate(loose.feature_names):
            if REGISTRY.get(name).direction > 0 and REGISTRY.get(name).dtype != "bool":
                raised = x.copy()
                raised[:, j] = np.where(np.isnan(x[:, j]), np.nan, x[:, j] + 1.0)
                lowered += int((loose.predict_risk(raised) < loose.predict_risk(x) - 1e-9).sum())
        assert lowered > 0
