"""A community's register from Excel over HTTP: the template, a dry run, and the import (all or none).

The workbook is the request body itself, sent with the .xlsx content type (what `fetch(url,
{method: "POST", body: file})` sends for a file picked on a phone or a computer); a refused file
is a 422 problem+json whose `problems` list each row's problems, in Chinese, as the dry run does.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from linli_registry import register_workbook
from linli_registry.access import REGISTRY_WRITERS
from linli_registry.api.residents import id_key
from linli_registry.register_workbook import XLSX, Sheet
from linli_registry.usecases import imports
from linli_shared.auth import CallerDep
from linli_shared.clock import utc_now
from linli_shared.errors import problem
from linli_shared.openapi import problem_response
from linli_shared.service import SessionDep
from linli_shared.unit_of_work import UnitOfWorkDep

router = APIRouter(prefix="/v1", tags=["import"])

IMPORT_MAX_BYTES = 4 * 1024 * 1024
"""The largest workbook the import takes: 10,000 rows saved by Excel are about 0.6 MB."""
MAX_LISTED = 1000
"""Problems listed in one answer; `problem_count` says how many there are in all."""
ACCEPTED_TYPES = {XLSX, "application/octet-stream", ""}
"""A phone's file picker may give an .xlsx no type at all: the content decides, not the label."""
TEMPLATE_NAME = "居民登记导入模板.xlsx"
CodePath = Annotated[str, Path(pattern=r"^[a-z0-9_-]+$", max_length=40)]
WORKBOOK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The filled-in register (.xlsx) as the body; the template is GET /v1/import/template.",
        "content": {
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class ImportProblemOut(BaseModel):
    row: int = Field(description="The row's number in Excel (the header is row 1).")
    column: str = Field(description="The column's header, e.g. 身份证号.")
    message: str = Field(description="What is wrong, in Chinese.")


class ImportReportOut(BaseModel):
    district: str
    community: str
    dry_run: bool
    rows_read: int = Field(description="Data rows in the sheet (empty rows are skipped).")
    rows_ok: int = Field(description="Rows with no problem.")
    households: int = Field(description="Households written (or, in a dry run, that would be).")
    residents: int = Field(description="Residents written (or, in a dry run, that would be).")
    problem_count: int
    problems: list[ImportProblemOut] = Field(description=f"The first {MAX_LISTED} problems, by row.")
    ignored_columns: list[str] = Field(
        description="Headers the import does not know; their cells are not read."
    )


class XlsxResponse(Response):
    media_type = XLSX


@router.get(
    "/import/template",
    response_class=XlsxResponse,
    responses={
        200: {
            "description": "The empty register workbook with its notes sheet.",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def download_template(caller: CallerDep) -> Response:
    """The register workbook to fill in: Chinese headers (required ones marked *), a notes sheet."""
    caller.check_role(*REGISTRY_WRITERS)
    disposition = f"attachment; filename=\"register-template.xlsx\"; filename*=UTF-8''{quote(TEMPLATE_NAME)}"
    return XlsxResponse(register_workbook.template(), headers={"Content-Disposition": disposition})


@router.post(
    "/communities/{district}/{community}/import",
    status_code=201,
    response_model=ImportReportOut,
    max_body_size=IMPORT_MAX_BYTES,
    openapi_extra=WORKBOOK_BODY,
    responses={
        200: {
            "model": ImportReportOut,
            "description": "Dry run: what the import would write, and every problem.",
        },
        413: problem_response(f"The workbook is larger than {IMPORT_MAX_BYTES} bytes."),
        415: problem_response("The body is not an .xlsx workbook."),
    },
)
async def import_register(
    district: CodePath,
    community: CodePath,
    request: Request,
    uow: UnitOfWorkDep,
    session: SessionDep,
    caller: CallerDep,
    response: Response,
    dry_run: Annotated[bool, Query(description="Check every row and write nothing.")] = False,
) -> object:
    """Households and residents from the register workbook, every row or none. With `dry_run=true`
    the answer lists every problem (row, column, reason in Chinese) and nothing is written; without
    it, any problem is a 422 carrying the same list, and nothing is written. Each resident's
    `resident.registered` and `resident.contact_changed` are announced as for one registration.
    The same Idempotency-Key and file import once."""
    caller.check_role(*REGISTRY_WRITERS)  # before any work on the file; the use cases check again
    caller.check_sees(district, community, "community")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        return problem(
            415, "Unsupported media type", "请直接上传 .xlsx 文件作为请求体（Content-Type: " + XLSX + "）"
        )
    sheet = await imports.read_workbook(await request.body())
    key = id_key(request)
    if dry_run:
        today = utc_now().date()
        result = await imports.check_import(
            session, caller, district, community, sheet, id_key=key, today=today
        )
        response.status_code = 200
        return report(district, community, sheet, result, dry_run=True)
    try:
        result = await imports.import_register(uow, caller, district, community, sheet, id_key=key)
    except imports.ImportRefused as refused:
        return refusal(refused, report(district, community, sheet, refused.result, dry_run=False))
    return report(district, community, sheet, result, dry_run=False)


def report(
    district: str, community: str, sheet: Sheet, result: imports.ImportResult, *, dry_run: bool
) -> ImportReportOut:
    return ImportReportOut(
        district=district,
        community=community,
        dry_run=dry_run,
        rows_read=len(sheet.rows),
        rows_ok=result.rows_ok,
        households=result.households,
        residents=result.residents,
        problem_count=len(result.problems),
        problems=[
            ImportProblemOut(row=p.row, column=p.column, message=p.message)
            for p in result.problems[:MAX_LISTED]
        ],
        ignored_columns=sheet.ignored_columns,
    )


def refusal(refused: imports.ImportRefused, listed: ImportReportOut) -> JSONResponse:
    """422 problem+json: `errors` in the shape every 422 has, `problems` as the dry run lists them."""
    body = listed.model_dump()
    errors = [
        {"loc": ["body", f"第{p['row']}行", p["column"]], "msg": p["message"]} for p in body["problems"]
    ]
    extra = {k: body[k] for k in ("rows_read", "rows_ok", "problem_count", "problems")}
    return problem(refused.status, refused.title, refused.detail, errors=errors, **extra)
