"""The closed loop (issue 14): warnings as they stand, the events that changed them, the
roster of people warnings are routed to, and the routing policies an admin stored.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from riskwarn.serving._schema import ID_LENGTH, PLACE_LENGTH, WARNING_ID_LENGTH

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("warning_id", sa.String(WARNING_ID_LENGTH), primary_key=True),
        sa.Column("dispute_id", sa.String(ID_LENGTH), nullable=False),
        sa.Column("township", sa.String(PLACE_LENGTH), nullable=True),
        sa.Column("grid", sa.String(ID_LENGTH), nullable=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner_level", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True, comment="UTC"),
        sa.Column("issued_at", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("updated_at", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("record", sa.Text(), nullable=False, comment="the WarningRecord, JSON"),
    )
    for column in ("dispute_id", "township", "tier", "state", "owner", "due_at", "issued_at"):
        op.create_index(f"ix_warnings_{column}", "warnings", [column])
    op.create_table(
        "warning_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("warning_id", sa.String(WARNING_ID_LENGTH), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False, comment="when it happened, UTC"),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("event", sa.Text(), nullable=False, comment="the WarningEvent, JSON"),
    )
    op.create_index("ix_warning_events_warning_id", "warning_events", ["warning_id"])
    op.create_table(
        "roster",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("county", sa.String(PLACE_LENGTH), nullable=True),
        sa.Column("township", sa.String(PLACE_LENGTH), nullable=True),
        sa.Column("grid", sa.String(ID_LENGTH), nullable=True),
    )
    op.create_index("ix_roster_township", "roster", ["township"])
    op.create_table(
        "routing_policies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False, comment="when stored, UTC"),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False, comment="the RoutingPolicy, JSON"),
    )


def downgrade() -> None:
    for name in ("routing_policies", "roster", "warning_events", "warnings"):
        op.drop_table(name)
