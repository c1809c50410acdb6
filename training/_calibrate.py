"""Calibration of raw model scores on the validation window: isotonic or sigmoid (Platt).

The fitted state is a handful of numbers (isotonic knots, or the sigmoid's a and b), so a
calibrator travels as JSON beside the booster and needs no pickle to load.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression

from riskwarn.errors import ConfigError, NotFittedError

Method = Literal["isotonic", "sigmoid"]
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class Calibrator:
    """Maps a raw probability to a calibrated one.

    ``isotonic``: a monotone step function, linearly interpolated between knots.
    ``sigmoid``: ``1 / (1 + exp(-(a * logit(p) + b)))`` fitted by maximum likelihood.

    Either way the output is ``(1 - 1e-6) * f(p) + 1e-6 * p``: strictly increasing in the
    raw score, so a flat isotonic step, or a sigmoid saturated at 0 or 1, never ties cases
    the booster tells apart, and capacity tiers rank by the raw score inside a step (the
    shift is far below any reported precision, and stays within [0, 1]).
    """

    def __init__(self, method: Method = "isotonic") -> None:
        self.method = method

    def fit(self, p: np.ndarray, y: np.ndarray) -> Calibrator:
        p = np.asarray(p, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
            self.x_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.y_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        elif self.method == "sigmoid":
            self.a_, self.b_ = _fit_platt(_logit(p), y)
        else:
            raise ConfigError(
                f"expected calibration 'isotonic' or 'sigmoid', got {self.method!r}; "
                "set calibration in the config to one of them or to 'auto'."
            )
        return self

    def predict(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        if self.method == "isotonic":
            if not hasattr(self, "x_"):
                raise _not_fitted()
            out = np.interp(p, self.x_, self.y_)
        elif hasattr(self, "a_"):
            out = expit(self.a_ * _logit(p) + self.b_)
        else:
            raise _not_fitted()
        return np.clip((1 - _EPS) * out + _EPS * np.clip(p, 0.0, 1.0), 0.0, 1.0)

    def to_dict(self) -> dict:
        if self.method == "isotonic":
            return {"method": "isotonic", "x": self.x_.tolist(), "y": self.y_.tolist()}
        return {"method": "sigmoid", "a": float(self.a_), "b": float(self.b_)}

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        cal = cls(data["method"])
        if cal.method == "isotonic":
            cal.x_ = np.asarray(data["x"], dtype=np.float64)
            cal.y_ = np.asarray(data["y"], dtype=np.float64)
        else:
            cal.a_, cal.b_ = float(data["a"]), float(data["b"])
        return cal


def _not_fitted() -> NotFittedError:
    return NotFittedError(
        "expected a fitted Calibrator, got one without learned state; call fit(p, y) first."
    )


def _fit_platt(z: np.ndarray, y: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """Logistic regression of y on z (one feature plus intercept): Newton's method with step
    halving, on Platt's smoothed targets so that separable data still gives finite a, b."""
    pos = float(y.sum())
    neg = float(len(y) - pos)
    t = np.where(y > 0, (pos + 1) / (pos + 2), 1 / (neg + 2))
    design = np.column_stack([z, np.ones_like(z)])

    def loss(a: float, b: float) -> float:
        s = a * z + b
        return float(np.sum(np.logaddexp(0.0, s) - t * s))

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(iterations):
        p = expit(a * z + b)
        w = np.clip(p * (1 - p), 1e-12, None)
        grad = design.T @ (p - t)
        hess = design.T @ (design * w[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-6:
            na, nb = a - scale * step[0], b - scale * step[1]
            new = loss(na, nb)
            if new <= current:
                break
            scale /= 2
        else:
            break
        a, b, done = na, nb, current - new < 1e-12
        current = new
        if done:
            break
    return float(a), float(b)


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64) - np.asarray(y)) ** 2))


def choose_calibrator(
    p: np.ndarray,
    y: np.ndarray,
    method: Literal["auto", "isotonic", "sigmoid"] = "auto",
    *,
    folds: int = 5,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> tuple[Calibrator, dict[str, float]]:
    """Fit the calibrator on (p, y); with ``auto``, pick the method whose cross-validated
    Brier score on these rows is lower (isotonic would win unfairly in-sample).

    ``groups`` (e.g. the dispute id of each snapshot) keeps all rows of a group in one
    fold: monthly snapshots of one dispute share their score and outcome, and splitting
    them would let isotonic look up a held-out row's answer in its siblings.

    Returns the calibrator fitted on all rows and the cross-validated Brier per method.
    """
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    methods: list[Method] = ["isotonic", "sigmoid"] if method == "auto" else [method]
    fold = _folds(len(p), folds, seed, groups)
    scores: dict[str, float] = {}
    for m in methods:
        pred = np.empty_like(p)
        for k in np.unique(fold):
            held = fold == k
            pred[held] = Calibrator(m).fit(p[~held], y[~held]).predict(p[held])
        scores[m] = brier(y, pred)
    best = min(scores, key=scores.__getitem__)
    return Calibrator(best).fit(p, y), scores  # type: ignore[arg-type]


def _folds(n: int, folds: int, seed: int, groups: np.ndarray | None) -> np.ndarray:
    """Fold of each row: rows shuffled into ``folds`` parts, whole groups at a time."""
    rng = np.random.default_rng(seed)
    if groups is None:
        return rng.permutation(n) % folds
    keys, member = np.unique(np.asarray(groups), return_inverse=True)
    if len(member) != n:
        raise ConfigError(f"expected one group per row ({n}), got {len(member)}.")
    if len(keys) < 2:
        raise ConfigError(
            f"expected calibration rows from at least 2 groups (disputes), got {len(keys)}; "
            "use more data or a larger validation_share."
        )
    return (rng.permutation(len(keys)) % min(folds, len(keys)))[member]
