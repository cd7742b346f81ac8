"""What the API is sent for each piece of demo data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from linli_registry.demo.care import visit_time
from linli_registry.demo.data import demo_data
from linli_registry.demo.model import (
    DemoCareGroup,
    DemoGrid,
    DemoHealth,
    DemoHousehold,
    DemoPerson,
    DemoVisit,
)


def place() -> dict[str, str]:
    data = demo_data()
    return {"district": data.district, "community": data.community}


def grid_body(grid: DemoGrid) -> dict[str, Any]:
    return {**place(), "code": grid.code, "name": grid.name, "grid_worker": grid.grid_worker}


def household_body(household: DemoHousehold) -> dict[str, Any]:
    return {**place(), "grid_code": household.grid_code, "address": household.address}


def resident_body(person: DemoPerson, household_id: str) -> dict[str, Any]:
    return {
        **place(),
        "grid_code": person.grid_code,
        "household_id": household_id,
        "full_name": person.full_name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat(),
        "id_number": person.id_number,
        "phone": person.phone,
        "guardian_name": person.guardian_name,
        "guardian_relation": person.guardian_relation,
        "guardian_phone": person.guardian_phone,
        "tags": sorted(tag.value for tag in person.tags),
    }


def health_body(health: DemoHealth) -> dict[str, Any]:
    return {
        "address": health.address,
        "children_phones": list(health.children_phones),
        "past_illnesses": health.past_illnesses,
        "regular_medicines": health.regular_medicines,
        "notes": health.notes,
    }


def care_group_body(
    group: DemoCareGroup, resident_id: str, formed_at: datetime | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resident_id": resident_id,
        "community_worker": demo_data().community_worker,
        "grid_worker": group.grid_worker,
        "neighbour_name": group.neighbour_name,
        "neighbour_phone": group.neighbour_phone,
    }
    if formed_at is not None:
        body["formed_at"] = formed_at.isoformat()
    return body


def visit_body(visit: DemoVisit, resident_id: str, formed_at: datetime) -> dict[str, Any]:
    return {
        "resident_id": resident_id,
        "kind": visit.kind.value,
        "visited_at": visit_time(formed_at, visit).isoformat(),
        "findings": visit.findings,
        "follow_up": visit.follow_up,
    }
