"""append-only journal and disclosures, enforced by the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00.000000

The journal (journal_entry, posting) and the published reports (published_disclosure) are only
ever inserted into: a correction is a reversing entry, a period is published once. Triggers now
refuse any UPDATE or DELETE of their rows (and, on PostgreSQL, a TRUNCATE), so neither a bug nor
a hand-typed statement can change the books silently. A later migration that must rebuild one of
these tables on SQLite (batch mode copies the table, and its triggers are lost) re-creates them.
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ('journal_entry', 'posting', 'published_disclosure')
FUNCTION = 'linli_fund_refuse_change'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            f"""
            CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING HINT = 'Correct the books with a new (reversing) entry.';
            END;
            $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} '
                f'FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()'
            )
            op.execute(
                f'CREATE TRIGGER {table}_never_truncated BEFORE TRUNCATE ON {table} '
                f'FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()'
            )
        return
    for table in APPEND_ONLY:
        for statement in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER {table}_no_{statement.lower()} BEFORE {statement} ON {table} '
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {statement} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_never_truncated ON {table}')
            op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON {table}')
        op.execute(f'DROP FUNCTION IF EXISTS {FUNCTION}()')
        return
    for table in APPEND_ONLY:
        for statement in ('update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_{statement}')
