"""sign-in code address: codes sent at one client address's asking are counted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "signincode",
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=""),
    )
    op.create_index("ix_sign_in_code_address", "signincode", ["address", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_code_address", table_name="signincode")
    with op.batch_alter_table("signincode") as batch_op:  # SQLite drops a column by copying the table
        batch_op.drop_column("address")
