"""Books kept before a migration read the same after it: 0003 journals the reserves held before."""

from __future__ import annotations

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
