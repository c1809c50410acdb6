"""What the store checks in the rows it is given, before a transaction: values a database
column cannot keep, ids it holds already, audit entries it may write.

Pure functions over frames and dicts that return :class:`riskwarn.Issue` lists or clean
rows; the store raises them as riskwarn errors naming the table, record and field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pandas as pd

from riskwarn import Issue
from riskwarn._contract import TABLES, Column, Table
from riskwarn.errors import ContractError, RequestError
from riskwarn.loop import EVENT_KINDS
from riskwarn.serving._schema import ID_LENGTH, STRING_LENGTHS
from riskwarn.vocab import TIER_ORDER

ACTION_KINDS = ("acknowledge", "assign", "note", "raise_tier")

# What the audit log's ``action`` may say. The workbench's ``ui:`` entries name what a
# signed-in supervisor did; a name outside this list keeps its known prefix and becomes
# ``...:unknown`` (see :func:`audit_action`), so nothing a URL carries reaches the log as is.
AUDIT_ACTIONS = frozenset(
    {
        "score",
        "explain",
        "model",
        "ingest",
        "reload",
        "snapshot",
        "history:load",
        "keys:create",
        "keys:revoke",
        "records:correct",
        "records:expire",
        "records:recompute",
        "report:person",
        "ui:signin",
        "ui:signin_refused",
        "ui:signout",
        # the workbench's exports (each one audited) and its list of mediators
        "export:queue.xlsx",
        "export:overview.xlsx",
        "export:briefing",
        "export:briefing.pdf",
        "mediator:add",
        "mediator:remove",
        *(f"action:{k}" for k in ACTION_KINDS),
        *(f"ui:refused:{k}" for k in ACTION_KINDS),
        *(f"warning:{k}" for k in EVENT_KINDS),
        "warning:policy",
        "roster:load",
        "roster:add",  # the one list of people (before 0006: mediator:add / mediator:remove)
        "roster:remove",
    }
)
_AUDIT_PREFIXES = ("ui:refused:", "action:", "ui:", "warning:")
_AUDIT_BLANK: dict[str, Any] = {
    "dispute_id": None,
    "as_of": None,
    "model_version": None,
    "risk": None,
    "tier": None,
    "detail": None,
}
_AUDIT_LENGTHS = {"key_name": 128, "request_id": 64, "dispute_id": ID_LENGTH, "model_version": 64}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain(value: Any) -> Any:
    """A pandas/numpy cell as a value every database driver takes."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of plain Python values (None for missing)."""
    columns = list(frame.columns)
    return [
        {c: plain(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def given_columns(
    frames: Mapping[str, pd.DataFrame],
) -> Iterator[tuple[Table, Column, pd.DataFrame]]:
    """(table, column, frame) for every contract column of every non-empty frame given."""
    for t in TABLES:
        frame = frames.get(t.name)
        if frame is not None and not frame.empty:
            for col in t.columns:
                yield t, col, frame


def taken_ids(
    frames: Mapping[str, pd.DataFrame], held: Callable[[str, str, list[str]], set[str]]
) -> list[Issue]:
    """An issue for every id in ``frames`` (each unique contract column) already held.

    ``held(table, column, values)`` answers which of ``values`` the history holds: the
    database in the store, a worker's in-memory dataset in
    :func:`~riskwarn.serving.check_records`.
    """
    issues = []
    for t, col, frame in given_columns(frames):
        if col.unique:
            found = held(t.name, col.name, [str(v) for v in frame[col.name].dropna().unique()])
            issues.extend(
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
                for i, value in enumerate(frame[col.name])
                if str(value) in found
            )
    return issues


def string_problem(value: str, kind: str) -> tuple[str, str] | None:
    """``(expected, problem)`` when the store cannot keep ``value`` in a column of contract
    type ``kind`` as it is: a NUL character (PostgreSQL refuses it; SQLite would keep it)
    or more characters than the column holds. None when it can."""
    if "\x00" in value:
        return "text without NUL characters", "contains a NUL character"
    length = STRING_LENGTHS.get(kind)
    if length is not None and len(value) > length:
        return f"at most {length} characters", f"{len(value)} characters"
    return None


def value_issues(frames: Mapping[str, pd.DataFrame]) -> list[Issue]:
    """Issues for string cells the store cannot keep (see :func:`string_problem`)."""
    issues = []
    for t, col, frame in given_columns(frames):
        if col.type in STRING_LENGTHS and col.name in frame:
            text = frame[col.name].astype("string")
            length = STRING_LENGTHS[col.type]
            bad = text.str.contains("\x00", regex=False).fillna(False)
            if length is not None:
                bad |= (text.str.len() > length).fillna(False)
            for i in bad.to_numpy().nonzero()[0].tolist():
                value = str(text.iloc[i])
                found = string_problem(value, col.type)
                expected, problem = found if found else ("a string", "refused")
                shown = value[:40] + ("..." if len(value) > 40 else "")
                issues.append(
                    Issue("error", t.name, None, i + 1, col.name, shown, expected, problem)
                )
    return issues


TAKEN = "record(s) reuse ids the store already holds"
CANNOT_KEEP = "value(s) the store cannot keep"


def refusal(issues: list[Issue], what: str) -> ContractError:
    listed = "; ".join(str(i) for i in issues[:5])
    return ContractError(
        f"{len(issues)} {what}: {listed}. Fix the records named and send the whole batch again.",
        issues,
    )


def refuse(issues: list[Issue], what: str) -> None:
    if issues:
        raise refusal(issues, what)


def check_text(field: str, value: Any, length: int | None) -> None:
    """RequestError unless ``value`` is None or a string the store keeps as it is."""
    if value is None:
        return
    text = str(value)
    bad = _CONTROL.search(text) if length is not None else ("\x00" in text)
    if bad or (length is not None and len(text) > length):
        what = (
            f"at most {length} characters without control characters"
            if length
            else "text without NUL characters"
        )
        raise RequestError(f"{field}: expected {what}, got {text[:40]!r}")


def audit_action(action: str) -> str:
    """``action`` when the audit log knows it, else its known prefix + ``unknown``."""
    if action in AUDIT_ACTIONS:
        return action
    for prefix in _AUDIT_PREFIXES:
        if action.startswith(prefix):
            return f"{prefix}unknown"
    raise ValueError(f"audit action must be one of {sorted(AUDIT_ACTIONS)}, got {action!r}")


def audit_row(entry: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """An audit entry (key_name, action, request_id and optionally dispute_id, as_of,
    model_version, risk, tier, detail) as a row the log keeps.

    ``action`` outside :data:`AUDIT_ACTIONS` is recorded by its known prefix, a ``tier``
    outside the tiers as empty, a ``detail`` that is not text as JSON; an id or name too
    long or with control characters is a RequestError naming the field.
    """
    unknown = set(entry) - set(_AUDIT_BLANK) - {"key_name", "action", "request_id"}
    if unknown:
        raise TypeError(f"audit entries have no field {sorted(unknown)}")
    row = {"at": at, **_AUDIT_BLANK, **entry}
    row["action"] = audit_action(str(row["action"]))
    if row["tier"] not in TIER_ORDER:
        row["tier"] = None
    for name, length in _AUDIT_LENGTHS.items():
        check_text(name, row[name], length)
    detail = row["detail"]
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, default=str)
    if detail is not None:
        row["detail"] = detail.replace("\x00", "\ufffd")
    return row
