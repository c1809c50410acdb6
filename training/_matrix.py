"""Turn a feature frame into the float matrix LightGBM predicts on, without pandas per call.

Category features become their code in a fixed category list (unknown or missing: NaN),
so the booster sees the same numbers at training and at scoring, and single-row
prediction avoids LightGBM's pandas path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from riskwarn.errors import ModelMismatchError

_SMALL = 64


@dataclass(frozen=True)
class FeatureLayout:
    """Feature names in model order and the category list of each category feature."""

    names: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def codes(self) -> dict[str, dict[str, int]]:
        """Category value -> code, per category feature."""
        return {n: {c: i for i, c in enumerate(cats)} for n, cats in self.categories.items()}

    @cached_property
    def numeric_index(self) -> np.ndarray:
        return np.array(
            [i for i, n in enumerate(self.names) if n not in self.categories], dtype=int
        )

    @property
    def categorical_index(self) -> list[int]:
        return [i for i, n in enumerate(self.names) if n in self.categories]

    def to_dict(self) -> dict:
        return {"names": list(self.names), "categories": dict(self.categories)}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureLayout:
        return cls(names=list(data["names"]), categories=dict(data["categories"]))


def infer_layout(frame: pd.DataFrame) -> FeatureLayout:
    """Layout of a training frame: Categorical columns keep their categories; text columns
    get the sorted distinct values seen; everything else is numeric."""
    categories: dict[str, list[str]] = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            categories[name] = [str(c) for c in col.cat.categories]
        elif not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            categories[name] = sorted({str(v) for v in col.dropna().unique()})
    return FeatureLayout(names=[str(c) for c in frame.columns], categories=categories)


def to_matrix(frame: pd.DataFrame, layout: FeatureLayout) -> np.ndarray:
    """A float64 matrix with one column per feature in layout order."""
    missing = [n for n in layout.names if n not in frame.columns]
    if missing:
        raise ModelMismatchError(
            f"expected the model's {len(layout.names)} feature columns, got a frame missing "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}; build features with the same "
            "feature registry version the model was trained with."
        )
    if len(frame) <= _SMALL:
        try:
            return _small_matrix(frame, layout)
        except (TypeError, ValueError):
            pass  # e.g. pd.NA or text in a numeric column: the column-wise path copes
    out = np.empty((len(frame), len(layout.names)), dtype=np.float64)
    for j, name in enumerate(layout.names):
        col = frame[name]
        cats = layout.categories.get(name)
        if cats is None:
            out[:, j] = _numeric(col)
        else:
            text = col.astype("object")
            known = text.notna().to_numpy()
            mapped = np.full(len(text), np.nan)
            mapped[known] = (
                text[known]
                .astype(str)
                .map(layout.codes[name])
                .to_numpy(dtype=np.float64, na_value=np.nan)
            )
            out[:, j] = mapped
    return out


def _small_matrix(frame: pd.DataFrame, layout: FeatureLayout) -> np.ndarray:
    """Few rows: one object array, then plain numpy (avoids per-column pandas overhead,
    which dominates single-case scoring)."""
    raw = frame.to_numpy(dtype=object)[:, frame.columns.get_indexer(layout.names)]
    out = np.empty(raw.shape, dtype=np.float64)
    num = layout.numeric_index
    out[:, num] = raw[:, num].astype(np.float64)
    for name, codes in layout.codes.items():
        j = layout.names.index(name)
        out[:, j] = [np.nan if _absent(v) else codes.get(str(v), np.nan) for v in raw[:, j]]
    return out


def _absent(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _numeric(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
