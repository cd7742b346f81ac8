"""Checking a community's published chain: by itself, against the witness outside the fund, and for a
hash someone saved.

The chain alone proves only that the database agrees with itself: an insider who rewrites a report
can recompute every later hash. The witness (notify keeps every published hash from the
disclosure.published events) holds the hashes as they left the fund, so a rewritten period shows
as broken at the first one whose hash differs, and a deleted last period by the count. A witness
that does not answer leaves the chain's own verdict, with the reason it was not checked.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_fund.api.publication_schemas import ChainVerificationOut, HashLookupOut, WitnessCheckOut
from linli_fund.domain.disclosure import Break, Link, chained_hash, witness_break
from linli_fund.models import PublishedDisclosure
from linli_fund.usecases.publication import published_list


class WitnessedHash(BaseModel):
    """One period as the witness saw it published (the fields a comparison needs)."""

    model_config = ConfigDict(extra="ignore")
    sequence: int
    sha256: str


WITNESS_LIST = TypeAdapter(list[WitnessedHash])


def chain_break(rows: list[PublishedDisclosure]) -> Break | None:
    """Recompute every link: a changed report, hash, or a missing period shows where the chain breaks."""
    previous_sha256: str | None = None
    for expected_sequence, row in enumerate(rows, start=1):
        if row.sequence != expected_sequence:
            return Break(row.sequence, f"period {expected_sequence} is missing")
        if row.previous_sha256 != previous_sha256:
            return Break(row.sequence, "it does not point at the previous period's hash")
        if chained_hash(row.previous_sha256, row.report) != row.sha256:
            return Break(row.sequence, "its report no longer matches its hash")
        previous_sha256 = row.sha256
    return None


async def witnessed_links(
    witness_url: str, timeout: float, district: str, community: str
) -> list[Link] | str:
    """The hashes the witness saw published, in order, or why they could not be had."""
    if not witness_url:
        return "no witness is configured (LINLI_FUND_WITNESS_URL)"
    url = f"{witness_url.rstrip('/')}/v1/public/witness/{district}/{community}/disclosures"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url)
        response.raise_for_status()
        witnessed = WITNESS_LIST.validate_json(response.content)
    except (httpx.HTTPError, ValidationError) as error:
        return f"the witness at {witness_url} could not be read: {type(error).__name__}"
    return [Link(w.sequence, w.sha256) for w in witnessed]


def witness_check(
    rows: list[PublishedDisclosure], witnessed: list[Link] | str
) -> tuple[WitnessCheckOut, Break | None]:
    if isinstance(witnessed, str):
        return WitnessCheckOut(checked=False, reason=witnessed), None
    found = witness_break([Link(row.sequence, row.sha256) for row in rows], witnessed)
    if found is not None:
        reason = f"period {found.sequence}: {found.problem}"
    else:
        unseen = len({row.sequence for row in rows} - {link.sequence for link in witnessed})
        reason = "every period matches the hash witnessed when it was published"
        if unseen:
            reason += f" ({unseen} not witnessed yet)"
    return WitnessCheckOut(checked=True, reason=reason, periods=len(witnessed)), found


def lookup(rows: list[PublishedDisclosure], sha256: str) -> HashLookupOut:
    """Which period carries a saved hash (or the first digits of one, as the page prints them)."""
    wanted = "".join(sha256.split()).lower()
    matches = [row for row in rows if row.sha256.startswith(wanted)] if wanted else []
    if len(matches) != 1:
        message = (
            f"{len(matches)} periods start with these digits: give more of the hash"
            if matches
            else "no published period of this community carries this hash"
        )
        return HashLookupOut(sha256=wanted, found=False, message=message)
    [row] = matches
    return HashLookupOut(
        sha256=wanted,
        found=True,
        sequence=row.sequence,
        first_day=row.first_day,
        last_day=row.last_day,
        message=f"period {row.sequence} ({row.first_day} to {row.last_day}) carries this hash",
    )


async def verify(
    session: AsyncSession,
    district: str,
    community: str,
    *,
    witness_url: str,
    timeout: float,
    sha256: str | None = None,
) -> ChainVerificationOut:
    """The chain's own verdict, the witness's, and the period of a saved hash if one is asked about."""
    rows = await published_list(session, district, community)
    in_chain = chain_break(rows)
    witness, against_witness = witness_check(
        rows, await witnessed_links(witness_url, timeout, district, community)
    )
    breaks = [found for found in (in_chain, against_witness) if found is not None]
    first = min(breaks, key=lambda found: found.sequence) if breaks else None
    return ChainVerificationOut(
        valid=first is None,
        chain_valid=in_chain is None,
        periods=len(rows),
        broken_at=first.sequence if first else None,
        problem=first.problem if first else None,
        latest_sha256=rows[-1].sha256 if rows and first is None else None,
        witness=witness,
        lookup=lookup(rows, sha256) if sha256 is not None else None,
    )
