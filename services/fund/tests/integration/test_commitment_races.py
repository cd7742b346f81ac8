"""On PostgreSQL, payments out of a commitment race its release and its beneficiary's death.

Each of them locks the commitment's row and the fund's guarded rows; taken in different orders,
two of them would deadlock (PostgreSQL aborts one: a 500). Every round races three payments
against the end of the commitment; the books must then hold whatever the winners were.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import pytest

from linli_fund.subscribers import REGISTRY, handlers
from linli_shared.auth import Role
from linli_shared.contracts.registry import ResidentDied
from linli_shared.events import Envelope
from linli_shared.inbox import apply_once

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

ROUNDS = 8
TERM_FEN = 5_000


@pytest.fixture
def database_url(pg_database_url: str) -> str:
    """Only PostgreSQL: SQLite runs one writer at a time, so it has no lock order to get wrong."""
    return pg_database_url


def pay(client, community, term: dict[str, object]):
    return client.post(
        f"/v1/disbursements/{term['id']}/payment",
        json={},
        headers=community.as_(Role.FUND_OFFICER, "officer-c"),
    )


async def check_books(client, community, donated_fen: int) -> None:
    """Trial balance zero; the fund's balance is what came in less what was paid; its reserve (in the
    guarded row and in the journal alike) is exactly what the still-active commitments hold."""
    auditor = community.as_(Role.AUDITOR)
    trial = (await client.get(f"{community.fund_path}/trial-balance", headers=auditor)).json()
    assert trial["total_debit"] == trial["total_credit"]
    funds = (await client.get(community.fund_path, headers=auditor)).json()
    education = next(line for line in funds["funds"] if line["fund"] == "education")
    paid = [
        d
        for d in (await client.get("/v1/disbursements?limit=200", headers=auditor)).json()["items"]
        if d["status"] == "paid"
    ]
    commitments = (await client.get("/v1/commitments?limit=200", headers=auditor)).json()["items"]
    held = sum(c["remaining_fen"] for c in commitments if c["status"] == "active")
    journal_reserve = next(
        line["credit"] - line["debit"]
        for line in trial["lines"]
        if line["account"] == "equity:reserved:education"
    )
    assert education["balance_fen"] == donated_fen - sum(d["amount_fen"] for d in paid)
    assert education["reserved_fen"] == journal_reserve == held >= 0
    for commitment in commitments:
        drawn = sum(d["amount_fen"] for d in paid if d["commitment_id"] == commitment["id"])
        if commitment["status"] == "active":
            assert commitment["remaining_fen"] == commitment["total_fen"] - drawn
        else:
            assert commitment["remaining_fen"] == 0


async def race_rounds(
    client, community, donate, known_resident, commit, approved_term, end: Callable[[dict], Awaitable[bool]]
) -> None:
    """Each round: money in, a promise, three approved terms; their payments race `end` (which ends
    the promise and says it did). No payment may fail but by a 409, and the books must hold after."""
    donated = 0
    for _ in range(ROUNDS):
        await donate(community, 100_000, restricted_to="education")
        donated += 100_000
        commitment = (await commit(community, await known_resident(community), 50_000)).json()
        terms = [await approved_term(community, commitment, TERM_FEN) for _ in range(3)]

        *payments, ended = await asyncio.gather(
            *(pay(client, community, term) for term in terms), end(commitment)
        )

        assert {p.status_code for p in payments} <= {200, 409}, [p.text for p in payments]
        assert ended is True
        await check_books(client, community, donated)


async def test_payments_racing_a_release_never_deadlock_and_keep_the_books(
    client, community, donate, known_resident, commit, approved_term
) -> None:
    async def release(commitment: dict) -> bool:
        released = await client.post(
            f"/v1/commitments/{commitment['id']}/release",
            headers=community.as_(Role.FUND_OFFICER, "officer-d"),
        )
        assert released.status_code == 200, released.text
        return True

    await race_rounds(client, community, donate, known_resident, commit, approved_term, release)


async def test_payments_racing_a_death_from_the_registry_never_deadlock_and_keep_the_books(
    client, community, donate, known_resident, commit, approved_term
) -> None:
    async def die(commitment: dict) -> bool:
        death = Envelope.wrap(
            ResidentDied(resident_id=str(commitment["resident_id"]), on=date.today()),
            district=community.district,
            community=community.community,
            occurred_at=datetime.now(UTC),
        )
        factory = client.app.state.session_factory
        return await apply_once(factory, REGISTRY.consumer.durable, death, handlers)

    await race_rounds(client, community, donate, known_resident, commit, approved_term, die)
