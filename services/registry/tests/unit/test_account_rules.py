"""The pure rules of accounts: the grant table, token subjects and the lock-out's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linli_registry.account_rules import (
    GRANTABLE,
    grant_scope,
    lock_ends,
    lock_message,
    may_grant,
    normalise_phone,
    subject_of,
)
from linli_shared.auth import COMMUNITY_LEVEL, Caller, Role

CITY = Caller(subject="a", role=Role.CITY_ADMIN)
DISTRICT = Caller(subject="b", role=Role.DISTRICT_ADMIN, district="d1")
COMMUNITY = Caller(subject="c", role=Role.COMMUNITY_WORKER, district="d1", community="c1")


@pytest.mark.parametrize("role", list(Role))
def test_a_city_admin_grants_any_role(role: Role) -> None:
    assert may_grant(CITY, role, "d9", "c9")


@pytest.mark.parametrize("role", list(Role))
def test_a_district_admin_grants_only_community_roles_in_their_district(role: Role) -> None:
    assert may_grant(DISTRICT, role, "d1", "c1") is (role in COMMUNITY_LEVEL)
    assert not may_grant(DISTRICT, role, "d2", "c1")


@pytest.mark.parametrize("role", list(Role))
def test_a_community_worker_grants_grid_workers_volunteers_and_residents_of_their_community(
    role: Role,
) -> None:
    allowed = role in {Role.GRID_WORKER, Role.VOLUNTEER, Role.RESIDENT}
    assert may_grant(COMMUNITY, role, "d1", "c1") is allowed
    assert not may_grant(COMMUNITY, role, "d1", "c2")


@pytest.mark.parametrize("granter", [r for r in Role if r not in GRANTABLE])
def test_other_roles_grant_nothing(granter: Role) -> None:
    caller = Caller(
        subject="x", role=granter, district="d1", community="c1" if granter in COMMUNITY_LEVEL else None
    )
    assert not any(may_grant(caller, role, "d1", "c1") for role in Role)


def test_a_grants_scope_fits_its_role() -> None:
    assert grant_scope(Role.CITY_ADMIN, "d1", "c1") == (None, None)
    assert grant_scope(Role.AUDITOR, "d1", "c1") == ("d1", None)
    assert grant_scope(Role.GRID_WORKER, "d1", "c1") == ("d1", "c1")
    with pytest.raises(ValueError, match="needs a community"):
        grant_scope(Role.GRID_WORKER, "d1", None)


def test_residents_and_volunteers_are_their_tokens_subject() -> None:
    assert subject_of(Role.RESIDENT, "acc", "res", None) == "res"
    assert subject_of(Role.VOLUNTEER, "acc", None, "vol") == "vol"
    assert subject_of(Role.GRID_WORKER, "acc", "res", "vol") == "acc"
    with pytest.raises(ValueError):
        subject_of(Role.RESIDENT, "acc", None, "vol")


def test_the_lock_out_ends_when_the_window_holds_fewer_failures_than_the_limit() -> None:
    start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    failures = [start + timedelta(minutes=m) for m in (0, 2, 5, 7)]
    window = timedelta(minutes=15)
    assert lock_ends(failures[:2], 3, window) is None
    assert lock_ends(failures, 3, window) == start + timedelta(minutes=2) + window
    assert lock_ends(failures, 4, window) == start + window


def test_the_lock_out_message_says_when_it_ends_in_china_time() -> None:
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    message = lock_message(now + timedelta(minutes=9, seconds=10), now, "zh")
    assert message == "登录失败次数过多，请在 09:09（约 10 分钟后）再试。"
    assert "09:09" in lock_message(now + timedelta(minutes=9), now, "en")


def test_phones_are_compared_without_spaces_or_hyphens() -> None:
    assert normalise_phone("138 0013-8000") == "13800138000"
