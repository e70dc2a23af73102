"""organisations: every row belongs to one; PostgreSQL's row-level security holds the boundary

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:30:00

The rows already there become the first organisation's (id 1, the single-organisation install). Names
that were unique in the install become unique in their organisation (offices, bodies, reminder
rules), and the audit trail becomes one chain per organisation (the first keeps the chain it had).

On PostgreSQL the service runs each transaction as the role `shingi_app` (workflow/db.py), for which
a policy on every owned table admits only the rows of the organisation the transaction names, or
every row for the service's own sweeps. The role is made here if the cluster lacks it; the user that
migrates is made a member, so that it may take the role.
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OWNED = (
    "agenda_item", "api_token", "assessment", "assessment_history", "attendance", "audit_entry", "body",
    "calendar_token", "document", "finding", "meeting", "membership", "minutes", "minutes_correction", "notice",
    "office", "opinion", "public_comment", "record_change", "reminder", "reminder_rule", "report_change",
    "report_version", "resolution", "scheduled_event", "user_account", "web_session", "withheld_part",
)
#: (table, the column that was unique in the install and becomes unique in each organisation)
UNIQUE_IN_ORGANISATION = (("office", "name"), ("body", "name"), ("reminder_rule", "key"))
ROLE = "shingi_app"
WALL = ("organisation_id = NULLIF(current_setting('shingi.organisation', true), '')::integer"
        " OR current_setting('shingi.every_organisation', true) = 'on'")


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    op.create_table(
        'organisation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('head_title', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.execute("INSERT INTO organisation (id, code, name, kind, head_title) "
               "VALUES (1, 'default', '当市', 'municipality', '市長')")
    if not sqlite:
        op.execute("SELECT setval(pg_get_serial_sequence('organisation', 'id'), 1)")
    for table in OWNED:
        if sqlite:  # SQLite adds a column with a foreign key only while foreign keys are off (shingi.migrations)
            op.execute(f"ALTER TABLE {table} ADD COLUMN organisation_id INTEGER NOT NULL DEFAULT 1 "
                       "REFERENCES organisation (id)")
        else:
            op.add_column(table, sa.Column('organisation_id', sa.Integer(), nullable=False, server_default='1'))
            op.create_foreign_key(f"fk_{table}_organisation_id_organisation", table, "organisation",
                                  ["organisation_id"], ["id"])
            op.alter_column(table, 'organisation_id', server_default=None)  # a row names its organisation
        op.create_index(f"ix_{table}_organisation_id", table, ["organisation_id"])
    for table, column in UNIQUE_IN_ORGANISATION:
        if sqlite:
            _rebuild_sqlite(table, (f"UNIQUE ({column})", f'UNIQUE ("{column}")'), f'UNIQUE (organisation_id, "{column}")')
        else:
            op.drop_constraint(f"{table}_{column}_key", table, type_="unique")
            op.create_unique_constraint(None, table, ["organisation_id", column])
    op.drop_index("ix_audit_entry_seq", table_name="audit_entry")
    op.create_index("ix_audit_entry_seq", "audit_entry", ["seq"])
    op.create_unique_constraint(None, "audit_entry", ["organisation_id", "seq"]) if not sqlite else \
        _rebuild_sqlite("audit_entry", ("PRIMARY KEY (id),",), "PRIMARY KEY (id), UNIQUE (organisation_id, seq),")
    _chain_per_organisation(sqlite)
    if sqlite:
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    else:
        _row_security()


def _rebuild_sqlite(table: str, olds: tuple[str, ...], new: str) -> None:
    """SQLite changes a table's constraints only by copying it into a new one (foreign keys off)."""
    bind = op.get_bind()
    ddl = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    indexes = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                   "AND sql IS NOT NULL", (table,)).scalars().all()
    triggers = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                    (table,)).scalars().all()
    old = next((old for old in olds if old in ddl), None)
    if old is None:
        raise RuntimeError(f"{table}: none of {olds!r} in {ddl!r}")
    columns = ", ".join(row[1] for row in bind.exec_driver_sql(f"PRAGMA table_info({table})"))
    op.execute(ddl.replace(old, new).replace(f"CREATE TABLE {table}", f"CREATE TABLE _new_{table}", 1)
               .replace(f'CREATE TABLE "{table}"', f"CREATE TABLE _new_{table}", 1))
    op.execute(f"INSERT INTO _new_{table} ({columns}) SELECT {columns} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE _new_{table} RENAME TO {table}")
    for statement in (*indexes, *triggers):
        op.execute(statement)


def _chain_per_organisation(sqlite: bool) -> None:
    """audit_head: one row per organisation; the row there (id 1) is the first organisation's chain."""
    if sqlite:
        op.execute("CREATE TABLE _new_audit_head (organisation_id INTEGER NOT NULL, last_seq INTEGER NOT NULL, "
                   "last_hash VARCHAR(64) NOT NULL, length INTEGER NOT NULL, PRIMARY KEY (organisation_id), "
                   "FOREIGN KEY(organisation_id) REFERENCES organisation (id))")
        op.execute("INSERT INTO _new_audit_head (organisation_id, last_seq, last_hash, length) "
                   "SELECT id, last_seq, last_hash, length FROM audit_head")
        op.execute("DROP TABLE audit_head")
        op.execute("ALTER TABLE _new_audit_head RENAME TO audit_head")
    else:
        op.alter_column("audit_head", "id", new_column_name="organisation_id", server_default=None)
        op.create_foreign_key("fk_audit_head_organisation_id_organisation", "audit_head", "organisation",
                              ["organisation_id"], ["id"])


def _row_security() -> None:
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
                BEGIN
                    CREATE ROLE {ROLE} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- made meanwhile by another database's migration on the same cluster
                END;
            END IF;
            IF NOT pg_has_role(current_user, '{ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {ROLE} TO %I', current_user);
            END IF;
        END
        $$""")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    # Tables and sequences later migrations make are the role's to use as well.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {ROLE}")
    for table in OWNED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY organisation_wall ON {table} TO {ROLE} USING ({WALL}) WITH CHECK ({WALL})")


def downgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    if sqlite:
        raise NotImplementedError("SQLite: restore the backup taken before the upgrade (shingi restore)")
    for table in OWNED:
        op.execute(f"DROP POLICY IF EXISTS organisation_wall ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DELETE FROM audit_head WHERE organisation_id <> 1")
    op.drop_constraint("fk_audit_head_organisation_id_organisation", "audit_head", type_="foreignkey")
    op.alter_column("audit_head", "organisation_id", new_column_name="id")
    op.drop_constraint("audit_entry_organisation_id_seq_key", "audit_entry", type_="unique")
    op.drop_index("ix_audit_entry_seq", table_name="audit_entry")
    op.create_index("ix_audit_entry_seq", "audit_entry", ["seq"], unique=True)
    for table, column in UNIQUE_IN_ORGANISATION:
        op.drop_constraint(f"{table}_organisation_id_{column}_key", table, type_="unique")
        op.create_unique_constraint(f"{table}_{column}_key", table, [column])
    for table in OWNED:
        op.drop_index(f"ix_{table}_organisation_id", table_name=table)
        op.drop_constraint(f"fk_{table}_organisation_id_organisation", table, type_="foreignkey")
        op.drop_column(table, "organisation_id")
    op.drop_table("organisation")
