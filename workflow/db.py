"""The one module that owns the database: engines and transactions (the migrations are shingi's).

SQLite is the embedded default (WAL, `BEGIN IMMEDIATE` for writes so that a writer waits for the
lock instead of failing with SQLITE_BUSY); PostgreSQL serves several instances sharing the work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Row, Select, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from workflow.organisations import Scoped, session_info

#: A SELECT of rows or of scalars (sqlmodel's SelectOfScalar is one): `claiming` gives back what it was given.
SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")



def normalise_url(url: str) -> str:
    """Accept the plain `postgresql://` form and use the psycopg 3 driver for it."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@dataclass(frozen=True)
class Pool:
    """The connections one process keeps to the database (settings SHINGI_DATABASE_POOL_…)."""

    size: int = 10
    #: Connections opened beyond `size` at a peak, closed again after it.
    overflow: int = 20
    #: How long a request waits for a free connection before it fails.
    timeout_seconds: float = 30.0
    #: PostgreSQL: connections older than this are replaced; how long a new one may take to open.
    recycle_seconds: int = 1800
    connect_timeout_seconds: int = 10


class Database:
    """Engines and transactions for one database URL."""

    def __init__(self, url: str, *, pool: Pool | None = None, row_security: bool = True):
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        pool = pool or Pool()
        sizes = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout_seconds}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url, connect_args={"check_same_thread": False, "timeout": 30}, **sizes)
            _configure_sqlite(self.engine)
        else:
            # pre-ping: a connection the server dropped (a restart, a failover) is replaced before use,
            # so that the first request after a restart does not fail; recycle: none is kept for ever.
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_recycle=pool.recycle_seconds,
                                        connect_args={"connect_timeout": pool.connect_timeout_seconds}, **sizes)
        #: PostgreSQL: every transaction of a session runs as the role the row-level security policies
        #: bind (migration 0009), for the session's organisation.
        self.row_security = row_security and not self.is_sqlite
        self._writer_lock = _writer_lock(self.url) if self.is_sqlite else None
        # Same pool; on SQLite its transactions begin with BEGIN IMMEDIATE (see _configure_sqlite).
        self._write_engine = self.engine.execution_options(shingi_write=True)
        # Single statements outside a transaction; on SQLite the isolation level is left alone (a reset
        # would hand transactions back to pysqlite) and `on_begin` just does not emit BEGIN.
        self._autocommit_engine = self.engine.execution_options(
            **({"shingi_autocommit": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}))

    @contextmanager
    def reading(self, scope: Scoped) -> Iterator[Session]:
        """A session for reads of `scope`'s organisation (an actor's; or EVERY_ORGANISATION); nothing it
        changes is committed."""
        with Session(self.engine, expire_on_commit=False, info=self._info(scope)) as session:
            yield session

    @contextmanager
    def writing(self, scope: Scoped) -> Iterator[Session]:
        """One write transaction in `scope`'s organisation: committed when the block ends, rolled back
        whole on any error."""
        with self._writer_turn(), Session(self._write_engine, expire_on_commit=False,
                                          info=self._info(scope)) as session, session.begin():
            yield session

    def _info(self, scope: Scoped) -> dict[str, Any]:
        info = session_info(scope)
        if self._walled(scope):
            info[_ROW_SECURITY] = _row_security_settings(scope.organisation_id)
        return info

    def _walled(self, scope: Scoped) -> bool:
        """Whether a transaction for `scope` takes the role of row-level security: for one organisation.
        For every organisation the policies would admit every row; the role would only cost a round trip."""
        return self.row_security and scope.organisation_id is not None

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """On SQLite, this process's writers queue on a lock before `BEGIN IMMEDIATE`.

        SQLite admits one writer at a time anyway; a writer refused by it sleeps in the busy handler
        with a growing back-off (up to 100 ms) and may oversleep the lock's release many times over,
        while a thread waiting on this lock runs as soon as the previous writer commits. Writers in other
        processes (a `shingi worker`) are still arbitrated by SQLite itself.
        """
        if self._writer_lock is None:
            yield
            return
        acquired = self._writer_lock.acquire(timeout=WRITER_WAIT_SECONDS)
        try:
            yield  # not acquired in time: go on and let SQLite's own busy timeout decide
        finally:
            if acquired:
                self._writer_lock.release()

    def claiming(self, query: SelectT) -> SelectT:
        """`query` as a claim on the rows it selects: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so that any
        number of workers each take different rows; on SQLite the write transaction is exclusive anyway."""
        return query if self.is_sqlite else query.with_for_update(skip_locked=True)

    def read(self, statement: Executable, parameters: Mapping[str, Any] | None = None, *,
             scope: Scoped) -> list[Row]:
        """One read statement of Core tables for `scope`, without a Session (for hot paths): the statement
        names the organisation itself where it reads owned rows.

        A single statement sees one consistent snapshot by itself; on SQLite, BEGIN and ROLLBACK around it
        would only add two round trips. On PostgreSQL with row-level security, the role and organisation
        of a scope of one organisation are set for a transaction around it.
        """
        if not self._walled(scope):
            with self._autocommit_engine.connect() as connection:
                return list(connection.execute(statement, parameters or {}))
        with self.engine.connect() as connection, connection.begin():
            connection.execute(_SET_ROW_SECURITY, _row_security_settings(scope.organisation_id))
            return list(connection.execute(statement, parameters or {}))

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def migration_connection(self) -> Connection:
        """A connection for the schema migrations (on SQLite, the writer's engine: DDL writes)."""
        return self._write_engine.connect()

    def dispose(self) -> None:
        self.engine.dispose()


#: The role the row-level security policies bind, and the settings they read (migration 0009).
ROW_SECURITY_ROLE = "shingi_app"
_ROW_SECURITY = "shingi_row_security"
_SET_ROW_SECURITY = text(
    "SELECT set_config('role', :role, true), set_config('shingi.organisation', :organisation, true), "
    "set_config('shingi.every_organisation', :every, true)")


def _row_security_settings(organisation_id: int | None) -> dict[str, str]:
    return {"role": ROW_SECURITY_ROLE, "organisation": "" if organisation_id is None else str(organisation_id),
            "every": "on" if organisation_id is None else "off"}


@event.listens_for(Session, "after_begin")
def _enter_row_security(session: Session, _transaction: Any, connection: Connection) -> None:
    settings = session.info.get(_ROW_SECURITY)
    if settings is not None:
        connection.execute(_SET_ROW_SECURITY, settings)


#: How long a writer waits for its turn in this process before leaving it to SQLite's busy timeout.
WRITER_WAIT_SECONDS = 30.0
_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(url: str) -> threading.RLock:
    """One lock per database file and process, shared by every `Database` on that file."""
    with _writer_locks_guard:
        return _writer_locks.setdefault(url, threading.RLock())


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so that SQLAlchemy's "begin" event
    # decides how each transaction starts (the recipe in SQLAlchemy's SQLite dialect docs).
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        options = connection.get_execution_options()
        if options.get("shingi_autocommit"):
            return
        if options.get("shingi_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
