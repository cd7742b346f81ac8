"""What sign-in leaves behind is kept only as long as it serves: attempts past the lock-out's
window, used or expired codes and expired refresh tokens are removed by a periodic job."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.account_models import RefreshToken, SignInAttempt, SignInCode
from linli_shared.unit_of_work import UnitOfWork

KEEP = timedelta(days=7)
"""Beyond any lock-out window, and long enough to look into a burst of failed sign-ins."""


async def forget_old_sign_in_records(
    session_factory: async_sessionmaker[AsyncSession], now: datetime, keep: timedelta = KEEP
) -> int:
    """Remove attempts, codes and refresh tokens older than `keep` past their use; safe to repeat
    and to run beside sign-ins. Returns how many rows went."""
    before = now - keep
    async with UnitOfWork(session_factory) as uow:
        removed = 0
        for statement in (
            delete(SignInAttempt).where(col(SignInAttempt.at) < before),
            delete(SignInCode).where(col(SignInCode.expires_at) < before),
            delete(RefreshToken).where(col(RefreshToken.expires_at) < before),
        ):
            result = await uow.session.exec(statement.execution_options(synchronize_session=False))
            removed += result.rowcount
        await uow.commit()
    return removed
