"""The service's store: history (the contract tables), keys, audit log, score snapshots,
actions and signed-out sessions, behind one object whose methods are the only way in.

SQLAlchemy Core over an embedded SQLite file by default, PostgreSQL when given a
``postgresql://`` URL (see :class:`riskwarn.config.Settings`). Its schema is versioned:
:meth:`Store.create` and :meth:`Store.open` bring a store to the newest Alembic revision
in place (``_migrations``), including a store made before the schema was versioned.

Every write and its audit row commit in one transaction: a crash leaves both or neither.
The audit log is append-only twice over: the code has no way to change or delete a row, and
the database refuses to (triggers on SQLite and PostgreSQL). It holds pseudonymous ids, key
names, model versions, risks and tiers, never free text about people: a supervisor's note
or assignee stays in ``actions``.

Waits are bounded: a store that is locked by another writer for longer than ``wait``
seconds, whose file was deleted or replaced after it was opened, or that cannot be read
answers :class:`~riskwarn.errors.StoreUnavailableError` (503 with ``Retry-After``), never a
hang or a 500. What SQLite would take but PostgreSQL refuses (a NUL character, an id longer
than its column) is refused on both, as a riskwarn error naming the table or field.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event

from riskwarn import Dataset, Issue
from riskwarn._contract import TABLES, TABLES_BY_NAME
from riskwarn.clock import get_clock
from riskwarn.errors import (
    ConfigError,
    ContractError,
    RequestError,
    StoreUnavailableError,
    UnknownRecordError,
)
from riskwarn.loop import (
    Member,
    Roster,
    RoutingPolicy,
    WarningEvent,
    WarningRecord,
    apply_event,
    escalations,
    parse_policy,
)
from riskwarn.serving import _queue, _rights
from riskwarn.serving._records import (
    ACTION_KINDS,
    CANNOT_KEEP,
    TAKEN,
    audit_row,
    check_text,
    frame_records,
    plain,
    refusal,
    refuse,
    taken_ids,
    value_issues,
)
from riskwarn.serving._schema import (
    HISTORY,
    ID_LENGTH,
    PERSON_LENGTH,
    PLACE_LENGTH,
    SERVICE_TABLES,
    WARNING_ID_LENGTH,
    actions,
    api_keys,
    audit_log,
    contract_columns,
    record_versions,
    roster_table,
    routing_policies,
    score_snapshots,
    signouts,
    warning_events,
    warnings_table,
)
from riskwarn.vocab import TIER_ORDER, TIERS, tier_rank

MIGRATIONS = Path(__file__).parent / "_migrations"
VERSION_TABLE = "riskwarn_schema_version"
_UPGRADE_LOCK = 7_265_722  # a PostgreSQL advisory lock: one worker upgrades at a time

# SQLite result codes (their low byte) and PostgreSQL SQLSTATEs meaning "not now": the
# store is locked, busy, gone or unreadable, as opposed to a request it refuses.
_SQLITE_UNAVAILABLE = {
    5: "busy",
    6: "locked",
    10: "I/O error",
    11: "corrupt",
    14: "cannot open",
    26: "not a database",
}
_POSTGRES_UNAVAILABLE = ("55P03", "57014", "40P01", "57P01", "57P02", "57P03", "08")
_BROKEN = {"I/O error", "corrupt", "cannot open", "not a database", "no connection"}


def _unavailable_reason(exc: BaseException) -> str | None:
    """Why ``exc`` means the store cannot answer now, or None when it is another error."""
    if isinstance(exc, sa.exc.TimeoutError):
        return "no free connection"
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return _SQLITE_UNAVAILABLE.get(code & 0xFF) if code is not None else None
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return state if state.startswith(_POSTGRES_UNAVAILABLE) else None
    if isinstance(exc, sa.exc.OperationalError):  # no code: the server did not answer
        return "no connection"
    return None


_SQLITE_CACHE_KIB = 256


_ARRIVED: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "riskwarn_request_arrived", default=None
)


@contextlib.contextmanager
def waits_from(arrived: float) -> Iterator[None]:
    """Within this block, and the threads it hands work to, a write waits for a busy store
    until ``arrived`` (``time.monotonic()``) plus the store's ``wait``, not ``wait`` from
    when it starts: a request that queued for a scoring thread behind others waiting on a
    locked store is answered 503 within the wait of its arrival, not one wait per request
    ahead of it."""
    token = _ARRIVED.set(arrived)
    try:
        yield
    finally:
        _ARRIVED.reset(token)


def make_engine(url: str, wait: float = 3.0, *, pooled: bool = True) -> sa.Engine:
    """An engine for ``url`` whose waits end after ``wait`` seconds; SQLite files get WAL
    mode (readers never block the writer) and write transactions that take the write lock
    when they begin (``BEGIN IMMEDIATE``), so a busy store is found at once, not midway.
    ``pooled=False`` opens a new connection each time (the readiness probe: it reads the
    file as it is on disk now, not pages a pooled connection holds)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    pool: dict[str, Any] = {"pool_timeout": wait, "pool_pre_ping": True}
    if not pooled:
        pool = {"poolclass": sa.pool.NullPool}
    try:
        if url.startswith("sqlite"):
            # enough connections for the worker threads, so none is opened per request
            # (newest first, so the connections a quiet spell needs stay warm and the rest idle)
            sqlite_pool = pool
            if pooled:
                sqlite_pool = {"pool_timeout": wait, "pool_size": 40, "pool_use_lifo": True}
            engine = sa.create_engine(url, connect_args={"timeout": wait}, **sqlite_pool)
        else:
            ms = int(wait * 1000)
            engine = sa.create_engine(
                url,
                connect_args={
                    "connect_timeout": max(1, int(wait)),
                    "options": f"-c lock_timeout={ms} -c idle_in_transaction_session_timeout="
                    f"{max(ms * 20, 60000)}",
                },
                **({"pool_size": 16, "max_overflow": 32} if pooled else {}),
                **pool,
            )
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"expected a store URL like sqlite:///path/service.db or "
            f"postgresql://user@host/db, got {url!r}; set RISKWARN_DB_URL or pass --db"
        ) from exc
    if engine.dialect.name == "sqlite":
        busy_ms = int(wait * 1000)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions begin below, not in pysqlite
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # each connection keeps its own page cache; bounded small, a worker's memory stays
            # flat however many connections a burst opened (SQLite's default is 2 MiB each)
            cursor.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            write = conn.get_execution_options().get("riskwarn_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _sqlite_file(url: sa.URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


class Store:
    """All the service's state behind one engine.

    >>> store = Store("sqlite:///service.db").create()      # doctest: +SKIP
    >>> store.history_counts()["disputes"]                  # doctest: +SKIP
    """

    def __init__(self, url: str, *, wait: float = 3.0) -> None:
        self.url = url
        self.wait = wait
        self.engine = make_engine(url, wait)
        self._writer = self.engine.execution_options(riskwarn_write=True)
        self._probe = make_engine(url, wait, pooled=False).execution_options(riskwarn_write=True)
        self.file = _sqlite_file(self.engine.url)
        self._identity: tuple[int, int] | None = None
        # SQLite takes one writer at a time and makes the others sleep and retry: this
        # process's writers queue here instead, woken at once (other processes' writers
        # still meet SQLite's busy wait).
        self._one_writer = threading.Lock() if self.file is not None else None

    # opening -------------------------------------------------------------------------

    def create(self) -> Store:
        """Make the store in an empty database (or a new SQLite file), or bring a riskwarn
        store to the newest schema in place; ConfigError for a database that is not
        riskwarn's. Returns the store."""
        if self.file is not None:
            self.file.parent.mkdir(parents=True, exist_ok=True)
        self._upgrade(allow_new=True)
        return self

    @classmethod
    def open(cls, url: str, *, wait: float = 3.0) -> Store:
        """An existing riskwarn store, upgraded in place; ConfigError (one line saying what
        to do) when there is none at ``url`` or the database is not riskwarn's."""
        store = cls(url, wait=wait)
        if store.file is not None and (not store.file.exists() or not store.file.stat().st_size):
            raise ConfigError(
                f"no store at {url}: the file is missing or empty; make one with `riskwarn "
                "history load DIR` (or serve with --data DIR), or point --db / "
                "RISKWARN_DB_URL at the service's store"
            )
        store._upgrade(allow_new=False)
        return store

    def revision(self) -> str | None:
        """The schema revision the store is at (None before versioning or when empty)."""
        with self._reading() as conn:
            if not sa.inspect(conn).has_table(VERSION_TABLE):
                return None
            return conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()

    def _upgrade(self, allow_new: bool) -> None:
        from riskwarn.serving import _migrate

        with self._reading() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            current = (
                conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
                if VERSION_TABLE in tables
                else None
            )
        known = _migrate.revisions()
        legacy = current is None and set(SERVICE_TABLES) <= tables
        if (current is not None and current not in known) or (
            current is None and not legacy and (tables or not allow_new)
        ):
            shown = ", ".join(sorted(tables)[:6]) + (" ..." if len(tables) > 6 else "")
            what = f"holds the tables {shown}" if tables else "holds no tables"
            if current is not None:
                what = f"is at schema revision {current!r}, which this riskwarn does not know"
            raise ConfigError(
                f"{self.url} is not a riskwarn store ({what}); point --db / RISKWARN_DB_URL "
                "at the service's store, or at an empty database to make a new one"
            )
        if current != _migrate.head() or self._contract_missing(tables):
            with self._writing() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK})")
                if legacy:
                    _migrate.stamp(conn, "0001")
                _migrate.upgrade(conn)
                self._add_contract_tables(conn)
        self._remember_file()

    def _contract_missing(self, tables: set[str]) -> bool:
        return not set(HISTORY) <= tables

    def _add_contract_tables(self, conn: sa.Connection) -> None:
        """Tables and (optional) columns the contract gained after the newest migration.

        The contract grows only by optional tables and columns (docs/contract.md), so a
        contract change needs no hand-written migration: the store adds what is missing.
        """
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext

        ops = Operations(MigrationContext.configure(conn))
        inspector = sa.inspect(conn)
        for t in TABLES:
            if not inspector.has_table(t.name):
                ops.create_table(t.name, *contract_columns(t))  # and the indexes it asks for
                continue
            held = {c["name"] for c in inspector.get_columns(t.name)}
            for column in contract_columns(t):
                if column.name not in held:
                    column.primary_key, column.nullable = False, True
                    ops.add_column(t.name, column)

    def _remember_file(self) -> None:
        if self.file is not None and self.file.exists():
            st = self.file.stat()
            self._identity = (st.st_dev, st.st_ino)

    def close(self) -> None:
        self.engine.dispose()
        self._probe.dispose()

    # transactions ----------------------------------------------------------------------

    def _check_file(self) -> None:
        """StoreUnavailableError when the store's file is not the one opened (deleted or
        replaced while serving): writing on would go into a file nobody reads again."""
        if self.file is None or self._identity is None:
            return
        try:
            st = self.file.stat()
            same = (st.st_dev, st.st_ino) == self._identity
        except FileNotFoundError:
            same = False
        if not same:
            raise StoreUnavailableError(
                f"the store file {self.file} was deleted or replaced after the service opened "
                "it; restore it and restart the service (it refuses to start on an empty "
                "store)",
                retry_after=60,
            )

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as exc:
            reason = _unavailable_reason(exc)
            if reason is None:
                raise
            if reason in _BROKEN:  # let the next request open the file afresh
                self.engine.dispose()
            raise StoreUnavailableError(
                f"the store did not answer within {self.wait:g} s ({reason}): another process "
                "may hold its write lock, or the store is unreadable; try again shortly",
                retry_after=max(1, round(self.wait)),
            ) from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        self._check_file()
        with self._translated(), self.engine.connect() as conn:
            yield conn

    def _deadline(self) -> float:
        """When a write must have the store's lock (``time.monotonic()``): ``wait`` seconds
        after the request arrived (:func:`waits_from`), or from now outside a request."""
        arrived = _ARRIVED.get()
        return (time.monotonic() if arrived is None else arrived) + self.wait

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """One transaction that holds the write lock from its start: all of it or nothing."""
        self._check_file()
        if self._one_writer is None:
            left = self._deadline() - time.monotonic()
            with self._translated(), self._writer.begin() as conn:
                if left < self.wait - 0.05:  # the request queued first: less wait is left
                    ms = max(50, int(left * 1000))
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")
                yield conn
            return
        deadline = self._deadline()
        if not self._one_writer.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise StoreUnavailableError(
                f"the store did not answer within {self.wait:g} s (this worker's other writes "
                "queued before it); try again shortly",
                retry_after=max(1, round(self.wait)),
            )
        try:
            with self._translated(), self._writer.connect() as conn:
                # what is left of the wait goes to SQLite's own (another process may write)
                left = max(0.05, deadline - time.monotonic())
                dbapi = conn.connection.dbapi_connection
                dbapi.execute(f"PRAGMA busy_timeout={int(left * 1000)}")
                try:
                    with conn.begin():
                        yield conn
                finally:
                    dbapi.execute(f"PRAGMA busy_timeout={int(self.wait * 1000)}")
        finally:
            self._one_writer.release()

    def check(self) -> None:
        """Readiness: the file is the one opened, a new connection reads its schema, and the
        write lock can be had within a second. StoreUnavailableError otherwise."""
        self._check_file()
        with self._translated(), self._probe.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            if conn.dialect.name == "sqlite":
                dbapi.execute("PRAGMA busy_timeout=1000")
                try:
                    conn.exec_driver_sql(f"SELECT count(*) FROM {VERSION_TABLE}").scalar()
                    conn.rollback()
                finally:
                    dbapi.execute(f"PRAGMA busy_timeout={int(self.wait * 1000)}")
            else:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '1000ms'")
                conn.exec_driver_sql("LOCK TABLE audit_log IN ROW EXCLUSIVE MODE")
                conn.exec_driver_sql(f"SELECT count(*) FROM {VERSION_TABLE}").scalar()
                conn.rollback()

    # history ---------------------------------------------------------------------------

    def append_history(
        self,
        frames: Mapping[str, pd.DataFrame],
        *,
        by: str = "cli",
        request_id: str = "-",
        action: str = "ingest",
    ) -> dict[str, int]:
        """Insert contract rows and their audit row in one transaction: all or none.

        ContractError (422) naming the table, record and id when an id is held already
        (checked in the same transaction, whatever a worker's memory holds), or naming the
        table when the database refuses a value.
        """
        refuse(value_issues(frames), CANNOT_KEEP)
        try:
            with self._writing() as conn:
                return self._insert_history(conn, frames, by, request_id, action)
        except sa.exc.IntegrityError as exc:  # another writer got there in between
            with self._reading() as conn:
                taken = _taken_ids(conn, frames)
            if taken:
                raise refusal(taken, TAKEN) from exc
            raise ContractError(
                f"the store refused the records ({_first_line(exc)}); nothing was added. "
                "Check the ids and required fields and send the batch again."
            ) from exc
        except sa.exc.DataError as exc:
            raise ContractError(
                f"the store refused a value ({_first_line(exc)}); nothing was added. "
                f"Expected ids of at most {ID_LENGTH} characters and no NUL characters."
            ) from exc

    def replace_history(
        self, frames: Mapping[str, pd.DataFrame], *, by: str = "cli", request_id: str = "-"
    ) -> dict[str, int]:
        """Drop every history row and insert ``frames``, with the audit row, in one
        transaction (keys, audit, snapshots and actions stay)."""
        refuse(value_issues(frames), CANNOT_KEEP)
        with self._writing() as conn:
            for t in reversed(TABLES):
                conn.execute(HISTORY[t.name].delete())
            return self._insert_history(conn, frames, by, request_id, "history:load")

    def _insert_history(
        self,
        conn: sa.Connection,
        frames: Mapping[str, pd.DataFrame],
        by: str,
        request_id: str,
        action: str,
    ) -> dict[str, int]:
        refuse(_taken_ids(conn, frames), TAKEN)
        counts: dict[str, int] = {}
        for t in TABLES:  # contract order: referenced tables first
            frame = frames.get(t.name)
            if frame is None or frame.empty:
                continue
            rows = frame_records(frame[list(t.column_names)])
            conn.execute(HISTORY[t.name].insert(), rows)
            counts[t.name] = len(rows)
        entry = {"key_name": by, "action": action, "request_id": request_id, "detail": counts}
        conn.execute(audit_log.insert(), [audit_row(entry, _now())])
        return counts

    def taken_ids(self, frames: Mapping[str, pd.DataFrame]) -> list[Issue]:
        """An issue for every id in ``frames`` that the store holds already."""
        with self._reading() as conn:
            return _taken_ids(conn, frames)

    def read_dataset(self) -> Dataset:
        """The whole history as a typed :class:`riskwarn.Dataset`."""
        frames: dict[str, pd.DataFrame] = {}
        with self._reading() as conn:
            for t in TABLES:
                rows = conn.execute(sa.select(HISTORY[t.name])).all()
                frames[t.name] = pd.DataFrame.from_records(rows, columns=list(t.column_names))
        return Dataset.from_frames(**frames)

    def history_counts(self) -> dict[str, int]:
        with self._reading() as conn:
            return {
                t.name: int(
                    conn.execute(sa.select(sa.func.count()).select_from(HISTORY[t.name])).scalar()
                    or 0
                )
                for t in TABLES
            }

    # records: corrections, expiry, lineage (people's data rights, docs/rights.md) --------

    def find_records(self, table: str, key: str) -> list[dict[str, Any]]:
        """The rows of contract ``table`` whose record key is ``key`` (see ``_rights``)."""
        with self._reading() as conn:
            return _find(conn, table, key)

    def correct(
        self,
        table: str,
        key: str,
        changes: Mapping[str, str],
        *,
        reason: str,
        by: str = "cli",
        request_id: str = "-",
    ) -> dict[str, Any]:
        """Supersede one record: its corrected row replaces it in the history, and the old
        row is kept in ``record_versions``, marked superseded by the new one, with who,
        when and why (a correction of a correction points at the one it corrects), all with
        the audit row in one transaction.

        The new row is checked by the contract rules like ingest (``parse_records`` against
        the rows it points to); a refused correction raises a ContractError naming the
        table, column and value, and writes nothing. UnknownRecordError (404) when no row
        has ``key``; RequestError for an unknown column, an id, or no reason.
        """
        if not str(reason or "").strip():
            raise RequestError("--reason: expected why the record is corrected, got nothing")
        check_text("reason", reason, None)
        try:
            with self._writing() as conn:
                return self._correct(conn, table, key, changes, reason.strip(), by, request_id)
        except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
            raise ContractError(
                f"the store refused the corrected {table} record ({_first_line(exc)}); nothing "
                "was written"
            ) from exc

    def _correct(
        self,
        conn: sa.Connection,
        table: str,
        key: str,
        changes: Mapping[str, str],
        reason: str,
        by: str,
        request_id: str,
    ) -> dict[str, Any]:
        from riskwarn import parse_records

        found = _find(conn, table, key)
        if not found:
            raise UnknownRecordError(
                f"{table}: expected a record with key {key!r}, found none; the person report "
                f"or `riskwarn records history {table}` lists the keys"
            )
        if len(found) > 1:
            raise ContractError(
                f"{table}: {len(found)} records share the key {key!r}; correct a record whose "
                "key names it alone"
            )
        old = found[0]
        text = _rights.corrected_row(table, old, changes)
        try:
            frames = parse_records({table: [text]}, against=_against(conn, table, text))
        except ContractError as exc:
            raise ContractError(
                f"correction of {table} {key!r} refused, nothing written: {exc}", exc.issues
            ) from exc
        refuse(value_issues(frames), CANNOT_KEEP)
        new = _rights.db_row(
            table, frame_records(frames[table][list(_rights.table_of(table).column_names)])[0]
        )
        new_key = _rights.record_key(table, new)
        if new_key != key and _find(conn, table, new_key):
            raise ContractError(
                f"correction of {table} {key!r} refused, nothing written: the corrected record "
                f"would have the key {new_key!r} of another record"
            )
        history = HISTORY[table]
        conn.execute(history.delete().where(_same_row(history, old)))
        conn.execute(history.insert(), [new])
        previous = conn.execute(
            sa.select(record_versions.c.id)
            .where(
                record_versions.c.table_name == table,
                record_versions.c.new_key == key,
                record_versions.c.kind == "correction",
            )
            .order_by(record_versions.c.id.desc())
            .limit(1)
        ).scalar()
        at = _now()
        version = conn.execute(
            record_versions.insert().values(
                table_name=table,
                record_key=key,
                kind="correction",
                at=at,
                key_name=by,
                reason=reason,
                old_row=json.dumps(old, default=_json_value, ensure_ascii=False),
                new_key=new_key,
                new_row=json.dumps(new, default=_json_value, ensure_ascii=False),
                supersedes=previous,
            )
        ).inserted_primary_key[0]
        changed = sorted(c for c in new if _json_value(new[c]) != _json_value(old[c]))
        entry = {
            "key_name": by,
            "action": "records:correct",
            "request_id": request_id,
            "dispute_id": new.get("dispute_id") if table != "persons" else None,
            "detail": {
                "table": table,
                "key": key,
                "new_key": new_key,
                "columns": changed,
                "version": version,
            },
        }
        conn.execute(audit_log.insert(), [audit_row(entry, at)])
        return {
            "version": version,
            "table": table,
            "key": key,
            "new_key": new_key,
            "old": old,
            "new": new,
            "supersedes": previous,
            "at": at,
            "columns": changed,
        }

    def record_versions(
        self, table: str | None = None, key: str | None = None, *, after: int = 0
    ) -> list[dict[str, Any]]:
        """Corrections and expiries, oldest first; with ``key``, the chain of that record
        (every version whose old or new key it is); with ``after``, those numbered above it."""
        query = (
            sa.select(record_versions)
            .where(record_versions.c.id > after)
            .order_by(record_versions.c.id)
        )
        if table is not None:
            query = query.where(record_versions.c.table_name == table)
        if key is not None:
            query = query.where(
                sa.or_(record_versions.c.record_key == key, record_versions.c.new_key == key)
            )
        with self._reading() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def records_version(self) -> int:
        """The newest correction or expiry's number (0: none yet): one indexed read, so a
        worker can ask often whether the history changed behind its back."""
        with self._reading() as conn:
            return int(conn.execute(sa.select(sa.func.max(record_versions.c.id))).scalar() or 0)

    def read_dataset_known_at(self, at: dt.datetime) -> Dataset:
        """The history as it was recorded at ``at`` (UTC): every correction made after it
        undone, so a score taken then can be taken again from what was known then."""
        with self._reading() as conn:
            corrections = [
                dict(r)
                for r in conn.execute(
                    sa.select(record_versions).where(
                        record_versions.c.kind == "correction", record_versions.c.at > at
                    )
                ).mappings()
            ]
        return _rights.as_known_at(self.read_dataset(), corrections, at)

    def expire(
        self,
        expired: Mapping[str, pd.DataFrame],
        *,
        policy: str,
        apply: bool,
        by: str = "cli",
        request_id: str = "-",
    ) -> dict[str, int]:
        """Delete the rows ``expired`` lists (table -> rows with ``expires_at``, as
        :meth:`riskwarn.Expiry.rows` gives them) with a tombstone each (table, key, expiry
        date; not the content) and the audit row, in one transaction; rows of a dispute or
        incident go with it, and petitions and incidents that named an expired dispute keep
        their row with the dispute blanked. ``apply=False`` writes nothing. Returns the
        count per table."""
        counts = {name: len(frame) for name, frame in expired.items() if len(frame)}
        if not apply or not counts:
            return counts
        at = _now()
        with self._writing() as conn:
            tombstones = []
            gone_disputes = [
                str(d)
                for d in expired.get("disputes", pd.DataFrame(columns=["dispute_id"]))["dispute_id"]
            ]
            for name, frame in expired.items():
                history = HISTORY[name]
                keys = _rights.frame_keys(name, frame).tolist()
                rows = [
                    _rights.db_row(name, r)
                    for r in frame_records(frame[list(_rights.table_of(name).column_names)])
                ]
                for row in rows:
                    conn.execute(history.delete().where(_same_row(history, row)))
                tombstones += [
                    {
                        "table_name": name,
                        "record_key": k,
                        "kind": "expiry",
                        "at": at,
                        "key_name": by,
                        "reason": f"retention policy {policy}",
                        "expired_on": plain(e),
                    }
                    for k, e in zip(keys, frame["expires_at"], strict=True)
                ]
            for start in range(0, len(gone_disputes), 500):
                chunk = gone_disputes[start : start + 500]
                for name in ("dispute_parties", "dispute_events", "interventions"):
                    conn.execute(
                        HISTORY[name].delete().where(HISTORY[name].c.dispute_id.in_(chunk))
                    )
                for name in ("petitions", "incidents"):
                    conn.execute(
                        HISTORY[name]
                        .update()
                        .where(HISTORY[name].c.dispute_id.in_(chunk))
                        .values(dispute_id=None)
                    )
            gone_incidents = [
                str(i)
                for i in expired.get("incidents", pd.DataFrame(columns=["incident_id"]))[
                    "incident_id"
                ]
            ]
            ip = HISTORY["incident_persons"]
            for start in range(0, len(gone_incidents), 500):
                conn.execute(
                    ip.delete().where(ip.c.incident_id.in_(gone_incidents[start : start + 500]))
                )
            if tombstones:
                conn.execute(record_versions.insert(), tombstones)
            entry = {
                "key_name": by,
                "action": "records:expire",
                "request_id": request_id,
                "detail": {"policy": policy, "expired": counts},
            }
            conn.execute(audit_log.insert(), [audit_row(entry, at)])
        return counts

    def add_recomputed(
        self,
        snapshots: Sequence[Mapping[str, Any]],
        *,
        reason: str,
        by: str = "cli",
        request_id: str = "-",
    ) -> int:
        """Store recomputed scores, each with ``reason`` on its row, and one audit row per
        recomputed dispute (its old and new risk in the detail), in one transaction."""
        at = _now()
        rows = [
            {
                **s,
                "scored_at": at,
                "recomputed_reason": reason,
                "reasons": json.dumps(s.get("reasons") or [], ensure_ascii=False),
            }
            for s in snapshots
        ]
        audits = [
            audit_row(
                {
                    "key_name": by,
                    "action": "records:recompute",
                    "request_id": request_id,
                    "dispute_id": s["dispute_id"],
                    "as_of": s["as_of"],
                    "model_version": s["model_version"],
                    "risk": s["risk"],
                    "tier": s["tier"],
                    "detail": {"reason": reason},
                },
                at,
            )
            for s in snapshots
        ]
        with self._writing() as conn:
            if rows:
                conn.execute(score_snapshots.insert(), rows)
                conn.execute(audit_log.insert(), audits)
        return len(rows)

    def snapshots_of(
        self, dispute_ids: Iterable[str], since: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Stored scores of ``dispute_ids`` (as_of at or after ``since``), oldest first."""
        ids = sorted(set(dispute_ids))
        out: list[dict[str, Any]] = []
        with self._reading() as conn:
            for start in range(0, len(ids), 500):
                query = sa.select(score_snapshots).where(
                    score_snapshots.c.dispute_id.in_(ids[start : start + 500])
                )
                if since is not None:
                    query = query.where(score_snapshots.c.as_of >= since)
                out += [_snapshot(r) for r in conn.execute(query).mappings()]
        return sorted(out, key=lambda s: (s["as_of"], s["id"]))

    # keys ------------------------------------------------------------------------------

    def add_key(
        self,
        key_id: str,
        name: str,
        role: str,
        key_hash: str,
        *,
        by: str = "cli",
        request_id: str = "-",
    ) -> None:
        """Store a key's hash and the audit row of its making in one transaction."""
        at = _now()
        with self._writing() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_id=key_id, name=name, role=role, key_hash=key_hash, created_at=at
                )
            )
            entry = {
                "key_name": by,
                "action": "keys:create",
                "request_id": request_id,
                "detail": {"name": name, "role": role},
            }
            conn.execute(audit_log.insert(), [audit_row(entry, at)])

    def key_row(self, key_id: str) -> dict[str, Any] | None:
        """The live (not revoked) key with this id, or None."""
        with self._reading() as conn:
            row = conn.execute(_LIVE_KEY, {"key_id": key_id}).mappings().first()
        return dict(row) if row is not None else None

    def key_names(self) -> set[str]:
        with self._reading() as conn:
            return set(conn.execute(sa.select(api_keys.c.name)).scalars())

    def list_keys(self) -> list[dict[str, Any]]:
        with self._reading() as conn:
            rows = conn.execute(
                sa.select(
                    api_keys.c.key_id,
                    api_keys.c.name,
                    api_keys.c.role,
                    api_keys.c.created_at,
                    api_keys.c.revoked_at,
                ).order_by(api_keys.c.created_at)
            ).mappings()
            return [dict(r) for r in rows]

    def revoke_key(self, name: str, *, by: str = "cli", request_id: str = "-") -> bool:
        """Revoke the key called ``name`` (with its audit row); False when there is no live
        key by that name."""
        at = _now()
        with self._writing() as conn:
            result = conn.execute(
                api_keys.update()
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            if result.rowcount > 0:
                entry = {
                    "key_name": by,
                    "action": "keys:revoke",
                    "request_id": request_id,
                    "detail": {"name": name},
                }
                conn.execute(audit_log.insert(), [audit_row(entry, at)])
        return result.rowcount > 0

    # audit -----------------------------------------------------------------------------

    def audit(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append audit entries for what wrote nothing else (scores, explanations, sign-ins);
        see :func:`~riskwarn.serving._records.audit_row` for the fields."""
        if not entries:
            return
        at = _now()
        rows = [audit_row(e, at) for e in entries]
        try:
            with self._writing() as conn:
                conn.execute(audit_log.insert(), rows)
        except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
            raise RequestError(
                f"audit: the store refused the entry ({_first_line(exc)}); expected ids of "
                f"at most {ID_LENGTH} characters without control characters"
            ) from exc

    def audit_entries(
        self, limit: int = 1000, dispute_id: str | None = None, request_id: str | None = None
    ) -> list[dict]:
        """The latest audit entries, newest first."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if dispute_id is not None:
            query = query.where(audit_log.c.dispute_id == dispute_id)
        if request_id is not None:
            query = query.where(audit_log.c.request_id == request_id)
        with self._reading() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # score snapshots -------------------------------------------------------------------

    def add_snapshots(
        self,
        snapshots: Iterable[Mapping[str, Any]],
        *,
        by: str = "cli",
        request_id: str = "-",
        as_of: dt.datetime | None = None,
        model_version: str | None = None,
    ) -> int:
        """Store scores (dispute_id, as_of, model_version, risk, tier, reasons) and the
        snapshot's audit row in one transaction; the number stored."""
        with self._writing() as conn:
            return _write_snapshots(conn, snapshots, by, request_id, as_of, model_version)

    def snapshots_for(self, dispute_id: str) -> list[dict[str, Any]]:
        """Every stored score of one dispute, oldest first (for the risk-over-time chart)."""
        query = (
            sa.select(score_snapshots)
            .where(score_snapshots.c.dispute_id == dispute_id)
            .order_by(score_snapshots.c.as_of, score_snapshots.c.id)
        )
        with self._reading() as conn:
            return [_snapshot(r) for r in conn.execute(query).mappings()]

    def latest_snapshots(self) -> list[dict[str, Any]]:
        """Per dispute, its latest snapshot with ``previous_risk`` from the one before."""
        ranked = sa.select(
            score_snapshots,
            sa.func.row_number()
            .over(
                partition_by=score_snapshots.c.dispute_id,
                order_by=(score_snapshots.c.as_of.desc(), score_snapshots.c.id.desc()),
            )
            .label("rank"),
        ).subquery()
        query = sa.select(ranked).where(ranked.c.rank <= 2).order_by(ranked.c.dispute_id)
        out: dict[str, dict[str, Any]] = {}
        with self._reading() as conn:
            for r in conn.execute(query).mappings():
                if r["rank"] == 1:
                    out[r["dispute_id"]] = {**_snapshot(r), "previous_risk": None}
                else:
                    out[r["dispute_id"]]["previous_risk"] = r["risk"]
        return list(out.values())

    def queue(self, f: _queue.QueueFilter, per_page: int = _queue.PER_PAGE) -> _queue.QueuePage:
        """One page of the queue (the latest snapshot, ranked, filtered): see ``_queue``."""
        with self._reading() as conn:
            return _queue.queue_page(conn, f, per_page)

    # warnings: the closed loop (issue 14) ---------------------------------------------
    # A warning changes only through riskwarn.loop.apply_event: each write below reads the
    # warnings it touches, applies the events in order, writes the new records, the events
    # and one audit row per event in ONE transaction; a refused event (WarningStateError,
    # 409) rolls all of it back. The pages read warnings_page, warning_counts,
    # warnings_for and warning.

    def add_snapshots_warned(
        self,
        snapshots: Sequence[Mapping[str, Any]],
        decide: Callable[[LoopState], list[WarningEvent]],
        policy: RoutingPolicy,
        *,
        by: str = "cli",
        request_id: str = "-",
        as_of: dt.datetime | None = None,
        model_version: str | None = None,
    ) -> tuple[int, list[WarningEvent]]:
        """Store a snapshot (as :meth:`add_snapshots`) and the warnings it issues, re-scores
        and escalates, in one transaction: ``decide`` gets the raises in force, the open
        warnings, the roster and each owner's open load as the store holds them inside
        that transaction (so two snapshots never issue two warnings for one case) and
        returns the events to apply. Returns the scores stored and the events applied."""
        ids = [str(s["dispute_id"]) for s in snapshots]
        with self._writing() as conn:
            stored = _write_snapshots(conn, snapshots, by, request_id, as_of, model_version)
            state = LoopState(
                raised=_raises(conn, ids, _now()) if ids else {},
                open_warnings=_open_warnings(conn),
                roster=_roster(conn),
                load=_owner_load(conn),
            )
            events = decide(state)
            _check_events(events)
            _apply_events(conn, events, policy, by, request_id)
        return stored, events

    def apply_warning_events(
        self,
        events: Sequence[WarningEvent],
        policy: RoutingPolicy,
        *,
        by: str = "cli",
        request_id: str = "-",
    ) -> list[WarningRecord]:
        """Apply ``events`` in order and store the warnings they change, the events and
        their audit rows in one transaction; the warnings as they stand after. A refused
        event (:class:`~riskwarn.errors.WarningStateError`) writes nothing."""
        _check_events(events)
        with self._writing() as conn:
            return _apply_events(conn, events, policy, by, request_id)

    def escalate_warnings(
        self, policy: RoutingPolicy, *, by: str = "cli", request_id: str = "-"
    ) -> list[WarningEvent]:
        """Escalate every open warning that is overdue or unowned too long now (the clock:
        :func:`riskwarn.loop.escalations`), one level up to an owner from the roster, in one
        transaction; the escalation events."""
        with self._writing() as conn:
            held = _open_warnings(conn)
            events = escalations(
                held.values(), policy, _roster(conn), clock=get_clock(), load=_owner_load(conn)
            )
            _check_events(events)
            _apply_events(conn, events, policy, by, request_id)
        return events

    def warnings_page(
        self,
        *,
        tier: str | None = None,
        state: str | None = None,
        township: str | None = None,
        overdue: bool | None = None,
        dispute_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[WarningRecord]]:
        """``(total, page)``: warnings by the filters (``state="open"``: any but closed;
        ``overdue``: past their pending step's deadline now, or not), most urgent tier
        first, then the soonest deadline."""
        t = warnings_table
        where = []
        if tier is not None:
            where.append(t.c.tier == tier)
        if state == "open":
            where.append(t.c.state != "closed")
        elif state is not None:
            where.append(t.c.state == state)
        if township is not None:
            where.append(t.c.township == township)
        if dispute_id is not None:
            where.append(t.c.dispute_id == dispute_id)
        if overdue is not None:
            late = sa.and_(t.c.state != "closed", t.c.due_at.is_not(None), t.c.due_at < _now())
            where.append(late if overdue else sa.not_(late))
        rank = sa.case({tier: i for i, tier in enumerate(TIERS)}, value=t.c.tier, else_=len(TIERS))
        query = (
            sa.select(t.c.record)
            .where(*where)
            .order_by(rank, t.c.due_at.is_(None), t.c.due_at, t.c.issued_at, t.c.warning_id)
            .limit(limit)
            .offset(offset)
        )
        with self._reading() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar()
            page = [WarningRecord.model_validate_json(r) for r in conn.execute(query).scalars()]
        return int(total or 0), page

    def warning(self, warning_id: str) -> tuple[WarningRecord, list[WarningEvent]]:
        """One warning and its whole history, oldest event first; UnknownRecordError (404)
        when the store holds no such warning."""
        with self._reading() as conn:
            record = conn.execute(
                sa.select(warnings_table.c.record).where(warnings_table.c.warning_id == warning_id)
            ).scalar()
            if record is None:
                raise UnknownRecordError(
                    f"warning_id: expected a warning the store holds, got {warning_id!r}; "
                    "GET /v1/warnings lists them"
                )
            events = conn.execute(
                sa.select(warning_events.c.event)
                .where(warning_events.c.warning_id == warning_id)
                .order_by(warning_events.c.id)
            ).scalars()
            history = [WarningEvent.model_validate_json(e) for e in events]
        return WarningRecord.model_validate_json(record), history

    def warnings_for(self, dispute_id: str) -> list[WarningRecord]:
        """Every warning of one dispute (at most one open), newest first: the case page."""
        query = (
            sa.select(warnings_table.c.record)
            .where(warnings_table.c.dispute_id == dispute_id)
            .order_by(warnings_table.c.issued_at.desc(), warnings_table.c.warning_id)
        )
        with self._reading() as conn:
            return [WarningRecord.model_validate_json(r) for r in conn.execute(query).scalars()]

    def warning_records(self, township: str | None = None) -> list[WarningRecord]:
        """Every warning (of one township when given), oldest first: the evaluation's rows."""
        t = warnings_table
        query = sa.select(t.c.record).order_by(t.c.issued_at, t.c.warning_id)
        if township is not None:
            query = query.where(t.c.township == township)
        with self._reading() as conn:
            return [WarningRecord.model_validate_json(r) for r in conn.execute(query).scalars()]

    def open_warnings(self, dispute_ids: Sequence[str] | None = None) -> dict[str, WarningRecord]:
        """The open warning of each dispute (of ``dispute_ids``, or all), by dispute id."""
        with self._reading() as conn:
            held = _open_warnings(conn)
        if dispute_ids is None:
            return held
        return {d: held[d] for d in dispute_ids if d in held}

    def warning_counts(self) -> dict[str, Any]:
        """The overview's figures now: open warnings by tier and state, overdue and
        unowned ones by tier, and closed ones."""
        t = warnings_table
        now = _now()
        late = sa.and_(t.c.due_at.is_not(None), t.c.due_at < now)
        query = sa.select(
            t.c.tier,
            t.c.state,
            sa.func.count(),
            sa.func.sum(sa.case((late, 1), else_=0)),
            sa.func.sum(sa.case((t.c.owner.is_(None), 1), else_=0)),
        ).group_by(t.c.tier, t.c.state)
        out: dict[str, Any] = {"open": {}, "overdue": {}, "unowned": {}, "closed": 0}
        with self._reading() as conn:
            for tier, state, n, n_late, n_unowned in conn.execute(query):
                if state == "closed":
                    out["closed"] += int(n)
                    continue
                out["open"].setdefault(tier, {})[state] = int(n)
                out["overdue"][tier] = out["overdue"].get(tier, 0) + int(n_late or 0)
                out["unowned"][tier] = out["unowned"].get(tier, 0) + int(n_unowned or 0)
        return out

    def roster(self) -> Roster:
        """The people warnings are routed to and cases assigned to: everyone listed now
        (empty until `riskwarn roster load` or an admin's list page adds someone)."""
        with self._reading() as conn:
            return _roster(conn)

    def members(self, township: str | None = None) -> list[dict[str, Any]]:
        """The roster's listed rows (``id``, the :class:`~riskwarn.loop.Member` fields, who
        added them and when), of one township when given, by township, level and name."""
        r = roster_table
        query = (
            sa.select(r)
            .where(r.c.removed_at.is_(None))
            .order_by(r.c.township, r.c.level, r.c.name, r.c.id)
        )
        if township is not None:
            query = query.where(r.c.township == township)
        with self._reading() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def replace_roster(
        self, members: Sequence[Member], *, by: str = "cli", request_id: str = "-"
    ) -> int:
        """Make the listed roster ``members`` (`riskwarn roster load`): a person listed the
        same way already stays as added, anyone else listed is taken off (the row stays,
        with who and when), the new are added; one audit row with the counts (no names).
        Returns the number of members."""
        rows = [_member_row(m) for m in members]
        at = _now()
        r = roster_table
        with self._writing() as conn:
            held = {
                _member_key(row): row["id"]
                for row in conn.execute(sa.select(r).where(r.c.removed_at.is_(None))).mappings()
            }
            wanted = {_member_key(row): row for row in rows}
            gone = [i for key, i in held.items() if key not in wanted]
            new = [row for key, row in wanted.items() if key not in held]
            for start in range(0, len(gone), 500):
                conn.execute(
                    r.update()
                    .where(r.c.id.in_(gone[start : start + 500]))
                    .values(removed_at=at, removed_by=by)
                )
            if new:
                conn.execute(r.insert(), [{**row, "added_at": at, "added_by": by} for row in new])
            entry = {
                "key_name": by,
                "action": "roster:load",
                "request_id": request_id,
                "detail": {"members": len(wanted), "added": len(new), "removed": len(gone)},
            }
            conn.execute(audit_log.insert(), [audit_row(entry, at)])
        return len(wanted)

    def add_member(self, member: Member, *, by: str, request_id: str) -> dict[str, Any]:
        """Put ``member`` on the roster (audited); the row. Listing someone listed the same
        way already returns that row and writes nothing."""
        row = _member_row(member)
        r = roster_table
        at = _now()
        with self._writing() as conn:
            for held in conn.execute(sa.select(r).where(r.c.removed_at.is_(None))).mappings():
                if _member_key(held) == _member_key(row):
                    return dict(held)
            row |= {"added_at": at, "added_by": by}
            new_id = conn.execute(r.insert().values(**row)).inserted_primary_key[0]
            entry = {
                "key_name": by,
                "action": "roster:add",
                "request_id": request_id,
                "detail": {"member_id": new_id, "role": member.role, "level": member.level},
            }
            conn.execute(audit_log.insert(), [audit_row(entry, at)])
        return {**row, "id": new_id, "removed_at": None, "removed_by": None}

    def remove_member(self, member_id: int, *, by: str, request_id: str) -> bool:
        """Take a person off the roster (the row stays, with who and when; their open
        warnings keep naming them until reassigned); False when nobody listed has that id."""
        at = _now()
        r = roster_table
        with self._writing() as conn:
            done = conn.execute(
                r.update()
                .where(r.c.id == member_id, r.c.removed_at.is_(None))
                .values(removed_at=at, removed_by=by)
            ).rowcount
            if done:
                entry = {
                    "key_name": by,
                    "action": "roster:remove",
                    "request_id": request_id,
                    "detail": {"member_id": member_id},
                }
                conn.execute(audit_log.insert(), [audit_row(entry, at)])
        return bool(done)

    def routing_policy(self) -> RoutingPolicy | None:
        """The newest routing policy an admin stored, or None (the settings' file rules)."""
        query = sa.select(routing_policies.c.policy).order_by(routing_policies.c.id.desc())
        with self._reading() as conn:
            held = conn.execute(query.limit(1)).scalar()
        return None if held is None else parse_policy(json.loads(held), source="stored policy")

    def add_routing_policy(
        self, policy: RoutingPolicy, *, by: str = "cli", request_id: str = "-"
    ) -> None:
        """Store a new routing policy version (in force from now) with its audit row."""
        check_text("version", policy.version, 64)
        at = _now()
        entry = {
            "key_name": by,
            "action": "warning:policy",
            "request_id": request_id,
            "detail": {"version": policy.version},
        }
        with self._writing() as conn:
            conn.execute(
                routing_policies.insert().values(
                    version=policy.version, at=at, by=by, policy=policy.model_dump_json()
                )
            )
            conn.execute(audit_log.insert(), [audit_row(entry, at)])

    # actions ---------------------------------------------------------------------------

    def add_action(self, action: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        """Store a supervisor's action and its audit entry in one transaction.

        ``action``: dispute_id, key_name, kind, and assignee (assign), note (note), or tier
        and reason (raise_tier: both required, the reason says why, for the answer's
        ``override``). The note, assignee and reason (free text about people) stay in
        ``actions``; the audit entry holds the kind, the action's id, the key name, the
        time and the dispute id.
        """
        row = _action_row(action)
        with self._writing() as conn:
            new_id = conn.execute(actions.insert().values(**row)).inserted_primary_key[0]
            entry = {
                "key_name": row["key_name"],
                "action": f"action:{row['kind']}",
                "request_id": request_id,
                "dispute_id": row["dispute_id"],
                "tier": row["tier"],
                "detail": {"action_id": new_id},
            }
            conn.execute(audit_log.insert(), [audit_row(entry, row["at"])])
        return {**row, "id": new_id}

    def add_actions_warned(
        self,
        rows: Sequence[Mapping[str, Any]],
        events: Sequence[WarningEvent],
        policy: RoutingPolicy,
        *,
        by: str,
        request_id: str,
    ) -> list[WarningRecord]:
        """A supervisor's workbench action on a case with an open warning: the ``actions``
        rows (as :meth:`add_action`; the queue and the raises read them) and the warning
        ``events`` they mean, in ONE transaction with one audit row per event naming the
        actions' ids. A refused event (:class:`~riskwarn.errors.WarningStateError`) writes
        nothing. Returns the warnings as they stand after."""
        checked = [_action_row(a) for a in rows]
        _check_events(events)
        with self._writing() as conn:
            ids = [
                conn.execute(actions.insert().values(**row)).inserted_primary_key[0]
                for row in checked
            ]
            return _apply_events(conn, events, policy, by, request_id, {"action_ids": ids})

    def actions_for(self, dispute_id: str | None = None) -> list[dict[str, Any]]:
        """Actions, oldest first; of one dispute when ``dispute_id`` is given."""
        query = sa.select(actions).order_by(actions.c.at, actions.c.id)
        if dispute_id is not None:
            query = query.where(actions.c.dispute_id == dispute_id)
        with self._reading() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def raises(self, dispute_ids: Sequence[str], until: dt.datetime) -> dict[str, dict]:
        """Per dispute, the highest tier a supervisor raised it to by ``until`` (UTC), with
        who, when and why: ``{dispute_id: {tier, by, at, reason}}``."""
        if not dispute_ids:
            return {}
        with self._reading() as conn:
            return _raises(conn, dispute_ids, until)

    def answered(
        self,
        dispute_ids: Sequence[str],
        until: dt.datetime,
        entries: Callable[[dict[str, dict]], Sequence[Mapping[str, Any]]],
    ) -> dict[str, dict]:
        """Read the raises in force for ``dispute_ids`` (as :meth:`raises`) and write the audit
        entries ``entries(raises)`` makes, in one transaction: an answer is recorded with the
        tier it gave. Returns the raises."""
        at = _now()
        with self._writing() as conn:
            raised = _raises(conn, dispute_ids, until) if dispute_ids else {}
            rows = [audit_row(e, at) for e in entries(raised)]
            if rows:
                conn.execute(audit_log.insert(), rows)
        return raised

    # workbench sessions ----------------------------------------------------------------

    def end_session(self, session_id: str, *, by: str, request_id: str, keep: dt.timedelta) -> None:
        """Record that a workbench session was signed out, with its audit row; forget
        sessions signed out longer than ``keep`` ago (they have expired anyway)."""
        at = _now()
        with self._writing() as conn:
            conn.execute(signouts.delete().where(signouts.c.at < at - keep))
            held = conn.execute(
                sa.select(signouts.c.session_id).where(signouts.c.session_id == session_id)
            ).first()
            if held is None:  # signed out twice (two tabs): ended already
                conn.execute(signouts.insert().values(session_id=session_id, at=at))
            entry = {"key_name": by, "action": "ui:signout", "request_id": request_id}
            conn.execute(audit_log.insert(), [audit_row(entry, at)])

    def session_ended(self, session_id: str) -> bool:
        with self._reading() as conn:
            found = conn.execute(
                sa.select(signouts.c.session_id).where(signouts.c.session_id == session_id)
            ).first()
        return found is not None

    # workbench: the county overview ---------------------------------------------------

    def latest_cases(self) -> list[dict[str, Any]]:
        """Every case of the latest snapshot run with its final tier (raises applied),
        place, category and first acknowledgement and assignment: the overview's rows."""
        with self._reading() as conn:
            as_of = _queue.latest_as_of(conn)
            if as_of is None:
                return []
            q = _queue._current(as_of)
            rows = [dict(r) for r in conn.execute(sa.select(q)).mappings()]
            firsts = conn.execute(
                sa.select(actions.c.dispute_id, actions.c.kind, sa.func.min(actions.c.at))
                .where(actions.c.kind.in_(("acknowledge", "assign")))
                .group_by(actions.c.dispute_id, actions.c.kind)
            ).all()
        first = {(d, k): at for d, k, at in firsts}
        for r in rows:
            r["tier"] = TIER_ORDER[r["tier_rank"]] if 0 <= r["tier_rank"] < 4 else r["model_tier"]
            r["acknowledged_at"] = first.get((r["dispute_id"], "acknowledge"))
            r["assigned_at"] = first.get((r["dispute_id"], "assign"))
        return rows

    def tier_history(self, runs: int = 12) -> list[dict[str, Any]]:
        """The model's tiers of the last ``runs`` snapshot runs, one row per case and run:
        ``as_of``, ``dispute_id``, ``tier``, ``scored_at`` (oldest run first)."""
        s = score_snapshots
        with self._reading() as conn:
            latest = [
                r
                for (r,) in conn.execute(
                    sa.select(s.c.as_of).distinct().order_by(s.c.as_of.desc()).limit(runs)
                )
            ]
            if not latest:
                return []
            query = (
                sa.select(s.c.as_of, s.c.dispute_id, s.c.tier, s.c.scored_at, s.c.risk)
                .where(s.c.as_of.in_(latest))
                .order_by(s.c.as_of, s.c.id)
            )
            return [dict(r) for r in conn.execute(query).mappings()]


def _now() -> dt.datetime:
    return get_clock().utc_now()


def _taken_ids(conn: sa.Connection, frames: Mapping[str, pd.DataFrame]) -> list[Issue]:
    """Issues for the ids in ``frames`` the database holds, asked 500 at a time."""

    def held(table: str, column: str, values: list[str]) -> set[str]:
        col = HISTORY[table].c[column]
        found: set[str] = set()
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            found.update(conn.execute(sa.select(col).where(col.in_(chunk))).scalars())
        return found

    return taken_ids(frames, held)


# built once (every request reads its key)
_LIVE_KEY = sa.select(api_keys).where(
    api_keys.c.key_id == sa.bindparam("key_id"), api_keys.c.revoked_at.is_(None)
)

# built once: every answer reads the raises in force, and building the statement cost more
# than running it
_RAISES = (
    sa.select(actions)
    .where(
        actions.c.kind == "raise_tier",
        actions.c.dispute_id.in_(sa.bindparam("ids", expanding=True)),
        actions.c.at <= sa.bindparam("until"),
    )
    .order_by(actions.c.at, actions.c.id)
)


def _raises(conn: sa.Connection, dispute_ids: Sequence[str], until: dt.datetime) -> dict[str, dict]:
    out: dict[str, dict] = {}
    rows = conn.execute(_RAISES, {"ids": sorted(set(dispute_ids)), "until": until}).mappings()
    for r in rows:
        held = out.get(r["dispute_id"])
        if held is None or tier_rank(r["tier"]) >= tier_rank(held["tier"]):
            out[r["dispute_id"]] = {
                "tier": r["tier"],
                "by": r["key_name"],
                "at": r["at"],
                "reason": r["reason"],
            }
    return out


def _find(conn: sa.Connection, table: str, key: str) -> list[dict[str, Any]]:
    """Rows of ``table`` whose record key is ``key`` (asked by the first key column)."""
    history = HISTORY[_rights.table_of(table).name]
    first = history.c[_rights.key_columns(table)[0]]
    query = sa.select(history).where(first.in_(_rights.key_prefixes(key)))
    rows = [dict(r) for r in conn.execute(query).mappings()]
    return [r for r in rows if _rights.record_key(table, r) == key]


def _same_row(history: sa.Table, row: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    """The one row holding exactly ``row``'s values (tables without an id have no key)."""
    return sa.and_(
        *(history.c[c].is_(None) if v is None else history.c[c] == v for c, v in row.items())
    )


def _against(conn: sa.Connection, table: str, row: Mapping[str, Any]) -> Dataset:
    """The rows a record points to, for checking its references: per referenced table, the
    row it names, or any one row when it names none (so the missing id is reported)."""
    frames: dict[str, pd.DataFrame] = {}
    t = _rights.table_of(table)
    wanted = [(r.table, r.key, row.get(r.column)) for r in t.references]
    if t.requires:
        wanted.append((t.requires, None, None))
    if table == "dispute_events":  # the early-event warning reads the registration
        wanted.append(("disputes", "dispute_id", row.get("dispute_id")))
    for ref_table, ref_key, value in wanted:
        history = HISTORY[ref_table]
        query = sa.select(history).limit(1)
        if ref_key is not None and value is not None:
            query = sa.select(history).where(history.c[ref_key] == value)
        found = conn.execute(query).mappings().all()
        if not found and ref_key is not None:
            found = conn.execute(sa.select(history).limit(1)).mappings().all()
        columns = list(TABLES_BY_NAME[ref_table].column_names)
        frame = pd.DataFrame([dict(r) for r in found], columns=columns)
        frames[ref_table] = pd.concat([frames[ref_table], frame]) if ref_table in frames else frame
    return Dataset.from_frames(**frames)


def _json_value(value: Any) -> Any:
    """A history cell as JSON keeps it (dates and times as ISO text)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class LoopState:
    """What a snapshot's warnings are decided from, read inside its transaction: the
    supervisors' raises in force (:meth:`Store.raises`), the open warning of each dispute,
    the roster, and the open warnings each owner holds (so routing spreads the load)."""

    raised: dict[str, dict]
    open_warnings: dict[str, WarningRecord]
    roster: Roster
    load: dict[str, int]


def _open_warnings(conn: sa.Connection) -> dict[str, WarningRecord]:
    query = sa.select(warnings_table.c.record).where(warnings_table.c.state != "closed")
    out = {}
    for record in conn.execute(query).scalars():
        w = WarningRecord.model_validate_json(record)
        out[w.dispute_id] = w
    return out


def _roster(conn: sa.Connection) -> Roster:
    r = roster_table
    columns = [r.c[name] for name in Member.model_fields]
    query = sa.select(*columns).where(r.c.removed_at.is_(None)).order_by(r.c.id)
    return Roster(members=tuple(Member(**row) for row in conn.execute(query).mappings()))


def _member_row(member: Member) -> dict[str, Any]:
    """A roster row's person fields, checked against the columns' lengths."""
    row = member.model_dump()
    for name, length in (
        ("name", PERSON_LENGTH), ("county", PLACE_LENGTH), ("township", PLACE_LENGTH),
        ("grid", ID_LENGTH),
    ):  # fmt: skip
        check_text(name, row[name], length)
    return row


def _member_key(row: Mapping[str, Any]) -> tuple:
    """Who a roster row lists, where: the same person twice is one listing."""
    return tuple(row[name] for name in Member.model_fields)


def _owner_load(conn: sa.Connection) -> dict[str, int]:
    t = warnings_table
    query = (
        sa.select(t.c.owner, sa.func.count())
        .where(t.c.state != "closed", t.c.owner.is_not(None))
        .group_by(t.c.owner)
    )
    return {owner: int(n) for owner, n in conn.execute(query)}


def _action_row(action: Mapping[str, Any]) -> dict[str, Any]:
    """A supervisor's action as its ``actions`` row, stamped now; RequestError for a wrong one."""
    if action.get("kind") not in ACTION_KINDS:
        raise RequestError(f"action kind must be one of {ACTION_KINDS}, got {action.get('kind')!r}")
    row = {"assignee": None, "note": None, "tier": None, "reason": None, **action}
    row["at"] = _now()
    if row["kind"] == "raise_tier":
        if row["tier"] not in TIER_ORDER:
            raise RequestError(f"tier: expected one of {TIER_ORDER}, got {row['tier']!r}")
        if not str(row["reason"] or "").strip():
            raise RequestError(
                "reason: expected why the tier is raised (it travels with the answer the "
                "case platform reads), got none"
            )
    for name in ("dispute_id", "key_name", "assignee"):
        check_text(name, row[name], ID_LENGTH)
    check_text("note", row["note"], None)
    check_text("reason", row["reason"], None)
    return row


def _check_events(events: Sequence[WarningEvent]) -> None:
    """RequestError for what the store's columns cannot keep as it is."""
    for e in events:
        check_text("warning_id", e.warning_id, WARNING_ID_LENGTH)
        check_text("by", e.by, 128)
        check_text("owner", e.owner, 128)
        check_text("note", e.note, None)


def _warning_row(w: WarningRecord) -> dict[str, Any]:
    """The warnings row of a record: its indexed columns and the whole record as JSON."""
    row = {c.name: getattr(w, c.name) for c in warnings_table.c if c.name != "record"}
    return {**row, "record": w.model_dump_json()}


def _apply_events(
    conn: sa.Connection,
    events: Sequence[WarningEvent],
    policy: RoutingPolicy,
    key_name: str,
    request_id: str,
    detail: Mapping[str, Any] | None = None,
) -> list[WarningRecord]:
    """Apply ``events`` to the warnings the store holds and write the results, the events
    and one audit row each (``detail`` added to each row's); raises (and so rolls back) at
    the first refused event."""
    if not events:
        return []
    t = warnings_table
    ids = sorted({e.warning_id for e in events})
    held: dict[str, WarningRecord] = {}
    for start in range(0, len(ids), 500):
        query = sa.select(t.c.record).where(t.c.warning_id.in_(ids[start : start + 500]))
        for record in conn.execute(query).scalars():
            w = WarningRecord.model_validate_json(record)
            held[w.warning_id] = w
    now: dict[str, WarningRecord] = {}
    audits = []
    for e in events:
        before = now.get(e.warning_id, held.get(e.warning_id))
        if before is None and e.kind != "issue":
            raise UnknownRecordError(
                f"warning_id: expected a warning the store holds, got {e.warning_id!r}; "
                "GET /v1/warnings lists them"
            )
        after = apply_event(before, e, policy)
        now[e.warning_id] = after
        audits.append(
            {
                "key_name": key_name,
                "action": f"warning:{e.kind}",
                "request_id": request_id,
                "dispute_id": after.dispute_id,
                "model_version": e.model_version,
                "risk": e.risk,
                "tier": after.tier,
                "detail": {"warning_id": e.warning_id, "state": after.state, **(detail or {})},
            }
        )
    new = [_warning_row(w) for i, w in now.items() if i not in held]
    changed = [{**_warning_row(w), "key": i} for i, w in now.items() if i in held]
    if new:
        conn.execute(t.insert(), new)
    if changed:
        columns = {c.name: sa.bindparam(c.name) for c in t.c if c.name != "warning_id"}
        update = t.update().where(t.c.warning_id == sa.bindparam("key")).values(**columns)
        conn.execute(update, [{k: v for k, v in r.items() if k != "warning_id"} for r in changed])
    conn.execute(
        warning_events.insert(),
        [
            {
                "warning_id": e.warning_id,
                "kind": e.kind,
                "at": e.at,
                "by": e.by,
                "event": e.model_dump_json(),
            }
            for e in events
        ],
    )
    at = _now()
    conn.execute(audit_log.insert(), [audit_row(a, at) for a in audits])
    return list(now.values())


def _write_snapshots(
    conn: sa.Connection,
    snapshots: Iterable[Mapping[str, Any]],
    by: str,
    request_id: str,
    as_of: dt.datetime | None,
    model_version: str | None,
) -> int:
    at = _now()
    rows = [
        {**s, "scored_at": at, "reasons": json.dumps(s.get("reasons") or [], ensure_ascii=False)}
        for s in snapshots
    ]
    entry = {
        "key_name": by,
        "action": "snapshot",
        "request_id": request_id,
        "as_of": as_of,
        "model_version": model_version,
        "detail": {"stored": len(rows)},
    }
    if rows:
        conn.execute(score_snapshots.insert(), rows)
    conn.execute(audit_log.insert(), [audit_row(entry, at)])
    return len(rows)


def _first_line(exc: sa.exc.DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0][:200] if exc.orig else type(exc).__name__


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c.name: row[c.name] for c in score_snapshots.c}
    out["reasons"] = json.loads(out["reasons"]) if out["reasons"] else []
    return out
