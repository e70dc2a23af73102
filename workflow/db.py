"""The one module that owns the database: engines, transactions, migrations.

SQLite is the embedded default (WAL, `BEGIN IMMEDIATE` for writes so that a writer waits for the
lock instead of failing with SQLITE_BUSY); PostgreSQL serves several instances sharing the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the plain `postgresql://` form and use the psycopg 3 driver for it."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Database:
    """Engines and transactions for one database URL."""

    def __init__(self, url: str, *, pool_size: int = 10):
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url, connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size, max_overflow=20,
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)
        # Same pool; on SQLite its transactions begin with BEGIN IMMEDIATE (see _configure_sqlite).
        self._write_engine = self.engine.execution_options(shingi_write=True)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; nothing it changes is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back whole on any error."""
        with Session(self._write_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def upgrade(self) -> None:
        """Apply the Alembic migrations up to head (called on start)."""
        from alembic import command

        with self._write_engine.connect() as connection:
            config = alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


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
        if connection.get_execution_options().get("shingi_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
