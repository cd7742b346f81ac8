"""disclosure questions: a 公示期 per community, residents' questions and the officers' answers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:40:00.000000

A published period is open for questions for a number of days set per community (7 until an
officer sets it). Questions and answers are only ever inserted: the triggers of 0005 (its function
on PostgreSQL) refuse any UPDATE or DELETE of their rows, and an answer's key is its question, so
a question is answered once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import linli_shared.clock
from linli_shared.migrations import make_append_only

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("disclosure_question", "disclosure_answer")
FUNCTION = "linli_fund_refuse_change"  # created by 0005


def text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "disclosure_setting",
        sa.Column("district", text(40), nullable=False),
        sa.Column("community", text(40), nullable=False),
        sa.Column("question_days", sa.Integer(), nullable=False),
        sa.Column("set_by", text(100), nullable=False),
        sa.Column("set_at", linli_shared.clock.UtcDateTime(), nullable=False),
        sa.CheckConstraint("question_days BETWEEN 1 AND 90", name="question_days_in_range"),
        sa.PrimaryKeyConstraint("district", "community"),
    )
    op.create_table(
        "disclosure_question",
        sa.Column("id", text(36), nullable=False),
        sa.Column("district", text(40), nullable=False),
        sa.Column("community", text(40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("line_kind", text(20), nullable=False),
        sa.Column("line_ref", text(40), nullable=False),
        sa.Column("text", text(500), nullable=False),
        sa.Column("asked_by", text(100), nullable=False),
        sa.Column("asker_account_id", text(100), nullable=False),
        sa.Column("asked_at", linli_shared.clock.UtcDateTime(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disclosure_question_district", "disclosure_question", ["district"])
    op.create_table(
        "disclosure_answer",
        sa.Column("question_id", text(36), nullable=False),
        sa.Column("district", text(40), nullable=False),
        sa.Column("community", text(40), nullable=False),
        sa.Column("text", text(1000), nullable=False),
        sa.Column("correction_entry_id", sa.Integer(), nullable=True),
        sa.Column("answered_by", text(100), nullable=False),
        sa.Column("answered_by_account_id", text(100), nullable=False),
        sa.Column("answered_at", linli_shared.clock.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["disclosure_question.id"]),
        sa.ForeignKeyConstraint(["correction_entry_id"], ["journal_entry.id"]),
        sa.PrimaryKeyConstraint("question_id"),
    )
    op.create_index("ix_disclosure_answer_district", "disclosure_answer", ["district"])
    make_append_only(*APPEND_ONLY, function=FUNCTION)


def downgrade() -> None:
    op.drop_table("disclosure_answer")  # its triggers go with it
    op.drop_table("disclosure_question")
    op.drop_table("disclosure_setting")
