"""audit entries sealed into the chain after commit; case reminders recomputed after commit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 08:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import workflow.columns


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An entry is written unsealed by the act's transaction and given its place in the chain (seq,
    # prev_hash, hash) by the sweeper: the chain's head is no longer locked by every write.
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_entry_seq'), ['seq'], unique=True)
    # Entries chained so far were chained in id order.
    op.execute("UPDATE audit_entry SET seq = id")
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.alter_column('last_id', new_column_name='last_seq', existing_type=sa.Integer(), existing_nullable=False)
    if op.get_bind().dialect.name == 'postgresql':
        # ids were given by the application until now: the column's sequence starts after them
        op.execute("SELECT setval(pg_get_serial_sequence('audit_entry', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                   "FROM audit_entry")

    # A case's reminders are recomputed by the sweeper from the version it last saw.
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_version', sa.Integer(), nullable=True))
    op.execute("UPDATE assessment SET reminders_version = version")


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('reminders_version')
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.alter_column('last_seq', new_column_name='last_id', existing_type=sa.Integer(), existing_nullable=False)
    # Entries not sealed yet have no place in the old chain: seal them first (`shingi audit verify`).
    if op.get_bind().execute(sa.text("SELECT COUNT(*) FROM audit_entry WHERE seq IS NULL")).scalar():
        raise RuntimeError("audit entries are waiting to be sealed: run `shingi audit verify` first")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_seq'))
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.drop_column('seq')
