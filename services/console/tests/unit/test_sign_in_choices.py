from __future__ import annotations

from linli_console.pages_sign_in import choices


def test_one_role_held_in_two_places_is_told_apart_by_the_places_names() -> None:
    worker = {"role": "community_worker", "district": "d1"}
    grants = [
        {**worker, "id": "1", "community": "c1", "community_name": "东李庄社区"},
        {**worker, "id": "2", "community": "c2", "community_name": None},
        {"id": "3", "role": "auditor", "district": "d1", "community": None, "district_name": "高桥营街道"},
    ]
    assert [c["label"] for c in choices(grants)] == ["社区工作者（东李庄社区）", "社区工作者（c2）", "审计员"]
