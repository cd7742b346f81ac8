"""The wish wall (微心愿): residents order, the branch dispatches, party members take the order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession


async def expire_claims(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Put back to open every claim not fulfilled by its deadline; return how many."""
    return 0
