"""The service's store: history (the contract tables), keys, audit log, score snapshots, actions.

SQLAlchemy Core over an embedded SQLite file by default, PostgreSQL when given a
``postgresql://`` URL (see :func:`riskwarn.config.store_url`). This module is the only
place the service talks to its database; everything above it passes plain values.

The audit log is append-only twice over: the code has no way to change or delete a row,
and the database refuses to (a trigger on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event

from riskwarn import Dataset
from riskwarn._contract import TABLES
from riskwarn.errors import ConfigError

_SQL_TYPES: dict[str, Any] = {
    "id": sa.String(128),
    "string": sa.Text(),
    "enum": sa.String(64),
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
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("key_name", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("dispute_id", sa.String(128), nullable=True, index=True),
    sa.Column("as_of", sa.DateTime(), nullable=True),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("risk", sa.Float(), nullable=True),
    sa.Column("tier", sa.String(16), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
)

score_snapshots = sa.Table(
    "score_snapshots",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("dispute_id", sa.String(128), nullable=False, index=True),
    sa.Column("as_of", sa.DateTime(), nullable=False, index=True),
    sa.Column("scored_at", sa.DateTime(), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("risk", sa.Float(), nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("reasons", sa.Text(), nullable=True),  # JSON list of the top reasons
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("dispute_id", sa.String(128), nullable=False, index=True),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("key_name", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("assignee", sa.String(128), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("tier", sa.String(16), nullable=True),
)

_SQLITE_APPEND_ONLY = [
    sa.DDL(
        f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    ).execute_if(dialect="sqlite")
    for op in ("UPDATE", "DELETE")
]
_POSTGRES_APPEND_ONLY = [
    sa.DDL(
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql"
    ).execute_if(dialect="postgresql"),
    sa.DDL(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    ).execute_if(dialect="postgresql"),
]
for _ddl in (*_SQLITE_APPEND_ONLY, *_POSTGRES_APPEND_ONLY):
    event.listen(audit_log, "after_create", _ddl)


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
        """Create the tables that are missing (idempotent) and return the store."""
        metadata.create_all(self.engine)
        return self

    def close(self) -> None:
        self.engine.dispose()

    # history ---------------------------------------------------------------------------

    def append_history(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Insert contract rows, all tables in one transaction: all of them or none."""
        counts: dict[str, int] = {}
        with self.engine.begin() as conn:
            for t in TABLES:  # contract order: referenced tables first
                frame = frames.get(t.name)
                if frame is None or frame.empty:
                    continue
                rows = frame_records(frame[list(t.column_names)])
                conn.execute(HISTORY[t.name].insert(), rows)
                counts[t.name] = len(rows)
        return counts

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
        dispute_id, as_of, model_version, risk, tier, detail)."""
        if not entries:
            return
        at = _now()
        rows = [{"at": at, **_AUDIT_BLANK, **e} for e in entries]
        with self.engine.begin() as conn:
            conn.execute(audit_log.insert(), rows)

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
        """Store a supervisor's action and its audit entry in one transaction."""
        if action["kind"] not in ACTION_KINDS:
            raise ValueError(f"action kind must be one of {ACTION_KINDS}, got {action['kind']!r}")
        row = {"assignee": None, "note": None, "tier": None, **action, "at": _now()}
        with self.engine.begin() as conn:
            new_id = conn.execute(actions.insert().values(**row)).inserted_primary_key[0]
            conn.execute(
                audit_log.insert().values(
                    {
                        **_AUDIT_BLANK,
                        "at": row["at"],
                        "key_name": row["key_name"],
                        "action": f"action:{row['kind']}",
                        "request_id": request_id,
                        "dispute_id": row["dispute_id"],
                        "tier": row["tier"],
                        "detail": json.dumps(
                            {"assignee": row["assignee"], "note": row["note"]},
                            ensure_ascii=False,
                        ),
                    }
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


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c.name: row[c.name] for c in score_snapshots.c}
    out["reasons"] = json.loads(out["reasons"]) if out["reasons"] else []
    return out
