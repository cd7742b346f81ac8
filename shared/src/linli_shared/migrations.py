"""Alembic, run from the service at start-up or from a service's migrations/env.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.sql.sqltypes import AutoString

from linli_shared.clock import UtcDateTime
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


def create_plumbing_tables(*, idempotency: bool = True) -> None:
    """The outbox, inbox and Idempotency-Key tables every service has, for its first migration.

    One definition, so the four services' tables cannot drift apart (they match OutboxMessage,
    InboxEntry and IdempotencyRecord)."""
    if idempotency:
        create_idempotency_table()
    create_inbox_table()
    create_outbox_table()


def create_idempotency_table() -> None:
    from alembic import op  # only inside a running migration

    op.create_table(
        "idempotency_record",
        sa.Column("scope", AutoString(length=300), nullable=False),
        sa.Column("key", AutoString(length=200), nullable=False),
        sa.Column("request_hash", AutoString(length=64), nullable=False),
        sa.Column("result_id", AutoString(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )


def create_record_change_table() -> None:
    """The history of a service's versioned records (linli_shared.versions.RecordChange)."""
    from alembic import op

    op.create_table(
        "record_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", AutoString(length=20), nullable=False),
        sa.Column("record_id", AutoString(length=36), nullable=False),
        sa.Column("district", AutoString(length=40), nullable=False),
        sa.Column("community", AutoString(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", AutoString(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", AutoString(length=500), nullable=False),
        sa.Column("changed_by", AutoString(length=100), nullable=False),
        sa.Column("changed_by_role", AutoString(length=30), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_record_change_record", "record_change", ["record_type", "record_id", "version"])


def create_known_place_table(table: str) -> None:
    """A service's names of places, as the registry announces them (linli_shared.places)."""
    from alembic import op

    op.create_table(
        table,
        sa.Column("district", AutoString(length=40), nullable=False),
        sa.Column("community", AutoString(length=40), nullable=False),
        sa.Column("name", AutoString(length=100), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("district", "community"),
    )


def add_version_column(table: str) -> None:
    """A `version` for a table whose rows become linli_shared.versions.Versioned: 1 for those on record."""
    from alembic import op

    op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def create_inbox_table() -> None:
    from alembic import op

    op.create_table(
        "inbox_entry",
        sa.Column("consumer", AutoString(length=100), nullable=False),
        sa.Column("event_id", AutoString(length=64), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )


def create_outbox_table() -> None:
    from alembic import op

    op.create_table(
        "outbox_message",
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("event_id", AutoString(length=64), nullable=False),
        sa.Column("subject", AutoString(length=255), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("last_error", AutoString(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_sent_at"), ["sent_at"], unique=False)


def drop_plumbing_tables(*, idempotency: bool = True) -> None:
    """Undo create_plumbing_tables."""
    from alembic import op

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_sent_at"))
    op.drop_table("outbox_message")
    op.drop_table("inbox_entry")
    if idempotency:
        op.drop_table("idempotency_record")


def create_refusal_function(function: str, *, hint: str | None = None) -> None:
    """PostgreSQL: the trigger function `make_append_only` calls, refusing the change it is given."""
    from alembic import op  # only inside a running migration

    if op.get_bind().dialect.name != "postgresql":
        return
    using = f"\n                    USING HINT = '{hint}'" if hint else ""
    op.execute(
        f"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP{using};
            END;
            $$
            """
    )


def make_append_only(*tables: str, function: str) -> None:
    """Refuse every UPDATE and DELETE of these tables' rows, whoever sends it: triggers calling
    `function` (made by `create_refusal_function`) on PostgreSQL, which also refuse a TRUNCATE, and
    triggers that RAISE(ABORT) on SQLite."""
    from alembic import op  # only inside a running migration

    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_never_truncated BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        return
    for table in tables:
        for statement in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{statement.lower()} BEFORE {statement} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {statement} refused'); END"
            )


def drop_append_only(*tables: str, function: str | None = None) -> None:
    """Undo `make_append_only` (and, given its name, `create_refusal_function`)."""
    from alembic import op  # only inside a running migration

    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_never_truncated ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            continue
        for statement in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{statement}")
    if postgresql and function:
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
