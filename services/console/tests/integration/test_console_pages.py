"""The console against the real registry: sign-in, cookies, renewal, CSRF, errors in Chinese beside
their field, a service that is down, and a visit logged once however often the button is pressed."""

from __future__ import annotations

import re

import pytest

from linli_console.app import create_app
from linli_console.settings import ConsoleSettings

from ..conftest import CONSOLE, Desk, console_settings, elder_in_care

pytestmark = [pytest.mark.integration, pytest.mark.nats]


def cookie_headers(response_headers: list[str], name: str) -> str:
    (found,) = [h for h in response_headers if h.startswith(f"{name}=")]
    return found


async def test_sign_in_keeps_the_tokens_in_http_only_strict_cookies_and_lands_on_today(desk: Desk) -> None:
    signed_in = await desk.sign_in()
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    set_cookies = signed_in.headers.get_list("set-cookie")
    for name in ("linli_access", "linli_refresh"):
        cookie = cookie_headers(set_cookies, name).lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert desk.password not in signed_in.text
    landing = await desk.browser.get("/")
    assert landing.status_code == 303 and landing.headers["location"] == "/today"
    today = await desk.browser.get("/today")
    assert today.status_code == 200
    assert "东李庄社区 · 网格员" in today.text and "您还不在任何关爱小组里" in today.text


async def test_sign_in_with_a_wrong_password_says_so_in_chinese_beside_the_password(desk: Desk) -> None:
    response = await desk.browser.post(
        "/sign-in", data={"phone": desk.phone, "password": "not-the-password"}, headers={"Origin": CONSOLE}
    )
    assert response.status_code == 401
    assert 'id="password-error"' in response.text and 'aria-invalid="true"' in response.text
    assert "密码" in response.text.split('id="password-error"')[1].split("</p>")[0]
    assert "set-cookie" not in response.headers


async def test_sign_in_with_a_malformed_phone_shows_the_refusal_beside_the_phone(desk: Desk) -> None:
    response = await desk.browser.post(
        "/sign-in", data={"phone": "abc", "password": "x"}, headers={"Origin": CONSOLE}
    )
    assert response.status_code == 422
    beside_phone = response.text.split('id="phone-error"')[1].split("</p>")[0]
    assert "电话" in beside_phone and "至少需要 5 个字符" in beside_phone


async def test_a_form_sent_from_another_site_is_refused(desk: Desk) -> None:
    for headers in ({"Origin": "https://evil.example"}, {}, {"Referer": "https://evil.example/page"}):
        response = await desk.browser.post(
            "/sign-in", data={"phone": desk.phone, "password": desk.password}, headers=headers
        )
        assert response.status_code == 403, headers
        assert "set-cookie" not in response.headers
    from_our_page = await desk.browser.post(
        "/sign-in",
        data={"phone": desk.phone, "password": desk.password},
        headers={"Referer": f"{CONSOLE}/sign-in"},
    )
    assert from_our_page.status_code == 303


async def test_a_page_without_a_session_asks_for_a_sign_in_and_comes_back(desk: Desk) -> None:
    response = await desk.browser.get("/alerts")
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?next=/alerts"
    signed_in = await desk.browser.post(
        "/sign-in",
        data={"phone": desk.phone, "password": desk.password, "next": "/alerts"},
        headers={"Origin": CONSOLE},
    )
    assert signed_in.headers["location"] == "/alerts"
    elsewhere = await desk.browser.post(
        "/sign-in",
        data={"phone": desk.phone, "password": desk.password, "next": "//evil.example/"},
        headers={"Origin": CONSOLE},
    )
    assert elsewhere.headers["location"] == "/"


async def test_an_ended_access_token_is_renewed_with_the_refresh_cookie(desk: Desk) -> None:
    await desk.sign_in()
    old_refresh = desk.browser.cookies["linli_refresh"]
    desk.browser.cookies.delete("linli_access")  # the browser dropped it at its max-age
    today = await desk.browser.get("/today")
    assert today.status_code == 200
    renewed = today.headers.get_list("set-cookie")
    assert cookie_headers(renewed, "linli_access") and cookie_headers(renewed, "linli_refresh")
    assert desk.browser.cookies["linli_refresh"] != old_refresh
    again = await desk.registry.post("/v1/tokens/refresh", json={"refresh_token": old_refresh})
    assert again.status_code == 401  # the registry rotated it: the old one is spent


async def test_sign_out_ends_the_sign_in_at_the_registry(desk: Desk) -> None:
    await desk.sign_in()
    refresh = desk.browser.cookies["linli_refresh"]
    signed_out = await desk.browser.post("/sign-out", headers={"Origin": CONSOLE})
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/sign-in?signed_out=1"
    assert "linli_access" not in desk.browser.cookies
    after = await desk.registry.post("/v1/tokens/refresh", json={"refresh_token": refresh})
    assert after.status_code == 401


async def test_a_visit_is_logged_once_however_often_the_button_is_pressed(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=23.5)
    await desk.sign_in()
    today = await desk.browser.get("/today")
    assert "王秀英" in today.text and f"/elders/{resident_id}" in today.text
    page = await desk.browser.get(f"/elders/{resident_id}")
    key = page.text.split('name="key" value="')[1].split('"')[0]
    form = {"key": key, "kind": "call", "findings": "电话里说一切都好", "follow_up": ""}
    for _ in range(2):  # a double tap, or a retry after a dropped connection
        logged = await desk.browser.post(
            f"/elders/{resident_id}/contacts", data=form, headers={"Origin": CONSOLE}
        )
        assert logged.status_code == 303 and logged.headers["location"].startswith("/today?done=")
    visits = await desk.registry.get(
        "/v1/visits", params={"resident_id": resident_id}, headers=desk.as_worker()
    )
    assert [(v["kind"], v["visitor"]) for v in visits.json()["items"]] == [("call", desk.account_id)]
    shown = await desk.browser.get(logged.headers["location"])
    assert "已记录：王秀英的电话问候" in shown.text


async def test_a_refused_visit_shows_the_registry_words_beside_the_note(desk: Desk) -> None:
    resident_id = await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=1)
    await desk.sign_in()
    form = {"key": "k1", "kind": "visit", "findings": "很" * 4001, "follow_up": ""}
    refused = await desk.browser.post(
        f"/elders/{resident_id}/contacts", data=form, headers={"Origin": CONSOLE}
    )
    assert refused.status_code == 422
    beside = refused.text.split('id="findings-error"')[1].split("</p>")[0]
    assert "4000" in beside


async def test_an_elder_outside_the_persons_care_groups_is_not_shown(desk: Desk) -> None:
    await desk.sign_in()
    response = await desk.browser.get("/elders/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and "不在您的关爱小组里" in response.text


async def test_alerts_say_what_to_do_while_notify_is_down(desk: Desk) -> None:
    await elder_in_care(desk, "王秀英", every_hours=24, formed_hours_ago=1)
    await desk.sign_in()
    today = await desk.browser.get("/today")
    assert today.status_code == 200 and "“消息提醒”服务暂时连不上" in today.text
    alerts = await desk.browser.get("/alerts")
    assert alerts.status_code == 503
    assert "“消息提醒”服务暂时连不上" in alerts.text and "Traceback" not in alerts.text


async def test_sign_in_says_what_to_do_while_the_registry_is_down() -> None:
    import httpx

    settings: ConsoleSettings = console_settings(registry_url="http://127.0.0.1:9")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=CONSOLE) as browser:
            response = await browser.post(
                "/sign-in", data={"phone": "10012345678", "password": "x" * 8}, headers={"Origin": CONSOLE}
            )
            assert response.status_code == 503
            assert "“居民登记”服务暂时连不上" in response.text and "稍等" in response.text
            health = await browser.get("/healthz")
            assert health.status_code == 200


async def test_a_person_with_two_roles_chooses_one_and_lands_on_its_page(desk: Desk) -> None:
    from linli_shared.auth import Role
    from linli_shared.testing.http import bearer

    granted = await desk.registry.post(
        f"/v1/accounts/{desk.account_id}/grants",
        json={"role": "fund_officer", "district": desk.district, "community": desk.community},
        headers=bearer(Role.CITY_ADMIN, None),
    )
    assert granted.status_code == 201, granted.text
    choose = await desk.sign_in()
    assert choose.status_code == 200 and "set-cookie" not in choose.headers
    assert "网格员" in choose.text and "基金管理员" in choose.text
    choices = re.findall(r'name="grant_id" value="([^"]+)"[^>]*>\s*([^<（]+)', choose.text)
    grant_of = {name.strip(): grant_id for grant_id, name in choices}
    assert set(grant_of) == {"网格员", "基金管理员"}
    chosen = await desk.browser.post(
        "/sign-in",
        data={"phone": desk.phone, "password": desk.password, "grant_id": grant_of["基金管理员"]},
        headers={"Origin": CONSOLE},
    )
    assert chosen.status_code == 303
    home = await desk.browser.get("/", follow_redirects=True)
    assert str(home.url).endswith("/fund/donation") and "登记一笔捐赠" in home.text
    assert "东李庄社区 · 基金管理员" in home.text
