"""Roles granted and withdrawn by admins within their own scope (account_rules.GRANTABLE), every
grant and withdrawal kept for the auditors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.account_models import Account, RoleGrant
from linli_registry.account_rules import GRANT_AUDITORS, grant_scope, may_grant
from linli_registry.models import Resident
from linli_registry.usecases.accounts import check_place, load_account, sees_scope
from linli_registry.usecases.tokens import revoke_tokens
from linli_shared.auth import Caller, Role
from linli_shared.errors import Conflict, Forbidden, Invalid, not_found
from linli_shared.field_labels import ROLE_NAMES
from linli_shared.ids import new_id
from linli_shared.paging import Page, page_of
from linli_shared.unit_of_work import Made, Work, write

if TYPE_CHECKING:
    from linli_registry.api.accounts import GrantIn


async def load_grant(session: AsyncSession, caller: Caller, grant_id: str) -> RoleGrant:
    """The grant, if it lies within the caller's scope and the caller may read grants."""
    caller.check_role(*GRANT_AUDITORS)
    grant = await session.get(RoleGrant, grant_id)
    if grant is None or not sees_scope(caller, grant.district, grant.community):
        raise not_found("grant")
    return grant


def check_may_grant(caller: Caller, role: Role, district: str | None, community: str | None) -> None:
    if not may_grant(caller, role, district, community):
        raise Forbidden(
            f"role {caller.role.value} may not grant or withdraw {role.value} here",
            zh=f"{ROLE_NAMES[caller.role.value]}不能在这里授予或收回{ROLE_NAMES[role.value]}角色",
        )


async def check_fits_account(
    session: AsyncSession, account: Account, role: Role, district: str | None, community: str | None
) -> None:
    """A grant lies within the account's own scope; a resident's or volunteer's needs the link."""
    if account.district is not None and district != account.district:
        raise Invalid("district: outside the account's district", zh="角色的街道须是账号所在的街道")
    if account.community is not None and community != account.community:
        raise Invalid("community: outside the account's community", zh="角色的社区须是账号所在的社区")
    if role is Role.VOLUNTEER and account.volunteer_id is None:
        raise Invalid(
            "role: a volunteer's account needs its volunteer_id",
            zh="授予志愿者角色前，账号须先关联志愿者（volunteer_id）",
        )
    if role is Role.RESIDENT:
        resident = await session.get(Resident, account.resident_id) if account.resident_id else None
        if resident is None or (resident.district, resident.community) != (district, community):
            raise Invalid(
                "role: a resident's account needs its resident_id, in this community",
                zh="授予居民角色前，账号须先关联本社区的居民（resident_id）",
            )


@write(replay=load_grant)
async def grant_role(uow: Work, caller: Caller, account_id: str, data: GrantIn) -> Made[RoleGrant]:
    account = await load_account(uow.session, caller, account_id)
    try:
        district, community = grant_scope(data.role, data.district, data.community)
    except ValueError as error:
        needs = "社区" if data.district else "街道"
        raise Invalid(str(error), zh=f"授予{ROLE_NAMES[data.role.value]}角色须指定{needs}") from error
    check_may_grant(caller, data.role, district, community)
    await check_place(uow.session, district, community)
    await check_fits_account(uow.session, account, data.role, district, community)
    held = select(RoleGrant.id).where(
        RoleGrant.account_id == account.id,
        RoleGrant.role == data.role.value,
        RoleGrant.district == district,
        RoleGrant.community == community,
        col(RoleGrant.withdrawn_at).is_(None),
    )
    if (await uow.session.exec(held)).first() is not None:
        raise Conflict("the account holds this role here already", zh="这个账号在这里已经有这个角色了")
    grant = RoleGrant(
        id=new_id(),
        account_id=account.id,
        role=data.role.value,
        district=district,
        community=community,
        granted_at=uow.now,
        granted_by=caller.subject,
        granted_by_role=caller.role.value,
    )
    uow.session.add(grant)
    return Made(grant.id, grant)


@write(replay=load_grant)
async def withdraw_grant(uow: Work, caller: Caller, grant_id: str) -> Made[RoleGrant]:
    """Withdraw a grant once (a second withdrawal answers with the first); its refresh tokens are
    revoked at once, its access tokens end within their lifetime."""
    grant = await load_grant(uow.session, caller, grant_id)
    check_may_grant(caller, Role(grant.role), grant.district, grant.community)
    await uow.session.exec(
        update(RoleGrant)
        .where(col(RoleGrant.id) == grant.id, col(RoleGrant.withdrawn_at).is_(None))
        .values(withdrawn_at=uow.now, withdrawn_by=caller.subject, withdrawn_by_role=caller.role.value)
        .execution_options(synchronize_session=False)
    )
    await revoke_tokens(uow.session, uow.now, grant_id=grant.id)
    await uow.session.refresh(grant)
    return Made(grant.id, grant)


async def list_grants(
    session: AsyncSession, caller: Caller, *, account_id: str | None, cursor: str | None, limit: int
) -> Page[RoleGrant]:
    """The trail of grants and withdrawals in the caller's scope."""
    caller.check_role(*GRANT_AUDITORS)
    statement = select(RoleGrant)
    if caller.role is not Role.CITY_ADMIN:
        statement = statement.where(RoleGrant.district == caller.district)
    if caller.community:
        statement = statement.where(RoleGrant.community == caller.community)
    if account_id is not None:
        statement = statement.where(RoleGrant.account_id == account_id)
    return await page_of(session, statement, col(RoleGrant.id), cursor=cursor, limit=limit)
