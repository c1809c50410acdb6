"""People's data rights: corrected records are kept, superseded, in ``record_versions``
(with who, when and why; an expired record leaves only a tombstone there), and a score
recomputed after a correction or an expiry says why on its snapshot row.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_mediators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(1024), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="correction or expiry"),
        sa.Column("at", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("key_name", sa.String(128), nullable=False, comment="who"),
        sa.Column("reason", sa.Text(), nullable=False, comment="why"),
        sa.Column("old_row", sa.Text(), nullable=True, comment="JSON; None for an expiry"),
        sa.Column("new_key", sa.String(1024), nullable=True),
        sa.Column("new_row", sa.Text(), nullable=True, comment="JSON"),
        sa.Column("supersedes", sa.Integer(), nullable=True, comment="the correction corrected"),
        sa.Column("expired_on", sa.DateTime(), nullable=True, comment="local time"),
    )
    op.create_index("ix_record_versions_record_key", "record_versions", ["record_key"])
    op.create_index("ix_record_versions_new_key", "record_versions", ["new_key"])
    op.add_column(
        "score_snapshots",
        sa.Column(
            "recomputed_reason", sa.Text(), nullable=True, comment="why this score was recomputed"
        ),
    )


def downgrade() -> None:
    op.drop_column("score_snapshots", "recomputed_reason")
    op.drop_table("record_versions")
