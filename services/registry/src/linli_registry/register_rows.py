"""The rows of a register workbook checked together, without a database: each row on its own
(`register_fields`), then across the file (a number twice, a household's address); problems in
Chinese. What needs the database (is this number registered in the district already?) is the use
case's (`usecases/imports.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from linli_registry.register_fields import CheckedRow, RowCheck, text_of
from linli_registry.register_workbook import BY_KEY, COLUMNS, Sheet
from linli_shared.errors import Invalid

__all__ = ["Checked", "CheckedRow", "Household", "RowProblem", "check_sheet"]

COLUMN_ORDER = {column.header: index for index, column in enumerate(COLUMNS)}


@dataclass(frozen=True)
class RowProblem:
    """What is wrong, where: the row's number in Excel, the column's header, the reason in Chinese."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class Household:
    key: str
    address: str
    grid_code: str | None


@dataclass
class Checked:
    """The rows that hold a registration, their households, and every problem found."""

    rows_read: int = 0
    rows: list[CheckedRow] = field(default_factory=list)
    households: dict[str, Household] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, row: int, key: str, message: str) -> None:
        self.problems.append(RowProblem(row, BY_KEY[key].header if key in BY_KEY else key, message))

    def drop_rows_with_problems(self) -> None:
        bad = {problem.row for problem in self.problems}
        self.rows = [row for row in self.rows if row.number not in bad]
        kept = {row.household for row in self.rows}
        self.households = {key: h for key, h in self.households.items() if key in kept}
        self.problems.sort(key=lambda p: (p.row, COLUMN_ORDER.get(p.column, len(COLUMN_ORDER))))


def check_sheet(
    sheet: Sheet, *, district: str, community: str, grids: Mapping[str, str], today: date
) -> Checked:
    """Every row checked on its own, then across the file: duplicate ID numbers, households."""
    checked = Checked(rows_read=len(sheet.rows))
    for header_problem in sheet.header_problems:
        checked.problems.append(RowProblem(sheet.header_row, header_problem.column, header_problem.message))
    if checked.problems:
        return checked
    if not sheet.rows:
        raise Invalid("表格中没有居民：请从表头下一行起每行填写一位居民")
    for row in sheet.rows:
        if (good := RowCheck(row, checked.problem, grids, today).resident(district, community)) is not None:
            checked.rows.append(good)
    check_duplicates(checked)
    check_households(checked, sheet)
    checked.drop_rows_with_problems()
    return checked


def check_duplicates(checked: Checked) -> None:
    first: dict[str, int] = {}
    for row in checked.rows:
        if (seen := first.setdefault(row.id_number, row.number)) != row.number:
            checked.problem(row.number, "id_number", f"身份证号与第 {seen} 行重复")


def check_households(checked: Checked, sheet: Sheet) -> None:
    """Rows with one 户号 (or, without one, one address) are one household; its address is given once
    or alike on every row, and its grid is its residents' grid if they share one."""
    addresses = {row.number: text_of(row.cells.get("address")) for row in sheet.rows}
    first_address: dict[str, tuple[int, str]] = {}
    members: dict[str, list[CheckedRow]] = {}
    for row in checked.rows:
        if row.household is None:
            continue
        members.setdefault(row.household, []).append(row)
        if not (address := addresses[row.number]):
            continue
        seen_at, seen = first_address.setdefault(row.household, (row.number, address))
        if seen != address:
            checked.problem(row.number, "address", f"同一户的住址与第 {seen_at} 行不一致（「{seen}」）")
    for key, rows in members.items():
        if key not in first_address:
            checked.problem(rows[0].number, "address", f"户号「{key}」没有填写住址")
            continue
        grid_codes = {row.resident.grid_code for row in rows}
        grid = grid_codes.pop() if len(grid_codes) == 1 else None
        checked.households[key] = Household(key, first_address[key][1], grid)
