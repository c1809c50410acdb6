"""riskwarn.training's public names are exactly its sorted ``__all__``, and the names the
scoring service codes against are there."""

from __future__ import annotations

import types

import riskwarn.training as training


def test_all_is_sorted_complete_and_holds_the_service_interface() -> None:
    exported = training.__all__
    assert exported == sorted(exported) and len(set(exported)) == len(exported)
    public = {
        name
        for name, value in vars(training).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - {"annotations"}
    assert public == set(exported)
    assert {"load_model", "RiskModel", "assign_tiers"} <= public
    for method in ("predict_risk", "tiers", "contributions", "reasons", "feature_names"):
        assert hasattr(training.RiskModel, method)
