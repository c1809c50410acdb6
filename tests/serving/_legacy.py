"""A store as riskwarn made it before its schema was versioned (the tables `Store.create`
made with ``metadata.create_all`` up to then, its append-only triggers, and the workbench's
sign-out table made on first use), frozen here so that upgrading it stays tested."""

from __future__ import annotations

import sqlalchemy as sa

from riskwarn._contract import TABLES_BY_NAME

CONTRACT_V1 = (
    "persons",
    "grids",
    "person_flags",
    "relationships",
    "disputes",
    "dispute_parties",
    "dispute_events",
    "petitions",
    "incidents",
    "incident_persons",
)
_TYPES = {
    "id": sa.String(128),
    "string": sa.Text(),
    "enum": sa.String(64),
    "int": sa.BigInteger(),
    "float": sa.Float(),
    "bool": sa.Boolean(),
    "date": sa.Date(),
    "datetime": sa.DateTime(),
}
_INDEXED = {"dispute_id", "person_id", "person_a", "person_b", "incident_id"}


def _metadata() -> sa.MetaData:
    md = sa.MetaData()
    for name in CONTRACT_V1:
        sa.Table(
            name,
            md,
            *[
                sa.Column(
                    c.name,
                    _TYPES[c.type],
                    nullable=c.nullable,
                    primary_key=c.unique,
                    index=(c.name in _INDEXED and not c.unique),
                )
                for c in TABLES_BY_NAME[name].columns
            ],
        )
    sa.Table(
        "api_keys",
        md,
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    sa.Table(
        "audit_log",
        md,
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
    sa.Table(
        "score_snapshots",
        md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.String(128), nullable=False, index=True),
        sa.Column("as_of", sa.DateTime(), nullable=False, index=True),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
    )
    sa.Table(
        "actions",
        md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.String(128), nullable=False, index=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("key_name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("tier", sa.String(16), nullable=True),
    )
    return md


_SIGNOUTS = sa.Table(
    "workbench_signouts",
    sa.MetaData(),
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("at", sa.DateTime(), nullable=False, index=True),
)
_TRIGGERS = {
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        for op in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $fn$
      BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $fn$ LANGUAGE plpgsql""",
        """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
    ],
}


def make_legacy_store(url: str, *, triggers: bool = True, signouts: bool = True) -> sa.Engine:
    """The tables (and triggers) of an unversioned store at ``url``; its engine."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    _metadata().create_all(engine)
    with engine.begin() as conn:
        if signouts:
            _SIGNOUTS.create(conn)
        for statement in _TRIGGERS[conn.dialect.name] if triggers else []:
            conn.exec_driver_sql(statement)
    return engine
