"""An integer id in a path that no row can have is a 404 or a 422, never a 500 (no token needed to try)."""

from __future__ import annotations

import pytest

from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]

TOO_LARGE_IDS = (2**63, 2**31)  # above any 64-bit number; above any INTEGER column


@pytest.mark.parametrize("suffix", ["json", "csv", "html"])
async def test_a_published_report_with_an_id_beyond_any_row_is_not_found(client, community, suffix) -> None:
    public = f"/v1/public/funds/{community.district}/{community.community}/disclosures"
    for sequence in (*TOO_LARGE_IDS, 0, -1):
        response = await client.get(f"{public}/{sequence}.{suffix}")
        assert response.status_code in (404, 422), response.text


async def test_an_entry_id_beyond_any_row_is_refused(client, community) -> None:
    officer = community.as_(Role.FUND_OFFICER)
    for entry_id in (*TOO_LARGE_IDS, 0):
        response = await client.post(
            f"/v1/entries/{entry_id}/reversal", json={"reason": "x"}, headers=officer
        )
        assert response.status_code == 422, response.text
