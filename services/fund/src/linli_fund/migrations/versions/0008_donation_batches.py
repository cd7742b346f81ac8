"""donation batches: the donations one request recorded share its batch id

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:00:00.000000

A counted collection box or a bank statement is recorded in one request, all or none; its
Idempotency-Key remembers the batch, and a repeated key answers with the donations it made.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_donation_batch_id'), ['batch_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_donation_batch_id'))
        batch_op.drop_column('batch_id')
