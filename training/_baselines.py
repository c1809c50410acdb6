"""What a simpler tool gets on the same windows: logistic regression on the same features
and the checklist rule (threat + violence + weapon at registration)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from riskwarn.training._matrix import FeatureLayout

CHECKLIST = ("threat_reported", "violence_reported", "weapon_mentioned")


def _frame_for_sklearn(frame: pd.DataFrame, layout: FeatureLayout) -> pd.DataFrame:
    out = {}
    for name in layout.names:
        col = frame[name]
        if name in layout.categories:
            out[name] = (
                col.astype("object")
                .where(col.notna(), "(missing)")
                .astype(str)
                .to_numpy(dtype=object)
            )
        else:
            out[name] = pd.to_numeric(col, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
    return pd.DataFrame(out)


def logistic_pipeline(layout: FeatureLayout) -> Pipeline:
    """Impute (median, with missing indicators), scale, one-hot the categories, then a
    lightly regularised logistic regression."""
    numeric = [n for n in layout.names if n not in layout.categories]
    categorical = [n for n in layout.names if n in layout.categories]
    prep = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                numeric,
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), categorical),
        ]
    )
    return Pipeline([("prep", prep), ("model", LogisticRegression(C=1.0, max_iter=3000))])


class LogisticBaseline:
    """Logistic regression on the model's features (a scikit-learn pipeline).

    The regularisation strength is chosen on the validation window by log loss, as
    LightGBM's rounds are by early stopping, so the baseline is not handicapped by
    over-fitting a hundred features; it is not recalibrated.
    """

    def __init__(
        self, layout: FeatureLayout, cs: tuple[float, ...] = (1.0, 0.1, 0.01, 0.001)
    ) -> None:
        self.layout = layout
        self.cs = cs

    def fit(
        self,
        frame: pd.DataFrame,
        y: np.ndarray,
        val_frame: pd.DataFrame | None = None,
        val_y: np.ndarray | None = None,
    ) -> LogisticBaseline:
        x = _frame_for_sklearn(frame, self.layout)
        candidates = self.cs if val_frame is not None and val_y is not None else self.cs[:1]
        best, best_loss = None, np.inf
        for c in candidates:
            pipe = logistic_pipeline(self.layout).set_params(model__C=c).fit(x, y)
            if len(candidates) == 1:
                best = pipe
                break
            p = pipe.predict_proba(_frame_for_sklearn(val_frame, self.layout))[:, 1]
            loss = log_loss(val_y, p, labels=[0, 1])
            if loss < best_loss:
                best, best_loss = pipe, loss
        self.pipeline_ = best
        self.C_ = float(best.get_params()["model__C"])
        return self

    def predict_risk(self, frame: pd.DataFrame) -> np.ndarray:
        return self.pipeline_.predict_proba(_frame_for_sklearn(frame, self.layout))[:, 1]


def checklist_columns(frame: pd.DataFrame) -> list[str] | None:
    """The three checklist columns (``case_threat_reported`` from the feature registry, or
    plain ``threat_reported`` in other tables), or None when any is absent."""
    found = []
    for base in CHECKLIST:
        name = next((n for n in (f"case_{base}", base) if n in frame.columns), None)
        if name is None:
            return None
        found.append(name)
    return found


def has_checklist(frame: pd.DataFrame) -> bool:
    return checklist_columns(frame) is not None


def checklist_points(frame: pd.DataFrame) -> np.ndarray:
    """0 to 3: how many of threat, violence and weapon were recorded at registration."""
    cols = checklist_columns(frame) or []
    points = np.zeros(len(frame), dtype=np.float64)
    for c in cols:
        points += pd.to_numeric(frame[c], errors="coerce").fillna(0).to_numpy(dtype=np.float64) > 0
    return points


class ChecklistBaseline:
    """The checklist rule; its 0-3 points are turned into risk by the training window's
    observed rate at each point count, so Brier and calibration compare fairly."""

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> ChecklistBaseline:
        pts = checklist_points(frame)
        y = np.asarray(y, dtype=np.float64)
        prior = float(y.mean())
        self.rate_ = {
            k: float((y[pts == k].sum() + prior) / ((pts == k).sum() + 1)) for k in range(4)
        }
        return self

    def predict_risk(self, frame: pd.DataFrame) -> np.ndarray:
        pts = checklist_points(frame)
        return np.array([self.rate_[int(k)] for k in pts], dtype=np.float64)
