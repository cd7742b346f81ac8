import threading
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from linli_shared import auth
from linli_shared.auth import Caller, Role, issue_token, read_token
from linli_shared.errors import NotFound, Unauthorized

SECRET = "s" * 40


def test_token_round_trip_keeps_scope() -> None:
    token = issue_token(SECRET, role=Role.GRID_WORKER, district="d1", community="c1", subject="wang")
    assert read_token(SECRET, token) == Caller(
        subject="wang", role=Role.GRID_WORKER, district="d1", community="c1"
    )


def test_token_signed_with_another_secret_is_refused() -> None:
    token = issue_token("x" * 40, role=Role.CITY_ADMIN, district=None)
    with pytest.raises(Unauthorized):
        read_token(SECRET, token)


def test_expired_token_is_refused() -> None:
    token = issue_token(SECRET, role=Role.CITY_ADMIN, district=None, lifetime=timedelta(seconds=-1))
    with pytest.raises(Unauthorized):
        read_token(SECRET, token)


def test_a_token_verified_before_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(SECRET, role=Role.CITY_ADMIN, district=None, lifetime=timedelta(minutes=5))
    assert read_token(SECRET, token).role is Role.CITY_ADMIN  # verified, and remembered
    later = auth.time.time() + 301
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        read_token(SECRET, token)


def test_community_role_without_community_cannot_get_a_token() -> None:
    with pytest.raises(ValueError, match="needs a community"):
        issue_token(SECRET, role=Role.VOLUNTEER, district="d1")


@pytest.mark.parametrize(
    ("caller", "district", "community", "visible"),
    [
        (Caller(subject="a", role=Role.CITY_ADMIN), "d2", "c9", True),
        (Caller(subject="a", role=Role.DISTRICT_ADMIN, district="d1"), "d1", "c9", True),
        (Caller(subject="a", role=Role.DISTRICT_ADMIN, district="d1"), "d2", "c1", False),
        (Caller(subject="a", role=Role.COMMUNITY_WORKER, district="d1", community="c1"), "d1", "c1", True),
        (Caller(subject="a", role=Role.COMMUNITY_WORKER, district="d1", community="c1"), "d1", "c2", False),
        (Caller(subject="a", role=Role.GRID_WORKER, district="d1", community="c1"), "d2", "c1", False),
    ],
)
def test_scope(caller: Caller, district: str, community: str, visible: bool) -> None:
    assert caller.can_see(district, community) is visible
    if not visible:
        with pytest.raises(NotFound):
            caller.check_sees(district, community)


async def test_the_caller_is_read_on_the_event_loop_not_in_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain `def` dependency runs in FastAPI's thread pool: a thread hop for every request."""
    secret = "s" * 40
    threads: list[int] = []

    def recording_read_token(key: str, token: str) -> Caller:
        threads.append(threading.get_ident())
        return read_token(key, token)

    monkeypatch.setattr(auth, "read_token", recording_read_token)
    app = FastAPI()
    app.state.settings = SimpleNamespace(jwt_secret=SecretStr(secret))

    @app.get("/me")
    async def me(caller: auth.CallerDep) -> dict[str, str]:
        return {"subject": caller.subject}

    token = issue_token(secret, role=Role.CITY_ADMIN, district=None, subject="alice")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"subject": "alice"}
    assert threads == [threading.get_ident()]
