"""The schema migrations (Alembic), applied on start or by `shingi db upgrade`.

On PostgreSQL several instances may start at once: `env.py` takes an advisory lock, so one
migrates and the others wait for it and then find nothing to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from workflow.db import Database

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database) -> None:
    """Apply the migrations up to head."""
    with database.migration_connection() as connection:
        config = alembic_config(database.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def revisions() -> set[str]:
    """Every revision this version knows (a backup from a newer version names one it does not)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
