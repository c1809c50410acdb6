"""The store's tables, as SQLAlchemy Core: the one place they are defined.

Only :mod:`riskwarn.serving._store` (and the queries it owns) reads or writes them; the
migrations in ``_migrations`` create and change them.

Times: ``at``, ``created_at``, ``revoked_at`` and ``scored_at`` record when the service
wrote a row, in UTC (:meth:`riskwarn.clock.Clock.utc_now`); ``as_of`` is the moment scored,
in the county's local time like every time in the data contract. Both without a zone.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from riskwarn._contract import ID_MAX_LENGTH, TABLES, Table

ID_LENGTH = ID_MAX_LENGTH  # characters in an id column, and so in an id a request may carry
ENUM_LENGTH = 64
# The longest string each contract type may hold in the store (None: unbounded text).
STRING_LENGTHS: dict[str, int | None] = {"id": ID_LENGTH, "enum": ENUM_LENGTH, "string": None}

SQL_TYPES: dict[str, Any] = {
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
INDEXED = frozenset({"dispute_id", "person_id", "person_a", "person_b", "incident_id"})

metadata = sa.MetaData()


def contract_columns(table: Table) -> list[sa.Column]:
    """The SQL columns of a contract table (primary key: its unique id, if any)."""
    return [
        sa.Column(
            c.name,
            SQL_TYPES[c.type],
            nullable=c.nullable,
            primary_key=c.unique,
            index=(c.name in INDEXED and not c.unique),
        )
        for c in table.columns
    ]


HISTORY: dict[str, sa.Table] = {
    t.name: sa.Table(t.name, metadata, *contract_columns(t)) for t in TABLES
}

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
    sa.Column(
        "recomputed_reason", sa.Text(), nullable=True, comment="why this score was recomputed"
    ),
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
    sa.Column("reason", sa.Text(), nullable=True, comment="why a tier was raised"),
)

record_versions = sa.Table(
    "record_versions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("record_key", sa.String(1024), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False, comment="correction or expiry"),
    sa.Column("at", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("key_name", sa.String(128), nullable=False, comment="who"),
    sa.Column("reason", sa.Text(), nullable=False, comment="why"),
    sa.Column("old_row", sa.Text(), nullable=True, comment="JSON; None for an expiry"),
    sa.Column("new_key", sa.String(1024), nullable=True, index=True),
    sa.Column("new_row", sa.Text(), nullable=True, comment="JSON"),
    sa.Column("supersedes", sa.Integer(), nullable=True, comment="the correction corrected"),
    sa.Column("expired_on", sa.DateTime(), nullable=True, comment="local time"),
)
"""Superseded and expired records: a correction keeps the old row here, marked superseded
by the new one (``new_key``), with who, when and why; an expiry keeps only a tombstone."""

signouts = sa.Table(
    "workbench_signouts",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("at", sa.DateTime(), nullable=False, index=True, comment="UTC"),
)

# The closed loop (issue 14): each warning as it stands (its whole record as JSON, with the
# columns lists filter on), every event that changed one, the people warnings are routed
# to, and the routing policies an admin stored (the newest is in force). Times are UTC.
WARNING_ID_LENGTH = 64
PLACE_LENGTH = 128  # a county's or township's name, as the contract's grids table has it
PERSON_LENGTH = 128  # a person's name or staff id on the roster

warnings_table = sa.Table(
    "warnings",
    metadata,
    sa.Column("warning_id", sa.String(WARNING_ID_LENGTH), primary_key=True),
    sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("township", sa.String(PLACE_LENGTH), nullable=True, index=True),
    sa.Column("grid", sa.String(ID_LENGTH), nullable=True),
    sa.Column("tier", sa.String(16), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("owner_level", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(128), nullable=True, index=True),
    sa.Column("due_at", sa.DateTime(), nullable=True, index=True, comment="UTC"),
    sa.Column("issued_at", sa.DateTime(), nullable=False, index=True, comment="UTC"),
    sa.Column("updated_at", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("record", sa.Text(), nullable=False, comment="the WarningRecord, JSON"),
)

warning_events = sa.Table(
    "warning_events",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("warning_id", sa.String(WARNING_ID_LENGTH), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False, comment="when it happened, UTC"),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("event", sa.Text(), nullable=False, comment="the WarningEvent, JSON"),
)

roster_table = sa.Table(
    "roster",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(PERSON_LENGTH), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("county", sa.String(PLACE_LENGTH), nullable=True),
    sa.Column("township", sa.String(PLACE_LENGTH), nullable=True, index=True),
    sa.Column("grid", sa.String(ID_LENGTH), nullable=True),
    sa.Column("added_at", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("added_by", sa.String(128), nullable=False),
    sa.Column("removed_at", sa.DateTime(), nullable=True, comment="UTC; null while listed"),
    sa.Column("removed_by", sa.String(128), nullable=True),
)
"""The one list of people (mediators, officers, county leads) per county, township and
grid: warnings are routed to it and supervisors assign cases from it. `riskwarn roster
load` and the workbench's list page edit it; a person taken off keeps the row, with when
and by whom, so earlier warnings and assignments still name a known person."""

routing_policies = sa.Table(
    "routing_policies",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False, comment="when stored, UTC"),
    sa.Column("by", sa.String(128), nullable=False),
    sa.Column("policy", sa.Text(), nullable=False, comment="the RoutingPolicy, JSON"),
)

# Tables every riskwarn store has had since its first version: how a store made before
# migrations is recognised (and a database holding none of them is not riskwarn's).
SERVICE_TABLES = ("api_keys", "audit_log", "score_snapshots", "actions")

SQLITE_APPEND_ONLY = [
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for op in ("UPDATE", "DELETE")
]
# One statement, idempotent, and it touches nothing when the trigger is there already.
POSTGRES_APPEND_ONLY = [
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
APPEND_ONLY = {"sqlite": SQLITE_APPEND_ONLY, "postgresql": POSTGRES_APPEND_ONLY}
