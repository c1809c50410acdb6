"""Running the store's Alembic migrations on a connection the store holds.

The scripts live in ``_migrations`` beside this module (shipped with the package);
:class:`~riskwarn.serving.Store` calls :func:`upgrade` inside its own transaction.
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

SCRIPTS = Path(__file__).parent / "_migrations"


@functools.cache
def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    return cfg


@functools.cache
def head() -> str:
    """The newest revision."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None
    return found


@functools.cache
def revisions() -> frozenset[str]:
    """Every revision this riskwarn knows."""
    return frozenset(r.revision for r in ScriptDirectory.from_config(config()).walk_revisions())


def _with(conn: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: sa.Connection, revision: str = "head") -> None:
    """Bring the store on ``conn`` to ``revision``, in the connection's transaction."""
    command.upgrade(_with(conn), revision)


def stamp(conn: sa.Connection, revision: str) -> None:
    """Record that the store on ``conn`` is at ``revision`` without running anything (for a
    store made before migrations, whose tables are those of ``0001``)."""
    command.stamp(_with(conn), revision)
