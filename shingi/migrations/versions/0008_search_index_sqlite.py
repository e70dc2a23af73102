"""full-text indexes for the search of the record (SQLite: FTS5 trigram)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:40:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: (index, table, columns): FTS5 tables over the texts workflow/search.py matches anywhere in them, kept
#: by triggers (external content: the text itself stays in its table). The trigram tokenizer finds any
#: three characters or more; shorter queries read the rows. PostgreSQL has its trigram indexes (0007).
INDEXES = (
    ("fts_assessment_title", "assessment", ("title",)),
    ("fts_finding", "finding", ("text", "answer")),
)


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for index, table, columns in INDEXES:
        listed = ", ".join(columns)
        new = ", ".join(f"new.{column}" for column in columns)
        old = ", ".join(f"old.{column}" for column in columns)
        op.execute(f"CREATE VIRTUAL TABLE {index} USING fts5({listed}, content='{table}', content_rowid='id', "
                   "tokenize='trigram')")
        op.execute(f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO {index}(rowid, {listed}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN "
                   f"INSERT INTO {index}({index}, rowid, {listed}) VALUES ('delete', old.id, {old}); END")
        op.execute(f"CREATE TRIGGER {index}_update AFTER UPDATE OF {listed} ON {table} BEGIN "
                   f"INSERT INTO {index}({index}, rowid, {listed}) VALUES ('delete', old.id, {old}); "
                   f"INSERT INTO {index}(rowid, {listed}) VALUES (new.id, {new}); END")
        op.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for index, _table, _columns in INDEXES:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {index}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {index}")
