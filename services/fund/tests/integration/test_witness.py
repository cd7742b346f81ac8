"""The public verification checks the fund's chain against a witness kept outside the fund's database.

Each attack is an insider's with the database in hand: the append-only trigger removed, then a
single row edited (the chain catches it), the whole chain rewritten with `chained_hash` (valid by
itself, the witness catches it) or the last period deleted (the witness's count catches it). The
witness is a real HTTP server on a free port serving what notify serves: the hashes from the
disclosure.published events, as they left the fund.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import delete, update
from sqlmodel import col, select

from linli_fund.domain.disclosure import canonical, chained_hash
from linli_fund.models import PublishedDisclosure
from linli_shared.natsserver import free_port

from .test_donations import outbox_events
from .test_publication import china_today, public, publish, remove_the_append_only_guard

pytestmark = [pytest.mark.integration]


@dataclass
class Witness:
    url: str
    periods: list[dict[str, object]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def witness() -> Iterator[Witness]:
    """A tiny real HTTP server answering notify's witness route with `periods`."""
    found = Witness(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            body = json.dumps(found.periods).encode()
            self.send_response(found.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def fund_settings(fund_settings, witness):
    return fund_settings.model_copy(update={"witness_url": witness.url, "witness_timeout_seconds": 2.0})


async def witness_what_was_published(client, community, witness: Witness) -> None:
    """What notify keeps: each disclosure.published event's hash, in order."""
    events = await outbox_events(client, ".fund.disclosure.published")
    witness.periods = [
        {
            "sequence": event["payload"]["sequence"],
            "sha256": event["payload"]["sha256"],
            "previous_sha256": event["payload"]["previous_sha256"],
            "published_at": event["occurred_at"],
            "witnessed_at": event["occurred_at"],
            "timestamp_token": None,
            "timestamped_at": None,
        }
        for event in events
        if event["community"] == community.community
    ]


async def three_witnessed_periods(client, community, donate, a_day_later, witness) -> None:
    today = china_today()
    for first, last in ((-9, -6), (-5, -1), (0, 0)):
        if last == 0:
            await donate(community, 10_000, donor_name="王建国")
        published = await publish(
            client, community, today + timedelta(days=first), today + timedelta(days=last), later=a_day_later
        )
        assert published.status_code == 201, published.text
    await witness_what_was_published(client, community, witness)


async def verification(client, community, **params) -> dict[str, object]:
    response = await client.get(f"{public(community)}/verification", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def of_period(community, sequence: int):
    return (
        col(PublishedDisclosure.district) == community.district,
        col(PublishedDisclosure.community) == community.community,
        col(PublishedDisclosure.sequence) == sequence,
    )


async def test_an_untouched_chain_agrees_with_its_witness(
    client, community, donate, a_day_later, witness
) -> None:
    await three_witnessed_periods(client, community, donate, a_day_later, witness)

    verified = await verification(client, community)

    assert (verified["valid"], verified["chain_valid"], verified["broken_at"]) == (True, True, None)
    assert verified["witness"] == {
        "checked": True,
        "reason": "every period matches the hash witnessed when it was published",
        "periods": 3,
    }


async def test_a_single_edited_row_is_caught_by_the_chain(
    client, community, donate, a_day_later, witness
) -> None:
    await three_witnessed_periods(client, community, donate, a_day_later, witness)
    async with client.app.state.session_factory() as session:
        second = (await session.exec(select(PublishedDisclosure).where(*of_period(community, 2)))).one()
        report = json.loads(second.report)
        report["income"]["total_fen"] = 100_000  # ¥0 becomes ¥1,000
        await remove_the_append_only_guard(session)
        await session.exec(
            update(PublishedDisclosure).where(*of_period(community, 2)).values(report=canonical(report))
        )
        await session.commit()

    verified = await verification(client, community)

    assert (verified["valid"], verified["chain_valid"], verified["broken_at"]) == (False, False, 2)
    assert verified["problem"] == "its report no longer matches its hash"


async def test_a_rewritten_chain_is_valid_by_itself_but_broken_at_the_first_period_the_witness_saw_otherwise(
    client, community, donate, a_day_later, witness
) -> None:
    await three_witnessed_periods(client, community, donate, a_day_later, witness)
    async with client.app.state.session_factory() as session:
        await remove_the_append_only_guard(session)
        rows = (
            await session.exec(
                select(PublishedDisclosure)
                .where(*of_period(community, 1)[:2])
                .order_by(col(PublishedDisclosure.sequence))
            )
        ).all()
        previous = rows[0].sha256
        for row in rows[1:]:  # the insider's ten lines: edit period 2, recompute every later link
            report = json.loads(row.report)
            if row.sequence == 2:
                report["income"]["total_fen"] = 100_000
            report_json = canonical(report)
            sha256 = chained_hash(previous, report_json)
            await session.exec(
                update(PublishedDisclosure)
                .where(*of_period(community, row.sequence))
                .values(report=report_json, sha256=sha256, previous_sha256=previous)
            )
            previous = sha256
        await session.commit()

    verified = await verification(client, community)

    assert verified["chain_valid"] is True, "the chain only proves the database agrees with itself"
    assert (verified["valid"], verified["broken_at"]) == (False, 2)
    assert verified["problem"] == "its hash is not the one witnessed when it was published"
    assert verified["latest_sha256"] is None
    page = await client.get(f"{public(community)}/2.html")
    assert "1,000.00" in page.text, "the page shows the invented ¥1,000: only the witness gives it away"


async def test_a_deleted_last_period_is_caught_by_the_witnesss_count(
    client, community, donate, a_day_later, witness
) -> None:
    await three_witnessed_periods(client, community, donate, a_day_later, witness)
    async with client.app.state.session_factory() as session:
        await remove_the_append_only_guard(session)
        await session.exec(delete(PublishedDisclosure).where(*of_period(community, 3)))
        await session.commit()

    verified = await verification(client, community)

    assert (verified["chain_valid"], verified["periods"]) == (True, 2)
    assert (verified["valid"], verified["broken_at"]) == (False, 3)
    assert verified["problem"] == "the witness saw 3 periods, the fund shows 2"


async def test_an_unreachable_witness_leaves_the_chains_verdict_and_says_why(
    client, community, donate, a_day_later, witness
) -> None:
    await three_witnessed_periods(client, community, donate, a_day_later, witness)
    witness.status = 503

    verified = await verification(client, community)

    assert (verified["valid"], verified["chain_valid"], verified["periods"]) == (True, True, 3)
    assert verified["witness"]["checked"] is False
    assert "could not be read" in verified["witness"]["reason"]


async def test_a_saved_hash_names_its_period_or_no_period(
    client, community, donate, a_day_later, witness
) -> None:
    await three_witnessed_periods(client, community, donate, a_day_later, witness)
    listed = (await client.get(public(community))).json()
    second = listed[1]

    full = await verification(client, community, sha256=second["sha256"])
    printed = await verification(client, community, sha256=second["short_code"])
    unknown = await verification(client, community, sha256="0" * 64)

    for found in (full, printed):
        assert found["lookup"]["found"] is True
        assert (found["lookup"]["sequence"], found["lookup"]["last_day"]) == (2, second["last_day"])
    assert unknown["lookup"] == {
        "sha256": "0" * 64,
        "found": False,
        "sequence": None,
        "first_day": None,
        "last_day": None,
        "message": "no published period of this community carries this hash",
    }
