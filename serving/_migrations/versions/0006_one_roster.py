"""One list of people: the workbench's ``mediators`` (per township, kept by admins) and the
loop's ``roster`` (whom warnings are routed to) described the same people twice. The
roster keeps everyone from now on: it gains who added each person and when, and who took
them off and when (a person taken off keeps the row); every mediator is carried over as a
township-level ``mediator`` (listed or not, with their dates), unless the roster lists the
same person there already; then ``mediators`` goes.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from riskwarn.clock import get_clock

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LOADED_BY = "roster load"  # who added the rows `riskwarn roster load` wrote before 0006


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("roster") as batch:
        batch.alter_column("name", type_=sa.String(128), existing_nullable=False)
        batch.add_column(sa.Column("added_at", sa.DateTime(), nullable=True, comment="UTC"))
        batch.add_column(sa.Column("added_by", sa.String(128), nullable=True))
        batch.add_column(
            sa.Column("removed_at", sa.DateTime(), nullable=True, comment="UTC; null while listed")
        )
        batch.add_column(sa.Column("removed_by", sa.String(128), nullable=True))
    roster = sa.table(
        "roster",
        *(
            sa.column(c)
            for c in (
                "name", "role", "level", "township", "added_at", "added_by", "removed_at",
                "removed_by",
            )
        ),
    )  # fmt: skip
    now = get_clock().utc_now()
    bind.execute(
        roster.update().where(roster.c.added_at.is_(None)).values(added_at=now, added_by=LOADED_BY)
    )
    listed = {
        (name, township)
        for name, township in bind.execute(
            sa.select(roster.c.name, roster.c.township).where(
                roster.c.role == "mediator", roster.c.level == "township"
            )
        )
    }
    mediators = sa.table(
        "mediators",
        *(
            sa.column(c)
            for c in ("id", "township", "name", "added_at", "added_by", "removed_at", "removed_by")
        ),
    )
    carried = []
    for m in bind.execute(sa.select(mediators).order_by(mediators.c.id)).mappings():
        if m["removed_at"] is None and (m["name"], m["township"]) in listed:
            continue
        carried.append(
            {
                "name": m["name"],
                "role": "mediator",
                "level": "township",
                "township": m["township"],
                "added_at": m["added_at"],
                "added_by": m["added_by"],
                "removed_at": m["removed_at"],
                "removed_by": m["removed_by"],
            }
        )
    if carried:
        bind.execute(roster.insert(), carried)
    with op.batch_alter_table("roster") as batch:
        batch.alter_column(
            "added_at", existing_type=sa.DateTime(), nullable=False, existing_comment="UTC"
        )
        batch.alter_column("added_by", existing_type=sa.String(128), nullable=False)
    op.drop_index("ix_mediators_township", "mediators")
    op.drop_table("mediators")


def downgrade() -> None:
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
    # the township-level mediators go back to their list; everyone else stays on the roster
    op.execute(
        "INSERT INTO mediators (township, name, added_at, added_by, removed_at, removed_by) "
        "SELECT township, name, added_at, added_by, removed_at, removed_by FROM roster "
        "WHERE role = 'mediator' AND level = 'township' AND township IS NOT NULL"
    )
    op.execute("DELETE FROM roster WHERE removed_at IS NOT NULL")
    with op.batch_alter_table("roster") as batch:
        for column in ("removed_by", "removed_at", "added_by", "added_at"):
            batch.drop_column(column)
        batch.alter_column("name", type_=sa.String(64), existing_nullable=False)
