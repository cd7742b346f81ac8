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

from linli_shared.migrations import create_refusal_function, drop_append_only, make_append_only


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ('journal_entry', 'posting', 'published_disclosure')
FUNCTION = 'linli_fund_refuse_change'


def upgrade() -> None:
    create_refusal_function(FUNCTION, hint="Correct the books with a new (reversing) entry.")
    make_append_only(*APPEND_ONLY, function=FUNCTION)


def downgrade() -> None:
    drop_append_only(*APPEND_ONLY, function=FUNCTION)
