"""A name search finds every resident whose name holds the text, however short (both databases).

On PostgreSQL a search of one or two characters goes through the index of each name's pieces and a
longer one through the trigram index; either way the answer is exactly the substring match.
"""

from __future__ import annotations

import pytest

from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]

NAMES = ["李国昌", "王建国", "欧阳雪梅", "建", "李", "Li Wei", "张建国华", "50%_off"]
SEARCHES = ["建国", "建", "国昌", "李", "欧阳雪梅", "阳雪", "i W", "Wei", "%", "_", "雪梅x", "梅"]


async def test_a_name_search_finds_exactly_the_names_holding_the_text(client, place, register) -> None:  # noqa: ANN001
    for name in NAMES:
        await register(place, full_name=name)
    worker = place.as_(Role.COMMUNITY_WORKER)
    for text in SEARCHES:
        response = await client.get("/v1/residents", params={"name": text}, headers=worker)
        assert response.status_code == 200, response.text
        found = sorted(item["full_name"] for item in response.json()["items"])
        assert found == sorted(name for name in NAMES if text in name), text
