"""The registry's place.named: a district's or a community's name, on the registry's subject."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from linli_shared.contracts.registry import PlaceNamed
from linli_shared.events import Envelope, events_of

WHEN = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_a_communitys_name_travels_with_its_districts_on_the_registrys_subject() -> None:
    event = PlaceNamed(
        district="gaoqiaoying",
        district_name="高桥营街道",
        community="donglizhuang",
        community_name="东李庄社区",
    )
    envelope = Envelope.wrap(event, district="gaoqiaoying", community="donglizhuang", occurred_at=WHEN)
    again = Envelope.model_validate_json(envelope.model_dump_json())
    assert again.subject == "linli.gaoqiaoying.registry.place.named"
    assert (again.event_type, again.schema_version) == ("registry.place.named", 1)
    assert again.open(PlaceNamed) == event
    assert PlaceNamed in events_of("registry")


def test_a_districts_event_names_no_community() -> None:
    event = PlaceNamed(district="gaoqiaoying", district_name="高桥营街道")
    assert event.model_dump(mode="json") == {
        "district": "gaoqiaoying",
        "district_name": "高桥营街道",
        "community": None,
        "community_name": None,
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"district": "d1"},  # no name
        {"district": "d1", "district_name": "高桥营街道", "name": "东李庄社区"},  # a field it does not have
    ],
)
def test_a_payload_that_breaks_the_contract_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PlaceNamed.model_validate(payload)
