"""A raised tier carries its reason (the answer's ``override`` shows it); the workbench's
signed-out sessions move into the store's schema (stores made before kept them in a table
the pages created on first use); the audit log gets its append-only triggers where a store
predates them.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from riskwarn.serving._schema import APPEND_ONLY

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "actions", sa.Column("reason", sa.Text(), nullable=True, comment="why a tier was raised")
    )
    if not sa.inspect(op.get_bind()).has_table("workbench_signouts"):
        op.create_table(
            "workbench_signouts",
            sa.Column("session_id", sa.String(64), primary_key=True),
            sa.Column("at", sa.DateTime(), nullable=False, comment="UTC"),
        )
        op.create_index("ix_workbench_signouts_at", "workbench_signouts", ["at"])
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    op.drop_column("actions", "reason")
