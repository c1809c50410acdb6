"""One typed model metadata: written once, read everywhere, versioned; a model saved with
the old untyped dict (schema 1) still loads, upgraded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from riskwarn.errors import ModelMismatchError
from riskwarn.training import (
    SCHEMA_VERSION,
    ModelMetadata,
    RiskModel,
    fit_evaluate,
    parse_config,
    table_data,
)


def _model(table: pd.DataFrame) -> RiskModel:
    data = table_data(table, label="label", time="as_of", id="case", drop=["leak"])
    cfg = parse_config({"bootstrap": 0, "search": {"grid": {}}, "model": "lightgbm"})
    return fit_evaluate(data, cfg).model


def _schema_1(meta: ModelMetadata) -> dict:
    """The dict riskwarn saved before the metadata was typed (no schema_version)."""
    m = meta.model_dump(mode="json")
    return {
        "windows": m["windows"],
        "metrics": m["metrics"],
        "groups": m["groups"],
        "calibration": {
            k: m["calibration"][k]
            for k in ("method", "cv_brier", "validation_points", "test_points")
        },
        "thresholds_mode": {k: m["tier_policy"][k] for k in ("mode", "red", "orange", "yellow")},
        "horizon_days": m["horizon_days"],
        "labels_end": m["labels_end"],
        "tier_shares": m["tier_shares"],
        "tier_warnings": m["tier_warnings"],
        "config_name": m["config_name"],
        "base_rate": m["base_rate"],
        "run_id": "0123abcd",
        "dataset": "somewhere",
        "dataset_digest": "abc",
        "importance": [{"feature": "x1", "mean_abs_shap": 0.5}],
        "importance_by_group": [],
        "model_card": "# Model card: riskwarn `old`",
        "layout": {"names": m["features"], "categories": m["categories"]},
        "thresholds": m["thresholds"],
        "registry_version": m["registry_version"],
    }


def test_a_model_saved_with_the_old_dict_loads_upgraded(
    table: pd.DataFrame, tmp_path: Path
) -> None:
    model = _model(table)
    bundle = model.save(tmp_path / "bundle")
    (bundle / "metadata.json").write_text(json.dumps(_schema_1(model.metadata)), encoding="utf-8")
    old = RiskModel.load(bundle)
    assert old.metadata.schema_version == SCHEMA_VERSION
    assert old.kind == "lightgbm" and not old.metadata.refit.refit
    assert "schema 1" in old.metadata.refit.note
    assert old.metadata.run_id == "0123abcd" and old.metadata.model_card.startswith("# Model")
    assert old.thresholds == model.thresholds and old.feature_names == model.feature_names
    rows = table.head(50)
    np.testing.assert_array_equal(old.predict_risk(rows), model.predict_risk(rows))
    assert old.score(rows).tier.tolist() == model.score(rows).tier.tolist()


def test_a_newer_schema_says_to_upgrade_riskwarn(table: pd.DataFrame, tmp_path: Path) -> None:
    bundle = _model(table).save(tmp_path / "bundle")
    data = json.loads((bundle / "metadata.json").read_text(encoding="utf-8"))
    (bundle / "metadata.json").write_text(
        json.dumps({**data, "schema_version": 99}), encoding="utf-8"
    )
    with pytest.raises(ModelMismatchError, match=r"schema 99.*upgrade riskwarn"):
        RiskModel.load(bundle)


def test_the_metadata_is_strict_typed_and_reads_like_the_old_dict(table: pd.DataFrame) -> None:
    meta = _model(table).metadata
    with pytest.raises(ValidationError, match="extra"):
        ModelMetadata.model_validate({**meta.model_dump(), "card": "a key nothing reads"})
    with pytest.raises(ValidationError):
        meta.with_(kind="forest")
    # every field documented where it is declared
    assert all(f.description for f in ModelMetadata.model_fields.values())
    # read by attribute only: the old dict's key access is gone
    with pytest.raises(TypeError):
        meta["kind"]  # type: ignore[index]
    assert json.loads(json.dumps(meta.model_dump(mode="json"), allow_nan=False))  # strict JSON
