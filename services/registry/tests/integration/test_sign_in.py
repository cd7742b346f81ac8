"""Sign-in by password and by SMS code, refresh, sign-out and the lock-out, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text

from linli_registry.app import create_app
from linli_registry.settings import RegistrySettings
from linli_registry.signing import decrypt_code
from linli_registry.usecases.sign_in_records import forget_old_sign_in_records
from linli_shared.auth import Role, TokenVerifier
from linli_shared.clock import utc_now
from linli_shared.testing.http import bearer, running_app
from linli_shared.token_keys import TrustedKeys

from ..conftest import Place
from .accounts_helpers import (
    CODE_KEY,
    PASSWORD,
    as_bearer,
    grant,
    make_account,
    sign_in,
    signing_settings,
)


@pytest.fixture
def registry_settings(database_url: str, nats_url: str) -> RegistrySettings:
    return signing_settings(database_url, nats_url)


async def worker_account(
    client: httpx.AsyncClient, place: Place, role: Role = Role.GRID_WORKER
) -> dict[str, Any]:
    account = await make_account(client, place.district, place.community)
    response = await grant(client, account["id"], role, place.district, place.community)
    assert response.status_code == 201, response.text
    return account


async def rows(client: httpx.AsyncClient, sql: str) -> list[Any]:
    async with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        return list((await connection.execute(text(sql))).all())


async def test_password_sign_in_gives_a_token_the_registry_verifies_by_its_published_key(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    response = await sign_in(client, account["phone"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["grant"]["role"] == "grid_worker" and body["expires_in"] == 900
    assert body["display_name"] == "王秀兰"
    assert (body["grant"]["district_name"], body["grant"]["community_name"]) == ("高桥营街道", "东李庄社区")
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert jwt.get_unverified_header(body["access_token"])["kid"] == jwks["keys"][0]["kid"]
    caller = await TokenVerifier(TrustedKeys(jwks)).read(body["access_token"])
    assert (caller.role, caller.district, caller.community) == (
        Role.GRID_WORKER,
        place.district,
        place.community,
    )
    assert caller.account == account["id"] and caller.subject == account["id"]
    listed = await client.get("/v1/residents", headers=as_bearer(body["access_token"]))
    assert listed.status_code == 200, listed.text


async def test_a_residents_token_carries_the_resident_id_as_its_subject(
    client: httpx.AsyncClient, place: Place, register: Any
) -> None:
    resident = await register(place)
    account = await make_account(
        client, place.district, place.community, as_role=Role.COMMUNITY_WORKER, resident_id=resident["id"]
    )
    by = bearer(Role.COMMUNITY_WORKER, place.district, place.community)
    assert (
        await grant(client, account["id"], Role.RESIDENT, place.district, place.community, by=by)
    ).status_code == 201
    token = (await sign_in(client, account["phone"])).json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["sub"], claims["acc"], claims["role"]) == (resident["id"], account["id"], "resident")


async def test_a_wrong_password_or_unknown_phone_is_refused_alike_in_chinese(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    wrong = await sign_in(client, account["phone"], "not-the-password")
    unknown = await sign_in(client, "13000000000")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "手机号或密码不正确。"
    english = await client.post(
        "/v1/sign-in",
        json={"phone": account["phone"], "password": "nope"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert english.json()["detail"] == "Wrong phone number or password."


async def test_bad_input_is_refused_and_records_nothing(client: httpx.AsyncClient) -> None:
    before = await rows(client, "SELECT count(*) FROM signinattempt")
    for body in ({"phone": "abc", "password": "x"}, {"phone": "13800138000"}, {"phone": "1", "password": ""}):
        response = await client.post("/v1/sign-in", json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await rows(client, "SELECT count(*) FROM signinattempt") == before


async def test_failures_per_phone_lock_it_out_with_a_time_even_for_the_right_password(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    for _ in range(3):
        assert (await sign_in(client, account["phone"], "wrong-password")).status_code == 401
    locked = await sign_in(client, account["phone"])
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.headers["content-type"] == "application/problem+json"
    assert "登录失败次数过多，请在" in locked.json()["detail"] and "分钟后" in locked.json()["detail"]
    other = await worker_account(client, place)
    assert (await sign_in(client, other["phone"])).status_code == 200  # another phone is not locked


async def test_failures_from_one_address_lock_it_out_whatever_the_phone(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    for n in range(8):
        assert (await sign_in(client, f"1370000{n:04d}", "guess-password")).status_code == 401
    assert (await sign_in(client, account["phone"])).status_code == 429


async def test_a_success_restarts_the_phones_count(client: httpx.AsyncClient, place: Place) -> None:
    account = await worker_account(client, place)
    for _ in range(2):
        assert (await sign_in(client, account["phone"], "wrong-password")).status_code == 401
    assert (await sign_in(client, account["phone"])).status_code == 200
    for _ in range(2):
        assert (await sign_in(client, account["phone"], "wrong-password")).status_code == 401
    assert (await sign_in(client, account["phone"])).status_code == 200


async def test_refresh_rotates_and_a_reused_token_ends_the_whole_sign_in(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    first = (await sign_in(client, account["phone"])).json()["refresh_token"]
    rotated = await client.post("/v1/tokens/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    assert second != first and rotated.json()["access_token"]
    assert (
        rotated.json()["display_name"] == "王秀兰"
        and rotated.json()["grant"]["community_name"] == "东李庄社区"
    )
    reused = await client.post("/v1/tokens/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    assert reused.json()["detail"] == "登录已失效，请重新登录。"
    after = await client.post("/v1/tokens/refresh", json={"refresh_token": second})
    assert after.status_code == 401  # the copy's use revoked the family
    stored = await rows(client, "SELECT token_hash FROM refreshtoken")
    assert first not in {r[0] for r in stored} and second not in {r[0] for r in stored}


async def test_sign_out_ends_refresh_at_once_and_leaves_other_sign_ins(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    phone_one = (await sign_in(client, account["phone"])).json()["refresh_token"]
    phone_two = (await sign_in(client, account["phone"])).json()["refresh_token"]
    assert (await client.post("/v1/sign-out", json={"refresh_token": phone_one})).status_code == 204
    assert (await client.post("/v1/tokens/refresh", json={"refresh_token": phone_one})).status_code == 401
    assert (await client.post("/v1/tokens/refresh", json={"refresh_token": phone_two})).status_code == 200


async def test_an_account_with_several_roles_chooses_one(client: httpx.AsyncClient, place: Place) -> None:
    account = await worker_account(client, place, Role.GRID_WORKER)
    assert (
        await grant(client, account["id"], Role.FUND_OFFICER, place.district, place.community)
    ).status_code == 201
    choose = await sign_in(client, account["phone"])
    assert choose.status_code == 200 and choose.json()["access_token"] is None
    grants = {g["role"]: g["id"] for g in choose.json()["grants"]}
    assert set(grants) == {"grid_worker", "fund_officer"}
    assert choose.json()["display_name"] == "王秀兰", "the person's name, to greet them while they choose"
    assert {(g["district_name"], g["community_name"]) for g in choose.json()["grants"]} == {
        ("高桥营街道", "东李庄社区")
    }
    chosen = await sign_in(client, account["phone"], grant_id=grants["fund_officer"])
    assert chosen.json()["grant"]["role"] == "fund_officer"
    assert (
        jwt.decode(chosen.json()["access_token"], options={"verify_signature": False})["role"]
        == "fund_officer"
    )
    assert (await sign_in(client, account["phone"], grant_id="no-such-grant")).status_code == 422


async def test_a_disabled_account_cannot_sign_in_or_refresh(client: httpx.AsyncClient, place: Place) -> None:
    account = await worker_account(client, place)
    refresh_token = (await sign_in(client, account["phone"])).json()["refresh_token"]
    admin = bearer(Role.COMMUNITY_WORKER, place.district, place.community)
    changed = await client.patch(f"/v1/accounts/{account['id']}", json={"disabled": True}, headers=admin)
    assert changed.status_code == 200 and changed.json()["disabled"] is True
    assert (await sign_in(client, account["phone"])).status_code == 401
    assert (await client.post("/v1/tokens/refresh", json={"refresh_token": refresh_token})).status_code == 401


async def test_a_person_changes_their_own_password(client: httpx.AsyncClient, place: Place) -> None:
    account = await worker_account(client, place)
    signed = (await sign_in(client, account["phone"])).json()
    headers = as_bearer(signed["access_token"])
    wrong = await client.post(
        "/v1/account/password",
        json={"current_password": "nope", "new_password": "新的密码-123456"},
        headers=headers,
    )
    assert wrong.status_code == 422
    body = {"current_password": PASSWORD, "new_password": "新的密码-123456"}
    assert (await client.post("/v1/account/password", json=body, headers=headers)).status_code == 200
    assert (await sign_in(client, account["phone"])).status_code == 401
    assert (await sign_in(client, account["phone"], "新的密码-123456")).status_code == 200
    assert (
        await client.post("/v1/tokens/refresh", json={"refresh_token": signed["refresh_token"]})
    ).status_code == 401


async def outbox_code_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    envelopes = [json.loads(r[0]) for r in await rows(client, "SELECT envelope FROM outbox_message")]
    return [e for e in envelopes if e["event_type"] == "registry.account.sign_in_code_requested"]


async def test_sign_in_by_sms_code_sent_encrypted_once_and_never_stored_plain(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    sent = await client.post("/v1/sign-in/code", json={"phone": account["phone"]})
    assert sent.status_code == 202, sent.text
    [event] = await outbox_code_events(client)
    assert event["payload"]["phone"] == account["phone"] and event["district"] == place.district
    code = decrypt_code(CODE_KEY, event["payload"]["code_encrypted"])
    assert len(code) == 6 and code not in json.dumps(event)
    assert not any(
        code in str(value) for row in await rows(client, "SELECT * FROM signincode") for value in row
    )
    wrong = "000000" if code != "000000" else "111111"
    bad = await client.post("/v1/sign-in/code/verify", json={"phone": account["phone"], "code": wrong})
    assert bad.status_code == 401 and bad.json()["detail"] == "验证码不正确或已过期。"
    verified = await client.post("/v1/sign-in/code/verify", json={"phone": account["phone"], "code": code})
    assert verified.status_code == 200, verified.text
    assert verified.json()["grant"]["role"] == "grid_worker"
    again = await client.post("/v1/sign-in/code/verify", json={"phone": account["phone"], "code": code})
    assert again.status_code == 401  # a code signs in once


async def test_a_code_is_sent_once_a_minute_and_not_to_unknown_phones(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    assert (await client.post("/v1/sign-in/code", json={"phone": account["phone"]})).status_code == 202
    too_soon = await client.post("/v1/sign-in/code", json={"phone": account["phone"]})
    assert too_soon.status_code == 429 and int(too_soon.headers["Retry-After"]) <= 61
    unknown = await client.post("/v1/sign-in/code", json={"phone": "13100000000"})
    assert unknown.status_code == 202  # the same answer: nobody learns which phones have accounts
    assert len(await outbox_code_events(client)) == 1


async def test_the_sms_code_has_a_few_tries(client: httpx.AsyncClient, place: Place) -> None:
    account = await worker_account(client, place)
    assert (await client.post("/v1/sign-in/code", json={"phone": account["phone"]})).status_code == 202
    code = decrypt_code(CODE_KEY, (await outbox_code_events(client))[0]["payload"]["code_encrypted"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):  # the phone's lock-out (3 here) comes before the code's own limit
        bad = await client.post("/v1/sign-in/code/verify", json={"phone": account["phone"], "code": wrong})
        assert bad.status_code == 401
    locked = await client.post("/v1/sign-in/code/verify", json={"phone": account["phone"], "code": code})
    assert locked.status_code == 429


async def test_without_a_signing_key_sign_in_is_not_offered_and_the_jwks_is_empty(
    database_url: str, nats_url: str
) -> None:
    settings = signing_settings(database_url, nats_url, signing_key=None, sign_in_code_key=None)
    async with running_app(create_app(settings)) as client:
        response = await sign_in(client, "13800138000")
        assert response.status_code == 404
        assert response.json()["detail"] == "暂不支持登录，签名密钥未配置。"
        code = await client.post("/v1/sign-in/code", json={"phone": "13800138000"})
        assert code.status_code == 404 and code.json()["detail"] == "暂不支持短信验证码登录。"
        assert (await client.get("/.well-known/jwks.json")).json() == {"keys": []}


async def test_old_attempts_codes_and_refresh_tokens_are_forgotten(
    client: httpx.AsyncClient, place: Place
) -> None:
    account = await worker_account(client, place)
    refresh_token = (await sign_in(client, account["phone"])).json()["refresh_token"]
    assert (await sign_in(client, account["phone"], "wrong-password")).status_code == 401
    assert (await client.post("/v1/sign-in/code", json={"phone": account["phone"]})).status_code == 202
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    assert await forget_old_sign_in_records(factory, utc_now()) == 0  # all recent: kept
    counts = (
        "SELECT (SELECT count(*) FROM signinattempt), (SELECT count(*) FROM signincode),"
        " (SELECT count(*) FROM refreshtoken)"
    )
    assert tuple((await rows(client, counts))[0]) == (2, 1, 1)
    assert await forget_old_sign_in_records(factory, utc_now() + timedelta(days=40)) == 4
    assert tuple((await rows(client, counts))[0]) == (0, 0, 0)
    assert (await client.post("/v1/tokens/refresh", json={"refresh_token": refresh_token})).status_code == 401


async def test_one_address_asking_codes_for_many_phones_is_stopped(
    client: httpx.AsyncClient, place: Place
) -> None:
    """A script texting strangers from one address: a phone may ask once a minute, the address only
    a few times in the window, however many phones it names."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.sign_in_codes_per_address = 2
    phones = [(await worker_account(client, place))["phone"] for _ in range(3)]

    answers = [await client.post("/v1/sign-in/code", json={"phone": phone}) for phone in phones]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert "太多" in answers[2].json()["detail"]
    assert 0 < int(answers[2].headers["Retry-After"]) <= settings.sign_in_window_seconds + 1
    assert len(await outbox_code_events(client)) == 2
