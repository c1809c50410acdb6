"""Logistic regression on the model's float matrix, kept as plain numbers.

The same matrix LightGBM reads (category features as their code in the layout) is turned
into a design: numeric features imputed by their training median (with a missing
indicator where training had gaps), category levels seen at least ``min_frequency`` times
one-hot, every column standardised by its training mean and spread. Coefficients are fitted
by L-BFGS-B with an L2 penalty (scikit-learn's convention: ``C`` times the log loss plus
half the squared weights) and **sign constraints** from the feature directions: a +1
feature's coefficient is never negative, a -1 feature's never positive.

Reasons are exact linear SHAP values in log-odds: each feature's contribution is the sum,
over its design columns, of coefficient × (standardised value − its training mean), which
is zero on average over the training rows; they add up with the intercept to the logit.
Everything learned is a few lists of numbers, saved as JSON (no pickle).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from riskwarn.errors import NotFittedError
from riskwarn.training._matrix import FeatureLayout

MIN_FREQUENCY = 5


class LinearModel:
    """A sign-constrained logistic regression over a :class:`FeatureLayout`'s matrix."""

    kind = "logistic"

    def __init__(
        self,
        layout: FeatureLayout,
        directions: list[int] | None = None,
        C: float = 1.0,
        min_frequency: int = MIN_FREQUENCY,
    ) -> None:
        self.layout = layout
        self.directions = directions
        self.C = C
        self.min_frequency = min_frequency

    # design -----------------------------------------------------------------------------
    def _learn_design(self, x: np.ndarray) -> None:
        names = self.layout.names
        self.medians_: list[float] = []
        self.indicators_: list[bool] = []
        self.levels_: list[list[int]] = []
        for j, name in enumerate(names):
            col = x[:, j]
            known = col[np.isfinite(col)]
            if name in self.layout.categories:
                codes, counts = np.unique(known.astype(np.int64), return_counts=True)
                self.medians_.append(0.0)
                self.indicators_.append(False)
                self.levels_.append([int(c) for c in codes[counts >= self.min_frequency]])
            else:
                self.medians_.append(float(np.median(known)) if known.size else 0.0)
                self.indicators_.append(bool(known.size < len(col)))
                self.levels_.append([])
        raw = self._raw_design(x)
        self.mean_ = raw.mean(axis=0).tolist()
        spread = raw.std(axis=0)
        self.scale_ = np.where(spread > 0, spread, 1.0).tolist()

    def _raw_design(self, x: np.ndarray) -> np.ndarray:
        cols = []
        for j in range(len(self.layout.names)):
            col = x[:, j]
            missing = ~np.isfinite(col)
            if self.levels_[j] or self.layout.names[j] in self.layout.categories:
                cols += [(col == c).astype(np.float64) for c in self.levels_[j]]
                continue
            cols.append(np.where(missing, self.medians_[j], col))
            if self.indicators_[j]:
                cols.append(missing.astype(np.float64))
        if not cols:
            return np.zeros((len(x), 0))
        return np.column_stack(cols)

    def _owners(self) -> np.ndarray:
        """For each design column, the feature it comes from."""
        out = []
        for j, name in enumerate(self.layout.names):
            if name in self.layout.categories:
                out += [j] * len(self.levels_[j])
            else:
                out += [j] * (1 + self.indicators_[j])
        return np.asarray(out, dtype=np.int64)

    def _bounds(self) -> list[tuple[float | None, float | None]]:
        signs = self.directions or [0] * len(self.layout.names)
        bounds: list[tuple[float | None, float | None]] = []
        for j, name in enumerate(self.layout.names):
            if name in self.layout.categories:
                bounds += [(None, None)] * len(self.levels_[j])
                continue
            value = {1: (0.0, None), -1: (None, 0.0)}.get(signs[j], (None, None))
            bounds.append(value)  # the value's own coefficient follows the direction
            if self.indicators_[j]:
                bounds.append((None, None))  # "missing" may go either way
        return [*bounds, (None, None)]  # intercept

    def design(self, x: np.ndarray) -> np.ndarray:
        """The standardised design matrix (training mean 0, spread 1 per column)."""
        self._check()
        return (self._raw_design(np.asarray(x, dtype=np.float64)) - self.mean_) / self.scale_

    # fit and predict ---------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, start: LinearModel | None = None) -> LinearModel:
        """Fit on (x, y); ``start``: a model fitted on the same rows (another ``C``) whose
        coefficients start the search (a regularisation path, several times faster)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self._learn_design(x)
        z = (self._raw_design(x) - self.mean_) / self.scale_
        k = z.shape[1]
        prior = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        w0 = np.zeros(k + 1)
        w0[-1] = np.log(prior / (1 - prior))
        if start is not None and len(start.coef_) == k:
            w0 = np.asarray([*start.coef_, start.intercept_])
        c = self.C

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            s = z @ w[:-1] + w[-1]
            nll = float(np.sum(np.logaddexp(0.0, s) - y * s))
            r = expit(s) - y
            grad = np.empty_like(w)
            grad[:-1] = c * (z.T @ r) + w[:-1]
            grad[-1] = c * r.sum()
            return c * nll + 0.5 * float(w[:-1] @ w[:-1]), grad

        found = minimize(
            loss,
            w0,
            jac=True,
            method="L-BFGS-B",
            bounds=self._bounds(),
            options={"maxiter": 2000},
        )
        self.coef_ = found.x[:-1].tolist()
        self.intercept_ = float(found.x[-1])
        return self

    def _check(self) -> None:
        if not hasattr(self, "mean_"):
            raise NotFittedError(
                "expected a fitted LinearModel, got one without learned state; call fit(x, y) "
                "first."
            )

    def logit(self, x: np.ndarray) -> np.ndarray:
        self._check()
        return self.design(x) @ np.asarray(self.coef_) + self.intercept_

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Probability before calibration."""
        return expit(self.logit(x))

    def contributions(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Linear SHAP per feature (n, n_features) in log-odds, and the base value (n,)."""
        terms = self.design(x) * np.asarray(self.coef_)
        out = np.zeros((len(terms), len(self.layout.names)))
        np.add.at(out.T, self._owners(), terms.T)
        return out, np.full(len(terms), self.intercept_)

    def violations(self) -> list[str]:
        """Features whose fitted coefficient goes against their declared direction (none
        after a bounded fit; kept as a check for models built otherwise)."""
        signs = self.directions or [0] * len(self.layout.names)
        owners, bad = self._owners(), []
        coef = np.asarray(self.coef_)
        for j, name in enumerate(self.layout.names):
            if name in self.layout.categories or not signs[j]:
                continue
            value = coef[np.flatnonzero(owners == j)[0]]
            if value * signs[j] < -1e-12:
                bad.append(name)
        return bad

    # plain state -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        self._check()
        return {
            "kind": self.kind,
            "C": self.C,
            "min_frequency": self.min_frequency,
            "directions": list(self.directions or []),
            "medians": self.medians_,
            "indicators": self.indicators_,
            "levels": self.levels_,
            "mean": self.mean_,
            "scale": self.scale_,
            "coef": self.coef_,
            "intercept": self.intercept_,
        }

    @classmethod
    def from_dict(cls, data: dict, layout: FeatureLayout) -> LinearModel:
        model = cls(layout, data["directions"] or None, data["C"], data["min_frequency"])
        model.medians_ = [float(v) for v in data["medians"]]
        model.indicators_ = [bool(v) for v in data["indicators"]]
        model.levels_ = [[int(c) for c in v] for v in data["levels"]]
        model.mean_ = [float(v) for v in data["mean"]]
        model.scale_ = [float(v) for v in data["scale"]]
        model.coef_ = [float(v) for v in data["coef"]]
        model.intercept_ = float(data["intercept"])
        return model
