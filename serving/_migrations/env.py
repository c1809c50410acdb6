"""Alembic's environment: migrations run on the connection the store hands over, inside its
transaction, and record their revision in ``riskwarn_schema_version`` (not Alembic's
default table, which an MLflow database sharing the server already uses)."""

from __future__ import annotations

from alembic import context

from riskwarn.serving._schema import metadata

VERSION_TABLE = "riskwarn_schema_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
