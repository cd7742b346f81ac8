"""Cursor paging: a page of items and an opaque cursor for the next one."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from linli_shared.errors import Invalid

Item = TypeVar("Item")
Row = TypeVar("Row")

LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
CursorQuery = Annotated[str | None, Query(max_length=200, description="From the previous page.")]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = None


NOT_OUR_CURSOR = "cursor is not one this API gave out"
NOT_OUR_CURSOR_ZH = "翻页参数 cursor 无效，请使用上一页返回的 next_cursor"


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise Invalid(NOT_OUR_CURSOR, zh=NOT_OUR_CURSOR_ZH) from error


async def page_of(
    session: AsyncSession,
    statement: SelectOfScalar[Row],
    key: Any,  # a mapped column, col(Model.id): sqlmodel types it as Mapped, SQLAlchemy as an attribute
    *,
    cursor: str | None,
    limit: int,
) -> Page[Row]:
    """One page of `statement` ordered by the unique `key`, starting after the cursor's key."""
    statement = statement.order_by(key).limit(limit + 1)
    if (after := decode_cursor(cursor)) is not None:
        statement = statement.where(key > coerce_key(key, after))
    rows = list((await session.exec(statement)).all())
    if len(rows) <= limit:
        return Page(items=rows)
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(str(getattr(rows[-1], key.key))))


def coerce_key(key: Any, raw: str) -> object:
    if key.type.python_type is int:
        if not raw.isdigit():
            raise Invalid(NOT_OUR_CURSOR, zh=NOT_OUR_CURSOR_ZH)
        return int(raw)
    return raw
