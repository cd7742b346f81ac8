"""A fund officer choosing a beneficiary reads a resident's name, tags and masked ID number, never
how to reach them or their family, nor the birth date the masked number hides."""

from __future__ import annotations

import pytest

from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]

CONTACT = {
    "phone": "13800138000",
    "guardian_name": "李建华",
    "guardian_relation": "儿子",
    "guardian_phone": "139 1234 5678",
}
HIDDEN_FROM_FUND_OFFICERS = {*CONTACT, "birth_date"}


async def resident_reads(client, place, resident, number: str, role: Role) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The resident as each read route gives it to `role`: by id, by name search, by tag, by ID number."""
    headers = place.as_(role)
    one = await client.get(f"/v1/residents/{resident['id']}", headers=headers)
    by_name = await client.get("/v1/residents", params={"name": resident["full_name"]}, headers=headers)
    by_tag = await client.get("/v1/residents", params={"tag": "orphan"}, headers=headers)
    by_number = await client.post("/v1/residents/lookups", json={"id_number": number}, headers=headers)
    for response in (one, by_name, by_tag, by_number):
        assert response.status_code == 200, response.text
        for secret in CONTACT.values():
            assert (secret in response.text) is (role is not Role.FUND_OFFICER), (role, secret)
    pages = [by_name.json()["items"], by_tag.json()["items"], by_number.json()["items"]]
    assert all(len(page) == 1 for page in pages), pages
    return [one.json(), *(page[0] for page in pages)]


async def test_a_fund_officer_reads_name_tags_and_masked_id_but_no_contact(
    client, place, register, id_number
) -> None:
    number = id_number()
    tags = ["orphan", "child_in_difficulty"]
    resident = await register(place, full_name="张小花", id_number=number, tags=tags, **CONTACT)

    for seen in await resident_reads(client, place, resident, number, Role.FUND_OFFICER):
        assert not HIDDEN_FROM_FUND_OFFICERS & seen.keys(), seen
        assert seen["full_name"] == "张小花"
        assert sorted(seen["tags"]) == ["child_in_difficulty", "orphan"]  # type: ignore[call-overload]
        assert seen["id_number_masked"] == resident["id_number_masked"]
        assert seen["age"] == resident["age"] and seen["status"] == "active"


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.DISTRICT_ADMIN])
async def test_workers_still_read_the_whole_record(client, place, register, id_number, role: Role) -> None:
    number = id_number()
    resident = await register(place, full_name="张小花", id_number=number, tags=["orphan"], **CONTACT)

    for seen in await resident_reads(client, place, resident, number, role):
        assert {field: seen[field] for field in CONTACT} == CONTACT
        assert seen["birth_date"] == resident["birth_date"]
