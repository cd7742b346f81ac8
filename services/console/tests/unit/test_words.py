"""Times as people write them, messages without ids or links, and the guards on forms and tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
from starlette.requests import Request

from linli_console.app import same_origin
from linli_console.forms import safe_next
from linli_console.pages_care import in_our_words
from linli_console.services import refusal_of
from linli_console.session import person_of
from linli_console.settings import ConsoleSettings
from linli_console.words import span, when

NOW = datetime(2026, 12, 2, 6, 5, tzinfo=UTC)  # 14:05 in China


def test_when_writes_today_yesterday_or_the_date_in_china_time() -> None:
    assert when(NOW, NOW) == "今天 14:05"
    assert when("2026-12-01T01:00:00Z", NOW) == "昨天 09:00"
    assert when("2026-11-20T16:30:00+00:00", NOW) == "11月21日 00:30"
    assert when("2025-03-01T00:00:00", NOW) == "2025年3月1日 08:00"  # naive: UTC, as the services store
    assert when(None, NOW) == ""


def test_span_names_the_largest_units_that_matter() -> None:
    assert span(3 * 86400 + 2 * 3600) == "3天2小时"
    assert span(5 * 3600 + 59 * 60) == "5小时"
    assert span(90 * 60) == "1小时30分钟"
    assert span(20) == "1分钟"


def test_alert_text_loses_the_group_id_and_the_link_and_gains_a_readable_time() -> None:
    body = (
        "王秀英（关爱小组 23d46d88-bb83-4c6e-9a0e-1f2e3d4c5b6a）的上门走访应于 2026-12-02 13:05 前完成，"
        "至今没有记录。收到后请在应用中点击“确认”，或打开下方链接确认。\n"
        "无法登录应用时，点此链接确认：http://localhost:8104/v1/acknowledgements/1.abc"
    )
    shown = in_our_words(body)
    assert "23d46d88" not in shown and "http" not in shown and "2026-12-02" not in shown
    assert shown.startswith("王秀英的上门走访应于 ")


def token(claims: dict[str, object]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{payload}.sig"


def test_person_is_read_from_the_token_claims_and_nothing_else() -> None:
    person = person_of(
        token({"sub": "a1", "role": "grid_worker", "district": "d", "community": "c", "exp": 9})
    )
    assert person is not None and person.role_name == "网格员" and person.expiring(now=0)
    assert (
        person_of("not-a-token") is None
        and person_of(token({"sub": "a1"})) is None
        and person_of(None) is None
    )


def test_next_is_a_path_of_ours_only() -> None:
    assert safe_next("/alerts?x=1") == "/alerts?x=1"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "", None):
        assert safe_next(elsewhere) == "/"


def request_with(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in {"host": "linli.test:8100", **headers}.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b""})


def test_same_origin_takes_our_host_or_a_listed_origin_only() -> None:
    settings = ConsoleSettings(allowed_origins=["https://linli.example.cn"])
    assert same_origin(request_with({"origin": "http://linli.test:8100"}), settings)
    assert same_origin(
        request_with({"referer": "https://linli.test:8100/today"}), settings
    )  # behind TLS proxy
    assert same_origin(request_with({"origin": "https://linli.example.cn"}), settings)
    assert not same_origin(request_with({"origin": "https://evil.example"}), settings)
    assert not same_origin(request_with({"origin": "null"}), settings)
    assert not same_origin(request_with({}), settings)


def test_refusal_puts_each_message_under_its_field() -> None:
    response = httpx.Response(
        422,
        json={
            "detail": "输入有误：「电话（phone）」至少需要 5 个字符。",
            "errors": [{"loc": ["body", "phone"], "msg": "「电话（phone）」至少需要 5 个字符", "type": "x"}],
        },
    )
    refusal = refusal_of(response)
    assert (
        refusal.about("phone") == ["「电话（phone）」至少需要 5 个字符"] and refusal.about("password") == []
    )
    assert refusal_of(httpx.Response(404, text="<html>")).detail == "请求未被接受（404）"


def test_a_digest_greets_the_reader_and_dates_read_as_people_write_them() -> None:
    body = "acc-1，您好！自 2026-12-01 18:18 以来：\n- 12-02 18:17 张秀兰：上门走访逾期（紧急）"
    shown = in_our_words(body, "acc-1")
    assert shown.startswith("您好！") and "acc-1" not in shown
    assert "12月2日 18:17 张秀兰" in shown and "2026-12-01" not in shown
    assert in_our_words("网格日报 2026-12-02：1 件事") == "网格日报 12月2日：1 件事"
