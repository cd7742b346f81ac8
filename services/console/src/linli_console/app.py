"""The console process: pages, one shared HTTP client, cookies renewed after each page, CSRF checked
before each form, and a page that says what to do when a service is down."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from linli_console import (
    pages_admin,
    pages_care,
    pages_care_groups,
    pages_certificates,
    pages_fund,
    pages_fund_questions,
    pages_households,
    pages_points,
    pages_points_keeper,
    pages_points_wishes,
    pages_register,
    pages_register_import,
    pages_residents,
    pages_sign_in,
    pages_statistics,
    pages_wish_review,
)
from linli_console.rendering import render
from linli_console.services import Refusal, ServiceDown, Services, SignInNeeded, new_client
from linli_console.session import Renewals, clear_session_cookies, set_session_cookies
from linli_console.settings import ConsoleSettings, get_settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def same_origin(request: Request, settings: ConsoleSettings) -> bool:
    """A form counts only if the browser says it was sent from a page of ours (Origin, else Referer).

    The host is compared, not the scheme: behind a TLS-terminating proxy the console sees http."""
    sent_from = request.headers.get("origin") or request.headers.get("referer")
    if not sent_from or sent_from == "null":
        return False
    if sent_from.rstrip("/") in {o.rstrip("/") for o in settings.allowed_origins}:
        return True
    origin = urlsplit(sent_from)
    return bool(origin.netloc) and origin.netloc == request.headers.get("host")


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with new_client(settings) as client:
            app.state.services = Services(settings, client)
            yield

    app = FastAPI(title="Linli console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.renewals = Renewals()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages_sign_in.router)
    app.include_router(pages_care.router)
    app.include_router(pages_residents.router)
    app.include_router(pages_households.router)
    app.include_router(pages_fund.router)
    app.include_router(pages_fund_questions.router)
    app.include_router(pages_points.router)
    app.include_router(pages_points_keeper.router)
    app.include_router(pages_points_wishes.router)
    app.include_router(pages_statistics.router)
    app.include_router(pages_register.router)
    app.include_router(pages_register_import.router)
    app.include_router(pages_care_groups.router)
    app.include_router(pages_certificates.router)
    app.include_router(pages_wish_review.router)
    app.include_router(pages_admin.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.middleware("http")
    async def guard_and_renew(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        if request.method in UNSAFE_METHODS and not same_origin(request, settings):
            response: Response = render(
                request,
                "trouble.html",
                {
                    "heading": "这个操作没有完成",
                    "advice": "表单不是从工作台页面提交的。请回到工作台，重新打开页面后再操作。",
                },
                status_code=403,
            )
        else:
            response = await call_next(request)
        renewed = getattr(request.state, "renewed", None)
        if renewed is not None and not getattr(request.state, "signed_out", False):
            set_session_cookies(response, settings, renewed)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    @app.exception_handler(SignInNeeded)
    async def sign_in_again(request: Request, _error: SignInNeeded) -> Response:
        target = "/sign-in"
        if request.method == "GET" and request.url.path not in ("/", "/sign-in"):
            target += "?next=" + quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
        response = RedirectResponse(target, status_code=303)
        clear_session_cookies(response, settings)
        request.state.signed_out = True
        return response

    @app.exception_handler(ServiceDown)
    async def service_down(request: Request, error: ServiceDown) -> Response:
        return render(
            request,
            "trouble.html",
            {
                "heading": f"“{error.name_zh}”服务暂时连不上",
                "advice": "您填写的内容还没有保存。请稍等一两分钟后刷新页面再试；如果一直这样，"
                "请电话告诉社区工作者。紧急情况请直接打电话处理，不要等系统。",
            },
            status_code=503,
        )

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Response:
        """Our own fault: logged with its traceback, and the person told what to do."""
        log.exception("page %s failed", request.url.path, exc_info=error)
        return render(
            request,
            "trouble.html",
            {
                "heading": "页面出错了",
                "advice": "这是工作台自身的问题，您填写的内容可能没有保存。请回到首页再试一次；"
                "如果一直这样，请告诉社区工作者。紧急情况请直接打电话处理。",
            },
            status_code=500,
        )

    @app.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> Response:
        return render(
            request,
            "trouble.html",
            {"heading": "不能打开这个页面", "advice": error.detail},
            status_code=error.status if 400 <= error.status < 500 else 400,
        )

    return app
