"""The MLflow face of a :class:`RiskModel`: one ``PythonModel`` whose artifacts are the
estimator (``model.txt`` for LightGBM, ``linear.json`` for the logistic regression), the
calibrator and the metadata as JSON, so ``mlflow models serve`` and :func:`load_model` read
the same files and no pickle of ours.

It is logged as code (``_pyfunc_code.py``, MLflow's "models from code"), not as a pickled
object; the MLmodel file carries the model's description, derived from its metadata
(:func:`riskwarn.training._metadata.mlmodel_metadata`).
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
