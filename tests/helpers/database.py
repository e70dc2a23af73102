"""The test database: a SQLite file, or PostgreSQL when SHINGI_TEST_DATABASE_URL says so.

On PostgreSQL each test process creates its own database on the server and drops it at the end, so
parallel workers (pytest-xdist) never share tables. Every test starts with empty tables. A test that needs
another database (a restore's target) gets one from `scratch_database`.

tests/unit/conftest.py overrides these fixtures so that a unit test asking for the database fails.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import notifications.models
import workflow.models
import workflow.records
from shingi import migrations
from workflow.audit import GENESIS
from workflow.calendar import DEFAULT_CLOSURE_SETTING
from workflow.db import Database, normalise_url
from workflow.organisations import DEFAULT_ORGANISATION

POSTGRES_URL = os.environ.get("SHINGI_TEST_DATABASE_URL")

#: The modules whose models are the tables (imported before TABLES is read, so that none is missing).
MODEL_MODULES = (workflow.models, workflow.records, notifications.models)

#: Every table, children first (the audit head is reset, not emptied).
TABLES = tuple(table.name for table in reversed(SQLModel.metadata.sorted_tables)
               if table.name not in ("audit_head", "organisation"))


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"shingi: database PostgreSQL ({make_url(normalise_url(POSTGRES_URL)).render_as_string()})"
    return "shingi: database SQLite (a temporary file)"


def _server_admin_url() -> str:
    """The PostgreSQL server's URL for psycopg, to create and drop databases on it."""
    assert POSTGRES_URL
    return make_url(normalise_url(POSTGRES_URL)).set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres_database(prefix: str) -> str:
    """A new, empty database on the server (no tables); its URL."""
    assert POSTGRES_URL
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_server_admin_url(), autocommit=True) as connection:  # an unreachable server fails the run
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_server_admin_url(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'shingi-test.db'}"
        return
    url = create_postgres_database("shingi_test")
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def scratch_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """scratch_database() → the URL of another database, empty and without tables (a fresh machine's), of the
    suite's kind: a SQLite file not made yet, or a new PostgreSQL database; dropped at the end of the test."""
    made: list[str] = []

    def make() -> str:
        if not POSTGRES_URL:
            url = f"sqlite:///{tmp_path / f'scratch-{len(made)}.db'}"
        else:
            url = create_postgres_database("shingi_scratch")
        made.append(url)
        return url

    yield make
    if POSTGRES_URL:
        for url in made:
            drop_postgres_database(url)


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    migrations.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_database: Database) -> Iterator[Database]:
    yield migrated_database
    # As the tables' owner (no row-level security): every organisation's rows go but the first organisation.
    with migrated_database.migration_connection() as connection:
        if migrated_database.is_sqlite:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))
        else:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        connection.execute(text(f"DELETE FROM audit_head WHERE organisation_id <> {DEFAULT_ORGANISATION}"))
        connection.execute(text(f"DELETE FROM organisation WHERE id <> {DEFAULT_ORGANISATION}"))
        # The first organisation as the migrations make it (a test may have renamed it or moved its closure days).
        connection.execute(text("UPDATE organisation SET code = 'default', name = '当市', kind = 'municipality', "
                                "head_title = '市長', closure_days = :closure, closed_dates = '[]'"),
                           {"closure": DEFAULT_CLOSURE_SETTING})
        connection.execute(text(f"UPDATE audit_head SET last_seq = 0, length = 0, last_hash = '{GENESIS}'"))
        connection.commit()


def sqlite_file_bytes(database: Database) -> bytes:
    """The bytes of a SQLite database file and of its write-ahead log, read by another process.

    Never open the file in the test process: closing any descriptor of a file drops every POSIX lock
    the process holds on it, SQLite's shared lock included; the next process to close the database
    then believes itself its last user, checkpoints and deletes the log under this process's open
    connections, whose later writes no other process sees.
    """
    path = database.engine.url.database
    assert database.is_sqlite and path
    # cat reports a log that is not there (nothing written since the last checkpoint) and goes on.
    return subprocess.run(["cat", path, f"{path}-wal"], capture_output=True, check=False, timeout=60).stdout
