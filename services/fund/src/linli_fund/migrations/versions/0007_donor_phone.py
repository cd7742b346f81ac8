"""donor phone, to thank a donor on

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('donor_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.drop_column('donor_phone')
