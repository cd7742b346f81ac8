"""record versions and history: corrections checked against the version a worker saw, and kept

Residents, households and care groups start at version 1; each change raises it. record_change keeps
each change's fields before and after, for the worker who reads a record's history. A household
gets its head (户主).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from linli_shared.migrations import add_version_column, create_record_change_table

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("resident", "household", "caregroup")


def upgrade() -> None:
    for table in VERSIONED:
        add_version_column(table)
    op.add_column(
        "household", sa.Column("head_resident_id", sqlmodel.sql.sqltypes.AutoString(36), nullable=True)
    )
    create_record_change_table()


def downgrade() -> None:
    op.drop_table("record_change")
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch_op:  # SQLite drops a column by copying the table
            batch_op.drop_column("version")
            if table == "household":
                batch_op.drop_column("head_resident_id")
