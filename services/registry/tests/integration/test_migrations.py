"""Places made before the registry announced names are announced once by migration 0008."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import Connection, text

from linli_registry.app import MIGRATIONS
from linli_shared.database import make_engine
from linli_shared.migrations import alembic_config, upgrade_to_head


async def test_places_on_record_before_0008_are_announced_once_each(database_url: str) -> None:
    engine = make_engine(database_url)

    def upgrade_to_0007_with_places(connection: Connection) -> None:
        config = alembic_config(MIGRATIONS, database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        connection.execute(text("INSERT INTO district (code, name) VALUES ('gaoqiaoying', '高桥营街道')"))
        connection.execute(
            text(
                "INSERT INTO community (district, code, name) VALUES"
                " ('gaoqiaoying', 'donglizhuang', '东李庄社区'), ('gaoqiaoying', 'xilizhuang', '西李庄社区')"
            )
        )

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_0007_with_places)
        await upgrade_to_head(engine, MIGRATIONS)
        await upgrade_to_head(engine, MIGRATIONS)  # a second start migrates nothing again
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT subject, envelope FROM outbox_message"))).all()
        announced = [(subject, json.loads(envelope)["payload"]) for subject, envelope in rows]
        assert [subject.rsplit(".", 2)[-2:] for subject, _ in announced] == [["place", "named"]] * 3
        assert {(p["community"], p["community_name"], p["district_name"]) for _, p in announced} == {
            (None, None, "高桥营街道"),
            ("donglizhuang", "东李庄社区", "高桥营街道"),
            ("xilizhuang", "西李庄社区", "高桥营街道"),
        }
    finally:
        await engine.dispose()
