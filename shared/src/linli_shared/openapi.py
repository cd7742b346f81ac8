"""The OpenAPI document says what the service answers: every problem as application/problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from linli_shared.errors import PROBLEM_JSON

PROBLEMS = {
    "400": "The request cannot be carried out as sent.",
    "401": "No valid bearer token.",
    "403": "The caller's role may not do this.",
    "404": "Not found, or outside the caller's district or community.",
    "409": "Conflicts with the present state, or an Idempotency-Key reused with another body.",
    "422": "Invalid input; `errors` lists each field that was refused.",
}
TOO_LARGE = "The request body is larger than this route takes (LINLI_MAX_BODY_BYTES, or the route's own)."
VERSION_REQUIRED = "No version given: send the If-Match header (the record's ETag) or `version` in the body."
UNSECURED = {"/healthz", "/readyz", "/metrics"}


class FieldProblem(BaseModel):
    loc: list[str] = Field(description="Where the refused value is, e.g. [body, amount_fen].")
    msg: str = Field(
        description="What is wrong, in the caller's language (Chinese unless it prefers English)."
    )
    type: str | None = Field(
        default=None, description="pydantic's error type, e.g. missing, string_too_long."
    )


class Problem(BaseModel):
    """An RFC 9457 problem: every 4xx and 5xx of every Linli service has this body."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(default=None, description="On 422: each refused field.")


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def describe_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's JSON validation error with problem+json and list the problems each
    operation can answer with; public pages and health checks have no 401/403."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(components["Problem"].pop("$defs", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if path in UNSECURED:
                continue
            public = "security" not in operation
            for status, description in PROBLEMS.items():
                if public and status in ("401", "403"):
                    continue
                responses[status] = problem_response(description)
            if "requestBody" in operation:
                responses["413"] = problem_response(TOO_LARGE)
            if method == "patch":  # a correction, made on the version the caller read
                responses["428"] = problem_response(VERSION_REQUIRED)
    return schema


def install_problem_openapi(app: FastAPI) -> None:
    """Make the app's /openapi.json describe problems as they are sent."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_problems(
                get_openapi(
                    title=app.title, version=app.version, description=app.description, routes=app.routes
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
