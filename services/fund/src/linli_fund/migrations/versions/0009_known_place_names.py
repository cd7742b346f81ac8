"""known place names: districts' and communities' names, from the registry's place.named

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:15:00.000000

One row a district (community '') and one a community, so a published report carries
高桥营街道 · 东李庄社区 rather than the codes. Reports published before keep their codes: they are
hash-chained and never rewritten.
"""

from collections.abc import Sequence

from alembic import op

from linli_shared.migrations import create_known_place_table

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_known_place_table("fund_known_place")


def downgrade() -> None:
    op.drop_table("fund_known_place")
