"""The schema of every store made before versioning: the contract tables, keys, the
append-only audit log, score snapshots and supervisors' actions.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from riskwarn._contract import TABLES_BY_NAME
from riskwarn.serving._schema import APPEND_ONLY, ID_LENGTH, contract_columns

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The contract's tables at version 1; tables the contract adds later come from
# Store.create's contract step, columns and all.
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


def upgrade() -> None:
    for name in CONTRACT_V1:  # with the indexes its columns ask for
        op.create_table(name, *contract_columns(TABLES_BY_NAME[name]))
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False, comment="when written, UTC"),
        sa.Column("key_name", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=True, comment="moment scored, local time"),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_audit_log_dispute_id", "audit_log", ["dispute_id"])
    op.create_table(
        "score_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False, comment="local time"),
        sa.Column("scored_at", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
    )
    op.create_index("ix_score_snapshots_dispute_id", "score_snapshots", ["dispute_id"])
    op.create_index("ix_score_snapshots_as_of", "score_snapshots", ["as_of"])
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("key_name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("tier", sa.String(16), nullable=True),
    )
    op.create_index("ix_actions_dispute_id", "actions", ["dispute_id"])
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for name in ("actions", "score_snapshots", "audit_log", "api_keys", *reversed(CONTRACT_V1)):
        op.drop_table(name)
