"""A stand-in consumer effect for plumbing tests, the event that causes it, and how to count it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.contracts.registry import ResidentTagsChanged
from linli_shared.events import Envelope
from linli_shared.unit_of_work import Work


class AppliedEffect(SQLModel, table=True):
    """Deliberately not unique on event_id, so a double apply would show as two rows."""

    __tablename__ = "test_applied_effect"
    id: int | None = Field(default=None, primary_key=True)
    event_id: str


def tags_changed(district: str) -> Envelope:
    """An event of this district, as a producer would publish it."""
    return Envelope.wrap(
        ResidentTagsChanged(resident_id="r1", tags=["dibao"]),
        district=district,
        community="c1",
        occurred_at=datetime.now(UTC),
    )


async def record_effect(uow: Work, envelope: Envelope) -> None:
    """The consumer's handler: one effect row per apply."""
    envelope.open(ResidentTagsChanged)
    uow.session.add(AppliedEffect(event_id=envelope.event_id))


async def effects(factory: async_sessionmaker[AsyncSession], event_id: str) -> int:
    """How many times the event was applied."""
    async with factory() as session:
        statement = select(func.count()).select_from(AppliedEffect).where(AppliedEffect.event_id == event_id)
        return int((await session.exec(statement)).one())
