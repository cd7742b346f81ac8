"""Alembic, run from the service at start-up or from a service's migrations/env.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from linli_shared.database import make_engine

MIGRATION_LOCK_ID = 7_110_110  # PostgreSQL advisory lock: one replica migrates at a time


def alembic_config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_to_head(engine: AsyncEngine, script_location: Path) -> None:
    """Bring the database to the newest schema, in one transaction."""

    def upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        config = alembic_config(script_location, str(engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")  # several heads may exist while topics branch

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    given = context.config.attributes.get("connection")
    if given is not None:
        migrate(given)
        return

    async def migrate_from_url() -> None:
        engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(migrate_from_url())
