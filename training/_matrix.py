"""Turn a feature frame into the float matrix LightGBM predicts on, without pandas per call.

Category features become their code in a fixed category list (unknown or missing: NaN),
so the booster sees the same numbers at training and at scoring, and single-row
prediction avoids LightGBM's pandas path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

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


def to_matrix(
    frame: pd.DataFrame | Sequence[Mapping[str, Any]] | np.ndarray, layout: FeatureLayout
) -> np.ndarray:
    """A float64 matrix with one column per feature in layout order, from a frame, from
    feature dicts (what ``FeatureBuilder.features_for`` returns), or a matrix already in
    layout order (passed through)."""
    if isinstance(frame, np.ndarray):
        return frame.astype(np.float64, copy=False).reshape(-1, len(layout.names))
    if not isinstance(frame, pd.DataFrame):
        return rows_matrix(frame, layout)
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


_PLAIN_NUMBERS = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.int32})


def rows_matrix(rows: Sequence[Mapping[str, Any]], layout: FeatureLayout) -> np.ndarray:
    """The matrix straight from feature dicts, without pandas: a single case costs
    microseconds. Categories by their code in the layout, missing or unknown as NaN."""
    missing = [n for n in layout.names if rows and n not in rows[0]]
    if missing:
        raise ModelMismatchError(
            f"expected the model's {len(layout.names)} features in each row, got rows missing "
            f"{missing[:5]}; build features with the feature registry the model was trained with."
        )
    columns = [(j, name, layout.codes.get(name)) for j, name in enumerate(layout.names)]
    out = np.full((len(rows), len(layout.names)), np.nan, dtype=np.float64)
    for i, row in enumerate(rows):
        for j, name, lookup in columns:
            value = row.get(name)
            if type(value) in _PLAIN_NUMBERS and lookup is None:  # most values: no checks
                out[i, j] = value  # NaN stays NaN
                continue
            if _absent(value) or value is pd.NaT:
                continue
            if lookup is not None:
                code = lookup.get(str(value))
                if code is not None:
                    out[i, j] = code
            elif isinstance(value, str):
                try:
                    out[i, j] = float(value)
                except ValueError:
                    continue
            else:
                out[i, j] = float(value)  # type: ignore[arg-type]
    return out


def plain(value: object) -> float | str | None:
    """A feature value as reasons and JSON show it: a number, a category, or None."""
    if _absent(value) or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
        return float(value)  # type: ignore[arg-type]
    return str(value)


def values_of(
    x: pd.DataFrame | Sequence[Mapping[str, Any]] | np.ndarray,
    matrix: np.ndarray,
    layout: FeatureLayout,
) -> list[list[float | str | None]]:
    """Each row's feature values in layout order, plain (as :func:`plain`). From a matrix,
    a category is read back from its code."""
    names = layout.names
    if isinstance(x, pd.DataFrame):
        raw = x[names].to_numpy(dtype=object)
        return [[plain(v) for v in row] for row in raw]
    if not isinstance(x, np.ndarray):
        return [[plain(row.get(n)) for n in names] for row in x]
    out = []
    cats = [layout.categories.get(n) for n in names]
    for row in matrix:
        vals: list[float | str | None] = []
        for v, c in zip(row.tolist(), cats, strict=True):
            if v != v:
                vals.append(None)
            elif c is not None:
                vals.append(c[int(v)] if 0 <= int(v) < len(c) else None)
            else:
                vals.append(float(v))
        out.append(vals)
    return out
