"""Checking new records before they reach the store: the contract's rules, plus unique ids.

Pure: takes the records and what the store already holds, returns typed frames or raises a
:class:`~riskwarn.errors.ContractError` whose issues name the table, the record (1-based
position in its list), the column and the value. Writing is the store's job, in one
transaction, so a batch with one bad record leaves nothing behind.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from riskwarn import Dataset, Issue, parse_records
from riskwarn._contract import TABLES, TABLES_BY_NAME
from riskwarn.errors import ContractError, RequestError
from riskwarn.serving._records import taken_ids


def _taken_ids(frames: Mapping[str, pd.DataFrame], current: Dataset) -> list[Issue]:
    def held(table: str, column: str, values: list[str]) -> set[str]:
        return set(values) & set(current.table(table)[column].astype(str))

    return taken_ids(frames, held)


_JSON_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "id": ((str,), "a string id"),
    "string": ((str,), "a string"),
    "enum": ((str,), "a string"),
    "date": ((str,), "a date string YYYY-MM-DD"),
    "datetime": ((str,), "a datetime string YYYY-MM-DDTHH:MM:SS"),
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
}


_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _json_issues(name: str, rows: list[dict[str, Any]]) -> list[Issue]:
    """Fields a JSON record may not have, or values of the wrong JSON type, before the
    contract's own checks (which read text, as from CSV, and check the value ranges)."""
    table = TABLES_BY_NAME[name]
    issues = []
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key not in table.column_names or not _is_unicode(key):
                close = difflib.get_close_matches(key, table.column_names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                issues.append(
                    Issue(
                        "error",
                        name,
                        None,
                        i + 1,
                        key,
                        None,
                        f"one of {', '.join(table.column_names)}",
                        f"unknown field{hint}",
                    )
                )
                continue
            if value is None:
                continue
            kind = table.column(key).type
            types, expected = _JSON_TYPES[kind]
            problem = f"a JSON {type(value).__name__}"
            wrong = not isinstance(value, types) or (bool not in types and isinstance(value, bool))
            if not wrong and kind == "int" and not _INT_MIN <= value <= _INT_MAX:
                wrong, expected, problem = True, "a whole number that fits in 64 bits", "too large"
            if not wrong and kind == "float" and not math.isfinite(value):
                wrong, expected, problem = True, "a finite number", "not finite"
            if not wrong and isinstance(value, str) and not _is_unicode(value):
                wrong, expected, problem = True, "valid Unicode text", "a lone surrogate"
            if wrong:
                issues.append(
                    Issue("error", name, None, i + 1, key, repr(value)[:80], expected, problem)
                )
    return issues


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _object_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a frame of Python objects: a whole number stays whole even when another row
    leaves the field empty (a plain DataFrame would make it 1975.0)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return pd.DataFrame(
        {c: pd.Series([row.get(c) for row in rows], dtype=object) for c in columns},
        index=range(len(rows)),
    )


def check_records(
    records: Mapping[str, list[dict[str, Any]]],
    current: Dataset,
    warnings: list[Issue] | None = None,
) -> dict:
    """Typed frames of the non-empty tables in ``records``, checked against ``current`` by
    the contract's rules (:func:`riskwarn.parse_records`, as ``riskwarn validate``);
    warnings (an event dated before its dispute's registration) go into ``warnings``."""
    given = {name: rows for name, rows in records.items() if rows}
    if not given:
        raise RequestError(
            "expected at least one record in one of the contract tables "
            f"({', '.join(t.name for t in TABLES)}), got none"
        )
    issues = [i for name, rows in given.items() for i in _json_issues(name, rows)]
    if issues:
        listed = "; ".join(str(i) for i in issues[:5])
        raise ContractError(
            f"{len(issues)} field(s) of the wrong kind: {listed}. Fix the records named and "
            "send the whole batch again.",
            issues,
        )
    try:
        frames = parse_records(
            {name: _object_frame(rows) for name, rows in given.items()}, current, warnings=warnings
        )
    except ContractError:
        raise
    except (ArithmeticError, ValueError, TypeError, pa.ArrowException) as exc:
        raise RequestError(
            f"records: the contract checks could not read them ({type(exc).__name__}: {exc}); "
            "send contract values (docs/contract.md) and try again"
        ) from exc
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
