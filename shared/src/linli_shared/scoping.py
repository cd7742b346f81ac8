"""Queries narrowed to what the caller may see: every list in every service goes through here."""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import Caller, Role
from linli_shared.errors import not_found


class Filterable(Protocol):
    """A statement that can be narrowed: sqlmodel's Select and SelectOfScalar (which are siblings)."""

    def where(self, *whereclause: Any) -> Self: ...


Statement = TypeVar("Statement", bound=Filterable)
Row = TypeVar("Row")


def in_scope(statement: Statement, model: Any, caller: Caller) -> Statement:
    """Keep rows of the caller's district (all, for a city admin) and, if set, community."""
    if caller.role is not Role.CITY_ADMIN:
        statement = statement.where(col(model.district) == caller.district)
    if caller.community:
        statement = statement.where(col(model.community) == caller.community)
    return statement


async def get_visible(session: AsyncSession, model: type[Row], key: object, caller: Caller, what: str) -> Row:
    """The row with this key, if the caller may see it; a row out of their scope is "not found" too."""
    row = await session.get(model, key)
    if row is None:
        raise not_found(what)
    caller.check_sees(row.district, row.community, what)  # type: ignore[attr-defined]
    return row
