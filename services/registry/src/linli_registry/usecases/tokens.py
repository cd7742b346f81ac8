"""Access and refresh tokens: issued at sign-in, rotated on refresh, revoked at sign-out.

An access token lives minutes and is checked by signature alone, anywhere; a refresh token lives
weeks, is stored only as its hash, and each use replaces it. A replaced token used again means it
was copied: its whole family is revoked at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.account_models import Account, RefreshToken, RoleGrant
from linli_registry.account_rules import message, subject_of
from linli_registry.settings import RegistrySettings
from linli_registry.signing import new_refresh_token, private_key, refresh_token_hash
from linli_shared.auth import Role, sign_token
from linli_shared.errors import Forbidden, NotFound, Unauthorized
from linli_shared.field_labels import ROLE_NAMES
from linli_shared.ids import new_id
from linli_shared.unit_of_work import UnitOfWork


class SigningOff(NotFound):
    """Sign-in (or its SMS path) is not set up on this deployment: there is nothing to call."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    grant: RoleGrant


def signing_key_of(settings: RegistrySettings, language: str) -> str:
    if settings.signing_key is None:
        raise SigningOff(message("signing_off", language))
    return settings.signing_key.get_secret_value()


def access_token(settings: RegistrySettings, account: Account, grant: RoleGrant, now: datetime) -> str:
    role = Role(grant.role)
    try:
        subject = subject_of(role, account.id, account.resident_id, account.volunteer_id)
    except ValueError as error:
        name = ROLE_NAMES[role.value]
        raise Forbidden(str(error), zh=f"这个账号还没有关联{name}，不能以{name}身份登录") from error
    return sign_token(
        private_key(signing_key_of(settings, "zh")),
        role=role,
        district=grant.district,
        community=grant.community,
        subject=subject,
        account=account.id,
        lifetime=timedelta(seconds=settings.access_token_seconds),
        now=now,
    )


def issue_tokens(
    uow: UnitOfWork,
    settings: RegistrySettings,
    account: Account,
    grant: RoleGrant,
    family_id: str | None = None,
) -> Tokens:
    """An access token and a new refresh token (in the work's transaction) for this grant."""
    text, token_hash = new_refresh_token()
    uow.session.add(
        RefreshToken(
            id=new_id(),
            token_hash=token_hash,
            family_id=family_id or new_id(),
            account_id=account.id,
            grant_id=grant.id,
            issued_at=uow.now,
            expires_at=uow.now + timedelta(days=settings.refresh_token_days),
        )
    )
    return Tokens(access_token(settings, account, grant, uow.now), text, settings.access_token_seconds, grant)


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def revoke_tokens(
    session: AsyncSession, now: datetime, *, account_id: str | None = None, grant_id: str | None = None
) -> None:
    """Revoke every live refresh token of an account or of a grant (a disabled account, a
    withdrawn grant): the next refresh fails at once; access tokens end with their lifetime."""
    statement = update(RefreshToken).where(col(RefreshToken.revoked_at).is_(None))
    if account_id is not None:
        statement = statement.where(col(RefreshToken.account_id) == account_id)
    if grant_id is not None:
        statement = statement.where(col(RefreshToken.grant_id) == grant_id)
    await session.exec(statement.values(revoked_at=now).execution_options(synchronize_session=False))


async def refresh(uow: UnitOfWork, settings: RegistrySettings, text: str, language: str) -> Tokens:
    """Replace a refresh token with a new one of its family, with a new access token."""
    signed_out = Unauthorized(message("signed_out", language))
    signing_key_of(settings, language)
    async with uow:
        statement = select(RefreshToken).where(RefreshToken.token_hash == refresh_token_hash(text))
        token = (await uow.session.exec(statement)).first()
        if token is None or token.revoked_at is not None or token.expires_at <= uow.now:
            raise signed_out
        rotated = await uow.session.exec(
            update(RefreshToken)
            .where(
                col(RefreshToken.id) == token.id,
                col(RefreshToken.rotated_at).is_(None),
                col(RefreshToken.revoked_at).is_(None),
            )
            .values(rotated_at=uow.now)
            .execution_options(synchronize_session=False)
        )
        account = await uow.session.get(Account, token.account_id)
        grant = await uow.session.get(RoleGrant, token.grant_id)
        usable = account is not None and not account.disabled and grant is not None and not grant.withdrawn_at
        if not rotated.rowcount or not usable or account is None or grant is None:
            await revoke_family(uow.session, token.family_id, uow.now)  # reused: someone copied it
            await uow.commit()
            raise signed_out
        tokens = issue_tokens(uow, settings, account, grant, token.family_id)
        await uow.commit()
        return tokens


async def sign_out(uow: UnitOfWork, text: str) -> None:
    """Revoke the refresh token's family; an unknown or already revoked token changes nothing."""
    async with uow:
        statement = select(RefreshToken).where(RefreshToken.token_hash == refresh_token_hash(text))
        token = (await uow.session.exec(statement)).first()
        if token is not None:
            await revoke_family(uow.session, token.family_id, uow.now)
            await uow.commit()
