"""deliberation records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:02:45.373230
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import workflow.columns


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('term', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', workflow.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('venue', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('observers', sa.Integer(), nullable=True),
    sa.Column('closed_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('cancelled_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['body.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('body_id', 'term', 'number')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_body_id'), ['body_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_status'), ['status'], unique=False)

    op.create_table('agenda_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_item_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_item_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'name')
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('passages', sa.JSON(), nullable=False),
    sa.Column('correction_deadline', sa.Date(), nullable=True),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('created_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id')
    )
    op.create_table('opinion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('supplementary', sa.JSON(), nullable=False),
    sa.Column('decided_at_meeting_id', sa.Integer(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('created_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['body_id'], ['body.id'], ),
    sa.ForeignKeyConstraint(['decided_at_meeting_id'], ['meeting.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'cycle', 'body_id')
    )
    with op.batch_alter_table('opinion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('resolution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('delegated_to', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('adopted_on', sa.Date(), nullable=True),
    sa.Column('adopted_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['body_id'], ['body.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'cycle', 'kind')
    )
    with op.batch_alter_table('resolution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolution_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('minutes_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('member', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('passage_index', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('minutes_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_correction_minutes_id'), ['minutes_id'], unique=False)

    op.create_table('report_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('public_document_id', sa.Integer(), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['public_document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'number')
    )
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_version_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('raised_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('raised_by_user_id', sa.Integer(), nullable=True),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('answered_at_meeting_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('carried_to_meeting_id', sa.Integer(), nullable=True),
    sa.Column('resolved_in_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_at_meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['carried_to_meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['raised_by_user_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['resolved_in_version_id'], ['report_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_status'), ['status'], unique=False)

    op.create_table('report_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('finding_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['report_version.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_change_version_id'), ['version_id'], unique=False)

    op.create_table('withheld_part',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['report_version.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('withheld_part', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_withheld_part_version_id'), ['version_id'], unique=False)

    op.create_table('public_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('submitter', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('no_change_reason', sa.Text(), nullable=True),
    sa.Column('created_at', workflow.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['change_id'], ['report_change.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('public_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_comment_assessment_id'), ['assessment_id'], unique=False)

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False))
        batch_op.add_column(sa.Column('consultation_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.alter_column('target_count',
               existing_type=sa.BIGINT(),
               nullable=True)
        batch_op.alter_column('handler_count',
               existing_type=sa.BIGINT(),
               nullable=True)
        batch_op.alter_column('level',
               existing_type=sa.VARCHAR(length=16),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_assessment_kind'), ['kind'], unique=False)

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_document_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_foreign_key('fk_document_meeting_id_meeting', 'meeting', ['meeting_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint('fk_document_meeting_id_meeting', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_document_meeting_id'))
        batch_op.drop_column('label')
        batch_op.drop_column('meeting_id')

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_kind'))
        batch_op.alter_column('level',
               existing_type=sa.VARCHAR(length=16),
               nullable=False)
        batch_op.alter_column('handler_count',
               existing_type=sa.BIGINT(),
               nullable=False)
        batch_op.alter_column('target_count',
               existing_type=sa.BIGINT(),
               nullable=False)
        batch_op.drop_column('consultation_type')
        batch_op.drop_column('kind')

    with op.batch_alter_table('public_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_comment_assessment_id'))

    op.drop_table('public_comment')
    with op.batch_alter_table('withheld_part', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_withheld_part_version_id'))

    op.drop_table('withheld_part')
    with op.batch_alter_table('report_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_change_version_id'))

    op.drop_table('report_change')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_status'))
        batch_op.drop_index(batch_op.f('ix_finding_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_finding_assessment_id'))

    op.drop_table('finding')
    with op.batch_alter_table('report_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_version_assessment_id'))

    op.drop_table('report_version')
    with op.batch_alter_table('minutes_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_correction_minutes_id'))

    op.drop_table('minutes_correction')
    with op.batch_alter_table('resolution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resolution_assessment_id'))

    op.drop_table('resolution')
    with op.batch_alter_table('opinion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opinion_assessment_id'))

    op.drop_table('opinion')
    op.drop_table('minutes')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_meeting_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_item_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_item_assessment_id'))

    op.drop_table('agenda_item')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_status'))
        batch_op.drop_index(batch_op.f('ix_meeting_starts_at'))
        batch_op.drop_index(batch_op.f('ix_meeting_body_id'))

    op.drop_table('meeting')
