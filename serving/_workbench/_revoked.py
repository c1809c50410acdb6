"""Sessions ended by signing out, kept in the service's database.

A session cookie is signed, not stored, so on its own it stays good until it expires
(``_session.MAX_AGE``), even after its owner signed out: a copy taken before sign-out
would still open the pages. Each session therefore carries a random id, sign-out writes
that id to the ``workbench_signouts`` table, and every request checks it is not there.
The table lives in the store's database (every worker sees it, a restart keeps it) but is
the workbench's own: it is created on first use, and rows older than a session's lifetime
are dropped as new ones come, since such sessions have expired anyway.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import weakref

import sqlalchemy as sa

metadata = sa.MetaData()

signouts = sa.Table(
    "workbench_signouts",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("at", sa.DateTime(), nullable=False, index=True),
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Signouts:
    """Ends sessions by id and tells whether one was ended, over any store's engine."""

    def __init__(self, keep_seconds: int) -> None:
        self.keep = dt.timedelta(seconds=keep_seconds)
        self._ready: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
        self._lock = threading.Lock()

    def _table(self, engine: sa.Engine) -> sa.Table:
        """The table, created in ``engine``'s database the first time it is needed."""
        if engine not in self._ready:
            with self._lock:
                if engine not in self._ready:
                    try:
                        metadata.create_all(engine)
                    except sa.exc.DBAPIError:  # another worker created it at the same moment
                        if not sa.inspect(engine).has_table(signouts.name):
                            raise
                    self._ready.add(engine)
        return signouts

    def end(self, engine: sa.Engine, session_id: str) -> None:
        """Record that the session ``session_id`` was signed out; forget expired ones."""
        table = self._table(engine)
        now = _now()
        with engine.begin() as conn:
            conn.execute(table.delete().where(table.c.at < now - self.keep))
        # signed out twice (two tabs): the session has ended already
        with contextlib.suppress(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(table.insert().values(session_id=session_id, at=now))

    def ended(self, engine: sa.Engine, session_id: str) -> bool:
        table = self._table(engine)
        with engine.connect() as conn:
            found = conn.execute(
                sa.select(table.c.session_id).where(table.c.session_id == session_id)
            ).first()
        return found is not None
