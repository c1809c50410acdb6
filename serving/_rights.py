"""People's data rights, the pure part: how a record is named, how a correction is checked
before it is written, which scores a record influenced, and the view "as known on day D".

The store (:class:`~riskwarn.serving.Store`) writes; this module only reads frames and dicts.

A **record key** names one row of a contract table: its id for tables that have one
(``persons``: ``P17``), else its natural key joined by ``|`` (``person_flags``:
``P17|drug_user|2021-03-01``; ``dispute_events``: ``D4|2023-05-02T10:00:00|threat``). The
person report and the lineage listing print it, so an admin can copy it into
``riskwarn records correct TABLE --id KEY``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskwarn import Dataset
from riskwarn._contract import TABLES_BY_NAME, Table
from riskwarn._dataset import coerce_table
from riskwarn.errors import ContractError, RequestError

NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "person_flags": ("person_id", "flag", "start_date"),
    "relationships": ("person_a", "person_b", "kind", "since"),
    "dispute_parties": ("dispute_id", "person_id"),
    "dispute_events": ("dispute_id", "at", "kind"),
    "incident_persons": ("incident_id", "person_id"),
}
"""The columns that name a row of a contract table without an id of its own."""

PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "persons": ("person_id",),
    "person_flags": ("person_id",),
    "relationships": ("person_a", "person_b"),
    "dispute_parties": ("person_id",),
    "petitions": ("person_id",),
    "incident_persons": ("person_id",),
}
"""Where each table names the people a row is about."""

REPORT_TABLES = ("persons", "person_flags", "relationships", "dispute_parties", "petitions")


def table_of(name: str) -> Table:
    """The contract table ``name``; ContractError with a suggestion when there is none."""
    table = TABLES_BY_NAME.get(name)
    if table is None:
        close = difflib.get_close_matches(name, list(TABLES_BY_NAME), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ContractError(
            f"expected a contract table ({', '.join(TABLES_BY_NAME)}), got {name!r}.{hint}"
        )
    return table


def key_columns(table: str) -> tuple[str, ...]:
    """The columns a record key of ``table`` is made of."""
    t = table_of(table)
    unique = [c.name for c in t.columns if c.unique]
    return tuple(unique) if unique else NATURAL_KEYS[table]


def _text(value: Any, kind: str = "") -> str:
    """A cell as contract text (a ``date`` column's value as YYYY-MM-DD)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if kind == "date" and isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def db_row(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with its ``date`` columns as dates (a database compares a DATE with a date)."""
    t = table_of(table)
    out = dict(row)
    for c in t.columns:
        value = out.get(c.name)
        if c.type == "date" and isinstance(value, dt.datetime):
            out[c.name] = value.date()
    return out


def record_key(table: str, row: Mapping[str, Any]) -> str:
    """The key that names ``row`` of ``table`` (see the module)."""
    t = table_of(table)
    return "|".join(_text(row.get(c), t.column(c).type) for c in key_columns(table))


def frame_keys(table: str, frame: pd.DataFrame) -> pd.Series:
    """The record key of every row of ``frame``."""
    columns = key_columns(table)
    if not len(frame):
        return pd.Series([], dtype="object")
    t = table_of(table)
    kinds = {c: t.column(c).type for c in columns}
    parts = [frame[c].map(functools.partial(_text, kind=kinds[c])) for c in columns]
    keys = parts[0].astype("object")
    for p in parts[1:]:
        keys = keys + "|" + p.astype("object")
    return keys


def key_prefixes(key: str) -> list[str]:
    """Every value the first key column may hold for ``key`` (an id may itself hold ``|``)."""
    return [key[:i] for i, ch in enumerate(key) if ch == "|"] + [key]


def corrected_row(
    table: str, old: Mapping[str, Any], changes: Mapping[str, str]
) -> dict[str, str | None]:
    """The row a correction writes, as contract text (what a CSV cell would hold), for
    :func:`riskwarn.parse_records`; RequestError naming the column for an unknown column,
    an id column, or a change that changes nothing."""
    t = table_of(table)
    if not changes:
        raise RequestError("a correction sets at least one COLUMN=VALUE; none was given")
    for column, value in changes.items():
        if column not in t.column_names:
            close = difflib.get_close_matches(column, t.column_names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RequestError(
                f"{table} has no column {column!r}; expected one of "
                f"{', '.join(t.column_names)}.{hint}"
            )
        if t.column(column).unique:
            raise RequestError(
                f"{table}.{column} is the record's id and is not corrected; correct the rows "
                "that point to it instead"
            )
        kind = t.column(column).type
        if _same_text(_text(old.get(column), kind), value or "", kind):
            raise RequestError(f"{table}.{column} already holds {value!r}; nothing to correct")
    new = {c.name: (_text(old.get(c.name), c.type) or None) for c in t.columns}
    new.update({c: (v if v != "" else None) for c, v in changes.items()})
    return new


_BOOL_TEXT = {"true": "true", "1": "true", "false": "false", "0": "false"}


def _same_text(held: str, given: str, kind: str) -> bool:
    """Whether ``given`` (a cell as sent) says what ``held`` does: a ``bool`` cell in any
    spelling the contract takes (true/True/1)."""
    if kind == "bool":
        return _BOOL_TEXT.get(held.strip().lower(), held) == _BOOL_TEXT.get(
            given.strip().lower(), given
        )
    return held == given


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["COLUMN=VALUE", ...]`` as a dict; RequestError for one without ``=``."""
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise RequestError(f"--set: expected COLUMN=VALUE, got {pair!r}")
        out[column.strip()] = value
    return out


def as_known_at(
    dataset: Dataset, corrections: Sequence[Mapping[str, Any]], at: dt.datetime
) -> Dataset:
    """``dataset`` (the history now) as it was recorded at ``at``: every correction made
    after ``at`` undone, newest first (``corrections``: rows of the store's record
    versions of kind ``correction``, each with ``table_name``, ``new_key``, ``old_row``,
    ``at``). Expired rows are not brought back: their content is gone."""
    later = sorted(
        (c for c in corrections if c["at"] > at), key=lambda c: (c["at"], c["id"]), reverse=True
    )
    if not later:
        return dataset
    frames = dataset.tables()
    for c in later:
        name = c["table_name"]
        frame = frames[name]
        frame = frame.loc[(frame_keys(name, frame) != c["new_key"]).to_numpy()]
        old = pd.DataFrame([json.loads(c["old_row"])])
        frames[name] = pd.concat([frame, old], ignore_index=True)
    return Dataset.from_frames(**frames)


def with_corrections(dataset: Dataset, versions: Sequence[Mapping[str, Any]]) -> Dataset | None:
    """``dataset`` with the record versions made since it was read applied in order (rows
    of the store's ``record_versions``, oldest first): each correction's record replaced by
    its new row (what :func:`as_known_at` undoes), so a worker catches up with corrections
    made elsewhere without reading the whole history. None when one is an expiry: a tombstone
    keeps no content, so the history has to be read again."""
    if any(v["kind"] != "correction" for v in versions):
        return None
    if not versions:
        return dataset
    frames = dataset.tables()
    for v in sorted(versions, key=lambda v: v["id"]):
        name = v["table_name"]
        frame = frames[name]
        keys = frame_keys(name, frame)  # the new key too: applying one twice changes nothing
        frame = frame.loc[(~keys.isin([v["record_key"], v["new_key"]])).to_numpy()]
        new = pd.DataFrame([json.loads(v["new_row"])])
        frames[name] = pd.concat([frame, new], ignore_index=True)
    return Dataset.from_frames(**frames)


# lineage --------------------------------------------------------------------------------


def _given(value: Any) -> bool:
    return _text(value) != ""


def record_people(table: str, row: Mapping[str, Any], dataset: Dataset) -> set[str]:
    """The people a record is about: its own person columns, the parties of a dispute (or
    of the dispute an event, party, intervention or petition belongs to), the people of an
    incident."""
    people = {str(row[c]) for c in PERSON_COLUMNS.get(table, ()) if _given(row.get(c))}
    dispute = row.get("dispute_id")
    if _given(dispute) and table != "dispute_parties":
        parties = dataset.dispute_parties
        people |= set(parties.loc[parties["dispute_id"] == dispute, "person_id"].astype(str))
    if table in ("incidents", "incident_persons"):
        ip = dataset.incident_persons
        people |= set(ip.loc[ip["incident_id"] == row.get("incident_id"), "person_id"].astype(str))
    return people


def within_hops(dataset: Dataset, people: set[str], hops: int = 2) -> set[str]:
    """``people`` and everyone within ``hops`` links of them in the people graph the graph
    features read (ties, and shared disputes), walked with sparse matrices."""
    from scipy import sparse

    ties = dataset.relationships
    parties = dataset.dispute_parties
    ids, codes = _codes(
        [ties["person_a"], ties["person_b"], parties["person_id"], pd.Series(sorted(people))]
    )
    n = len(ids)
    a, b, who, start = codes
    tie = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)).tocsr()
    tie = tie + tie.T
    case, disputes = pd.factorize(parties["dispute_id"].astype(str).to_numpy(dtype=object))
    member = sparse.coo_matrix((np.ones(len(who)), (who, case)), shape=(n, len(disputes))).tocsr()
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    ring = seen.astype(float)
    for _ in range(hops):
        reached = (tie @ ring + member @ (member.T @ ring)) > 0
        ring = (reached & ~seen).astype(float)
        seen |= reached
    return set(ids[seen].tolist())


def _codes(columns: list[pd.Series]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One integer code per distinct id across ``columns``, and each column as codes."""
    values = [c.astype(str).to_numpy(dtype=object) for c in columns]
    inverse, ids = pd.factorize(np.concatenate(values))
    out, at = [], 0
    for v in values:
        out.append(inverse[at : at + len(v)])
        at += len(v)
    return np.asarray(ids, dtype=object), out


def replaced(
    dataset: Dataset, table: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Dataset:
    """``dataset`` with the row ``old`` of ``table`` replaced by ``new`` (what a correction
    does to the history), without reading the store again."""
    frame = dataset.table(table)
    columns = key_columns(table)
    same = (frame[columns[0]].astype(str) == _text(old.get(columns[0]))).to_numpy().copy()
    rows = np.flatnonzero(same)
    keys = frame_keys(table, frame.iloc[rows])
    same[rows] = (keys == record_key(table, old)).to_numpy()
    row = pd.DataFrame([{c: new.get(c) for c in frame.columns}])
    kept = pd.concat([frame.loc[~same], row], ignore_index=True)
    return dataclasses.replace(dataset, **{table: coerce_table(table, kept)})


def influenced_disputes(
    records: Iterable[tuple[str, Mapping[str, Any]]], dataset: Dataset, hops: int = 2
) -> tuple[set[str], set[str]]:
    """(own, nearby) for ``records`` ((table, row) pairs): the disputes they belong to or
    whose parties they are about, and the other disputes with a party within ``hops``
    links of those people, whose graph features (exposure, neighbours, components) they
    may have entered."""
    people: set[str] = set()
    own: set[str] = set()
    for table, row in records:
        people |= record_people(table, row, dataset)
        if _given(row.get("dispute_id")):
            own.add(str(row["dispute_id"]))
    parties = dataset.dispute_parties
    ids = parties["dispute_id"].astype(str)
    who = parties["person_id"].astype(str)
    own |= set(ids[who.isin(people)])
    near = set(ids[who.isin(within_hops(dataset, people, hops))]) - own
    return own, near


# expiry -----------------------------------------------------------------------------------


def expiry_listing(expired: Mapping[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """What an expiry removes (``expired``: :meth:`riskwarn.Expiry.rows`), by table and by
    the kind its retention term depends on (a dispute's category, a flag, a tie kind, a
    petition's level, an incident's kind; one line for tables without one): the rows and
    the first and last day they expired from."""
    from riskwarn._retention import KIND_COLUMNS

    out: list[dict[str, Any]] = []
    for table, frame in expired.items():
        if not len(frame):
            continue
        column = KIND_COLUMNS.get(table, ("", ()))[0]
        kinds = frame[column].astype("object").fillna("") if column else pd.Series("", frame.index)
        for kind, rows in frame.groupby(kinds.to_numpy(), sort=True):
            out.append(
                {
                    "table": table,
                    "column": column or None,
                    "kind": str(kind) or None,
                    "rows": len(rows),
                    "first": pd.Timestamp(rows["expires_at"].min()).to_pydatetime(),
                    "last": pd.Timestamp(rows["expires_at"].max()).to_pydatetime(),
                }
            )
    return out
