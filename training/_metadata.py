"""The one typed model metadata: what a model is, how it was chosen, fitted and evaluated.

Written once, when a training run is logged (``metadata.json`` in the model bundle; the
MLmodel file's ``metadata`` is derived from it by :func:`mlmodel_metadata`), and read
everywhere: the model card, promotion, the pyfunc, batch scoring, the service's model
endpoint and the workbench's model page. ``schema_version`` says which layout a file
follows; :meth:`ModelMetadata.from_saved` reads the current one and upgrades the untyped
dict models were saved with before (schema 1, no ``schema_version`` key), so models already
in a registry keep loading. It is read by attribute; its JSON form is ``model_dump(mode="json")``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from riskwarn.errors import ModelMismatchError
from riskwarn.training._config import TierConfig

SCHEMA_VERSION = 2
_STRICT = ConfigDict(extra="forbid", frozen=True)


def _finite(value: object) -> object:
    """NaN and infinities (an undefined figure) as None, so the JSON stays strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Interval(BaseModel):
    """A figure with its 95% bootstrap interval; None where undefined."""

    model_config = _STRICT

    value: float | None = Field(description="The point estimate.")
    lo: float | None = Field(None, description="Lower end of the 95% interval.")
    hi: float | None = Field(None, description="Upper end of the 95% interval.")

    _clean = field_validator("value", "lo", "hi", mode="before")(lambda v: _finite(v))


class Window(BaseModel):
    """One time window of the split (or of the refit)."""

    model_config = _STRICT

    start: dt.datetime = Field(description="First snapshot time (as_of) in the window.")
    end: dt.datetime = Field(description="Last snapshot time in the window.")
    rows: int = Field(description="Snapshots in the window.")
    events: int | None = Field(None, description="Snapshots followed by an incident.")


class CalibrationInfo(BaseModel):
    """How raw scores became calibrated risks."""

    model_config = _STRICT

    method: str = Field(description="'isotonic' or 'sigmoid'.")
    cv_brier: dict[str, float] = Field(
        description="Cross-validated Brier score of each method tried on the calibration rows."
    )
    fitted_on: str = Field("validation", description="Which rows the calibrator was fitted on.")
    validation_points: list[dict[str, float]] = Field(
        default_factory=list, description="Mean predicted vs observed, validation deciles."
    )
    test_points: list[dict[str, float]] = Field(
        default_factory=list, description="Mean predicted vs observed, test deciles."
    )


class GroupRow(BaseModel):
    """Test-window results for one level of a report-only group column."""

    model_config = _STRICT

    group: str = Field(description="The group column (gender, age_band, township, ...).")
    level: str = Field(description="The level within it.")
    n: int = Field(description="Test snapshots at this level.")
    positives: int = Field(description="Of which followed by an incident.")
    auc: float | None = Field(description="ROC-AUC; None below 20 rows or with one class.")
    mean_risk: float = Field(description="Mean calibrated risk.")
    observed_rate: float = Field(description="Observed event rate.")
    ece: float | None = Field(description="Expected calibration error.")
    share_red_orange: float = Field(description="Share flagged red or orange.")
    false_positive_rate: float | None = Field(description="Non-events flagged red or orange.")

    _clean = field_validator("auc", "ece", "false_positive_rate", mode="before")(
        lambda v: _finite(v)
    )


class Importance(BaseModel):
    """Mean absolute contribution of a feature on the test window (optionally by group)."""

    model_config = _STRICT

    feature: str = Field(description="Feature name.")
    mean_abs_shap: float = Field(description="Mean |contribution|, log-odds.")
    group: str | None = Field(None, description="Group column, for importance by group.")
    level: str | None = Field(None, description="Group level, for importance by group.")


class ModelChoice(BaseModel):
    """Which model was registered and why: the honest comparison on validation."""

    model_config = _STRICT

    rule: Literal["lightgbm", "logistic", "best"] = Field(
        description="What the config asked to register (`model = ...`)."
    )
    validation_logloss: dict[str, float] = Field(
        default_factory=dict,
        description="Raw validation log loss of each candidate (LightGBM's at its best "
        "round and grid point, the logistic regression's at its chosen C).",
    )
    lightgbm_worse_than_logistic: bool | None = Field(
        None, description="True when LightGBM's validation log loss is above the logistic's."
    )
    lightgbm: dict[str, Any] = Field(
        default_factory=dict, description="The LightGBM settings chosen on validation."
    )
    trials: list[dict[str, Any]] = Field(
        default_factory=list, description="Every grid point tried, with its validation loss."
    )
    logistic_C: float | None = Field(None, description="The logistic regression's chosen C.")
    monotone: bool = Field(False, description="Whether directions constrained the fit.")


class RefitInfo(BaseModel):
    """What the registered (deployed) model was fitted on."""

    model_config = _STRICT

    refit: bool = Field(description="False: the deployed model is the evaluated one.")
    window: Window | None = Field(None, description="Every labelled snapshot it was fit on.")
    rounds: int | None = Field(None, description="LightGBM rounds (validated, scaled to rows).")
    folds: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Out-of-time calibration folds: first/last as_of, rows, events, and the "
        "rows of the model that scored them (fitted only on snapshots whose labels end "
        "before the fold starts).",
    )
    note: str = Field("", description="Why the refit was skipped, when it was.")


class ModelMetadata(BaseModel):
    """Everything known about a fitted model besides its numbers (schema 2)."""

    model_config = _STRICT

    schema_version: Literal[2] = Field(2, description="Layout of this record.")
    kind: Literal["lightgbm", "logistic"] = Field(description="What scores: the estimator.")
    riskwarn_version: str = Field("unknown", description="riskwarn version that trained it.")
    registry_version: str = Field(description="Feature registry version ('table': a table).")
    features: list[str] = Field(description="Feature names in model order.")
    categories: dict[str, list[str]] = Field(
        default_factory=dict, description="Category list of each category feature."
    )
    directions: dict[str, int] = Field(
        default_factory=dict, description="Monotone direction of each constrained feature."
    )
    thresholds: dict[str, float] = Field(description="Minimum calibrated risk of each tier.")
    tier_policy: TierConfig = Field(description="How the tiers were cut, and the floors.")
    interventions: Literal["exclude", "feature", "ignore"] = Field(
        "ignore",
        description="What training did with snapshots touched by an intervention (models "
        "saved before the policy existed: 'ignore').",
    )
    horizon_days: int | None = Field(description="The label horizon in days.")
    config_name: str = Field("", description="The experiment config's name.")
    train_until: dt.datetime | None = Field(None, description="--train-until, if given.")
    labels_end: dt.datetime | None = Field(
        description="The last moment any label the deployed model learned from can see "
        "(after a refit: the data's last labelled snapshot plus one horizon)."
    )
    evaluation_labels_end: dt.datetime | None = Field(
        None, description="The same for the evaluated model (validation end plus a horizon)."
    )
    windows: dict[str, Window] = Field(description="Train, validation and test windows.")
    metrics: dict[str, dict[str, Interval]] = Field(
        description="Test-window metrics of each model (lightgbm, logistic, checklist)."
    )
    groups: list[GroupRow] = Field(default_factory=list, description="Results by group.")
    calibration: CalibrationInfo = Field(description="The calibrator and its curves.")
    tier_shares: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Share of cases per tier by window (and target)."
    )
    tier_warnings: list[str] = Field(default_factory=list, description="Empty tiers etc.")
    base_rate: dict[str, float] = Field(default_factory=dict, description="Event rates.")
    choice: ModelChoice = Field(description="How the registered model was chosen.")
    refit: RefitInfo = Field(description="What the deployed model was fitted on.")
    params: dict[str, Any] = Field(default_factory=dict, description="Training parameters.")
    importance: list[Importance] = Field(default_factory=list, description="Top features.")
    importance_by_group: list[Importance] = Field(
        default_factory=list, description="Top features per group level."
    )
    run_id: str = Field("", description="The MLflow run that logged the model.")
    dataset: str = Field("", description="Where the training data came from.")
    dataset_digest: str = Field("", description="Digest of the training data.")
    model_card: str = Field("", description="The model card (Markdown).")

    def with_(self, **changes: Any) -> ModelMetadata:
        """A copy with ``changes``, validated like the original."""
        return type(self).model_validate({**self.model_dump(), **changes})

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> ModelMetadata:
        """Read ``metadata.json``: the current schema as it is, schema 1 (the untyped dict
        of models saved before, without ``schema_version``) upgraded; a newer schema is
        refused with what to do."""
        version = data.get("schema_version", 1)
        if version == SCHEMA_VERSION:
            return cls.model_validate(data)
        if version == 1:
            return cls.model_validate(upgrade_v1(data))
        raise ModelMismatchError(
            f"expected model metadata of schema {SCHEMA_VERSION} or older, got schema "
            f"{version}; the model was saved by a newer riskwarn: upgrade riskwarn to load it."
        )


def upgrade_v1(old: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 metadata dict (LightGBM, calibrated on validation, never refit) in the
    schema-2 layout. Keys the old dict never had get their neutral value."""
    layout = old.get("layout") or {}
    horizon = old.get("horizon_days")
    labels_end = old.get("labels_end")
    cal = old.get("calibration") or {}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "lightgbm",
        "riskwarn_version": "unknown (schema 1)",
        "registry_version": old["registry_version"],
        "features": list(layout.get("names", [])),
        "categories": dict(layout.get("categories", {})),
        "thresholds": old["thresholds"],
        "tier_policy": {
            k: v
            for k, v in (old.get("thresholds_mode") or {}).items()
            if k in ("mode", "red", "orange", "yellow")
        },
        "horizon_days": horizon,
        "config_name": old.get("config_name", ""),
        "train_until": old.get("train_until"),
        "labels_end": labels_end,
        "evaluation_labels_end": labels_end,
        "windows": old.get("windows", {}),
        "metrics": old.get("metrics", {}),
        "groups": old.get("groups", []),
        "calibration": {
            "method": cal.get("method", "isotonic"),
            "cv_brier": cal.get("cv_brier", {}),
            "validation_points": cal.get("validation_points", []),
            "test_points": cal.get("test_points", []),
        },
        "tier_shares": old.get("tier_shares", {}),
        "tier_warnings": old.get("tier_warnings", []),
        "base_rate": old.get("base_rate", {}),
        "choice": {"rule": "lightgbm"},
        "refit": {"refit": False, "note": "saved before refits existed (schema 1)"},
        "importance": old.get("importance", []),
        "importance_by_group": old.get("importance_by_group", []),
        "run_id": old.get("run_id", ""),
        "dataset": old.get("dataset", ""),
        "dataset_digest": old.get("dataset_digest", ""),
        "model_card": old.get("model_card", ""),
    }


def mlmodel_metadata(meta: ModelMetadata, requires: str) -> dict[str, Any]:
    """What the MLmodel file says about the model, derived from the metadata, readable
    without loading it (``mlflow.models.get_model_info(uri).metadata``)."""
    return {
        "schema_version": meta.schema_version,
        "kind": meta.kind,
        "riskwarn_version": meta.riskwarn_version,
        "registry_version": meta.registry_version,
        "thresholds": dict(meta.thresholds),
        "tier_mode": meta.tier_policy.mode,
        "tier_floors": dict(meta.tier_policy.floors),
        "tier_shares": meta.tier_shares,
        "horizon_days": meta.horizon_days,
        "interventions": meta.interventions,
        "labels_end": meta.labels_end.isoformat() if meta.labels_end else None,
        "train_until": meta.train_until.isoformat() if meta.train_until else None,
        "refit": meta.refit.refit,
        "calibration": meta.calibration.method,
        "features": len(meta.features),
        "config": meta.config_name,
        "dataset_digest": meta.dataset_digest,
        "output": "risk (calibrated probability of an extreme incident within the horizon) "
        "and tier (red, orange, yellow, blue)",
        "requires": requires,
    }
