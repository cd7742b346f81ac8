"""Books kept before a migration read the same after it: 0003 journals the reserves held before,
0006 hands instalments waiting under "schedule" to the commitment's maker; 0010 adds questions
beside the published periods, append-only, and goes back down leaving the periods as they were."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from linli_fund import domain, ledger
from linli_fund.app import MIGRATIONS
from linli_fund.domain import Fund
from linli_shared.database import make_engine, make_session_factory
from linli_shared.migrations import alembic_config, upgrade_to_head


def migrate(connection: Connection, database_url: str, revision: str, move=command.upgrade) -> None:
    """Move this database to `revision` on the caller's connection (upgrade unless told otherwise)."""
    config = alembic_config(MIGRATIONS, database_url)
    config.attributes["connection"] = connection
    move(config, revision)


async def test_reserves_held_before_0003_get_an_opening_reservation_entry(database_url: str) -> None:
    engine = make_engine(database_url)

    def upgrade_to_0002_and_reserve(connection: Connection) -> None:
        migrate(connection, database_url, "0002")
        old_chart = [code for code in domain.CHART if not code.startswith("equity:")]
        for code in old_chart:
            connection.execute(
                text("INSERT INTO account (district, community, code, type) VALUES ('d1', 'c1', :code, 'x')"),
                {"code": code},
            )
        connection.execute(
            text(
                "INSERT INTO guarded_balance (district, community, name, balance, reserved) VALUES "
                "('d1', 'c1', 'funds:education', 100000, 60000), ('d1', 'c1', 'funds:medical', 500, 0)"
            )
        )

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_0002_and_reserve)
        await upgrade_to_head(engine, MIGRATIONS)
        async with make_session_factory(engine)() as session:
            balances = await ledger.account_balances(session, "d1", "c1")
        assert balances[domain.reserved_account(Fund.EDUCATION)] == -60_000
        assert balances[domain.unreserved_account(Fund.EDUCATION)] == 60_000
        assert balances[domain.reserved_account(Fund.MEDICAL)] == 0
        assert sum(balances.values()) == 0
    finally:
        await engine.dispose()


async def test_instalments_waiting_under_schedule_are_handed_to_the_commitments_maker(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    made_at = datetime(2026, 9, 1, 4, 0)  # naive: the column holds UTC

    def upgrade_to_0005_and_request(connection: Connection) -> None:
        migrate(connection, database_url, "0005")
        connection.execute(
            text(
                "INSERT INTO commitment (id, district, community, resident_id, purpose, fund, total_fen,"
                " remaining_fen, until, reason, status, made_by, made_at) VALUES ('c1', 'd1', 'c1', 'r1',"
                " 'education', 'education', 20000, 20000, :until, 'fees', 'active', 'officer-a', :at)"
            ),
            {"until": date(2030, 8, 31), "at": made_at},
        )
        for number, status in ((1, "paid"), (2, "requested")):
            connection.execute(
                text(
                    "INSERT INTO disbursement (id, district, community, resident_id, purpose, fund,"
                    " amount_fen, reason, status, approvals_needed, requested_by, requested_at,"
                    " rejection_reason, version, commitment_id, instalment_number) VALUES (:id, 'd1', 'c1',"
                    " 'r1', 'education', 'education', 10000, 'term', :status, 1, 'schedule', :at, '', 0,"
                    " 'c1', :number)"
                ),
                {"id": f"i{number}", "status": status, "at": made_at, "number": number},
            )

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_0005_and_request)
        await upgrade_to_head(engine, MIGRATIONS)
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, requested_by FROM disbursement ORDER BY id"))
            assert [tuple(row) for row in rows] == [("i1", "schedule"), ("i2", "officer-a")]
    finally:
        await engine.dispose()


async def test_0010_adds_questions_beside_published_periods_and_keeps_them_append_only(
    database_url: str,
) -> None:
    engine = make_engine(database_url)

    def upgrade_to_0009_and_publish(connection: Connection) -> None:
        migrate(connection, database_url, "0009")
        connection.execute(
            text(
                "INSERT INTO published_disclosure (district, community, sequence, first_day, last_day,"
                " report, sha256, published_by, published_at)"
                " VALUES ('d1', 'c1', 1, :first, :last, '{}', :sha256, 'officer', :at)"
            ),
            {
                "first": date(2026, 11, 1),
                "last": date(2026, 11, 30),
                "sha256": "a" * 64,
                "at": datetime(2026, 12, 1),
            },
        )

    def downgrade_to_0009(connection: Connection) -> None:
        migrate(connection, database_url, "0009", command.downgrade)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_0009_and_publish)
        await upgrade_to_head(engine, MIGRATIONS)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO disclosure_question (id, district, community, sequence, line_kind,"
                    " line_ref, text, asked_by, asker_account_id, asked_at, closes_on)"
                    " VALUES ('q1', 'd1', 'c1', 1, 'donation', '2026-000001', '?', 'r1', 'r1', :at, :closes)"
                ),
                {"at": datetime(2026, 12, 2), "closes": date(2026, 12, 8)},
            )
        for statement in (
            "UPDATE disclosure_question SET text = 'nothing'",
            "DELETE FROM disclosure_question",
        ):
            with pytest.raises(DBAPIError, match="disclosure_question is append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
        async with engine.begin() as connection:
            await connection.run_sync(downgrade_to_0009)
            kept = await connection.execute(text("SELECT sequence, sha256 FROM published_disclosure"))
            assert [tuple(row) for row in kept] == [(1, "a" * 64)]
    finally:
        await engine.dispose()
