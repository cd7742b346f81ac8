"""The service's own refusals over HTTP: Chinese by default, the English detail on Accept-Language: en."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]

NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
PREFERENCES = {"channels": ["inbox"], "language": "zh", "quiet_start": "21:30", "quiet_end": "08:00"}
ENGLISH = {"Accept-Language": "en"}


def detail(response, status: int) -> str:  # noqa: ANN001
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["detail"])


async def test_changing_a_residents_preferences_as_a_grid_worker_is_refused_in_chinese(
    notify, client, community
) -> None:
    await notify.feed(notify.wrap(notify.registered("r-7", "张桂兰")), NOON)
    path = "/v1/contacts/resident:r-7/preferences"
    grid = community.as_(Role.GRID_WORKER, "grid-li")

    chinese = await client.put(path, json=PREFERENCES, headers=grid)
    english = await client.put(path, json=PREFERENCES, headers={**grid, **ENGLISH})

    assert detail(chinese, 403) == "只能修改自己的通知设置（社区工作者可修改本社区居民等人的）"
    assert detail(english, 403) == (
        "you may change only your own preferences, or a community worker those of residents"
    )


async def test_a_notification_that_is_not_yours_is_not_found_in_chinese(client, community) -> None:
    me = community.as_(Role.GRID_WORKER, "grid-li")

    chinese = await client.post("/v1/inbox/999999/read", headers=me)
    english = await client.post("/v1/inbox/999999/read", headers={**me, **ENGLISH})

    assert detail(chinese, 404) == "没有找到这个通知"
    assert detail(english, 404) == "notification not found"


async def test_an_unknown_template_is_not_found_in_chinese(client, community) -> None:
    me = community.as_(Role.COMMUNITY_WORKER)

    chinese = await client.post("/v1/templates/no_such/preview", json={}, headers=me)
    english = await client.post("/v1/templates/no_such/preview", json={}, headers={**me, **ENGLISH})

    assert detail(chinese, 404) == "没有名为 'no_such' 的通知模板"
    assert detail(english, 404) == "no template named 'no_such'"


async def test_an_acknowledgement_link_naming_no_notification_is_refused_in_chinese(client) -> None:
    chinese = await client.post("/v1/acknowledgements/424242.abc")
    english = await client.post("/v1/acknowledgements/424242.abc", headers=ENGLISH)

    assert detail(chinese, 404) == "这个确认链接无效"
    assert detail(english, 404) == "this acknowledgement link is not valid"


async def test_an_idempotency_key_sent_again_with_another_body_is_refused_in_chinese(
    client, community
) -> None:
    me = {**community.as_(Role.GRID_WORKER, "grid-li"), "Idempotency-Key": "prefs-1"}
    path = "/v1/contacts/grid-li/preferences"
    first = await client.put(path, json=PREFERENCES, headers=me)
    assert first.status_code == 200, first.text
    changed = {**PREFERENCES, "quiet_start": "23:00"}

    chinese = await client.put(path, json=changed, headers=me)
    english = await client.put(path, json=changed, headers={**me, **ENGLISH})

    assert detail(chinese, 409) == "这个 Idempotency-Key 已用于内容不同的请求，请换一个新的"
    assert detail(english, 409) == "this Idempotency-Key was used before with a different request body"
    kept = await client.get(path, headers=me)
    assert kept.json()["quiet_start"] == "21:30", "a refusal changes nothing"
