"""Request and response field types every service's API uses, declared once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

MAX_ROW_ID = 2**31 - 1
"""The largest integer id a row has: integer keys are INTEGER columns, 32-bit on PostgreSQL, so a
larger id names nothing (and would fail in the database as out of range, a 500)."""


class Strict(BaseModel):
    """A request body: unknown fields are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Code: Any = Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=40)
"""A short lowercase code that can stand in a NATS subject (district, community, grid)."""


RowIdPath = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row's number.")]
"""An integer id in a path: anything outside a row id's range is a 422, never a 500."""

RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
"""An optional integer id in a query string, in the same range."""
