"""What a simpler tool gets on the same windows: logistic regression on the same features
(also a candidate for registration) and the checklist rule (threat + violence + weapon at
registration)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss

from riskwarn.training._linear import LinearModel
from riskwarn.training._matrix import FeatureLayout

CHECKLIST = ("threat_reported", "violence_reported", "weapon_mentioned")
CS = (1.0, 0.1, 0.01, 0.001)


class LogisticBaseline:
    """Logistic regression on the model's features (:class:`LinearModel`, sign-constrained
    by ``directions``), its regularisation ``C`` chosen on the validation window by log
    loss, as LightGBM's rounds are by early stopping, so the baseline is not handicapped
    by over-fitting a hundred features.

    Learned: ``model_`` (the fitted :class:`LinearModel`), ``C_`` and ``validation_logloss_``.
    """

    def __init__(
        self, layout: FeatureLayout, directions: list[int] | None = None, cs: tuple[float, ...] = CS
    ) -> None:
        self.layout = layout
        self.directions = directions
        self.cs = cs

    def fit(
        self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray
    ) -> LogisticBaseline:
        best, best_loss, previous = None, np.inf, None
        for c in sorted(self.cs):  # strongest penalty first, each fit starting from the last
            model = LinearModel(self.layout, self.directions, C=c).fit(x, y, start=previous)
            previous = model
            loss = log_loss(y_val, np.clip(model.raw(x_val), 1e-12, 1 - 1e-12), labels=[0, 1])
            if loss < best_loss:
                best, best_loss = model, loss
        assert best is not None
        self.model_, self.C_, self.validation_logloss_ = best, float(best.C), float(best_loss)
        return self


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
