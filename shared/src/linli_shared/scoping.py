"""Queries narrowed to what the caller may see: every list in every service goes through here."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import col
from sqlmodel.sql.expression import Select

from linli_shared.auth import Caller, Role

Statement = TypeVar("Statement", bound=Select[Any])


def in_scope(statement: Statement, model: Any, caller: Caller) -> Statement:
    """Keep rows of the caller's district (all, for a city admin) and, if set, community."""
    if caller.role is not Role.CITY_ADMIN:
        statement = statement.where(col(model.district) == caller.district)
    if caller.community:
        statement = statement.where(col(model.community) == caller.community)
    return statement
