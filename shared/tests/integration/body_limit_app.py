"""A small app served by uvicorn for test_body_limit_memory: a registry-like JSON route behind the
shared body limit, the limit read from LINLI_MAX_BODY_BYTES as every service reads it."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from linli_shared.body_limit import BodyLimit
from linli_shared.errors import install_problem_handlers
from linli_shared.settings import ServiceSettings


class TagsIn(BaseModel):
    tags: list[str]


def create_app() -> FastAPI:
    settings = ServiceSettings(database_url="sqlite+aiosqlite://", http_port=0, jwt_secret="x" * 32)
    router = APIRouter(prefix="/v1")

    @router.put("/tags")
    async def put_tags(data: TagsIn) -> dict[str, int]:
        return {"tags": len(data.tags)}

    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, routes=router.routes)
    install_problem_handlers(app)
    app.include_router(router)
    return app
