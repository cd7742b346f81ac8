"""Bad input is answered in the caller's language (Chinese by default), names every refused field,
and changes nothing."""

from __future__ import annotations

import re
import typing
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator
from pydantic_core import PydanticCustomError, PydanticKnownError, core_schema

from linli_shared.error_language import CHINESE, OWN_TYPES, message, where_in_chinese
from linli_shared.errors import PROBLEM_JSON, install_problem_handlers
from linli_shared.field_labels import FIELD_LABELS
from linli_shared.language import language_of

CJK = re.compile(r"[\u4e00-\u9fff]")
PROJECT_TYPES = (
    "missing extra_forbidden json_invalid string_type string_too_short string_too_long "
    "string_pattern_mismatch int_type int_parsing int_from_float float_parsing float_type "
    "greater_than greater_than_equal less_than less_than_equal multiple_of enum literal_error "
    "bool_parsing bool_type list_type dict_type model_type too_short too_long date_parsing "
    "date_from_datetime_parsing datetime_parsing datetime_from_date_parsing timezone_aware "
    "time_parsing uuid_parsing value_error missing_argument"
).split()
"""The types this project's requests can raise (constraints on Field, Strict bodies, enums,
Literal, dates, AwareDatetime, StrictInt, lists, model validators)."""


class Fund(StrEnum):
    GENERAL = "general"
    MEDICAL = "medical"


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_fen: StrictInt = Field(gt=0)


class DonationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    donor_name: str = Field(min_length=1, max_length=10)
    fund: Fund
    channel: Literal["cash", "transfer"]
    received_on: date
    at: AwareDatetime
    donations: list[Line] = Field(max_length=3)


class PeriodIn(BaseModel):
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class Calls:
    def __init__(self) -> None:
        self.count = 0


def make_app(calls: Calls) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter()

    @router.post("/donations")
    async def donate(data: DonationIn, limit: Annotated[int, Query(le=100)] = 10) -> dict[str, int]:
        calls.count += 1
        return {"lines": len(data.donations)}

    @router.post("/periods")
    async def period(data: PeriodIn) -> dict[str, int]:
        calls.count += 1
        return {}

    app.include_router(router)
    return app


BAD = {
    "donor_name": "",
    "fund": "holiday",
    "channel": "cheque",
    "received_on": "2026-13-01",
    "at": "2026-03-01T08:00:00",
    "donations": [],
    "surprise": True,
}
"""One of each kind of mistake a person makes in a form, and a line of the batch per kind."""


async def post(path: str, body: Any, language: str | None = None, **params: str) -> httpx.Response:
    calls = Calls()
    headers = {"Accept-Language": language} if language is not None else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(calls)), base_url="http://t"
    ) as http:
        response = await http.post(path, json=body, headers=headers, params=params)
    assert calls.count == 0, "a refused request reaches no route and changes nothing"
    return response


async def test_bad_input_is_told_in_chinese_by_default_naming_each_field() -> None:
    response = await post("/donations", BAD, limit="many")

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["content-language"] == "zh"
    problem = response.json()
    by_loc = {tuple(e["loc"]): (e["type"], e["msg"]) for e in problem["errors"]}
    assert by_loc == {
        ("query", "limit"): ("int_parsing", "查询参数「每页条数（limit）」应为整数"),
        ("body", "donor_name"): ("string_too_short", "「捐赠人（donor_name）」不能为空"),
        ("body", "fund"): ("enum", "「基金（fund）」只能是 'general' 或 'medical'"),
        ("body", "channel"): ("literal_error", "「收付方式（channel）」只能是 'cash' 或 'transfer'"),
        ("body", "received_on"): (
            "date_from_datetime_parsing",
            "「收款日期（received_on）」应为有效日期，格式 YYYY-MM-DD",
        ),
        ("body", "at"): ("timezone_aware", "「at」应带时区，如 +08:00"),
        ("body", "surprise"): ("extra_forbidden", "「surprise」不是可以填写的字段"),
    }
    assert problem["detail"].startswith("输入有误：") and problem["detail"].endswith("。")
    assert all(e["msg"] in problem["detail"] for e in problem["errors"]), "the detail lists every problem"
    assert not re.search(r"Input should|Field required|String should|Extra inputs", problem["detail"])


async def test_lines_of_a_list_are_named_by_their_number_counted_from_one() -> None:
    body: dict[str, Any] = {
        "donor_name": "王秀英",
        "fund": "general",
        "channel": "cash",
        "received_on": "2026-03-01",
    }
    body |= {"at": "2026-03-01T08:00:00+08:00", "donations": [{"amount_fen": 1.5}, {"amount_fen": 0}, {}]}

    errors = (await post("/donations", body)).json()["errors"]

    assert [(e["loc"], e["type"], e["msg"]) for e in errors] == [
        (
            ["body", "donations", "0", "amount_fen"],
            "int_type",
            "「捐赠明细（donations）第 1 项的金额（分）（amount_fen）」应为整数",
        ),
        (
            ["body", "donations", "1", "amount_fen"],
            "greater_than",
            "「捐赠明细（donations）第 2 项的金额（分）（amount_fen）」应大于 0",
        ),
        (
            ["body", "donations", "2", "amount_fen"],
            "missing",
            "「捐赠明细（donations）第 3 项的金额（分）（amount_fen）」是必填项",
        ),
    ]


async def test_english_when_accept_language_prefers_it() -> None:
    response = await post("/donations", {"fund": "general"}, "en-GB,en;q=0.9,zh;q=0.5")

    assert response.status_code == 422
    assert response.headers["content-language"] == "en"
    problem = response.json()
    assert problem["errors"][0] == {"loc": ["body", "donor_name"], "msg": "Field required", "type": "missing"}
    assert problem["detail"].startswith("body.donor_name: Field required; body.channel: Field required")
    assert not CJK.search(problem["detail"])


async def test_a_missing_or_broken_body_is_named_as_the_body() -> None:
    calls = Calls()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(calls)), base_url="http://t"
    ) as http:
        broken = await http.post(
            "/donations", content=b'{"donor_name": ', headers={"Content-Type": "application/json"}
        )
        none = await http.post("/donations")
    assert calls.count == 0

    assert (broken.status_code, broken.json()["errors"][0]["type"]) == (422, "json_invalid")
    assert broken.json()["detail"] == "输入有误：请求体不是有效的 JSON。"
    assert none.json()["detail"] == "输入有误：请求体是必填项。"


async def test_a_rule_of_the_model_keeps_its_own_words_after_the_field() -> None:
    body = {"starts_on": "2026-03-02", "ends_on": "2026-03-01"}

    chinese = (await post("/periods", body)).json()["errors"][0]
    english = (await post("/periods", body, "en")).json()["errors"][0]

    assert chinese == {
        "loc": ["body"],
        "msg": "请求体不符合要求：ends_on must not be before starts_on",
        "type": "value_error",
    }
    assert english["msg"] == "Value error, ends_on must not be before starts_on"


def example_context(kind: str) -> dict[str, Any] | None:
    """The context pydantic needs to build an error of this type, filled with sample values."""
    context: dict[str, Any] = {}
    for _ in range(10):
        try:
            PydanticKnownError(kind, context or None)  # type: ignore[arg-type]
            return context or None
        except TypeError as error:
            name = re.search(r"'(\w+)'", str(error))
            assert name, error
            context[name.group(1)] = 7 if "must be" in str(error) else f"'{name.group(1)}'"
    raise AssertionError(f"no context found for {kind}")


@pytest.mark.parametrize("kind", sorted(CHINESE))
def test_every_type_in_the_table_is_told_in_both_languages(kind: str) -> None:
    assert kind in typing.get_args(core_schema.ErrorType), "a type pydantic has"
    known = PydanticKnownError(kind, example_context(kind))  # type: ignore[arg-type]
    loc, where = (
        (("body", 12), "请求体")
        if kind == "json_invalid"
        else (("body", "full_name"), "「姓名（full_name）」")
    )
    error = {"type": kind, "loc": loc, "msg": known.message(), "ctx": known.context}

    chinese, english = message(error, "zh"), message(error, "en")

    assert CJK.search(chinese) and chinese.startswith(where)
    assert "{" not in chinese and english not in chinese, "a sentence of its own, every name filled"
    assert english == known.message() and not CJK.search(english)


def test_the_types_this_project_raises_are_all_in_the_table() -> None:
    assert [kind for kind in PROJECT_TYPES if kind not in CHINESE] == []


def test_an_unknown_type_falls_back_to_pydantics_english_message() -> None:
    custom = PydanticCustomError("household_full", "Household {ref} has no room", {"ref": "h-1"})
    error = {
        "type": custom.type,
        "loc": ("body", "household_id"),
        "msg": custom.message(),
        "ctx": custom.context,
    }

    assert message(error, "zh") == "「户（household_id）」：Household h-1 has no room"
    assert message(error, "en") == "Household h-1 has no room"


def test_a_context_the_sentence_cannot_use_falls_back_to_english() -> None:
    error = {"type": "greater_than", "loc": ("body", "amount_fen"), "msg": "Input should be greater than 0"}

    assert message(error, "zh") == "「金额（分）（amount_fen）」：Input should be greater than 0"


@pytest.mark.parametrize(
    ("loc", "where"),
    [
        (("body", "full_name"), "「姓名（full_name）」"),
        (("body", "unlabelled_field"), "「unlabelled_field」"),
        (("body",), "请求体"),
        (("query", "limit"), "查询参数「每页条数（limit）」"),
        (("path", "resident_id"), "路径参数「居民（resident_id）」"),
        (("header", "idempotency-key"), "请求头「idempotency-key」"),
        (("body", "donations", 0, "donor_name"), "「捐赠明细（donations）第 1 项的捐赠人（donor_name）」"),
        (("body", 2, "phone"), "「第 3 项的电话（phone）」"),
        ((), "请求体"),
    ],
)
def test_a_place_is_named_by_its_json_name_and_its_label(loc: tuple[Any, ...], where: str) -> None:
    assert where_in_chinese(loc) == where


def test_every_label_is_chinese() -> None:
    assert [name for name, label in FIELD_LABELS.items() if not CJK.search(label)] == []


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("", "zh"),
        ("zh-CN,zh;q=0.9", "zh"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("EN-us", "en"),
        ("zh-CN, en", "zh"),
        ("en, zh-CN", "en"),
        ("en;q=0.3, zh", "zh"),
        ("zh;q=0.5, en;q=0.8", "en"),
        ("fr, en;q=0.5", "en"),
        ("fr", "zh"),
        ("*", "zh"),
        ("en;q=0", "zh"),
        ("en;q=lots", "zh"),
        ("english", "zh"),
    ],
)
def test_the_language_is_english_only_when_the_caller_prefers_it(header: str | None, language: str) -> None:
    assert language_of(header) == language


OWN_EXAMPLES = {
    "cannot_clear": ("these fields cannot be cleared: {fields}", {"fields": "full_name"}),
    "unknown_time_zone": ("unknown time zone {zone}", {"zone": "Mars/Olympus"}),
    "listed_twice": (
        "attendee {position}: volunteer {volunteer} is listed twice",
        {"position": 3, "volunteer": "v-1"},
    ),
    "ends_before_starts": ("ends_on must not be before starts_on", {}),
}


@pytest.mark.parametrize("kind", sorted(OWN_TYPES))
def test_the_projects_own_rules_are_told_in_both_languages(kind: str) -> None:
    template, context = OWN_EXAMPLES[kind]
    raised = PydanticCustomError(kind, template, context)
    error = {"type": kind, "loc": ("body", "x"), "msg": raised.message(), "ctx": context}
    chinese = message(error, "zh")
    assert re.search(r"[\u4e00-\u9fff]", chinese) and raised.message() not in chinese, chinese
    assert all(str(value) in chinese for value in context.values()), chinese
    assert message(error, "en") == raised.message()
