from __future__ import annotations

from linli_console.pages_admin import Place, field_errors, place_body, place_label
from linli_console.pages_certificates import certificate_line
from linli_console.services import Refusal
from linli_console.session import tokens_of

PLACES = [Place("d1", "", "高桥营街道（整个街道）"), Place("d1", "c1", "高桥营街道 · 东李庄社区")]


def test_a_place_option_gives_the_registry_its_district_and_community() -> None:
    assert place_body("d1/c1") == {"district": "d1", "community": "c1"}
    assert place_body("d1/") == {"district": "d1", "community": None}
    assert place_body("/") == {"district": None, "community": None}


def test_a_place_is_named_as_the_registry_names_it_else_by_its_code() -> None:
    assert place_label(PLACES, "d1", "c1") == "高桥营街道 · 东李庄社区"
    assert place_label(PLACES, "d1", None) == "高桥营街道（整个街道）"
    assert place_label(PLACES, "d9", "c9") == "c9"


def test_a_refusal_naming_no_field_is_shown_beside_the_field_it_concerns() -> None:
    taken = field_errors(Refusal(409, "这个手机号已经有账号了"), ("phone", "place"), "place")
    assert taken.about("phone") == ["这个手机号已经有账号了"] and not taken.about("place")
    elsewhere = field_errors(Refusal(404, "没有找到社区 c9"), ("phone", "place"), "place")
    assert elsewhere.about("place") == ["没有找到社区 c9"]
    scoped = field_errors(Refusal(422, "请求有误", {"community": ["太长"]}), ("role", "place"), "role")
    assert scoped.about("place") == ["太长"] and not scoped.about("role")


def test_a_certificate_line_says_its_hours_and_issued_day_in_china_time() -> None:
    line = certificate_line(
        {"serial": "LL-C1-2026-ABC", "total_hours": 2.5, "issued_at": "2026-12-01T17:30:00Z"},
        "http://points.test",
    )
    assert (line["hours"], line["issued_on"]) == ("2.5", "2026年12月2日")  # 01:30 on the 2nd in China
    assert line["link"] == "http://points.test/v1/public/certificates/LL-C1-2026-ABC"


def test_the_display_name_comes_with_the_tokens() -> None:
    tokens = tokens_of({"access_token": "a", "refresh_token": "r", "display_name": "王小明"})
    assert tokens is not None and tokens.display_name == "王小明"
    assert tokens_of({"access_token": "a", "refresh_token": "r"}).display_name == ""  # type: ignore[union-attr]
