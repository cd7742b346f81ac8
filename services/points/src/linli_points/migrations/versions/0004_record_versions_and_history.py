"""record versions and history: corrections of volunteers, teams, activities and items

Teams, volunteers, activities and items start at version 1; each correction raises it. A volunteer
who leaves and a dissolved team stay on record, inactive. record_change keeps each change's fields
before and after, for the worker who reads a record's history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linli_shared.clock import UtcDateTime
from linli_shared.migrations import add_version_column, create_record_change_table

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("team", "volunteer", "activity", "item")


def upgrade() -> None:
    for table in VERSIONED:
        add_version_column(table)
    op.add_column("team", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("volunteer", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("volunteer", sa.Column("left_at", UtcDateTime(), nullable=True))
    create_record_change_table()


def downgrade() -> None:
    op.drop_table("record_change")
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch_op:  # SQLite drops a column by copying the table
            batch_op.drop_column("version")
            if table in ("team", "volunteer"):
                batch_op.drop_column("active")
            if table == "volunteer":
                batch_op.drop_column("left_at")
