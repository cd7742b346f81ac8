"""The Excel register imported from the console: the template to fill in, an upload form (a plain
multipart form, read here without a parser library), and the registry's answer: rows taken, or
every refused row with its number and reason. The registry imports all rows or none, at once."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response

from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import ServiceDown, SignInNeeded, refusal_of
from linli_console.session import Desk

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_MAX_BYTES = 4 * 1024 * 1024 + 64 * 1024
"""The registry's largest workbook (4 MiB) and room for the form around it."""
IMPORT_TIMEOUT_SECONDS = 120.0
"""Ten thousand rows are checked and written in one call: longer than a page's usual wait."""
BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
DISPOSITION = re.compile(r'\b(name|filename)="([^"]*)"')


@dataclass(frozen=True)
class Upload:
    fields: dict[str, str]
    file: bytes
    file_name: str


def upload_of(content_type: str, body: bytes) -> Upload | None:
    """The fields and the one file of a multipart/form-data body; None if it is not one."""
    found = BOUNDARY.search(content_type)
    if not content_type.startswith("multipart/form-data") or not found:
        return None
    fields: dict[str, str] = {}
    file, file_name = b"", ""
    for chunk in (b"\r\n" + body).split(b"\r\n--" + found.group(1).encode()):
        if not chunk.startswith(b"\r\n"):
            continue  # the preamble, and the closing "--"
        head, _, content = chunk[2:].partition(b"\r\n\r\n")
        names = dict(DISPOSITION.findall(head.decode("utf-8", errors="replace")))
        if "filename" in names:
            file, file_name = content, names["filename"]
        elif "name" in names:
            fields[names["name"]] = content.decode("utf-8", errors="replace")
    return Upload(fields, file, file_name)


async def send_workbook(desk: Desk, path: str, content: bytes, key: str | None) -> httpx.Response:
    """The workbook as the request body, as the registry's import takes it, with the person's token."""
    await desk.person()
    headers = {"Authorization": f"Bearer {desk.access}", "Content-Type": XLSX, "Accept-Language": "zh"}
    if key:
        headers["Idempotency-Key"] = key
    url = desk.services.settings.url_of("registry") + path
    try:
        response = await desk.services.client.post(
            url, content=content, headers=headers, timeout=IMPORT_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as error:
        raise ServiceDown("registry") from error
    if response.status_code == 401:
        raise SignInNeeded
    if response.status_code >= 500:
        raise ServiceDown("registry")
    return response


def report_of(body: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "rows_read": int(body.get("rows_read") or 0),
        "rows_ok": int(body.get("rows_ok") or 0),
        "households": int(body.get("households") or 0),
        "residents": int(body.get("residents") or 0),
        "problem_count": int(body.get("problem_count") or 0),
        "problems": list(body.get("problems") or []),
        "ignored_columns": list(body.get("ignored_columns") or []),
    }


def import_page(request: Request, **values: Any) -> Response:
    status = values.pop("status", 200)
    return render(
        request,
        "register_import.html",
        {"key": uuid.uuid4().hex, "report": None, "refused": None, "error": "", **values},
        status_code=status,
    )


@router.get("/register/import")
async def import_form(request: Request) -> Response:
    await signed_in(request)
    return import_page(request)


@router.get("/register/import/template")
async def template(request: Request) -> Response:
    """The registry's empty register workbook, fetched with the person's token."""
    desk, _ = await signed_in(request)
    await desk.person()
    answer = await desk.services.send("registry", "GET", "/v1/import/template", token=desk.access)
    if answer.status_code >= 400:
        raise refusal_of(answer)
    return Response(
        answer.content,
        media_type=XLSX,
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )


@router.post("/register/import")
async def import_register(request: Request) -> Response:
    """Every row or none: a dry run lists the problems; an import refused lists them the same way."""
    desk, person = await signed_in(request)
    body = await request.body()
    if len(body) > UPLOAD_MAX_BYTES:
        return import_page(
            request, error="文件太大：一次最多导入 4 MB 的名册，请分成几份再导入。", status=413
        )
    upload = upload_of(request.headers.get("content-type", ""), body)
    if upload is None or not upload.file:
        return import_page(request, error="请先选择要导入的 Excel 文件（.xlsx）。", status=400)
    dry_run = upload.fields.get("dry_run") == "1"
    path = f"/v1/communities/{person.district}/{person.community}/import" + (
        "?dry_run=true" if dry_run else ""
    )
    response = await send_workbook(desk, path, upload.file, None if dry_run else upload.fields.get("key"))
    answer = response.json() if response.content else {}
    if response.status_code < 400:
        return import_page(request, report=report_of(answer, dry_run), file_name=upload.file_name)
    refusal = refusal_of(response)
    refused = report_of(answer, dry_run) if "problems" in answer else None
    return import_page(
        request,
        refused=refused,
        error="" if refused else refusal.detail,
        detail=refusal.detail,
        file_name=upload.file_name,
        status=refusal.status,
    )
