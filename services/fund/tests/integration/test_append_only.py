"""The journal, the published reports and their questions and answers are append-only in the database
itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from linli_fund.models import DisclosureAnswer, DisclosureQuestion, PublishedDisclosure

pytestmark = [pytest.mark.integration]

EDITS = {
    "journal_entry": "UPDATE journal_entry SET narration = 'nothing happened'",
    "posting": "UPDATE posting SET amount = amount * 2",
    "published_disclosure": "UPDATE published_disclosure SET report = '{}'",
    "disclosure_question": "UPDATE disclosure_question SET text = 'never asked'",
    "disclosure_answer": "UPDATE disclosure_answer SET text = 'never answered'",
}


async def rows_of(session, table: str) -> list[tuple[object, ...]]:
    connection = await session.connection()
    return [tuple(row) for row in (await connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))).all()]


async def test_the_database_refuses_to_update_or_delete_journal_and_published_rows(
    client, community, donate
) -> None:
    await donate(community, 30_000)
    factory = client.app.state.session_factory
    async with factory() as session:  # inserting stays allowed: that is how a period is published
        session.add(
            PublishedDisclosure(
                district=community.district,
                community=community.community,
                sequence=1,
                first_day=date(2026, 1, 1),
                last_day=date(2026, 1, 31),
                report='{"x": 1}',
                sha256="0" * 64,
                published_by="officer",
                published_at=datetime.now(UTC),
            )
        )
        session.add(
            DisclosureQuestion(
                id="q1",
                district=community.district,
                community=community.community,
                sequence=1,
                line_kind="payment",
                line_ref="1",
                text="?",
                asked_by="r1",
                asker_account_id="r1",
                asked_at=datetime.now(UTC),
                closes_on=date(2026, 2, 7),
            )
        )
        await session.flush()
        session.add(
            DisclosureAnswer(
                question_id="q1",
                district=community.district,
                community=community.community,
                text="!",
                answered_by="o1",
                answered_by_account_id="o1",
                answered_at=datetime.now(UTC),
            )
        )
        await session.commit()
        before = {table: await rows_of(session, table) for table in EDITS}
    assert all(before.values())

    for table, edit in EDITS.items():
        for statement in (edit, f"DELETE FROM {table}"):
            async with factory() as session:
                with pytest.raises(DBAPIError, match=f"{table} is append-only"):
                    await (await session.connection()).execute(text(statement))
                await session.rollback()

    async with factory() as session:
        assert {table: await rows_of(session, table) for table in EDITS} == before
