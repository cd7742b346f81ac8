"""the witness of published 公示 hashes, their time-stamps, and contacts who asked for announcements

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:40:00.000000

witnessed_disclosure and witness_conflict are only ever inserted into: triggers refuse any UPDATE or
DELETE of their rows (and, on PostgreSQL, a TRUNCATE), so the copy kept outside the fund's database
cannot be rewritten along with it by a statement typed here.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import linli_shared.clock
from linli_shared.migrations import create_refusal_function, make_append_only
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ('witnessed_disclosure', 'witness_conflict')
FUNCTION = 'linli_notify_refuse_change'


def text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        'witnessed_disclosure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district', text(40), nullable=False),
        sa.Column('community', text(40), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('sha256', text(64), nullable=False),
        sa.Column('previous_sha256', text(64), nullable=True),
        sa.Column('published_at', linli_shared.clock.UtcDateTime(), nullable=False),
        sa.Column('witnessed_at', linli_shared.clock.UtcDateTime(), nullable=False),
        sa.Column('source_event_id', text(64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('district', 'community', 'sequence'),
    )
    op.create_table(
        'witness_conflict',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district', text(40), nullable=False),
        sa.Column('community', text(40), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('sha256', text(64), nullable=False),
        sa.Column('witnessed_sha256', text(64), nullable=False),
        sa.Column('published_at', linli_shared.clock.UtcDateTime(), nullable=False),
        sa.Column('witnessed_at', linli_shared.clock.UtcDateTime(), nullable=False),
        sa.Column('source_event_id', text(64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('district', 'community', 'sequence', 'sha256'),
    )
    op.create_table(
        'disclosure_timestamp',
        sa.Column('witness_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.LargeBinary(), nullable=True),
        sa.Column('timestamped_at', linli_shared.clock.UtcDateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', linli_shared.clock.UtcDateTime(), nullable=False),
        sa.Column('last_error', text(1000), nullable=True),
        sa.ForeignKeyConstraint(['witness_id'], ['witnessed_disclosure.id']),
        sa.PrimaryKeyConstraint('witness_id'),
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announcements', sa.Boolean(), nullable=False, server_default=sa.false()))
    create_refusal_function(FUNCTION)
    make_append_only(*APPEND_ONLY, function=FUNCTION)


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('announcements')
    op.drop_table('disclosure_timestamp')
    op.drop_table('witness_conflict')
    op.drop_table('witnessed_disclosure')  # its triggers go with it
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DROP FUNCTION IF EXISTS {FUNCTION}()')
