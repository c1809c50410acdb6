"""The fitted model as scoring sees it, and the one way from features to answers.

A :class:`RiskModel` is an estimator (LightGBM or the logistic regression), a calibrator,
the feature layout, tier thresholds and the typed :class:`ModelMetadata`.
:meth:`RiskModel.score` turns feature rows (a frame in registry names, feature dicts, or
the matrix) and the key facts into :class:`Scores`: calibrated risk, the model's tier, the
tier after fact floors and why, reasons, facts and SHAP values. ``riskwarn score`` calls it;
the service is to call the same.

Saved as plain files (the estimator's own: ``model.txt`` or ``linear.json``;
``calibrator.json``; ``metadata.json``), so it loads without pickle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskwarn.errors import ModelMismatchError, RequestError
from riskwarn.features import KeyFact
from riskwarn.training._calibrate import Calibrator
from riskwarn.training._lgbm import TreeModel
from riskwarn.training._linear import LinearModel
from riskwarn.training._matrix import FeatureLayout, to_matrix, values_of
from riskwarn.training._metadata import ModelMetadata
from riskwarn.training._scores import Scores, apply_floors, reasons_of
from riskwarn.training._tiers import assign_tiers

BUNDLE = "riskwarn_model"  # folder of the model's files inside the MLflow model
LINEAR_FILE = "linear.json"
CALIBRATOR_FILE = "calibrator.json"
METADATA_FILE = "metadata.json"

Features = pd.DataFrame | Sequence[Mapping[str, Any]] | np.ndarray
Estimator = TreeModel | LinearModel


class RiskModel:
    """A calibrated escalation-risk model with its tiers, floors and explanations.

    >>> model = load_model("models:/riskwarn@champion")              # doctest: +SKIP
    >>> scores = model.score(features, facts)                        # doctest: +SKIP
    >>> scores.risk, scores.tier, scores.reasons[0]                  # doctest: +SKIP
    """

    def __init__(
        self,
        estimator: Estimator,
        calibrator: Calibrator,
        metadata: ModelMetadata,
        version: str = "",
        uri: str = "",
    ) -> None:
        self.estimator = estimator
        self.calibrator = calibrator
        self.metadata = metadata
        self.version = version
        self.uri = uri

    # the metadata, typed ----------------------------------------------------------------
    @property
    def metadata(self) -> ModelMetadata:
        return self._metadata

    @metadata.setter
    def metadata(self, value: ModelMetadata) -> None:
        if not isinstance(value, ModelMetadata):
            raise TypeError(
                f"expected a ModelMetadata, got {type(value).__name__}; read a saved dict with "
                "ModelMetadata.from_saved(...)"
            )
        self._metadata = value
        self.layout = FeatureLayout(list(self._metadata.features), dict(self._metadata.categories))

    @property
    def kind(self) -> str:
        return self.estimator.kind

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.metadata.thresholds)

    @property
    def registry_version(self) -> str:
        return self.metadata.registry_version

    @property
    def feature_names(self) -> list[str]:
        return list(self.layout.names)

    # numbers -------------------------------------------------------------------------
    def matrix(self, x: Features) -> np.ndarray:
        """The float matrix the estimator reads (a matrix passes through unchanged)."""
        return to_matrix(x, self.layout)

    def raw_risk(self, x: Features) -> np.ndarray:
        """Uncalibrated probability."""
        return self.estimator.raw(self.matrix(x))

    def predict_risk(self, x: Features) -> np.ndarray:
        """Calibrated risk of escalation within the horizon, one value per row."""
        return self.calibrator.predict(self.raw_risk(x))

    def tiers(self, risk: np.ndarray | float) -> np.ndarray:
        """The model's tier (red, orange, yellow, blue) of calibrated risks, before floors."""
        return assign_tiers(risk, self.thresholds)

    def contributions(self, x: Features) -> tuple[np.ndarray, np.ndarray]:
        """SHAP contributions (n, n_features) in log-odds of the raw model, and base value:
        TreeSHAP for LightGBM, exact linear SHAP for the logistic regression."""
        return self.estimator.contributions(self.matrix(x))

    def score(
        self,
        features: Features,
        facts: Sequence[Sequence[KeyFact]] | None = None,
        *,
        top_k: int = 3,
    ) -> Scores:
        """Risk, tiers, reasons and facts for each row of ``features``.

        ``facts``: the key facts of each row (``FeatureBuilder.facts`` and friends); the
        tier policy's floors raise a case's tier to at least the floor of any fact it has.
        """
        m = self.matrix(features)
        values = values_of(features, m, self.layout)
        risk = self.calibrator.predict(self.estimator.raw(m))
        contrib, base = self.estimator.contributions(m)
        found = [tuple(f) for f in facts] if facts is not None else [()] * len(m)
        if len(found) != len(m):
            raise RequestError(
                f"expected one list of key facts per row ({len(m)}), got {len(found)}; pass "
                "the facts of every row in the same order, or none."
            )
        tier_model = self.tiers(risk)
        tier, why = apply_floors(tier_model, found, self.metadata.tier_policy.floors)
        names = tuple(self.layout.names)
        return Scores(
            feature_names=names,
            values=values,
            risk=risk,
            tier_model=tier_model,
            tier=tier,
            tier_floor_reason=why,
            reasons=tuple(
                tuple(reasons_of(names, values[i], contrib[i], top_k)) for i in range(len(m))
            ),
            key_facts=tuple(found),
            contributions=contrib,
            base_value=base,
        )

    def reasons(self, x: Features, k: int = 3, lang: str = "zh") -> list[list[dict]]:
        """The top ``k`` features pushing each case's risk up, as dicts with ``text`` in
        ``lang`` (a view of :meth:`score`'s reasons)."""
        return [
            [{**r.to_dict(), "text": r.text(lang)} for r in row]
            for row in self.score(x, top_k=k).reasons
        ]

    # files ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        if isinstance(self.estimator, TreeModel):
            self.estimator.save(d)
        else:
            (d / LINEAR_FILE).write_text(json.dumps(self.estimator.to_dict()), encoding="utf-8")
        (d / CALIBRATOR_FILE).write_text(json.dumps(self.calibrator.to_dict()), encoding="utf-8")
        (d / METADATA_FILE).write_text(self.metadata.model_dump_json(indent=1), encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path, version: str = "", uri: str = "") -> RiskModel:
        d = Path(directory)
        meta = ModelMetadata.from_saved(json.loads((d / METADATA_FILE).read_text("utf-8")))
        calibrator = Calibrator.from_dict(json.loads((d / CALIBRATOR_FILE).read_text("utf-8")))
        layout = FeatureLayout(list(meta.features), dict(meta.categories))
        estimator: Estimator
        if meta.kind == "logistic":
            state = json.loads((d / LINEAR_FILE).read_text("utf-8"))
            estimator = LinearModel.from_dict(state, layout)
        else:
            estimator = TreeModel.load(d)
        return cls(estimator, calibrator, meta, version, uri)


def check_registry(model: RiskModel) -> None:
    """Refuse a model built for another feature registry version than the code's."""
    from riskwarn.features import REGISTRY_VERSION

    if model.registry_version != REGISTRY_VERSION:
        raise ModelMismatchError(
            f"expected a model trained on feature registry {REGISTRY_VERSION}, got model "
            f"version {model.version or '?'} trained on {model.registry_version}; retrain it "
            "with `riskwarn train` on this code, or score with a matching riskwarn version."
        )
