"""Each service answers as its own OpenAPI document says: requests generated from the document get
no 5xx and no status, media type or body that the document does not describe."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linli_shared.auth import Role, issue_token
from linli_shared.processes import ServiceProcess
from tests.e2e.conftest import JWT_SECRET

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 12
SERVICES = ["registry", "points", "fund", "notify"]


def worker_token() -> str:
    return issue_token(
        JWT_SECRET, role=Role.COMMUNITY_WORKER, district="gaoqiaoying", community="donglizhuang", subject="w1"
    )


@pytest.mark.parametrize("name", SERVICES)
def test_every_answer_is_described_by_the_openapi_document(
    name: str, nats_url: str, start_service: Callable[..., ServiceProcess]
) -> None:
    service = start_service(name, nats_url)
    document = httpx.get(f"{service.url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {worker_token()}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the document lists no operation"

    @given(data=st.data())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def answer_as_documented(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy())
        case.call_and_validate(base_url=service.url, headers=headers, checks=CHECKS, timeout=10)

    answer_as_documented()
