"""Accounts and the roles they hold, over HTTP: for admins within their scope; the grant trail
for auditors too."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from linli_registry.account_models import Account
from linli_registry.usecases import accounts, grants
from linli_shared.auth import CallerDep, Role
from linli_shared.paging import CursorQuery, LimitQuery, Page
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["accounts"])

PASSWORD_RULE = "At least 8 characters; stored only hashed (Argon2id)."
Password = Field(min_length=8, max_length=128, description=PASSWORD_RULE)
OptionalPassword = Field(default=None, min_length=8, max_length=128, description=PASSWORD_RULE)
OptionalCode = Field(default=None, pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=40)
Phone = Field(min_length=5, max_length=30, pattern=r"^\+?[0-9]+([ -][0-9]+)*$")


class AccountIn(Strict):
    phone: str = Phone
    display_name: str = Field(min_length=1, max_length=100)
    password: str | None = OptionalPassword
    resident_id: str | None = Field(default=None, max_length=36, description="The resident this person is.")
    volunteer_id: str | None = Field(default=None, max_length=36, description="Their volunteer id (points).")
    district: str | None = OptionalCode
    community: str | None = OptionalCode


class AccountChange(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    volunteer_id: str | None = Field(default=None, max_length=36)
    password: str | None = OptionalPassword
    disabled: bool | None = None


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Password


class AccountOut(BaseModel):
    id: str
    phone: str
    display_name: str
    has_password: bool
    resident_id: str | None
    volunteer_id: str | None
    district: str | None
    community: str | None
    disabled: bool
    created_at: datetime
    created_by: str


class GrantIn(Strict):
    role: Role
    district: str | None = OptionalCode
    community: str | None = OptionalCode


class GrantOut(BaseModel):
    id: str
    account_id: str
    role: Role
    district: str | None
    community: str | None
    granted_at: datetime
    granted_by: str
    granted_by_role: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawn_by_role: str | None


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        **account.model_dump(exclude={"password_hash"}), has_password=bool(account.password_hash)
    )


@router.post("/accounts", status_code=201, response_model=AccountOut)
async def create_account(data: AccountIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return account_out(await accounts.create_account(uow, caller, data))


@router.get("/accounts", response_model=Page[AccountOut])
async def list_accounts(
    session: SessionDep,
    caller: CallerDep,
    phone: Annotated[str | None, Query(max_length=30)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    page = await accounts.list_accounts(session, caller, phone=phone, cursor=cursor, limit=limit)
    return Page(items=[account_out(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/accounts/{account_id}", response_model=AccountOut)
async def read_account(account_id: str, session: SessionDep, caller: CallerDep) -> object:
    return account_out(await accounts.load_account(session, caller, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountOut)
async def change_account(
    account_id: str, data: AccountChange, uow: UnitOfWorkDep, caller: CallerDep
) -> object:
    return account_out(await accounts.change_account(uow, caller, account_id, data))


@router.post("/account/password", response_model=AccountOut)
async def change_own_password(data: PasswordChange, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    """The signed-in person's own password; their other sign-ins end at their next refresh."""
    return account_out(await accounts.change_own_password(uow, caller, data))


@router.post("/accounts/{account_id}/grants", status_code=201, response_model=GrantOut)
async def grant_role(account_id: str, data: GrantIn, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await grants.grant_role(uow, caller, account_id, data)).model_dump()


@router.delete("/grants/{grant_id}", response_model=GrantOut)
async def withdraw_grant(grant_id: str, uow: UnitOfWorkDep, caller: CallerDep) -> object:
    return (await grants.withdraw_grant(uow, caller, grant_id)).model_dump()


@router.get("/grants", response_model=Page[GrantOut])
async def list_grants(
    session: SessionDep,
    caller: CallerDep,
    account_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> object:
    """Every grant and withdrawal in the caller's scope: who granted or withdrew which role, when."""
    page = await grants.list_grants(session, caller, account_id=account_id, cursor=cursor, limit=limit)
    return Page(items=[g.model_dump() for g in page.items], next_cursor=page.next_cursor)
