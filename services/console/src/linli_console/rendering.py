"""Jinja2 pages in Chinese, with people's words for times and codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from linli_console import navigation, words
from linli_console.day import Urgency
from linli_shared.clock import utc_now

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["full_when"] = words.full_when
TEMPLATES.env.filters["span"] = words.span
TEMPLATES.env.globals["KIND_NAMES"] = words.KIND_NAMES
TEMPLATES.env.globals["RUNG_NAMES"] = words.RUNG_NAMES
TEMPLATES.env.globals["Urgency"] = Urgency
TEMPLATES.env.globals["menu"] = navigation.menu


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """The page; `when` in it writes a time relative to now (今天 14:05)."""
    now = utc_now()
    values: dict[str, Any] = {
        "now": now,
        "when": lambda moment: words.when(moment, now),
        "person": getattr(request.state, "person", None),
        **(context or {}),
    }
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
