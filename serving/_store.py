"""The service's store: history (the contract tables), keys, audit log, score snapshots, actions.

SQLAlchemy Core over an embedded SQLite file by default, PostgreSQL when given a
``postgresql://`` URL (see :func:`riskwarn.config.store_url`). This module is the only
place the service talks to its database; everything above it passes plain values.

The audit log is append-only twice over: the code has no way to change or delete a row,
and the database refuses to (a trigger on SQLite and on PostgreSQL, made by :meth:`Store.create`
whether or not the table was there before). It holds pseudonymous ids, key names, model
versions, risks and tiers, never free text about people: a supervisor's note or assignee
stays in ``actions``.

Times: ``at``, ``created_at``, ``revoked_at`` and ``scored_at`` record when the service wrote
a row, in UTC; ``as_of`` is the moment scored, in the county's local time like every time in
the data contract (docs/contract.md). Both are stored without a zone.

What SQLite would take but PostgreSQL refuses (a NUL character, an id longer than its
column) is refused here on both, as a riskwarn error naming the table or field, never a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event

from riskwarn import Dataset, Issue
from riskwarn._contract import TABLES, Column, Table
from riskwarn.errors import ConfigError, ContractError, RequestError

ID_LENGTH = 128  # characters in an id column, and so in an id a request may carry
ENUM_LENGTH = 64
# The longest string each contract type may hold in the store (None: unbounded text).
STRING_LENGTHS: dict[str, int | None] = {"id": ID_LENGTH, "enum": ENUM_LENGTH, "string": None}

_SQL_TYPES: dict[str, Any] = {
    "id": sa.String(ID_LENGTH),
    "string": sa.Text(),
    "enum": sa.String(ENUM_LENGTH),
    "int": sa.BigInteger(),
    "float": sa.Float(),
    "bool": sa.Boolean(),
    "date": sa.Date(),
    "datetime": sa.DateTime(),
}

# Columns a lookup filters on: the history of everyone in a dispute is read by these.
_INDEXED = {"dispute_id", "person_id", "person_a", "person_b", "incident_id"}

ROLES = ("scorer", "supervisor", "admin")
ACTION_KINDS = ("acknowledge", "assign", "note", "raise_tier")
TIER_ORDER = ("blue", "yellow", "orange", "red")  # lowest caution first

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
        "ui:signin",
        "ui:signin_refused",
        "ui:signout",
        *(f"action:{k}" for k in ACTION_KINDS),
        *(f"ui:refused:{k}" for k in ACTION_KINDS),
    }
)
_AUDIT_PREFIXES = ("ui:refused:", "action:", "ui:")

metadata = sa.MetaData()


def _contract_table(table: Any) -> sa.Table:
    columns = [
        sa.Column(
            c.name,
            _SQL_TYPES[c.type],
            nullable=c.nullable,
            primary_key=c.unique,
            index=(c.name in _INDEXED and not c.unique),
        )
        for c in table.columns
    ]
    return sa.Table(table.name, metadata, *columns)


HISTORY: dict[str, sa.Table] = {t.name: _contract_table(t) for t in TABLES}

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("revoked_at", sa.DateTime(), nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(), nullable=False, comment="when written, UTC"),
    sa.Column("key_name", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=True, index=True),
    sa.Column("as_of", sa.DateTime(), nullable=True, comment="moment scored, local time"),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("risk", sa.Float(), nullable=True),
    sa.Column("tier", sa.String(16), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
)

score_snapshots = sa.Table(
    "score_snapshots",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("as_of", sa.DateTime(), nullable=False, index=True, comment="local time"),
    sa.Column("scored_at", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("risk", sa.Float(), nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("reasons", sa.Text(), nullable=True),  # JSON list of the top reasons
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("at", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("key_name", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("assignee", sa.String(128), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("tier", sa.String(16), nullable=True),
)

_SQLITE_APPEND_ONLY = [
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for op in ("UPDATE", "DELETE")
]
# One statement, idempotent, and it touches nothing when the trigger is there already (so
# workers starting together do not contend for the table's lock).
_POSTGRES_APPEND_ONLY = [
    """DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                 WHERE tgname = 'audit_log_append_only' AND tgrelid = 'audit_log'::regclass) THEN
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $fn$
      BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $fn$ LANGUAGE plpgsql;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
  END IF;
END $do$"""
]
_APPEND_ONLY = {"sqlite": _SQLITE_APPEND_ONLY, "postgresql": _POSTGRES_APPEND_ONLY}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL mode so readers never block the writer."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"expected a store URL like sqlite:///path/service.db or "
            f"postgresql://user@host/db, got {url!r}; set RISKWARN_DB_URL or pass --db"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _plain(value: Any) -> Any:
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
        {c: _plain(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Store:
    """All the service's state behind one engine.

    >>> store = Store("sqlite:///:memory:")   # doctest: +SKIP
    >>> store.create()                        # doctest: +SKIP
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def create(self) -> Store:
        """Create the tables that are missing and the audit log's append-only triggers
        (idempotent, also for an audit log made before the triggers were), and return the
        store."""
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for statement in _APPEND_ONLY.get(conn.dialect.name, []):
                conn.exec_driver_sql(statement)
        return self

    def close(self) -> None:
        self.engine.dispose()

    # history ---------------------------------------------------------------------------

    def append_history(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Insert contract rows, all tables in one transaction: all of them or none.

        ContractError (422) naming the table, record and id when an id is held already
        (checked in the same transaction, whatever a worker's memory holds), or naming the
        table when the database refuses a value.
        """
        counts: dict[str, int] = {}
        table = ""
        try:
            _refuse(_value_issues(frames), _CANNOT_KEEP)
            with self.engine.begin() as conn:
                _refuse(_taken_ids(conn, frames), _TAKEN)
                for t in TABLES:  # contract order: referenced tables first
                    frame = frames.get(t.name)
                    if frame is None or frame.empty:
                        continue
                    table = t.name
                    rows = frame_records(frame[list(t.column_names)])
                    conn.execute(HISTORY[t.name].insert(), rows)
                    counts[t.name] = len(rows)
        except sa.exc.IntegrityError as exc:  # another writer got there in between
            with self.engine.connect() as conn:
                taken = _taken_ids(conn, frames)
            if taken:
                raise _refusal(taken, _TAKEN) from exc
            raise ContractError(
                f"{table}: the store refused the records ({_first_line(exc)}); nothing was "
                "added. Check the ids and required fields of this table and send the batch again."
            ) from exc
        except sa.exc.DataError as exc:
            raise ContractError(
                f"{table}: the store refused a value ({_first_line(exc)}); nothing was added. "
                f"Expected ids of at most {ID_LENGTH} characters and no NUL characters."
            ) from exc
        return counts

    def taken_ids(self, frames: Mapping[str, pd.DataFrame]) -> list[Issue]:
        """An issue for every id in ``frames`` that the store holds already."""
        with self.engine.connect() as conn:
            return _taken_ids(conn, frames)

    def clear_history(self) -> None:
        """Delete every history row (keys, audit, snapshots and actions stay)."""
        with self.engine.begin() as conn:
            for t in reversed(TABLES):
                conn.execute(HISTORY[t.name].delete())

    def read_dataset(self) -> Dataset:
        """The whole history as a typed :class:`riskwarn.Dataset`."""
        frames: dict[str, pd.DataFrame] = {}
        with self.engine.connect() as conn:
            for t in TABLES:
                rows = conn.execute(sa.select(HISTORY[t.name])).all()
                frames[t.name] = pd.DataFrame.from_records(rows, columns=list(t.column_names))
        return Dataset.from_frames(**frames)

    def history_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                t.name: int(
                    conn.execute(sa.select(sa.func.count()).select_from(HISTORY[t.name])).scalar()
                    or 0
                )
                for t in TABLES
            }

    # keys ------------------------------------------------------------------------------

    def add_key(self, key_id: str, name: str, role: str, key_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_id=key_id, name=name, role=role, key_hash=key_hash, created_at=_now()
                )
            )

    def key_row(self, key_id: str) -> dict[str, Any] | None:
        """The live (not revoked) key with this id, or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(api_keys).where(
                        api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def key_names(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(api_keys.c.name)).scalars())

    def list_keys(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    api_keys.c.key_id,
                    api_keys.c.name,
                    api_keys.c.role,
                    api_keys.c.created_at,
                    api_keys.c.revoked_at,
                ).order_by(api_keys.c.created_at)
            ).mappings()
            return [dict(r) for r in rows]

    def revoke_key(self, name: str) -> bool:
        """Revoke the key called ``name``; False when there is no live key by that name."""
        with self.engine.begin() as conn:
            result = conn.execute(
                api_keys.update()
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
        return result.rowcount > 0

    # audit -----------------------------------------------------------------------------

    def audit(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append audit entries (keys: key_name, action, request_id, and optionally
        dispute_id, as_of, model_version, risk, tier, detail).

        ``action`` outside :data:`AUDIT_ACTIONS` is recorded by its known prefix
        (``ui:refused:unknown``), a ``tier`` outside :data:`TIER_ORDER` as empty; an id or
        name too long or with control characters is a RequestError naming the field.
        """
        if not entries:
            return
        at = _now()
        rows = [_audit_row(e, at) for e in entries]
        try:
            with self.engine.begin() as conn:
                conn.execute(audit_log.insert(), rows)
        except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
            raise RequestError(
                f"audit: the store refused the entry ({_first_line(exc)}); expected ids of "
                f"at most {ID_LENGTH} characters without control characters"
            ) from exc

    def audit_entries(self, limit: int = 1000, dispute_id: str | None = None) -> list[dict]:
        """The latest audit entries, newest first."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if dispute_id is not None:
            query = query.where(audit_log.c.dispute_id == dispute_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # score snapshots ---------------------------------------------------------------------

    def add_snapshots(self, snapshots: Iterable[Mapping[str, Any]]) -> int:
        """Store scores (dispute_id, as_of, model_version, risk, tier, reasons)."""
        at = _now()
        rows = [
            {
                **s,
                "scored_at": at,
                "reasons": json.dumps(s.get("reasons") or [], ensure_ascii=False),
            }
            for s in snapshots
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(score_snapshots.insert(), rows)
        return len(rows)

    def snapshots_for(self, dispute_id: str) -> list[dict[str, Any]]:
        """Every stored score of one dispute, oldest first (for the risk-over-time chart)."""
        query = (
            sa.select(score_snapshots)
            .where(score_snapshots.c.dispute_id == dispute_id)
            .order_by(score_snapshots.c.as_of, score_snapshots.c.id)
        )
        with self.engine.connect() as conn:
            return [_snapshot(r) for r in conn.execute(query).mappings()]

    def latest_snapshots(self) -> list[dict[str, Any]]:
        """Per dispute, its latest snapshot with ``previous_risk`` from the one before.

        The queue's source: rank by ``risk``, show ``risk - previous_risk`` as the change.
        """
        ranked = sa.select(
            score_snapshots,
            sa.func.row_number()
            .over(
                partition_by=score_snapshots.c.dispute_id,
                order_by=(score_snapshots.c.as_of.desc(), score_snapshots.c.id.desc()),
            )
            .label("rank"),
        ).subquery()
        query = sa.select(ranked).where(ranked.c.rank <= 2).order_by(ranked.c.dispute_id)
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(query).mappings():
                if r["rank"] == 1:
                    out[r["dispute_id"]] = {**_snapshot(r), "previous_risk": None}
                else:
                    out[r["dispute_id"]]["previous_risk"] = r["risk"]
        return list(out.values())

    # actions ---------------------------------------------------------------------------

    def add_action(self, action: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        """Store a supervisor's action and its audit entry in one transaction.

        The note and the assignee (free text about people) stay in ``actions``; the audit
        entry holds the kind, the action's id, the key name, the time and the dispute id.
        """
        if action.get("kind") not in ACTION_KINDS:
            raise RequestError(
                f"action kind must be one of {ACTION_KINDS}, got {action.get('kind')!r}"
            )
        row = {"assignee": None, "note": None, "tier": None, **action, "at": _now()}
        if row["tier"] is not None and row["tier"] not in TIER_ORDER:
            raise RequestError(f"tier: expected one of {TIER_ORDER}, got {row['tier']!r}")
        for name in ("dispute_id", "key_name", "assignee"):
            _check_text(name, row[name], ID_LENGTH)
        _check_text("note", row["note"], None)
        with self.engine.begin() as conn:
            new_id = conn.execute(actions.insert().values(**row)).inserted_primary_key[0]
            conn.execute(
                audit_log.insert().values(
                    _audit_row(
                        {
                            "key_name": row["key_name"],
                            "action": f"action:{row['kind']}",
                            "request_id": request_id,
                            "dispute_id": row["dispute_id"],
                            "tier": row["tier"],
                            "detail": json.dumps({"action_id": new_id}),
                        },
                        row["at"],
                    )
                )
            )
        return {**row, "id": new_id}

    def actions_for(self, dispute_id: str | None = None) -> list[dict[str, Any]]:
        """Actions, oldest first; of one dispute when ``dispute_id`` is given."""
        query = sa.select(actions).order_by(actions.c.at, actions.c.id)
        if dispute_id is not None:
            query = query.where(actions.c.dispute_id == dispute_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


_AUDIT_BLANK: dict[str, Any] = {
    "dispute_id": None,
    "as_of": None,
    "model_version": None,
    "risk": None,
    "tier": None,
    "detail": None,
}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_AUDIT_LENGTHS = {"key_name": 128, "request_id": 64, "dispute_id": ID_LENGTH, "model_version": 64}


def _check_text(field: str, value: Any, length: int | None) -> None:
    """RequestError unless ``value`` is None or a string the store keeps as it is."""
    if value is None:
        return
    text = str(value)
    bad = _CONTROL.search(text) if length is not None else ("\x00" in text)
    if bad or (length is not None and len(text) > length):
        what = (
            f"at most {length} characters without control characters"
            if length
            else ("text without NUL characters")
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


def _audit_row(entry: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    unknown = set(entry) - set(_AUDIT_BLANK) - {"key_name", "action", "request_id"}
    if unknown:
        raise TypeError(f"audit entries have no field {sorted(unknown)}")
    row = {"at": at, **_AUDIT_BLANK, **entry}
    row["action"] = audit_action(str(row["action"]))
    if row["tier"] not in TIER_ORDER:
        row["tier"] = None
    for name, length in _AUDIT_LENGTHS.items():
        _check_text(name, row[name], length)
    if row["detail"] is not None:
        row["detail"] = str(row["detail"]).replace("\x00", "\ufffd")
    return row


def _given_columns(
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
    database here, a worker's in-memory dataset in :func:`~riskwarn.serving.check_records`.
    """
    issues = []
    for t, col, frame in _given_columns(frames):
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


def _taken_ids(conn: sa.Connection, frames: Mapping[str, pd.DataFrame]) -> list[Issue]:
    """Issues for the ids in ``frames`` the database holds, asked 500 at a time."""

    def held(table: str, column: str, values: list[str]) -> set[str]:
        col = HISTORY[table].c[column]
        found: set[str] = set()
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            found.update(conn.execute(sa.select(col).where(col.in_(chunk))).scalars())
        return found

    return taken_ids(frames, held)


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


def _value_issues(frames: Mapping[str, pd.DataFrame]) -> list[Issue]:
    """Issues for string cells the store cannot keep (see :func:`string_problem`)."""
    issues = []
    for t, col, frame in _given_columns(frames):
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


_TAKEN = "record(s) reuse ids the store already holds"
_CANNOT_KEEP = "value(s) the store cannot keep"


def _refusal(issues: list[Issue], what: str) -> ContractError:
    listed = "; ".join(str(i) for i in issues[:5])
    return ContractError(
        f"{len(issues)} {what}: {listed}. Fix the records named and send the whole batch again.",
        issues,
    )


def _refuse(issues: list[Issue], what: str) -> None:
    if issues:
        raise _refusal(issues, what)


def _first_line(exc: sa.exc.DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0][:200] if exc.orig else type(exc).__name__


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c.name: row[c.name] for c in score_snapshots.c}
    out["reasons"] = json.loads(out["reasons"]) if out["reasons"] else []
    return out
