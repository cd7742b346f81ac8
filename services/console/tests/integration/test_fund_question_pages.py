"""The 公示期 pages over the real fund app (its lifespan run, on the test's database and NATS): a
resident questions a donation of a published period, a double tap asks once, an empty question and
a closed period are refused next to the field in Chinese; a fund officer answers, and the period
shows the answer and "公示期内 1 条质询，已答复 1 条"."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import Request

from linli_console.app import create_app as create_console
from linli_console.services import Services
from linli_console.settings import ConsoleSettings
from linli_fund.app import create_app as create_fund
from linli_fund.settings import FundSettings
from linli_shared.auth import Role, issue_token
from linli_shared.clock import china_day, utc_now
from linli_shared.idempotency import IdempotencyDep
from linli_shared.natsserver import free_port
from linli_shared.testing.communities import Community
from linli_shared.testing.http import TEST_JWT_SECRET, running_app
from linli_shared.unit_of_work import UnitOfWork, unit_of_work

from ..conftest import CONSOLE, console_settings

pytestmark = [pytest.mark.integration]

RESIDENT, OFFICER = "resident-q1", "officer-q1"


@dataclass
class Fund:
    client: httpx.AsyncClient
    console: httpx.AsyncClient
    settings: ConsoleSettings
    place: Community
    receipt: str

    def sign_in_as(self, role: Role, subject: str) -> None:
        """The console's cookie as the registry would set it (the fund trusts the test secret)."""
        token = issue_token(
            TEST_JWT_SECRET,
            role=role,
            district=self.place.district,
            community=self.place.community,
            subject=subject,
        )
        self.console.cookies.set(self.settings.access_cookie, token)

    async def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return await self.console.post(path, data=data, headers={"Origin": CONSOLE})

    @contextmanager
    def writes_later(self, later: timedelta) -> Iterator[None]:
        """Within it, the fund's writes run `later` than now (its unit of work's clock)."""

        async def unit_of_work_later(request: Request, idempotency: IdempotencyDep) -> UnitOfWork:
            factory = request.app.state.session_factory
            return UnitOfWork(factory, idempotency=idempotency, clock=lambda: utc_now() + later)

        overrides = self.client.app.dependency_overrides  # type: ignore[attr-defined]
        overrides[unit_of_work] = unit_of_work_later
        try:
            yield
        finally:
            overrides.pop(unit_of_work, None)


@pytest.fixture
async def fund(database_url: str, nats_url: str) -> AsyncIterator[Fund]:
    """A community whose fund received 1,280.50 yuan yesterday and published yesterday as period 1."""
    settings = FundSettings(
        database_url=database_url, nats_url=nats_url, jwt_secret=TEST_JWT_SECRET, request_instalments=False
    )
    place = Community.new()
    async with running_app(create_fund(settings)) as client:
        yesterday = china_day(utc_now()) - timedelta(days=1)
        gift = await client.post(
            "/v1/donations",
            json={
                "district": place.district,
                "community": place.community,
                "donor_kind": "enterprise",
                "donor_name": "东李庄便民超市",
                "channel": "bank_transfer",
                "amount_fen": 128_050,
                "received_on": str(yesterday),
            },
            headers=place.as_(Role.FUND_OFFICER, OFFICER),
        )
        assert gift.status_code == 201, gift.text
        published = await client.post(
            f"/v1/funds/{place.district}/{place.community}/disclosures",
            json={"first_day": str(yesterday), "last_day": str(yesterday)},
            headers=place.as_(Role.FUND_OFFICER, OFFICER),
        )
        assert published.status_code == 201, published.text
        nowhere = f"http://127.0.0.1:{free_port()}"  # the registry: the page names the place by its code
        app = create_console(console_settings(registry_url=nowhere, fund_url="http://fund"))
        async with app.router.lifespan_context(app):
            await app.state.services.client.aclose()
            to_fund = httpx.ASGITransport(app=client.app)  # type: ignore[attr-defined]
            app.state.services = Services(
                app.state.settings, httpx.AsyncClient(mounts={"http://fund": to_fund})
            )
            browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=CONSOLE)
            async with browser:
                yield Fund(client, browser, app.state.settings, place, str(gift.json()["receipt_number"]))
            await app.state.services.client.aclose()


def form_key(page: str, line: str) -> str:
    found = re.search(rf'name="key" value="([^"]+-{re.escape(line)})"', page)
    assert found, f"no form for {line}"
    return found.group(1)


def visible_text(page: str) -> str:
    return re.sub(r"<[^>]+>", "", page)


async def test_a_resident_asks_once_and_reads_the_officers_answer(fund: Fund) -> None:
    line = f"donation-{fund.receipt}"
    fund.sign_in_as(Role.RESIDENT, RESIDENT)
    listing = await fund.console.get("/fund/questions")
    assert listing.status_code == 200, listing.text
    open_periods = listing.text.split('id="open-periods"')[1].split("</ul>")[0]
    assert "第 1 期：" in open_periods and "收入 ¥1,280.50" in open_periods
    assert "公示期内 0 条质询，已答复 0 条" in open_periods

    period = await fund.console.get("/fund/questions/1")
    assert period.status_code == 200
    assert f"捐赠 No.{fund.receipt} · ¥1,280.50" in period.text and "东李庄便民超市" in period.text
    assert "对这一笔提出质询" in period.text
    key = form_key(period.text, line)
    asked = {"key": key, "line_kind": "donation", "line_ref": fund.receipt, "text": "这笔钱入账了吗？"}

    empty = await fund.post("/fund/questions/1", {**asked, "text": "  "})
    assert empty.status_code == 422
    assert f'id="text-{line}-error"' in empty.text and "请写下您想问的" in empty.text

    first = await fund.post("/fund/questions/1", asked)
    again = await fund.post("/fund/questions/1", asked)  # a double tap: the same form's key
    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"]
    shown = await fund.console.get(first.headers["location"])
    assert "您的质询已提交" in shown.text and "（您刚提出的）" in shown.text
    assert "这笔钱入账了吗？" in shown.text and "等待基金管理员答复" in shown.text
    assert "公示期内 1 条质询，已答复 0 条" in shown.text

    fund.sign_in_as(Role.FUND_OFFICER, OFFICER)
    desk = await fund.console.get("/fund/questions")
    assert desk.status_code == 200
    waiting = desk.text.split("<h1>等我答复的质询</h1>")[1].split("已答复</h2>")[0]
    assert "第 1 期 · 捐赠 No." in waiting and "这笔钱入账了吗？" in waiting
    question_id = re.search(r'id="question-([0-9a-f-]+)"', waiting)
    assert question_id, waiting
    target = f"/fund/questions/1/{question_id.group(1)}/answer"
    answer_key = form_key(desk.text, question_id.group(1))
    wrong_entry = await fund.post(
        target, {"key": answer_key, "text": "已核对银行流水。", "correction_entry_id": "99999"}
    )
    assert wrong_entry.status_code == 422
    assert f'id="entry-{question_id.group(1)}-error"' in wrong_entry.text
    assert "不是本社区在该期之后做的冲正分录" in wrong_entry.text

    answered = await fund.post(target, {"key": answer_key, "text": "已核对银行流水，款项已入账。"})
    assert answered.status_code == 303
    after = await fund.console.get(answered.headers["location"])
    assert "已答复。" in after.text and "现在没有等待答复的质询。" in after.text
    assert "基金管理员于" in after.text and "款项已入账" in after.text

    fund.sign_in_as(Role.RESIDENT, RESIDENT)
    own = await fund.console.get("/fund/questions/1")
    assert "款项已入账" in own.text and "公示期内 1 条质询，已答复 1 条" in own.text
    assert RESIDENT not in own.text and OFFICER not in own.text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", visible_text(own.text)), "people's words only"


async def test_a_question_after_the_period_closed_is_refused_next_to_the_field(fund: Fund) -> None:
    line = f"donation-{fund.receipt}"
    fund.sign_in_as(Role.RESIDENT, RESIDENT)
    period = await fund.console.get("/fund/questions/1")
    asked = {
        "key": form_key(period.text, line),
        "line_kind": "donation",
        "line_ref": fund.receipt,
        "text": "这笔钱入账了吗？",
    }
    with fund.writes_later(timedelta(days=9)):
        late = await fund.post("/fund/questions/1", asked)
    assert late.status_code == 409
    error = late.text.split(f'id="text-{line}-error">')[1].split("</p>")[0]
    assert "公示期已于" in error and "不能再提出质询" in error
    assert not re.search(r"\d{4}-\d{2}-\d{2}", error), "the day in people's words"
    assert 'aria-invalid="true"' in late.text and '<details class="later" open>' in late.text


async def test_only_a_resident_sees_the_question_form(fund: Fund) -> None:
    fund.sign_in_as(Role.FUND_OFFICER, OFFICER)
    period = await fund.console.get("/fund/questions/1")
    assert period.status_code == 200 and "对这一笔提出质询" not in period.text
    fund.sign_in_as(Role.RESIDENT, RESIDENT)
    missing = await fund.console.get("/fund/questions/2")
    assert missing.status_code == 404 and "这一期还没有公示" in missing.text
