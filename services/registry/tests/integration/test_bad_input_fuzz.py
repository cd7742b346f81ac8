"""Whatever a caller sends, the answer is a 2xx/4xx, never a 500 (hypothesis-generated input)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli_registry.app import create_app
from linli_registry.settings import RegistrySettings
from linli_shared.auth import Role

pytestmark = [pytest.mark.integration]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
RESIDENT_FIELDS = [
    "district",
    "community",
    "grid_code",
    "household_id",
    "full_name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "tags",
]
resident_like = st.fixed_dictionaries({}, optional=dict.fromkeys(RESIDENT_FIELDS, json_values))


@pytest.fixture(scope="module")
def http(
    tmp_path_factory: pytest.TempPathFactory, nats_server_url: str, test_secrets: dict[str, str]
) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("fuzz") / "registry.db"
    app = create_app(
        RegistrySettings(
            database_url=f"sqlite+aiosqlite:///{database}",
            nats_url=nats_server_url,
            **test_secrets,
        )
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def worker(http: TestClient, make_headers) -> dict[str, str]:  # noqa: ANN001
    headers = make_headers
    admin = headers(Role.CITY_ADMIN, None)
    assert http.post("/v1/districts", json={"code": "fuzz", "name": "f"}, headers=admin).status_code == 201
    body = {"district": "fuzz", "code": "c1", "name": "c"}
    assert http.post("/v1/communities", json=body, headers=admin).status_code == 201
    return headers(Role.COMMUNITY_WORKER, "fuzz", "c1")


def check_answer(response) -> None:  # noqa: ANN001
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=resident_like)
def test_any_resident_body_gets_no_500(
    http: TestClient, worker: dict[str, str], body: dict[str, object]
) -> None:
    check_answer(http.post("/v1/residents", json=body, headers=worker))


@FUZZ
@given(
    body=json_values,
    path=st.sampled_from(
        [
            "/v1/care-groups",
            "/v1/visits",
            "/v1/households",
            "/v1/grids",
            "/v1/residents/lookups",
            "/v1/communities",
        ]
    ),
)
def test_any_body_on_any_post_gets_no_500(
    http: TestClient, worker: dict[str, str], body: object, path: str
) -> None:
    check_answer(http.post(path, json=body, headers=worker))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["name", "tag", "grid_code", "status", "cursor", "limit"]),
        st.text(max_size=40),
        max_size=6,
    )
)
def test_any_query_on_the_resident_list_gets_no_500(http: TestClient, worker: dict[str, str], params) -> None:  # noqa: ANN001
    check_answer(http.get("/v1/residents", params=params, headers=worker))


@FUZZ
@given(resident_id=st.text(max_size=60), body=json_values)
def test_any_health_record_write_gets_no_500(
    http: TestClient, worker, resident_id: str, body: object
) -> None:  # noqa: ANN001
    check_answer(
        http.put(f"/v1/residents/{quote(resident_id, safe='')}/health-record", json=body, headers=worker)
    )


@FUZZ
@given(resident_id=st.text(max_size=60), body=json_values)
def test_any_contact_change_gets_no_500(http: TestClient, worker, resident_id: str, body: object) -> None:  # noqa: ANN001
    check_answer(http.put(f"/v1/residents/{quote(resident_id, safe='')}/contact", json=body, headers=worker))
