"""Plain HTML forms (application/x-www-form-urlencoded), read without a multipart parser."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from linli_console.services import Refusal

MAX_FORM_BYTES = 64 * 1024


async def form_of(request: Request) -> dict[str, str]:
    """The posted fields, the last value of each; a body too large is refused, not read."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Refusal(413, "提交的内容太多，请缩短后再试")
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of ours only, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def correction_form(
    record: Mapping[str, Any], fields: Iterable[str], form: Mapping[str, str] | None
) -> dict[str, Any]:
    """A correction form's state: the values shown, the values it was read with (so only what
    changed is sent), the version read and the request's key; after a refusal, all as sent."""
    names = list(fields)
    if form is None:
        stored = {name: str(record.get(name) or "") for name in names}
        return {
            "values": stored,
            "was": stored,
            "version": str(record.get("version") or ""),
            "key": uuid.uuid4().hex,
        }
    return {
        "values": {name: form.get(name, "") for name in names},
        "was": {name: form.get(f"was_{name}", "") for name in names},
        "version": form.get("version") or str(record.get("version") or ""),
        "key": form.get("key") or uuid.uuid4().hex,
    }
