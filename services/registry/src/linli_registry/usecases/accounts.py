"""Accounts: made and changed by admins within their own scope."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.access import check_community_exists
from linli_registry.account_models import Account, RoleGrant
from linli_registry.account_rules import ACCOUNT_MANAGERS, PHONE, may_grant, normalise_phone
from linli_registry.models import District, Resident
from linli_registry.signing import hash_password, password_matches
from linli_registry.usecases.tokens import revoke_tokens
from linli_shared.auth import Caller, Role
from linli_shared.database import flush_or_conflict
from linli_shared.errors import Forbidden, Invalid, NotFound, not_found
from linli_shared.field_labels import ROLE_NAMES
from linli_shared.ids import new_id
from linli_shared.paging import Page, page_of
from linli_shared.scoping import in_scope
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_registry.api.accounts import AccountChange, AccountIn, PasswordChange


def sees_scope(caller: Caller, district: str | None, community: str | None) -> bool:
    """Whether a scope (None above district or community level) lies within the caller's."""
    if caller.role is Role.CITY_ADMIN:
        return True
    return district is not None and caller.can_see(district, community)


async def load_account(session: AsyncSession, caller: Caller, account_id: str) -> Account:
    """The account, if it lies within the caller's scope and the caller manages accounts."""
    caller.check_role(*ACCOUNT_MANAGERS)
    account = await session.get(Account, account_id)
    if account is None or not sees_scope(caller, account.district, account.community):
        raise not_found("account")
    return account


async def check_place(session: AsyncSession, district: str | None, community: str | None) -> None:
    if district is not None and await session.get(District, district) is None:
        raise NotFound(f"district {district} not found", zh=f"没有找到街道 {district}")
    if district is not None and community is not None:
        await check_community_exists(session, district, community)


async def check_resident_link(session: AsyncSession, data: AccountIn) -> None:
    """A resident's account lies in the resident's own community."""
    if data.resident_id is None:
        return
    resident = await session.get(Resident, data.resident_id)
    if resident is None or (resident.district, resident.community) != (data.district, data.community):
        raise Invalid(
            "resident_id: no such resident in the account's community", zh="账号所在的社区没有这位居民"
        )


@write(replay=load_account)
async def create_account(uow: Work, caller: Caller, data: AccountIn) -> Made[Account]:
    caller.check_role(*ACCOUNT_MANAGERS)
    if data.community is not None and data.district is None:
        raise Invalid("community: needs a district", zh="填了社区，还须填写所属街道")
    if not sees_scope(caller, data.district, data.community):
        raise not_found("community")
    await check_place(uow.session, data.district, data.community)
    await check_resident_link(uow.session, data)
    phone = normalise_phone(data.phone)
    if not PHONE.match(phone):
        raise Invalid(
            "phone: digits with an optional leading +, 5-20 of them", zh="手机号应为5到20位数字，可以 + 开头"
        )
    password_hash = await asyncio.to_thread(hash_password, data.password) if data.password else None
    account = Account(
        id=new_id(),
        phone=phone,
        display_name=data.display_name,
        password_hash=password_hash,
        resident_id=data.resident_id,
        volunteer_id=data.volunteer_id,
        district=data.district,
        community=data.community,
        created_at=uow.now,
        created_by=caller.subject,
    )
    uow.session.add(account)
    await flush_or_conflict(
        uow.session, "an account with this phone already exists", zh="这个手机号已经有账号了"
    )
    return Made(account.id, account)


async def check_manages_every_role(session: AsyncSession, caller: Caller, account: Account) -> None:
    """An admin changes only accounts whose every role they could grant: a community worker
    cannot take over a fellow worker's account by setting its password."""
    statement = select(RoleGrant).where(
        RoleGrant.account_id == account.id, col(RoleGrant.withdrawn_at).is_(None)
    )
    for grant in (await session.exec(statement)).all():
        if not may_grant(caller, Role(grant.role), grant.district, grant.community):
            raise Forbidden(
                f"the account holds a role ({grant.role}) that role {caller.role.value} may not manage",
                zh=f"这个账号有{ROLE_NAMES.get(grant.role, grant.role)}角色，"
                f"{ROLE_NAMES[caller.role.value]}不能管理它",
            )


@write(replay=load_account)
async def change_account(uow: Work, caller: Caller, account_id: str, data: AccountChange) -> Made[Account]:
    """Rename, disable or enable an account, or set a new password; disabling (or a new password)
    revokes its refresh tokens at once."""
    account = await load_account(uow.session, caller, account_id)
    await check_manages_every_role(uow.session, caller, account)
    if data.display_name is not None:
        account.display_name = data.display_name
    if data.volunteer_id is not None:
        account.volunteer_id = data.volunteer_id
    if data.password is not None:
        account.password_hash = await asyncio.to_thread(hash_password, data.password)
    if data.disabled is not None:
        account.disabled = data.disabled
    if data.disabled or data.password is not None:
        await revoke_tokens(uow.session, uow.now, account_id=account.id)
    uow.session.add(account)
    return Made(account.id, account)


async def load_own_account(session: AsyncSession, caller: Caller, account_id: str) -> Account:
    account = await session.get(Account, account_id)
    if account is None or caller.account != account.id:
        raise not_found("account")
    return account


@write(replay=load_own_account)
async def change_own_password(uow: Work, caller: Caller, data: PasswordChange) -> Made[Account]:
    """A signed-in person sets a new password, giving the present one; every other sign-in of
    theirs ends at its next refresh."""
    if caller.account is None:
        raise NotFound(
            "account not found: this token was not given at sign-in",
            zh="这次登录没有对应的账号，请用手机号登录后再改密码",
        )
    account = await load_own_account(uow.session, caller, caller.account)
    if not await asyncio.to_thread(password_matches, data.current_password, account.password_hash):
        raise Invalid("current_password: 当前密码不正确。")
    account.password_hash = await asyncio.to_thread(hash_password, data.new_password)
    await revoke_tokens(uow.session, uow.now, account_id=account.id)
    uow.session.add(account)
    return Made(account.id, account)


async def list_accounts(
    session: AsyncSession, caller: Caller, *, phone: str | None, cursor: str | None, limit: int
) -> Page[Account]:
    caller.check_role(*ACCOUNT_MANAGERS)
    statement = in_scope(select(Account), Account, caller)
    if phone is not None:
        statement = statement.where(Account.phone == normalise_phone(phone))
    return await page_of(session, statement, col(Account.id), cursor=cursor, limit=limit)
