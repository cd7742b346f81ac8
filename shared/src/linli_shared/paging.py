"""Cursor paging: a page of items and an opaque cursor for the next one."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from linli_shared.errors import Invalid

Item = TypeVar("Item")

LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
CursorQuery = Annotated[str | None, Query(max_length=200, description="From the previous page.")]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = None


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise Invalid("cursor is not one this API gave out") from error
