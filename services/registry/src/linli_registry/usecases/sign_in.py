"""Sign-in by phone and password, slowed against guessing: failures are counted per phone and per
client address, and past the limit a lock-out answers 429 with when it ends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.account_models import Account, RoleGrant, SignInAttempt
from linli_registry.account_rules import lock_ends, lock_message, message, normalise_phone
from linli_registry.settings import RegistrySettings
from linli_registry.signing import password_matches
from linli_registry.usecases.tokens import Tokens, issue_tokens, signing_key_of
from linli_shared.errors import DomainError, Forbidden, Invalid, Unauthorized
from linli_shared.unit_of_work import UnitOfWork


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int, *, zh: str | None = None) -> None:
        super().__init__(detail, zh=zh)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    """Tokens for one grant, or, when the account holds several and none was chosen, its grants."""

    tokens: Tokens | None
    grants: list[RoleGrant]


@dataclass(frozen=True)
class Attempt:
    phone: str
    address: str
    language: str


async def failures_since(
    session: AsyncSession, column: object, value: str, since: datetime
) -> list[datetime]:
    statement = (
        select(SignInAttempt.at)
        .where(col(column) == value, col(SignInAttempt.at) > since, col(SignInAttempt.ok).is_(False))
        .order_by(col(SignInAttempt.at))
    )
    return list((await session.exec(statement)).all())


async def last_success(session: AsyncSession, phone: str, since: datetime) -> datetime | None:
    statement = select(func.max(SignInAttempt.at)).where(
        SignInAttempt.phone == phone, col(SignInAttempt.at) > since, col(SignInAttempt.ok).is_(True)
    )
    return (await session.exec(statement)).first()


async def check_not_locked(
    session: AsyncSession, settings: RegistrySettings, attempt: Attempt, now: datetime
) -> None:
    """429 while the phone or the address has too many recent failures (a phone's count restarts
    at its last success)."""
    window = timedelta(seconds=settings.sign_in_window_seconds)
    since = now - window
    phone_since = await last_success(session, attempt.phone, since) or since
    ends = [
        lock_ends(
            await failures_since(session, SignInAttempt.phone, attempt.phone, phone_since),
            settings.sign_in_failures_per_phone,
            window,
        ),
        lock_ends(
            await failures_since(session, SignInAttempt.address, attempt.address, since),
            settings.sign_in_failures_per_address,
            window,
        ),
    ]
    latest = max((end for end in ends if end is not None and end > now), default=None)
    if latest is not None:
        retry_after = max(1, int((latest - now).total_seconds() + 0.999))
        raise TooManyAttempts(lock_message(latest, now, attempt.language), retry_after)


async def active_grants(session: AsyncSession, account_id: str) -> list[RoleGrant]:
    statement = (
        select(RoleGrant)
        .where(RoleGrant.account_id == account_id, col(RoleGrant.withdrawn_at).is_(None))
        .order_by(col(RoleGrant.granted_at), col(RoleGrant.id))
    )
    return list((await session.exec(statement)).all())


async def account_by_phone(session: AsyncSession, phone: str) -> Account | None:
    return (await session.exec(select(Account).where(Account.phone == phone))).first()


async def signed_in(
    uow: UnitOfWork, settings: RegistrySettings, account: Account, grant_id: str | None, language: str
) -> SignedIn:
    """Tokens for the chosen grant (or the only one); the grants to choose from if there are several."""
    grants = await active_grants(uow.session, account.id)
    if not grants:
        raise Forbidden(message("no_role", language))
    if grant_id is None and len(grants) > 1:
        return SignedIn(None, grants)
    chosen = grants[0] if grant_id is None else next((g for g in grants if g.id == grant_id), None)
    if chosen is None:
        raise Invalid(message("unknown_grant", language))
    return SignedIn(issue_tokens(uow, settings, account, chosen), grants)


async def sign_in_with_password(
    uow: UnitOfWork,
    settings: RegistrySettings,
    attempt: Attempt,
    password: str,
    grant_id: str | None,
) -> SignedIn:
    """Check the lock-out, then the password (outside any transaction: hashing takes a while),
    then record the attempt and, if it succeeded, issue tokens in one transaction."""
    signing_key_of(settings, attempt.language)
    attempt = Attempt(normalise_phone(attempt.phone), attempt.address, attempt.language)
    async with uow:
        await check_not_locked(uow.session, settings, attempt, uow.now)
        account = await account_by_phone(uow.session, attempt.phone)
        if account is not None:
            uow.session.expunge(account)  # kept as read: a rollback would expire it
        await uow.rollback()  # no transaction (on SQLite: no write lock) held while hashing
        usable = account.password_hash if account is not None and not account.disabled else None
        ok = await asyncio.to_thread(password_matches, password, usable)
        uow.session.add(SignInAttempt(phone=attempt.phone, address=attempt.address, at=uow.now, ok=ok))
        if not ok or account is None:
            await uow.commit()
            raise Unauthorized(message("bad_credentials", attempt.language))
        result = await signed_in(uow, settings, account, grant_id, attempt.language)
        await uow.commit()
        return result
