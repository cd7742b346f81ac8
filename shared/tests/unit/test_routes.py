"""Routes added flat: served as an included router would serve them, each app with its own overrides."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from linli_shared.routes import add_routes


def greeting() -> str:
    return "hello"


router = APIRouter(prefix="/v1", tags=["greetings"])


@router.get("/greeting", status_code=203)
async def greet(word: Annotated[str, Depends(greeting)]) -> dict[str, str]:
    return {"word": word}


def app_with(word: str | None) -> FastAPI:
    app = FastAPI()
    add_routes(app, router)
    if word is not None:
        app.dependency_overrides[greeting] = lambda: word
    return app


async def get_greeting(app: FastAPI) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/v1/greeting")


async def test_each_app_built_from_one_router_keeps_its_own_overrides() -> None:
    first, second, plain = app_with("bonjour"), app_with("你好"), app_with(None)
    answers = [await get_greeting(app) for app in (first, second, plain)]
    assert [a.json()["word"] for a in answers] == ["bonjour", "你好", "hello"]
    assert {a.status_code for a in answers} == {203}


def test_the_routes_sit_in_the_apps_own_table_and_its_schema_as_included() -> None:
    flat = app_with(None)
    included = FastAPI()
    included.include_router(router)
    assert [r.path for r in flat.routes if isinstance(r, APIRoute)] == ["/v1/greeting"]
    assert flat.openapi()["paths"] == included.openapi()["paths"]
