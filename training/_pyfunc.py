"""The MLflow face of a :class:`RiskModel`: one ``PythonModel`` whose artifacts are the
booster (``model.txt``), the calibrator and the metadata as JSON, so ``mlflow models
serve`` and :func:`load_model` read the same three files and no pickle of ours.

It is logged as code (``_pyfunc_code.py``, MLflow's "models from code"), not as a pickled
object; the MLmodel file carries the model's description (:func:`mlmodel_metadata`).
Loading it runs riskwarn's own code, so riskwarn must be importable there."""

from __future__ import annotations

import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

with warnings.catch_warnings():
    # mlflow.pyfunc warns about its own type hints while importing (mlflow 3.17); not ours.
    warnings.filterwarnings(
        "ignore", message=".*Any type hint is inferred as AnyType", category=UserWarning
    )
    import mlflow.pyfunc

from riskwarn.training._model import BUNDLE, RiskModel


class RiskPyfunc(mlflow.pyfunc.PythonModel):
    """``predict`` takes the feature frame and returns ``risk`` (calibrated) and ``tier``."""

    def load_context(self, context) -> None:  # type: ignore[no-untyped-def]
        self.model_ = RiskModel.load(Path(context.artifacts[BUNDLE]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        risk = self.model_.predict_risk(frame)
        return pd.DataFrame({"risk": risk, "tier": self.model_.tiers(risk)})


CODE = Path(__file__).with_name("_pyfunc_code.py")  # what MLflow logs as the model's code


def riskwarn_version() -> str:
    try:
        return version("riskwarn")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def requirement_note() -> str:
    """Why riskwarn is not among the model's pip requirements, and what loading needs."""
    return (
        f"the riskwarn package (version {riskwarn_version()}) importable where the model is "
        "loaded: the model runs riskwarn's code. riskwarn is not published on PyPI, so it is "
        "not listed in requirements.txt (pip would look it up there, or install an unrelated "
        "package of that name); install it from the project and serve with "
        "`mlflow models serve --env-manager local`."
    )


def mlmodel_metadata(model: RiskModel, config_name: str, digest: str) -> dict[str, Any]:
    """What the MLmodel file says about the model, readable without loading it
    (``mlflow.models.get_model_info(uri).metadata``)."""
    meta = model.metadata
    return {
        "riskwarn_version": riskwarn_version(),
        "registry_version": model.registry_version,
        "thresholds": {k: float(v) for k, v in model.thresholds.items()},
        "tier_mode": meta.get("thresholds_mode", {}).get("mode"),
        "tier_shares": meta.get("tier_shares", {}),
        "horizon_days": meta.get("horizon_days"),
        "labels_end": meta.get("labels_end"),
        "train_until": meta.get("train_until"),
        "calibration": model.calibrator.method,
        "features": len(model.feature_names),
        "config": config_name,
        "dataset_digest": digest,
        "output": "risk (calibrated probability of an extreme incident within the horizon) "
        "and tier (red, orange, yellow, blue)",
        "requires": requirement_note(),
    }
