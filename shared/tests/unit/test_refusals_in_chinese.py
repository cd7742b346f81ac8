"""The shared helpers' refusals over HTTP: Chinese by default, the English detail on Accept-Language: en."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Any, cast

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_shared.auth import CallerDep, Role
from linli_shared.database import flush_or_conflict
from linli_shared.errors import install_problem_handlers
from linli_shared.idempotency import IdempotentRequest, idempotent_request
from linli_shared.paging import decode_cursor
from linli_shared.scoping import get_visible
from linli_shared.testing.fakes import FakeSession, FakeUnitOfWork
from linli_shared.testing.http import TEST_JWT_SECRET, bearer

ENGLISH = {"Accept-Language": "en"}
WORKER = bearer(Role.COMMUNITY_WORKER, "d1", "c1", subject="w1")


@dataclass
class Volunteer:
    id: str
    district: str
    community: str


class Taken:
    """A session whose flush meets a unique key another request took first."""

    async def flush(self) -> None:
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.settings = SimpleNamespace(jwt_secret=SecretStr(TEST_JWT_SECRET))
    install_problem_handlers(app)
    rows: dict[tuple[type, tuple[Any, ...]], Any] = {(Volunteer, ("v2",)): Volunteer("v2", "d1", "other")}
    uow = FakeUnitOfWork()

    @app.get("/v1/volunteers")
    async def volunteers(caller: CallerDep, cursor: str | None = None) -> dict[str, str | None]:
        return {"after": decode_cursor(cursor)}

    @app.get("/v1/volunteers/{volunteer_id}")
    async def volunteer(volunteer_id: str, caller: CallerDep) -> dict[str, str]:
        session = cast(AsyncSession, FakeSession(rows))
        found = await get_visible(session, Volunteer, volunteer_id, caller, "volunteer")
        return {"id": found.id}

    @app.post("/v1/effects", status_code=201)
    async def make(
        caller: CallerDep, key: Annotated[IdempotentRequest | None, Depends(idempotent_request)]
    ) -> dict[str, str | None]:
        uow.idempotency = key
        async with uow:
            made = await uow.previous()
            if made is None:
                await uow.commit("1")
        return {"id": made or "1"}

    @app.post("/v1/teams", status_code=201)
    async def team(caller: CallerDep) -> None:
        await flush_or_conflict(
            cast(AsyncSession, Taken()), "a team of this name already exists", zh="已有同名的志愿队伍"
        )

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield client


def detail(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["detail"])


async def test_a_cursor_not_given_out_by_the_api_is_refused_in_chinese(client: httpx.AsyncClient) -> None:
    chinese = await client.get("/v1/volunteers?cursor=%25%25", headers=WORKER)
    english = await client.get("/v1/volunteers?cursor=%25%25", headers={**WORKER, **ENGLISH})

    assert detail(chinese, 422) == "翻页参数 cursor 无效，请使用上一页返回的 next_cursor"
    assert detail(english, 422) == "cursor is not one this API gave out"


async def test_a_missing_record_and_one_out_of_scope_are_alike_not_found_in_chinese(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/volunteers/v1", headers=WORKER)
    elsewhere = await client.get("/v1/volunteers/v2", headers=WORKER)
    english = await client.get("/v1/volunteers/v1", headers={**WORKER, **ENGLISH})

    assert detail(missing, 404) == detail(elsewhere, 404) == "没有找到这个志愿者"
    assert detail(english, 404) == "volunteer not found"


async def test_a_blank_idempotency_key_is_refused_in_chinese(client: httpx.AsyncClient) -> None:
    blank = {**WORKER, "Idempotency-Key": " "}

    chinese = await client.post("/v1/effects", json={}, headers=blank)
    english = await client.post("/v1/effects", json={}, headers={**blank, **ENGLISH})

    assert detail(chinese, 422) == "Idempotency-Key 不能为空"
    assert detail(english, 422) == "Idempotency-Key must not be blank"


async def test_an_idempotency_key_sent_again_with_another_body_is_refused_in_chinese(
    client: httpx.AsyncClient,
) -> None:
    keyed = {**WORKER, "Idempotency-Key": "k1"}
    first = await client.post("/v1/effects", json={"name": "a"}, headers=keyed)
    assert first.status_code == 201, first.text

    chinese = await client.post("/v1/effects", json={"name": "b"}, headers=keyed)
    english = await client.post("/v1/effects", json={"name": "b"}, headers={**keyed, **ENGLISH})

    assert detail(chinese, 409) == "这个 Idempotency-Key 已用于内容不同的请求，请换一个新的"
    assert detail(english, 409) == "this Idempotency-Key was used before with a different request body"


async def test_a_unique_key_taken_first_is_a_conflict_in_the_words_the_use_case_gave(
    client: httpx.AsyncClient,
) -> None:
    chinese = await client.post("/v1/teams", headers=WORKER)
    english = await client.post("/v1/teams", headers={**WORKER, **ENGLISH})

    assert detail(chinese, 409) == "已有同名的志愿队伍"
    assert detail(english, 409) == "a team of this name already exists"
