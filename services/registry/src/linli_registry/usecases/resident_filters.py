"""The resident search's filters by ID tail and by household, kept apart from the write paths.

The ID tail is read from the masked number (110105********002X → 002X), never from the number
itself: the search learns nothing the masked number does not already show. Migration 0009 indexes
the tail after the district, so a tail search reads only the residents with that tail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column
from sqlmodel import col, select

from linli_registry.models import Household, Resident
from linli_shared.auth import Caller
from linli_shared.scoping import in_scope

ID_TAIL_PATTERN = r"^[0-9]{3}[0-9Xx]$"
"""The last four characters of an ID number: digits, the check character may be X."""
HOUSEHOLD_ID_PATTERN = r"^[0-9A-Za-z-]{1,36}$"
TYPED_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]+$"
"""Text a person types: no control characters (PostgreSQL refuses NUL in text outright)."""


def id_tail_of(masked: Any) -> ColumnElement[str]:
    """substr(masked, 15, 4) with its numbers written in the SQL, so the plan matches the index."""
    return func.substr(masked, literal_column("15"), literal_column("4"))


def with_id_tail(statement: Any, tail: str) -> Any:
    return statement.where(id_tail_of(col(Resident.id_number_masked)) == tail.upper())


def with_household(statement: Any, household_id: str) -> Any:
    return statement.where(col(Resident.household_id) == household_id)


def with_address(statement: Any, caller: Caller, address: str) -> Any:
    """Residents of the caller's households whose address holds the text."""
    households = in_scope(select(Household.id), Household, caller).where(
        col(Household.address).contains(address, autoescape=True)
    )
    return statement.where(col(Resident.household_id).in_(households))
