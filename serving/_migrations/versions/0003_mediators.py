"""The mediators a supervisor may assign a case to, kept per township by admins (the
workbench's assignee list); a mediator taken off the list keeps its row, with when and by
whom, so earlier assignments still name a known person.

Revision ID: 0003_mediators (other branches add their own 0003; chain them when merging)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_mediators"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mediators",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("township", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True, comment="UTC; null while listed"),
        sa.Column("removed_by", sa.String(128), nullable=True),
    )
    op.create_index("ix_mediators_township", "mediators", ["township"])


def downgrade() -> None:
    op.drop_index("ix_mediators_township", "mediators")
    op.drop_table("mediators")
