"""A request body over the limit is refused with 413 problem+json before it is read in full."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from linli_shared.body_limit import BodyLimit
from linli_shared.errors import PROBLEM_JSON, install_problem_handlers
from linli_shared.service import ServiceSpec, create_service_app
from linli_shared.settings import ServiceSettings

LIMIT = 64 * 1024
BATCH_LIMIT = 4 * LIMIT


class TagsIn(BaseModel):
    tags: list[str]


def tags_body(size: int) -> bytes:
    """A JSON body of exactly `size` bytes (size >= 13)."""
    body = b'{"tags":["' + b"x" * (size - 13) + b'"]}'
    assert len(body) == size
    return body


class Calls:
    def __init__(self) -> None:
        self.count = 0


def make_router(calls: Calls) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/tags")
    async def put_tags(data: TagsIn) -> dict[str, int]:
        calls.count += 1
        return {"tags": len(data.tags[0])}

    @router.post("/batches/{batch}", max_body_size=BATCH_LIMIT)
    async def post_batch(batch: int, data: TagsIn) -> dict[str, int]:
        calls.count += 1
        return {"tags": len(data.tags[0])}

    return router


def make_app(calls: Calls) -> FastAPI:
    app = FastAPI()
    router = make_router(calls)
    app.add_middleware(BodyLimit, max_bytes=LIMIT, routes=router.routes)
    install_problem_handlers(app)
    app.include_router(router)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Content-Type": "application/json"},
    )


class Streamed:
    """A body sent in chunks without a Content-Length, counting what the server took of it."""

    def __init__(self, body: bytes, chunk: int = 4096) -> None:
        self.body, self.chunk, self.taken = body, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), self.chunk):
            piece = self.body[start : start + self.chunk]
            self.taken += len(piece)
            yield piece


def assert_refused(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 413 and problem["max_bytes"] == limit
    assert f"最多接受 {limit} 字节" in problem["detail"]  # a person is told in Chinese by default


async def test_a_body_declared_over_the_limit_is_refused_before_the_app_runs() -> None:
    calls = Calls()
    body = Streamed(tags_body(LIMIT + 1))
    async with client(make_app(calls)) as http:
        response = await http.post("/v1/tags", content=body, headers={"Content-Length": str(LIMIT + 1)})
    assert_refused(response, LIMIT)
    assert calls.count == 0
    assert body.taken == 0, "not a byte of the body is read"


async def test_a_streamed_body_over_the_limit_is_cut_off_at_the_limit() -> None:
    calls = Calls()
    body = Streamed(tags_body(50 * LIMIT))
    async with client(make_app(calls)) as http:
        response = await http.post("/v1/tags", content=body)
    assert_refused(response, LIMIT)
    assert calls.count == 0
    assert body.taken <= LIMIT + body.chunk, f"the server took {body.taken} bytes of a body over {LIMIT}"


async def test_a_body_at_the_limit_is_taken_with_or_without_a_length() -> None:
    calls = Calls()
    async with client(make_app(calls)) as http:
        declared = await http.post("/v1/tags", content=tags_body(LIMIT))
        streamed = await http.post("/v1/tags", content=Streamed(tags_body(LIMIT)))
    assert declared.status_code == streamed.status_code == 200
    assert declared.json() == streamed.json() == {"tags": LIMIT - 13}
    assert calls.count == 2


async def test_a_route_that_declares_a_larger_limit_takes_up_to_it_and_no_more() -> None:
    calls = Calls()
    async with client(make_app(calls)) as http:
        taken = await http.post("/v1/batches/1", content=tags_body(BATCH_LIMIT))
        streamed = await http.post("/v1/batches/2", content=Streamed(tags_body(BATCH_LIMIT)))
        declared_over = await http.post("/v1/batches/3", content=tags_body(BATCH_LIMIT + 1))
        streamed_over = await http.post("/v1/batches/4", content=Streamed(tags_body(2 * BATCH_LIMIT)))
        other_route = await http.post("/v1/tags", content=tags_body(LIMIT + 1))
    assert taken.status_code == streamed.status_code == 200
    assert_refused(declared_over, BATCH_LIMIT)
    assert_refused(streamed_over, BATCH_LIMIT)
    assert_refused(other_route, LIMIT)
    assert calls.count == 2


async def test_requests_without_a_body_are_untouched() -> None:
    app = make_app(Calls())

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    async with client(app) as http:
        response = await http.get("/ping")
    assert response.status_code == 200 and response.json() == {"pong": True}


async def test_every_service_app_refuses_a_body_over_the_setting() -> None:
    settings = ServiceSettings(
        database_url="sqlite+aiosqlite://", http_port=8000, jwt_secret="x" * 32, max_body_bytes=2048
    )
    default = ServiceSettings(database_url="sqlite+aiosqlite://", http_port=8000, jwt_secret="x" * 32)
    assert default.max_body_bytes == 1_048_576
    calls = Calls()
    app = create_service_app(ServiceSpec("bodies", "Bodies", settings, Path("."), [make_router(calls)]))
    async with client(app) as http:  # refused before routing: no lifespan, no database needed
        refused = await http.post("/v1/tags", content=json.dumps({"tags": ["x" * 4096]}))
        batch_refused = await http.post("/v1/batches/1", content=tags_body(BATCH_LIMIT + 1))
    assert_refused(refused, 2048)
    assert_refused(batch_refused, BATCH_LIMIT)
    assert refused.headers["x-correlation-id"], "a refusal is still correlated"
    assert calls.count == 0


async def test_the_refusal_is_in_english_where_the_caller_prefers_it() -> None:
    calls = Calls()
    async with client(make_app(calls)) as http:
        response = await http.post(
            "/v1/tags", content=tags_body(LIMIT + 1), headers={"Accept-Language": "en-GB,en;q=0.9"}
        )
    assert response.status_code == 413 and calls.count == 0
    assert f"larger than {LIMIT} bytes" in response.json()["detail"]
