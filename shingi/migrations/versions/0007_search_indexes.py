"""trigram indexes for the search of the record (PostgreSQL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:20:00
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

#: (index, table, column): the texts workflow/search.py matches anywhere in them. pg_trgm is a trusted
#: extension (PostgreSQL 13 and later): the database's owner may create it. SQLite scans instead.
INDEXES = (
    ("ix_trgm_assessment_title", "assessment", "title"),
    ("ix_trgm_finding_text", "finding", "text"),
    ("ix_trgm_finding_answer", "finding", "answer"),
)


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name, _table, _column in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
