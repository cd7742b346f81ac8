"""The register workbook's rows checked without a database: each problem in Chinese, where it is."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from linli_registry import register_rows, register_workbook
from linli_registry.domain import Tag, id_check_char
from linli_registry.register_rows import Checked, RowProblem, check_sheet
from linli_registry.register_workbook import Sheet, SheetRow
from linli_shared.errors import Invalid

TODAY = date(2026, 12, 1)
GRIDS = {"zone-1": "zone-1", "一片区": "zone-1", "zone-2": "zone-2"}


def an_id(birth: str = "19500301", serial: str = "123") -> str:
    first17 = f"110105{birth}{serial}"
    return first17 + id_check_char(first17)


def sheet_of(*rows: dict[str, Any]) -> Sheet:
    base = {"full_name": "王桂兰", "gender": "女"}
    return Sheet(rows=[SheetRow(number, base | row) for number, row in enumerate(rows, start=2)])


def check(*rows: dict[str, Any]) -> Checked:
    return check_sheet(sheet_of(*rows), district="d1", community="c1", grids=GRIDS, today=TODAY)


def problems(*rows: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.message) for p in check(*rows).problems]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_good_row_becomes_what_registration_accepts() -> None:
    checked = check(
        {
            "id_number": an_id()[:17] + an_id()[17].lower(),
            "grid_code": "一片区",
            "phone": 13800138000,
            "guardian_name": "李建国",
            "guardian_relation": "儿子",
            "guardian_phone": "010-6512 3456",
            "tags": "独居；低保、党员 失能/卧床",
        }
    )
    assert checked.problems == []
    [row] = checked.rows
    resident = row.resident
    assert (resident.district, resident.community, resident.grid_code) == ("d1", "c1", "zone-1")
    assert (resident.gender, resident.phone, resident.guardian_phone) == (
        "female",
        "13800138000",
        "010-6512 3456",
    )
    assert resident.tags == {Tag.LIVING_ALONE, Tag.DIBAO, Tag.PARTY_MEMBER, Tag.BEDRIDDEN}
    assert row.id_number == an_id().upper() and row.birth_date == date(1950, 3, 1)
    assert row.household is None


def test_each_id_number_problem_is_named() -> None:
    good = an_id()
    wrong_check = good[:17] + ("1" if good[17] != "1" else "2")
    assert problems(
        {"id_number": wrong_check},
        {"id_number": an_id("19500231")},
        {"id_number": "11010519500301"},
        {"id_number": 110105195003011234},
        {},
    ) == [
        (2, "身份证号", "身份证号校验位不对：请核对号码"),
        (3, "身份证号", "身份证号中的出生日期不存在"),
        (4, "身份证号", "身份证号应为18位：17位数字加1位数字或X"),
        (5, "身份证号", "身份证号被存成了数字（会丢掉末几位）：请把该列设为文本格式后重新填写"),
        (6, "身份证号", "「身份证号」是必填项"),
    ]


def test_birth_dates_are_read_in_the_usual_ways_and_checked() -> None:
    checked = check(
        {"id_number": an_id(serial="001"), "birth_date": datetime(1950, 3, 2)},
        {"id_number": an_id(serial="002"), "birth_date": "1950/3/3"},
        {"id_number": an_id(serial="003"), "birth_date": "1950年03月04日"},
        {"id_number": an_id(serial="004"), "birth_date": "2027-01-01"},
        {"id_number": an_id(serial="005"), "birth_date": "1890-01-01"},
        {"id_number": an_id(serial="006"), "birth_date": "三月"},
        {"id_number": an_id("20270101", "007")},
    )
    assert [row.birth_date for row in checked.rows] == [date(1950, 3, 2), date(1950, 3, 3), date(1950, 3, 4)]
    assert [(p.row, p.message) for p in checked.problems] == [
        (5, "出生日期在今天之后"),
        (6, "出生日期早于130年前"),
        (7, "出生日期「三月」无法识别：格式应为 1950-03-01"),
        (8, "出生日期在今天之后"),
    ]


def test_a_number_twice_in_the_file_is_named_on_the_later_rows() -> None:
    twice = an_id()
    assert problems(
        {"id_number": twice}, {"id_number": an_id(serial="999")}, {"id_number": twice.lower()}
    ) == [(4, "身份证号", "身份证号与第 2 行重复")]


def test_other_columns_problems_are_named_and_the_row_is_left_out() -> None:
    checked = check(
        {"id_number": an_id(serial="001"), "full_name": "", "gender": "M"},
        {"id_number": an_id(serial="002"), "grid_code": "zone-9", "tags": "独居;长寿"},
        {"id_number": an_id(serial="003"), "phone": "138 0013 800a", "guardian_relation": "很" * 21},
        {"id_number": an_id(serial="004")},
    )
    assert [(p.row, p.column) for p in checked.problems] == [
        (2, "姓名"),
        (2, "性别"),
        (3, "网格"),
        (3, "标签"),
        (4, "电话"),
        (4, "监护人关系"),
    ]
    assert checked.problems[1] == RowProblem(2, "性别", "性别「M」无法识别：应为 男、女 或 其他")
    assert checked.problems[3].message.startswith("未知的标签「长寿」")
    assert [row.number for row in checked.rows] == [5]


def test_households_are_grouped_by_their_number_or_else_by_address() -> None:
    checked = check(
        {
            "id_number": an_id(serial="001"),
            "household_ref": "3-101",
            "address": "3号楼101",
            "grid_code": "zone-1",
        },
        {"id_number": an_id(serial="002"), "household_ref": "3-101", "grid_code": "一片区"},
        {"id_number": an_id(serial="003"), "address": "平房5号", "grid_code": "zone-1"},
        {"id_number": an_id(serial="004"), "address": "平房5号", "grid_code": "zone-2"},
        {"id_number": an_id(serial="005")},
    )
    assert checked.problems == []
    assert [row.household for row in checked.rows] == ["3-101", "3-101", "住址:平房5号", "住址:平房5号", None]
    assert checked.households == {
        "3-101": register_rows.Household("3-101", "3号楼101", "zone-1"),
        "住址:平房5号": register_rows.Household("住址:平房5号", "平房5号", None),
    }


def test_a_household_without_an_address_or_with_two_is_a_problem() -> None:
    assert problems(
        {"id_number": an_id(serial="001"), "household_ref": "A", "address": "一号院"},
        {"id_number": an_id(serial="002"), "household_ref": "A", "address": "二号院"},
        {"id_number": an_id(serial="003"), "household_ref": "B"},
    ) == [
        (3, "住址", "同一户的住址与第 2 行不一致（「一号院」）"),
        (4, "住址", "户号「B」没有填写住址"),
    ]


def test_the_template_reads_back_with_its_header_and_no_rows() -> None:
    sheet = register_workbook.read(register_workbook.template())
    assert sheet.header_problems == [] and sheet.rows == [] and sheet.ignored_columns == []
    with pytest.raises(Invalid, match="没有居民"):
        check_sheet(sheet, district="d1", community="c1", grids=GRIDS, today=TODAY)


def test_a_title_row_above_the_header_and_unknown_columns_are_allowed() -> None:
    content = workbook(
        [
            ["东李庄社区居民登记表"],
            ["姓名*", "性别（必填）", "身份证号", "备注"],
            ["王桂兰", "女", an_id(), "楼长"],
            [None, None, None, None],
            ["李国昌", "男", an_id(serial="321"), None],
        ]
    )
    sheet = register_workbook.read(content)
    assert sheet.header_row == 2 and sheet.ignored_columns == ["备注"]
    assert [(row.number, row.cells["full_name"]) for row in sheet.rows] == [(3, "王桂兰"), (5, "李国昌")]
    assert len(check_sheet(sheet, district="d1", community="c1", grids=GRIDS, today=TODAY).rows) == 2


def test_a_missing_or_doubled_column_is_a_problem_of_the_header_row() -> None:
    sheet = register_workbook.read(workbook([["姓名", "姓名", "性别"], ["王桂兰", "王桂兰", "女"]]))
    checked = check_sheet(sheet, district="d1", community="c1", grids=GRIDS, today=TODAY)
    assert [(p.row, p.column, p.message) for p in checked.problems] == [
        (1, "姓名", "列「姓名」出现了两次"),
        (1, "身份证号", "缺少必填列「身份证号」"),
    ]
    no_header = register_workbook.read(workbook([["a", "b"]]))
    assert no_header.header_problems[0].column == "表头"


def test_what_is_not_a_workbook_is_refused_in_chinese() -> None:
    with pytest.raises(Invalid, match="不是 .xlsx 工作簿"):
        register_workbook.read(b"name,gender\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("hello.txt", "not a workbook")
    with pytest.raises(Invalid, match="不是 .xlsx 工作簿"):
        register_workbook.read(buffer.getvalue())


def test_a_workbook_that_unpacks_too_large_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_workbook, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(Invalid, match="解压后过大"):
        register_workbook.read(register_workbook.template())


def test_more_rows_than_an_import_takes_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_workbook, "MAX_ROWS", 3)
    rows = [["姓名", "性别", "身份证号"]] + [["王桂兰", "女", an_id(serial=f"{i:03d}")] for i in range(4)]
    with pytest.raises(Invalid, match="最多导入 3 行"):
        register_workbook.read(workbook(rows))
    assert len(register_workbook.read(workbook(rows[:4])).rows) == 3
