"""The test database: a SQLite file, or PostgreSQL when SHINGI_TEST_DATABASE_URL says so.

On PostgreSQL each test process creates its own database on the server and drops it at the end, so
parallel workers (pytest-xdist) never share tables. Every test starts with empty tables.

tests/unit/conftest.py overrides these fixtures so that a unit test asking for the database fails.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

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
from workflow.db import Database, normalise_url

POSTGRES_URL = os.environ.get("SHINGI_TEST_DATABASE_URL")

#: The modules whose models are the tables (imported before TABLES is read, so that none is missing).
MODEL_MODULES = (workflow.models, workflow.records, notifications.models)

#: Every table, children first (the audit head is reset, not emptied).
TABLES = tuple(table.name for table in reversed(SQLModel.metadata.sorted_tables) if table.name != "audit_head")


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"shingi: database PostgreSQL ({make_url(normalise_url(POSTGRES_URL)).render_as_string()})"
    return "shingi: database SQLite (a temporary file)"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'shingi-test.db'}"
        return
    server = make_url(normalise_url(POSTGRES_URL))
    name = f"shingi_test_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:  # an unreachable server fails the run
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    migrations.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_database: Database) -> Iterator[Database]:
    yield migrated_database
    with migrated_database.writing() as session:
        if migrated_database.is_sqlite:
            for table in TABLES:
                session.execute(text(f"DELETE FROM {table}"))
        else:
            session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        session.execute(text(f"UPDATE audit_head SET last_seq = 0, length = 0, last_hash = '{GENESIS}'"))


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
