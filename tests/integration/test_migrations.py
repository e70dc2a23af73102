"""The migrations on the test database: they make what the models describe, and upgrading is idempotent."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from shingi import migrations


def _modelled(obj, name, type_, reflected, _compare_to) -> bool:
    """All but the search's indexes, which no model describes: PostgreSQL's GIN indexes of pg_trgm
    (migration 0007), SQLite's FTS5 tables and their shadow tables (0008)."""
    if not reflected:
        return True
    return not ((type_ == "index" and str(name).startswith("ix_trgm_"))
                or (type_ == "table" and str(name).startswith("fts_")))


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _modelled})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_the_search_indexes_are_those_of_the_database(db):
    from sqlalchemy import inspect

    indexes = {index["name"] for table in ("assessment", "finding") for index in inspect(db.engine).get_indexes(table)}
    expected = {"ix_trgm_assessment_title", "ix_trgm_finding_text", "ix_trgm_finding_answer"}
    assert (expected <= indexes) if not db.is_sqlite else not (expected & indexes)
    tables = set(inspect(db.engine).get_table_names())
    assert ({"fts_assessment_title", "fts_finding"} <= tables) is db.is_sqlite


def test_upgrading_twice_is_harmless(db):
    migrations.upgrade(db)
    migrations.upgrade(db)
