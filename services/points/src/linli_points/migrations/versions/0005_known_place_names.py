"""known place names: districts' and communities' names, from the registry's place.named

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 11:15:00.000000

One row a district (community '') and one a community, so a certificate says 东李庄社区 rather
than the community's code.
"""

from collections.abc import Sequence

from alembic import op

from linli_shared.migrations import create_known_place_table

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_known_place_table("known_place")


def downgrade() -> None:
    op.drop_table("known_place")
