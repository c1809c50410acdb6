"""The fitted model as scoring sees it: booster, calibrator, tier thresholds and metadata.

Saved as three plain files (``model.txt``, ``calibrator.json``, ``metadata.json``) so it
loads without pickle, and predicts straight on a float matrix for speed.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskwarn.training._calibrate import Calibrator
from riskwarn.training._explain import contributions as _contributions
from riskwarn.training._matrix import FeatureLayout, to_matrix
from riskwarn.training._tiers import assign_tiers

BUNDLE = "riskwarn_model"  # folder of the three files inside the MLflow model
MODEL_FILE = "model.txt"
CALIBRATOR_FILE = "calibrator.json"
METADATA_FILE = "metadata.json"


class RiskModel:
    """A calibrated escalation-risk model with its tiers and explanations.

    >>> model = load_model("models:/riskwarn@champion")          # doctest: +SKIP
    >>> risk = model.predict_risk(features); model.tiers(risk)   # doctest: +SKIP
    """

    def __init__(
        self,
        booster: lgb.Booster,
        calibrator: Calibrator,
        layout: FeatureLayout,
        thresholds: dict[str, float],
        registry_version: str,
        metadata: dict | None = None,
        version: str = "",
        uri: str = "",
    ) -> None:
        self.booster = booster
        self.calibrator = calibrator
        self.layout = layout
        self.thresholds = dict(thresholds)
        self.registry_version = registry_version
        self.metadata = dict(metadata or {})
        self.version = version
        self.uri = uri

    @property
    def feature_names(self) -> list[str]:
        return list(self.layout.names)

    def matrix(self, x: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The float matrix the booster reads (a matrix passes through unchanged)."""
        if isinstance(x, np.ndarray):
            return x.astype(np.float64, copy=False).reshape(-1, len(self.layout.names))
        return to_matrix(x, self.layout)

    def raw_risk(self, x: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Uncalibrated booster probability."""
        m = self.matrix(x)
        threads = {"num_threads": 1} if len(m) == 1 else {}
        return self.booster.predict(m, **threads)

    def predict_risk(self, x: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Calibrated risk of escalation within the horizon, one value per row."""
        return self.calibrator.predict(self.raw_risk(x))

    def tiers(self, risk: np.ndarray | float) -> np.ndarray:
        """Tier names (red, orange, yellow, blue) for calibrated risks."""
        return assign_tiers(risk, self.thresholds)

    def contributions(self, x: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TreeSHAP contributions (n, n_features) in log-odds of the raw model, and base value."""
        return _contributions(self.booster, self.matrix(x))

    def reasons(self, x: pd.DataFrame, k: int = 3, lang: str = "zh") -> list[list[dict]]:
        """The top ``k`` features pushing each case's risk up, with readable text.

        Each reason: feature, value, contribution, text_zh, text_en, and text (in ``lang``).
        """
        contrib, _ = self.contributions(x)
        names = self.layout.names
        out: list[list[dict]] = []
        for i in range(len(contrib)):
            row = contrib[i]
            order = np.argsort(-row, kind="stable")[:k]
            reasons = []
            for j in order:
                if row[j] <= 0:
                    break
                value = (
                    _plain(x.iloc[i][names[j]]) if isinstance(x, pd.DataFrame) else float(x[i, j])
                )
                zh, en = reason_texts(names[j], value)
                reasons.append(
                    {
                        "feature": names[j],
                        "value": value,
                        "contribution": float(row[j]),
                        "text_zh": zh,
                        "text_en": en,
                        "text": zh if lang == "zh" else en,
                    }
                )
            out.append(reasons)
        return out

    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(d / MODEL_FILE))
        (d / CALIBRATOR_FILE).write_text(json.dumps(self.calibrator.to_dict()), encoding="utf-8")
        meta = {
            **self.metadata,
            "layout": self.layout.to_dict(),
            "thresholds": self.thresholds,
            "registry_version": self.registry_version,
        }
        (d / METADATA_FILE).write_text(
            json.dumps(meta, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        return d

    @classmethod
    def load(cls, directory: str | Path, version: str = "", uri: str = "") -> RiskModel:
        d = Path(directory)
        meta = json.loads((d / METADATA_FILE).read_text(encoding="utf-8"))
        layout = FeatureLayout.from_dict(meta.pop("layout"))
        thresholds = meta.pop("thresholds")
        registry_version = meta.pop("registry_version")
        calibrator = Calibrator.from_dict(
            json.loads((d / CALIBRATOR_FILE).read_text(encoding="utf-8"))
        )
        booster = lgb.Booster(model_file=str(d / MODEL_FILE))
        return cls(booster, calibrator, layout, thresholds, registry_version, meta, version, uri)


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def reason_texts(name: str, value: object) -> tuple[str, str]:
    """Chinese and English text of one reason, from the feature registry when it knows the
    feature; a plain ``name = value`` for other tables' columns."""
    try:
        from riskwarn.features import REGISTRY

        REGISTRY.get(name)
        return REGISTRY.reason(name, value, lang="zh"), REGISTRY.reason(name, value, lang="en")
    except (ImportError, LookupError, ValueError, AttributeError):
        shown = "无" if value is None else value
        return f"{name} = {shown}", f"{name} = {'none' if value is None else value}"
