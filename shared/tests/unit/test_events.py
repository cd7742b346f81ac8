from datetime import UTC, datetime

import pytest

from linli_shared.contracts.registry import ResidentMovedOut, ResidentTagsChanged
from linli_shared.events import Envelope, subject_for
from linli_shared.jetstream import DurableConsumer


def test_subject_names_district_service_and_event() -> None:
    assert subject_for("gaoqiaoying", "registry", "resident.registered") == (
        "linli.gaoqiaoying.registry.resident.registered"
    )


@pytest.mark.parametrize("district", ["", "a.b", "a*", "A", "a>b", "a b"])
def test_subject_refuses_tokens_that_would_break_routing(district: str) -> None:
    with pytest.raises(ValueError):
        subject_for(district, "registry", "resident.registered")


def test_envelope_round_trips_and_refuses_another_type() -> None:
    event = ResidentTagsChanged(resident_id="r1", tags=["dibao"])
    envelope = Envelope.wrap(
        event, district="d1", community="c1", occurred_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    again = Envelope.model_validate_json(envelope.model_dump_json())
    assert again.open(ResidentTagsChanged) == event
    assert again.subject == "linli.d1.registry.resident.tags_changed"
    with pytest.raises(ValueError, match="expected registry.resident.moved_out"):
        again.open(ResidentMovedOut)


def test_envelope_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Envelope.wrap(
            ResidentTagsChanged(resident_id="r", tags=[]),
            district="d",
            community=None,
            occurred_at=datetime(2026, 1, 1),
        )


def test_a_district_consumer_reads_its_district_only_through_a_durable_of_its_own() -> None:
    consumer = DurableConsumer.of_events("registry", consumer="points").in_district("d01")
    assert consumer.filter_subject == "linli.d01.registry.>"
    assert consumer.durable == "points-registry-d01"
    assert consumer.stream == "LINLI_REGISTRY"
