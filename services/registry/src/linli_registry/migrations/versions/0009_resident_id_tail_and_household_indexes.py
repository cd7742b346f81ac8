"""resident search by ID tail and by household

A worker finds a resident by the last four characters of the ID number, read from the masked
number (its characters 15-18), never the number itself: an expression index on that tail after
the district (then community, status, id, the order a page is read in) gives the few residents
with it. A household's residents are found through an index on household_id. Both are indexes
only: nothing to backfill.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_resident_id_tail ON resident "
        "(district, substr(id_number_masked, 15, 4), community, status, id)"
    )
    op.create_index("ix_resident_household", "resident", ["household_id"])


def downgrade() -> None:
    op.drop_index("ix_resident_household", table_name="resident")
    op.drop_index("ix_resident_id_tail", table_name="resident")
