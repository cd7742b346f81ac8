"""Contacts made before 0006 read the same after it, except people's old default channels: those lose
the community's group channel. 0007 adds the witness, append-only, and nobody asks for announcements."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from linli_notify.app import MIGRATIONS
from linli_shared.database import make_engine
from linli_shared.migrations import alembic_config, upgrade_to_head

pytestmark = [pytest.mark.integration]

BEFORE = {
    "resident:r-1": ["inbox", "apprise", "sms"],  # the old default
    "volunteer:v-1": ["inbox", "apprise"],  # the default before SMS
    "resident:r-2": ["apprise"],  # a choice somebody made
    "guardian:r-1": ["sms"],
    "grid-li": ["inbox", "apprise", "sms"],  # a worker keeps the community's channels
}
AFTER = {
    "resident:r-1": ["inbox", "sms"],
    "volunteer:v-1": ["inbox"],
    "resident:r-2": ["apprise"],
    "guardian:r-1": ["sms"],
    "grid-li": ["inbox", "apprise", "sms"],
}


async def test_0006_takes_the_group_channel_off_peoples_old_defaults_and_allows_unreachable(
    database_url: str,
) -> None:
    engine = make_engine(database_url)

    def upgrade_to_0005_with_contacts(connection: Connection) -> None:
        config = alembic_config(MIGRATIONS, database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        for recipient, channels in BEFORE.items():
            connection.execute(
                text(
                    "INSERT INTO contact (district, recipient, display_name, channels, language,"
                    " quiet_start, quiet_end, timezone, updated_at) VALUES ('d1', :recipient, 'x',"
                    " :channels, 'zh', '22:00', '07:00', 'Asia/Shanghai', '2026-03-10 04:00:00')"
                ),
                {"recipient": recipient, "channels": json.dumps(channels)},
            )

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_0005_with_contacts)
        await upgrade_to_head(engine, MIGRATIONS)
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT recipient, channels FROM contact"))).all()
            status = "unreachable"
            await connection.execute(
                text(
                    "INSERT INTO notification (district, source_event_id, event_type, recipient, template,"
                    " language, urgency, title, body, data, created_at) VALUES ('d1', 'e1', 't', 'donor:x',"
                    " 'donation_thanks', 'zh', 'normal', 't', 'b', '{}', '2026-03-10 04:00:00')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO delivery (district, notification_id, source_event_id, recipient, channel,"
                    " urgent, status, attempts, next_attempt_at, created_at) SELECT 'd1', id, 'e1',"
                    " 'donor:x', 'sms', false, :status, 0, created_at, created_at FROM notification"
                ),
                {"status": status},
            )
        channels = {
            recipient: json.loads(value) if isinstance(value, str) else value for recipient, value in rows
        }
        assert channels == AFTER
    finally:
        await engine.dispose()


async def test_0007_adds_the_witness_and_contacts_keep_not_asking_for_announcements(
    database_url: str,
) -> None:
    engine = make_engine(database_url)

    def upgrade_to_0006_with_a_contact(connection: Connection) -> None:
        config = alembic_config(MIGRATIONS, database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(
            text(
                "INSERT INTO contact (district, recipient, display_name, channels, language, quiet_start,"
                " quiet_end, timezone, updated_at) VALUES ('d1', 'donor:x', 'x', '[\"sms\"]', 'zh', '22:00',"
                " '07:00', 'Asia/Shanghai', '2026-03-10 04:00:00')"
            )
        )

    def down_to_0006_and_up_again(connection: Connection) -> None:
        config = alembic_config(MIGRATIONS, database_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        command.upgrade(config, "head")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to_0006_with_a_contact)
        await upgrade_to_head(engine, MIGRATIONS)
        async with engine.begin() as connection:
            announcements = (await connection.execute(text("SELECT announcements FROM contact"))).scalar_one()
            assert announcements in (False, 0)
            await connection.run_sync(down_to_0006_and_up_again)
            await connection.execute(
                text(
                    "INSERT INTO witnessed_disclosure (district, community, sequence, first_day, last_day,"
                    " sha256, published_at, witnessed_at, source_event_id) VALUES ('d1', 'c1', 1,"
                    " '2026-10-01', '2026-10-31', 'aa', '2026-11-01 04:00:00', '2026-11-01 04:00:01', 'e1')"
                )
            )
        async with engine.begin() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text("UPDATE witnessed_disclosure SET sha256 = 'bb'"))
    finally:
        await engine.dispose()
