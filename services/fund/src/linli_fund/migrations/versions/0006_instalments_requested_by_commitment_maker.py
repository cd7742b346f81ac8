"""scheduled instalments are requested in the name of the commitment's maker

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:10:00.000000

Until now the schedule requested instalments as "schedule", which let one officer approve and pay
an instalment alone. They are now requested by whoever made the commitment, who may therefore not
approve them; instalments still waiting for approval get the same requester.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE disbursement SET requested_by = ("
            "SELECT commitment.made_by FROM commitment WHERE commitment.id = disbursement.commitment_id) "
            "WHERE requested_by = 'schedule' AND instalment_number IS NOT NULL AND status = 'requested'"
        )
    )


def downgrade() -> None:
    pass  # who asked is not worth forgetting again
