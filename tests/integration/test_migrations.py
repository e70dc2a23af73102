"""The migrations on the test database: they make what the models describe, and upgrading is idempotent."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from shingi import migrations


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(db):
    migrations.upgrade(db)
    migrations.upgrade(db)
