"""The register workbook (.xlsx): the template a community fills in, and the reading of a filled one.

Only openpyxl and the column list live here; what a row must hold is `register_rows`. Reading is
bounded before openpyxl unpacks anything: a file that is not a zip, or that would unpack to more
than MAX_UNPACKED_BYTES, or holds more than MAX_ROWS data rows, is refused whole.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from linli_shared.errors import Invalid

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "居民登记"
NOTES_SHEET = "填写说明"
MAX_ROWS = 10_000
"""Data rows one import takes: a large community's register; a 5,000-row file is about 260 kB."""
MAX_SCANNED_ROWS = 3 * MAX_ROWS
"""Rows looked at, empty ones included, before the file is refused as too long."""
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
"""What the workbook's parts may unpack to: a small file that unpacks to gigabytes is refused."""
TEXT_FORMATTED_ROWS = 1000
HEADER_SEARCH_ROWS = 10
"""The header is the first of these rows that names 姓名: a title row above it is allowed."""


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    note: str
    example: str
    text: bool = False
    """Formatted as text in the template, so Excel keeps all 18 digits and leading zeros."""
    width: int = 12


COLUMNS = (
    Column(
        "household_ref", "户号", False, "同一户的居民填同一户号（如 3-2-101）；不填则按住址归户", "3-2-101"
    ),
    Column(
        "address",
        "住址",
        False,
        "该户的住址；同一户号的各行一致，填一次即可",
        "东李庄社区3号楼2单元101",
        width=28,
    ),
    Column("full_name", "姓名", True, "居民姓名，最多100字", "王桂兰"),
    Column("gender", "性别", True, "男、女或其他", "女", width=8),
    Column(
        "id_number",
        "身份证号",
        True,
        "18位公民身份号码，末位可为X；请保持文本格式",
        "11010519500301002X",
        True,
        22,
    ),
    Column("birth_date", "出生日期", False, "不填则取身份证号中的日期；格式 1950-03-01", "", width=14),
    Column("grid_code", "网格", False, "本社区的网格代码或名称（如 zone-1 或 一片区）", "zone-1"),
    Column("phone", "电话", False, "数字，可用空格或连字符分组，可带+，3–30位", "13800138000", True, 16),
    Column("guardian_name", "监护人", False, "为居民应答的人，最多100字", "李建国"),
    Column("guardian_relation", "监护人关系", False, "如 儿子、女儿、奶奶、监护人，最多20字", "儿子"),
    Column("guardian_phone", "监护人电话", False, "同电话的格式", "13900139000", True, 16),
    Column(
        "tags",
        "标签",
        False,
        "可多个，用分号隔开：独居;孤寡;残疾;失能;低保;贫困户;孤儿;困境儿童;退役军人;党员",
        "独居;低保",
        width=20,
    ),
)
BY_KEY = {column.key: column for column in COLUMNS}
BY_HEADER = {column.header: column for column in COLUMNS} | {column.key: column for column in COLUMNS}


@dataclass(frozen=True)
class SheetRow:
    """One data row as openpyxl read it: its number in Excel and each known column's raw value."""

    number: int
    cells: dict[str, Any]


@dataclass(frozen=True)
class HeaderProblem:
    column: str
    message: str


@dataclass
class Sheet:
    """The rows of a filled-in register, and what is wrong with its header row."""

    header_row: int = 1
    rows: list[SheetRow] = field(default_factory=list)
    header_problems: list[HeaderProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


@functools.cache
def template() -> bytes:
    """The empty register with its headers (required ones marked *) and a sheet of notes and an example."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append([f"{c.header}*" if c.required else c.header for c in COLUMNS])
    bold, required = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        if column.required:
            cell.fill = required
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, TEXT_FORMATTED_ROWS + 2):  # for programs that ignore a column's format
                sheet.cell(row=row, column=index).number_format = "@"
        if column.key == "gender":
            genders = DataValidation(type="list", formula1='"男,女,其他"', allow_blank=True)
            genders.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            sheet.add_data_validation(genders)
    sheet.freeze_panes = "A2"
    write_notes(book.create_sheet(NOTES_SHEET))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_notes(notes: Any) -> None:
    notes.append(["列", "必填", "说明", "示例"])
    for column in COLUMNS:
        notes.append([column.header, "是" if column.required else "", column.note, column.example])
    notes.append([])
    notes.append(["在「居民登记」表第2行起每行填一位居民；先用「试导入」检查，全部无误后再导入。"])
    notes.append(["导入要么全部成功，要么一行也不写入：有任何问题时会列出行号、列和原因。"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for letter, width in (("A", 12), ("B", 6), ("C", 60), ("D", 24)):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True)


def read(content: bytes) -> Sheet:
    """The rows of the sheet 居民登记 (else the first sheet), or Invalid saying why the file is unreadable."""
    check_package(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file; all mean the same
        raise Invalid("无法读取该文件：请上传用 Excel 或 WPS 保存的 .xlsx 文件") from error
    try:
        worksheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        return rows_of(worksheet.iter_rows(values_only=True))
    except Invalid:
        raise
    except Exception as error:
        raise Invalid("无法读取该文件：请上传用 Excel 或 WPS 保存的 .xlsx 文件") from error
    finally:
        book.close()


def check_package(content: bytes) -> None:
    """An .xlsx is a zip: refuse anything else, and anything that would unpack too large, before parsing."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            unpacked = sum(member.file_size for member in package.infolist())
            names = set(package.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise Invalid("该文件不是 .xlsx 工作簿：请用 Excel 或 WPS 另存为 .xlsx 后再上传") from error
    if "xl/workbook.xml" not in names:
        raise Invalid("该文件不是 .xlsx 工作簿：请用 Excel 或 WPS 另存为 .xlsx 后再上传")
    if unpacked > MAX_UNPACKED_BYTES:
        raise Invalid("该工作簿解压后过大，请只保留居民登记表后再上传")


def rows_of(values: Iterable[tuple[Any, ...]]) -> Sheet:
    sheet = Sheet()
    positions: dict[int, str] = {}
    for number, cells in enumerate(values, start=1):
        if number > MAX_SCANNED_ROWS:
            raise Invalid(f"表格行数过多：一次最多导入 {MAX_ROWS} 行")
        if not positions:
            if number > HEADER_SEARCH_ROWS:
                break
            if any(header_text(value) in ("姓名", "full_name") for value in cells):
                sheet.header_row = number
                positions = read_header(cells, sheet)
            continue
        row = {key: cells[index] for index, key in positions.items() if index < len(cells)}
        if all(is_blank(value) for value in row.values()):
            continue
        if len(sheet.rows) == MAX_ROWS:
            raise Invalid(f"表格行数过多：一次最多导入 {MAX_ROWS} 行")
        sheet.rows.append(SheetRow(number, row))
    if not positions:
        sheet.header_problems.append(
            HeaderProblem("表头", "找不到表头：第一行应为列名，至少含「姓名」「性别」「身份证号」")
        )
    return sheet


def read_header(cells: tuple[Any, ...], sheet: Sheet) -> dict[int, str]:
    """Which column holds which field; a missing required column or a doubled one is a problem."""
    positions: dict[int, str] = {}
    for index, value in enumerate(cells):
        text = header_text(value)
        if not text:
            continue
        column = BY_HEADER.get(text)
        if column is None:
            sheet.ignored_columns.append(text)
        elif column.key in positions.values():
            sheet.header_problems.append(HeaderProblem(column.header, f"列「{column.header}」出现了两次"))
        else:
            positions[index] = column.key
    for column in COLUMNS:
        if column.required and column.key not in positions.values():
            sheet.header_problems.append(HeaderProblem(column.header, f"缺少必填列「{column.header}」"))
    return positions


def header_text(value: Any) -> str:
    """A header as written, without the marks of a required column (*, （必填）) and spaces."""
    text = str(value or "").replace("\u3000", " ").strip()
    for mark in ("（必填）", "(必填)", "*", "＊"):
        text = text.removesuffix(mark).strip()
    return text


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
