"""accounts and sign-in: accounts, role grants (the audit trail), refresh tokens, attempts, codes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:00:00.000000

rolegrant is the audit trail of every grant and withdrawal: triggers refuse a DELETE (and, on
PostgreSQL, a TRUNCATE) and every UPDATE but the one that withdraws a grant still in force, which
may set only the withdrawn_* columns.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from linli_shared.clock import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_account",
        sa.Column("id", AutoString(length=36), nullable=False),
        sa.Column("phone", AutoString(length=30), nullable=False),
        sa.Column("display_name", AutoString(length=100), nullable=False),
        sa.Column("password_hash", AutoString(length=300), nullable=True),
        sa.Column("resident_id", AutoString(length=36), nullable=True),
        sa.Column("volunteer_id", AutoString(length=36), nullable=True),
        sa.Column("district", AutoString(length=40), nullable=True),
        sa.Column("community", AutoString(length=40), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone"),
    )
    op.create_index("ix_person_account_district", "person_account", ["district"], unique=False)
    op.create_table(
        "rolegrant",
        sa.Column("id", AutoString(length=36), nullable=False),
        sa.Column("account_id", AutoString(length=36), nullable=False),
        sa.Column("role", AutoString(length=30), nullable=False),
        sa.Column("district", AutoString(length=40), nullable=True),
        sa.Column("community", AutoString(length=40), nullable=True),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.Column("granted_by", AutoString(length=100), nullable=False),
        sa.Column("granted_by_role", AutoString(length=30), nullable=False),
        sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
        sa.Column("withdrawn_by", AutoString(length=100), nullable=True),
        sa.Column("withdrawn_by_role", AutoString(length=30), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["person_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_role_grant_scope", "rolegrant", ["district", "community", "id"], unique=False)
    op.create_index("ix_rolegrant_account_id", "rolegrant", ["account_id"], unique=False)
    op.create_table(
        "refreshtoken",
        sa.Column("id", AutoString(length=36), nullable=False),
        sa.Column("token_hash", AutoString(length=64), nullable=False),
        sa.Column("family_id", AutoString(length=36), nullable=False),
        sa.Column("account_id", AutoString(length=36), nullable=False),
        sa.Column("grant_id", AutoString(length=36), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("rotated_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["person_account.id"]),
        sa.ForeignKeyConstraint(["grant_id"], ["rolegrant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_refreshtoken_account_id", "refreshtoken", ["account_id"], unique=False)
    op.create_index("ix_refreshtoken_family_id", "refreshtoken", ["family_id"], unique=False)
    op.create_index("ix_refreshtoken_grant_id", "refreshtoken", ["grant_id"], unique=False)
    op.create_table(
        "signinattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", AutoString(length=30), nullable=False),
        sa.Column("address", AutoString(length=64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_attempt_phone", "signinattempt", ["phone", "at"], unique=False)
    op.create_index("ix_sign_in_attempt_address", "signinattempt", ["address", "at"], unique=False)
    op.create_table(
        "signincode",
        sa.Column("id", AutoString(length=36), nullable=False),
        sa.Column("phone", AutoString(length=30), nullable=False),
        sa.Column("code_hash", AutoString(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_code_phone", "signincode", ["phone", "created_at"], unique=False)
    keep_grant_trail()


GRANT_COLUMNS = (
    "id",
    "account_id",
    "role",
    "district",
    "community",
    "granted_at",
    "granted_by",
    "granted_by_role",
)
FUNCTION = "linli_registry_keep_grant_trail"


def keep_grant_trail() -> None:
    if op.get_bind().dialect.name == "postgresql":
        same = ", ".join(f"NEW.{c}" for c in GRANT_COLUMNS), ", ".join(f"OLD.{c}" for c in GRANT_COLUMNS)
        op.execute(
            f"""
            CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    IF OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL
                        AND ROW({same[0]}) IS NOT DISTINCT FROM ROW({same[1]}) THEN
                        RETURN NEW;
                    END IF;
                END IF;
                RAISE EXCEPTION 'rolegrant is the audit trail: % refused', TG_OP
                    USING HINT = 'Withdraw a grant once; never change or delete one.';
            END;
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER rolegrant_trail BEFORE UPDATE OR DELETE ON rolegrant "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )
        op.execute(
            f"CREATE TRIGGER rolegrant_never_truncated BEFORE TRUNCATE ON rolegrant "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in GRANT_COLUMNS)
    op.execute(
        "CREATE TRIGGER rolegrant_no_delete BEFORE DELETE ON rolegrant "
        "BEGIN SELECT RAISE(ABORT, 'rolegrant is the audit trail: DELETE refused'); END"
    )
    op.execute(
        "CREATE TRIGGER rolegrant_no_update BEFORE UPDATE ON rolegrant "
        f"WHEN OLD.withdrawn_at IS NOT NULL OR NEW.withdrawn_at IS NULL OR {changed} "
        "BEGIN SELECT RAISE(ABORT, 'rolegrant is the audit trail: UPDATE refused'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS rolegrant_never_truncated ON rolegrant")
        op.execute("DROP TRIGGER IF EXISTS rolegrant_trail ON rolegrant")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    for table in ("signincode", "signinattempt", "refreshtoken", "rolegrant", "person_account"):
        op.drop_table(table)
