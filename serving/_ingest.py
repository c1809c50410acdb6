"""Checking new records before they reach the store: the contract's rules, plus unique ids.

Pure: takes the records and what the store already holds, returns typed frames or raises a
:class:`~riskwarn.errors.ContractError` whose issues name the table, the record (1-based
position in its list), the column and the value. Writing is the store's job, in one
transaction, so a batch with one bad record leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from riskwarn import Dataset, Issue, parse_records
from riskwarn._contract import TABLES
from riskwarn.errors import ContractError, RequestError


def _taken_ids(frames: Mapping[str, pd.DataFrame], current: Dataset) -> list[Issue]:
    issues = []
    for t in TABLES:
        frame = frames.get(t.name)
        if frame is None:
            continue
        for col in t.columns:
            if not col.unique:
                continue
            known = set(current.table(t.name)[col.name])
            for i, value in enumerate(frame[col.name]):
                if value in known:
                    issues.append(
                        Issue(
                            "error",
                            t.name,
                            None,
                            i + 1,
                            col.name,
                            str(value),
                            "an id the store does not hold yet",
                            "duplicate id (the store already holds it)",
                        )
                    )
    return issues


def _object_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a frame of Python objects: a whole number stays whole even when another row
    leaves the field empty (a plain DataFrame would make it 1975.0)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return pd.DataFrame(
        {c: pd.Series([row.get(c) for row in rows], dtype=object) for c in columns},
        index=range(len(rows)),
    )


def check_records(records: Mapping[str, list[dict[str, Any]]], current: Dataset) -> dict:
    """Typed frames of the non-empty tables in ``records``, checked against ``current``."""
    given = {name: rows for name, rows in records.items() if rows}
    if not given:
        raise RequestError(
            "expected at least one record in one of the contract tables "
            f"({', '.join(t.name for t in TABLES)}), got none"
        )
    frames = parse_records({name: _object_frame(rows) for name, rows in given.items()}, current)
    issues = _taken_ids(frames, current)
    if issues:
        listed = "; ".join(str(i) for i in issues[:5])
        raise ContractError(
            f"{len(issues)} record(s) reuse ids the store already holds: {listed}. "
            "Fix the records named and send the whole batch again.",
            issues,
        )
    return frames


def extend(current: Dataset, frames: Mapping[str, pd.DataFrame]) -> Dataset:
    """``current`` with the checked ``frames`` appended."""
    merged = {}
    for name, frame in current.tables().items():
        new = frames.get(name)
        if new is None or new.empty:
            merged[name] = frame
        else:
            merged[name] = new if frame.empty else pd.concat([frame, new], ignore_index=True)
    return Dataset.from_frames(**merged)


def issue_dicts(exc: ContractError) -> list[dict[str, Any]]:
    """The issues of a contract error as JSON-ready dicts (for the 422 response body)."""
    return [
        {
            "table": i.table,
            "record": i.row,
            "field": i.column,
            "value": i.value,
            "expected": i.expected,
            "message": i.message,
        }
        for i in exc.issues
    ]
