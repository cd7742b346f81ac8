"""Plain HTML forms (application/x-www-form-urlencoded), read without a multipart parser."""

from __future__ import annotations

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
