"""The MLflow face of a :class:`RiskModel`: one ``PythonModel`` whose artifacts are the
booster (``model.txt``), the calibrator and the metadata as JSON, so ``mlflow models
serve`` and :func:`load_model` read the same three files and no pickle of ours."""

from __future__ import annotations

import warnings
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
