"""record changes pulled after commit; one claim vocabulary; reminder rules count before or after

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import workflow.columns


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A meeting, its minutes or a finding that changed: the reminders pull it after the commit.
    op.create_table(
        'record_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('changed_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_record_change_subject', 'record_change', ['subject_type', 'subject_id'], unique=False)

    # Reminders are claimed by their delivery's transaction; the lease column was never used.
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
    # Every queue speaks of claims: claimed_by (the instance) and claimed_until.
    for table in ('notice', 'scheduled_event'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('locked_until', new_column_name='claimed_until',
                                  existing_type=sa.DateTime(timezone=True), existing_nullable=True)
            batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))

    # Who may see a case follows its state's tags (`public`); the shipped procedures' public states.
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_public', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE assessment SET is_public = (state IN ('published', 'public_comment'))")
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.alter_column('is_public', server_default=None, existing_type=sa.Boolean())

    # A rule says whether it counts before or after its moment; offsets are no longer signed.
    with op.batch_alter_table('reminder_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                      server_default='before'))
    op.execute("UPDATE reminder_rule SET counts = 'after', offset_days = -offset_days WHERE offset_days < 0")
    # A case is overdue once its target has passed: the reminder follows that moment.
    op.execute("UPDATE reminder_rule SET counts = 'after' WHERE watches = 'state_overdue'")
    with op.batch_alter_table('reminder_rule', schema=None) as batch_op:
        batch_op.alter_column('counts', server_default=None, existing_type=sqlmodel.sql.sqltypes.AutoString(length=8))


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('is_public')
    op.execute("UPDATE reminder_rule SET offset_days = -offset_days WHERE counts = 'after' AND offset_days > 0")
    with op.batch_alter_table('reminder_rule', schema=None) as batch_op:
        batch_op.drop_column('counts')
    for table in ('notice', 'scheduled_event'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claimed_by')
            batch_op.alter_column('claimed_until', new_column_name='locked_until',
                                  existing_type=sa.DateTime(timezone=True), existing_nullable=True)
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', workflow.columns.UTCDateTime(timezone=True), nullable=True))
    op.drop_index('ix_record_change_subject', table_name='record_change')
    op.drop_table('record_change')
