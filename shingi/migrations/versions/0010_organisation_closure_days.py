"""organisation closure days: each organisation keeps its own (年末年始 by default, and one-off days)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:30:00

Until now one setting (SHINGI_CLOSURE_DAYS) held the closure days of the whole install; it now only
writes those of the first organisation at start, and every organisation has its own in its row.
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as table:
        table.add_column(sa.Column("closure_days", sa.String(length=500), nullable=False,
                                   server_default="12-29..01-03"))
        table.add_column(sa.Column("closed_dates", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("organisation") as table:
        table.drop_column("closed_dates")
        table.drop_column("closure_days")
