"""Domain errors and their RFC 9457 problem+json responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from linli_shared.error_language import problems, summary
from linli_shared.field_labels import RECORD_NAMES
from linli_shared.language import language_of

PROBLEM_JSON = "application/problem+json"
HTTP_ZH = {
    404: "没有这个地址",
    405: "这个地址不接受这种请求方法",
    413: "提交的内容太大",
    415: "不支持这种内容类型",
}
"""The server's own refusals in Chinese, by status (their detail is Starlette's English)."""


class DomainError(Exception):
    """Base of every error a caller can cause; `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, zh: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.zh = zh
        """The detail in Chinese, where `detail` is written in English: what a person is shown unless
        they ask for English (Accept-Language)."""
        self.extra = extra
        """More members of the problem (RFC 9457 extensions), e.g. what changed since a stale version."""

    def detail_in(self, language: str) -> str:
        return self.zh if language == "zh" and self.zh else self.detail


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


def not_found(what: str) -> NotFound:
    """The 404 of a missing `what` (an English record name), the same words whether it is missing
    or out of the caller's scope, so that nobody learns what exists elsewhere."""
    return NotFound(f"{what} not found", zh=f"没有找到这个{RECORD_NAMES.get(what, what)}")


class Invalid(DomainError):
    status = 422
    title = "Invalid input"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json; bad input is 4xx, never 500."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        language = language_of(request.headers.get("accept-language"))
        return problem(error.status, error.title, error.detail_in(language), **error.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        """Bad input in the caller's language (Chinese unless Accept-Language prefers English);
        each refused value in `errors` with its `loc`, `msg` and pydantic's `type`."""
        language = language_of(request.headers.get("accept-language"))
        errors = error.errors()
        response = problem(422, "Invalid input", summary(errors, language), errors=problems(errors, language))
        response.headers["Content-Language"] = language
        response.headers["Vary"] = "Accept-Language"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """The server's own refusals (no such path, method not allowed), in the caller's language."""
        detail = str(error.detail)
        if language_of(request.headers.get("accept-language")) == "zh":
            detail = HTTP_ZH.get(error.status_code, detail)
        return problem(error.status_code, str(error.detail), detail)
