"""delivery status 'unreachable'; people's default channels without the community's group channel

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00.000000
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSONAL = ("resident:", "volunteer:", "donor:", "guardian:", "neighbour:")
# the defaults people's contacts were made with before; a choice of exactly these cannot be told apart
OLD_DEFAULTS = ({"inbox", "apprise", "sms"}, {"inbox", "apprise"})


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column(
            'status',
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=10),
            type_=sqlmodel.sql.sqltypes.AutoString(length=20),
            existing_nullable=False,
        )
    # People's messages no longer go to the community's group bots and mailing lists (`apprise`).
    contact = sa.table(
        'contact', sa.column('district', sa.String), sa.column('recipient', sa.String), sa.column('channels', sa.JSON)
    )
    connection = op.get_bind()
    for district, recipient, channels in connection.execute(
        sa.select(contact.c.district, contact.c.recipient, contact.c.channels)
    ).all():
        chosen = json.loads(channels) if isinstance(channels, str) else channels
        if recipient.startswith(PERSONAL) and set(chosen) in OLD_DEFAULTS:
            connection.execute(
                contact.update()
                .where(contact.c.district == district, contact.c.recipient == recipient)
                .values(channels=[channel for channel in chosen if channel != 'apprise'])
            )


def downgrade() -> None:
    delivery = sa.table('delivery', sa.column('status', sa.String))
    op.execute(delivery.update().where(delivery.c.status == 'unreachable').values(status='failed'))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column(
            'status',
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
            type_=sqlmodel.sql.sqltypes.AutoString(length=10),
            existing_nullable=False,
        )

