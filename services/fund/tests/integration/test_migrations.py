"""Books kept before a migration read the same after it: 0003 journals the reserves held before,
0006 hands instalments waiting under "schedule" to the commitment's maker."""

from __future__ import annotations

from datetime import date, datetime

from alembic import command
from sqlalchemy import Connection, text

from linli_fund import domain, ledger
from linli_fund.app import MIGRATIONS
from linli_fund.domain import Fund
from linli_shared.database import make_engine, make_session_factory
from linli_shared.migrations import alembic_config, upgrade_to_head


async def test_reserves_held_before_0003_get_an_opening_reservation_entry(database_url: str) -> None:
    engine = make_engine(database_url)

    def upgrade_to_0002_and_reserve(connection: Connection) -> None:
        config = alembic_config(MIGRATIONS, database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
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
        config = alembic_config(MIGRATIONS, database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
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
