"""Households and residents from a community's register workbook: a dry run that lists every row's
problems, and an import that writes every row or none.

The import is one transaction: households, then residents, each with one multi-row INSERT
(`linli_shared.bulk.insert_rows`); every resident's `resident.registered` and
`resident.contact_changed` staged through the unit of work as a single registration stages them;
and the statistics rollup moved by the same counts its flush listener would have added (the bulk
INSERT passes the ORM by, so the listener never sees these rows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry import domain, register_rows, register_workbook, tally
from linli_registry.access import REGISTRY_WRITERS, check_community_exists
from linli_registry.models import Grid, Household, Resident
from linli_registry.register_rows import Checked, RowProblem
from linli_registry.register_workbook import Sheet
from linli_registry.usecases.residents import contact_changed, new_resident, registered
from linli_shared.auth import Caller
from linli_shared.bulk import insert_rows
from linli_shared.errors import Invalid
from linli_shared.ids import new_ids
from linli_shared.unit_of_work import Made, Work, write

LOOKUP_CHUNK = 500
"""ID-number hashes asked about in one query (SQLite allows a few thousand parameters)."""
ALREADY_REGISTERED = "该身份证号已在本街道登记"


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote, or a dry run would write, and what stands in its way."""

    rows_ok: int
    households: int
    residents: int
    problems: list[RowProblem] = field(default_factory=list)


class ImportRefused(Invalid):
    """The file has problems: nothing was written; the problems travel with the error."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(f"导入未执行：发现 {len(result.problems)} 处问题，没有写入任何数据")
        self.result = result


async def read_workbook(content: bytes) -> Sheet:
    """The workbook's rows, read in a worker thread: 5,000 rows take openpyxl a second or two."""
    return await asyncio.to_thread(register_workbook.read, content)


async def check_import(
    session: AsyncSession,
    caller: Caller,
    district: str,
    community: str,
    sheet: Sheet,
    *,
    id_key: bytes,
    today: date,
) -> ImportResult:
    """The dry run: every problem the import would refuse the file for, and nothing written."""
    caller.check_role(*REGISTRY_WRITERS)
    caller.check_sees(district, community, "community")
    checked = await checked_rows(session, district, community, sheet, id_key=id_key, today=today)
    return result_of(checked)


async def load_import(session: AsyncSession, caller: Caller, result_id: str) -> ImportResult:
    """What an import with this Idempotency-Key wrote (its id holds the counts): the same answer again."""
    caller.check_role(*REGISTRY_WRITERS)
    households, residents = (int(part) for part in result_id.removeprefix("import:").split(":"))
    return ImportResult(rows_ok=residents, households=households, residents=residents)


@write(replay=load_import)
async def import_register(
    uow: Work, caller: Caller, district: str, community: str, sheet: Sheet, *, id_key: bytes
) -> Made[ImportResult]:
    """Register every row's household and resident, or none: any problem refuses the whole file."""
    caller.check_role(*REGISTRY_WRITERS)
    caller.check_sees(district, community, "community")
    checked = await checked_rows(uow.session, district, community, sheet, id_key=id_key, today=uow.now.date())
    if checked.problems:
        raise ImportRefused(result_of(checked))
    household_ids = dict(zip(checked.households, new_ids(len(checked.households)), strict=True))
    await insert_rows(
        uow.session,
        Household,
        [
            {"id": household_ids[key], "district": district, "community": community}
            | {"grid_code": household.grid_code, "address": household.address}
            for key, household in checked.households.items()
        ],
    )
    residents = [
        new_resident(
            row.resident.model_copy(update={"household_id": household_ids.get(row.household or "")}),
            row.id_number,
            row.birth_date,
            id_key=id_key,
            now=uow.now,
        )
        for row in checked.rows
    ]
    await insert_rows(
        uow.session,
        Resident,
        [r.model_dump() for r in residents],
        conflict=f"导入未执行：{ALREADY_REGISTERED}（刚刚被登记）",
    )
    await tally.count_new(uow.session, residents)
    for resident in residents:
        uow.record(registered(resident), district=district, community=community)
        uow.record(contact_changed(resident), district=district, community=community)
    result = ImportResult(rows_ok=len(residents), households=len(household_ids), residents=len(residents))
    return Made(f"import:{result.households}:{result.residents}", result)


async def checked_rows(
    session: AsyncSession, district: str, community: str, sheet: Sheet, *, id_key: bytes, today: date
) -> Checked:
    await check_community_exists(session, district, community)
    grids = await grids_of(session, district, community)
    checked = register_rows.check_sheet(
        sheet, district=district, community=community, grids=grids, today=today
    )
    hashes = {domain.hash_id_number(row.id_number, id_key): row.number for row in checked.rows}
    for digest in await registered_already(session, district, hashes):
        checked.problem(hashes[digest], "id_number", ALREADY_REGISTERED)
    checked.drop_rows_with_problems()
    return checked


async def grids_of(session: AsyncSession, district: str, community: str) -> dict[str, str]:
    """The community's grids by code, and by name where no other grid has that name or code."""
    statement = select(Grid.code, Grid.name).where(Grid.district == district, Grid.community == community)
    grids = list((await session.exec(statement)).all())
    names: dict[str, list[str]] = {}
    for code, name in grids:
        names.setdefault(name, []).append(code)
    by_name = {name: codes[0] for name, codes in names.items() if len(codes) == 1}
    return by_name | {code: code for code, _ in grids}


async def registered_already(session: AsyncSession, district: str, hashes: Iterable[str]) -> set[str]:
    """Which of these ID-number hashes a resident of the district has (any status: the key is unique)."""
    digests = sorted(hashes)
    found: set[str] = set()
    for start in range(0, len(digests), LOOKUP_CHUNK):
        chunk = digests[start : start + LOOKUP_CHUNK]
        statement = select(Resident.id_number_hash).where(
            Resident.district == district, col(Resident.id_number_hash).in_(chunk)
        )
        found.update((await session.exec(statement)).all())
    return found


def result_of(checked: Checked) -> ImportResult:
    return ImportResult(
        rows_ok=len(checked.rows),
        households=len(checked.households),
        residents=len(checked.rows),
        problems=checked.problems,
    )
