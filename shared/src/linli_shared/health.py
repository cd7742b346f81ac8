"""/healthz (alive), /readyz (database and bus reachable) and /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from linli_shared.errors import problem
from linli_shared.openapi import problem_response

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


NOT_READY: dict[int | str, dict[str, object]] = {
    503: problem_response("The database or the bus does not answer; each check says which.")
}


@router.get("/readyz", response_model=None, responses=NOT_READY)
async def readyz(request: Request) -> dict[str, str] | Response:
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # readiness reports, it does not raise
        checks["database"] = f"unreachable: {type(error).__name__}"
    checks["bus"] = await request.app.state.bus.answers()
    if all(value == "ok" for value in checks.values()):
        return {"status": "ready", **checks}
    return problem(503, "Not ready", ", ".join(f"{k}: {v}" for k, v in checks.items()), **checks)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
