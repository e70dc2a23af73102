"""The schema migrations (Alembic), applied on start or by `shingi db upgrade`.

On PostgreSQL several instances may start at once: `env.py` takes an advisory lock, so one
migrates and the others wait for it and then find nothing to do.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from workflow.db import Database

MIGRATIONS_DIR = Path(__file__).parent
#: Where Alembic records the revision a database is at (its default name).
VERSION_TABLE = "alembic_version"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database) -> None:
    """Apply the migrations up to head."""
    with database.migration_connection() as connection:
        # SQLite changes a table's constraints only by copying the table, and adds a column with a
        # foreign key, only with foreign keys off; that is set outside a transaction, before the
        # migration's own (each migration that copies checks the keys itself: PRAGMA foreign_key_check).
        driver = connection.connection.driver_connection if database.is_sqlite else None
        if driver is not None:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            config = alembic_config(database.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys=ON")


@functools.cache
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once (they do not change while the process runs)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def heads() -> frozenset[str]:
    """The revisions the scripts end at: where `upgrade` takes a database."""
    return frozenset(_scripts().get_heads())


def revisions() -> frozenset[str]:
    """Every revision of the scripts."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


def current(database: Database) -> frozenset[str]:
    """The revisions the database is at (none before its first migration). Read as a plain query: an
    Alembic migration context would log two lines on every call (/ready asks often)."""
    with database.engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return frozenset()
        return frozenset(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def head() -> str:
    """The one revision the scripts end at (a backup's manifest and the tests name it)."""
    (only,) = heads()
    return only
