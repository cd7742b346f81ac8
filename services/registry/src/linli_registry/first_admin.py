"""The first city admin, where no token can be had yet (production sets no LINLI_JWT_SECRET):

    LINLI_FIRST_ADMIN_PASSWORD=… python -m linli_registry.first_admin 13800138000 张建国

made directly on the registry's database (LINLI_REGISTRY_DATABASE_URL, migrated first), once:
refused while any city admin grant is in force. The password is read from
LINLI_FIRST_ADMIN_PASSWORD or asked for, never taken from the command line (shell history)."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.account_models import Account, RoleGrant
from linli_registry.account_rules import PHONE, normalise_phone
from linli_registry.settings import get_settings
from linli_registry.signing import hash_password
from linli_shared.auth import Role
from linli_shared.database import make_engine, make_session_factory
from linli_shared.ids import new_id
from linli_shared.migrations import upgrade_to_head
from linli_shared.unit_of_work import UnitOfWork

BOOTSTRAP = "first-admin"


class AdminExists(Exception):
    """A city admin is in force already: further admins are granted through the API."""


async def make_first_admin(
    factory: async_sessionmaker[AsyncSession], phone: str, display_name: str, password: str
) -> Account:
    phone = normalise_phone(phone)
    if not PHONE.match(phone) or len(password) < 8:
        raise ValueError("a phone of 5-20 digits and a password of at least 8 characters are needed")
    password_hash = await asyncio.to_thread(hash_password, password)
    async with UnitOfWork(factory) as uow:
        in_force = select(RoleGrant.id).where(
            RoleGrant.role == Role.CITY_ADMIN.value, col(RoleGrant.withdrawn_at).is_(None)
        )
        if (await uow.session.exec(in_force)).first() is not None:
            raise AdminExists("a city admin exists already: grant further roles through the API")
        account = Account(
            id=new_id(),
            phone=phone,
            display_name=display_name,
            password_hash=password_hash,
            created_at=uow.now,
            created_by=BOOTSTRAP,
        )
        uow.session.add(account)
        await uow.session.flush()
        uow.session.add(
            RoleGrant(
                id=new_id(),
                account_id=account.id,
                role=Role.CITY_ADMIN.value,
                granted_at=uow.now,
                granted_by=BOOTSTRAP,
                granted_by_role=BOOTSTRAP,
            )
        )
        await uow.commit()
        return account


async def run(phone: str, display_name: str, password: str) -> Account:
    engine = make_engine(get_settings().database_url)
    try:
        await upgrade_to_head(engine, Path(__file__).parent / "migrations")
        return await make_first_admin(make_session_factory(engine), phone, display_name, password)
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    password = os.environ.get("LINLI_FIRST_ADMIN_PASSWORD") or getpass.getpass("password: ")
    try:
        account = asyncio.run(run(argv[0], argv[1], password))
    except (AdminExists, ValueError) as error:
        print(f"first_admin: {error}", file=sys.stderr)
        return 1
    print(f"city admin account {account.id} made for {account.phone}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
