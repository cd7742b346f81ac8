"""What each field of a register row must hold, checked without a database; problems in Chinese.

A row becomes exactly what `POST /v1/residents` accepts (a ResidentIn, validated by it), so an
import can register nobody that a single registration would refuse.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from linli_registry import domain
from linli_registry.domain import Tag
from linli_registry.register_workbook import BY_KEY, SheetRow
from linli_shared.error_language import message
from linli_shared.errors import Invalid

if TYPE_CHECKING:
    from linli_registry.api.residents_schemas import ResidentIn

GENDERS = {
    "男": "male",
    "女": "female",
    "其他": "other",
    "male": "male",
    "female": "female",
    "other": "other",
}
TAG_NAMES: dict[str, Tag] = {
    "独居": Tag.LIVING_ALONE,
    "孤寡": Tag.LONELY,
    "残疾": Tag.DISABLED,
    "失能": Tag.BEDRIDDEN,
    "卧床": Tag.BEDRIDDEN,
    "失能/卧床": Tag.BEDRIDDEN,
    "低保": Tag.DIBAO,
    "贫困户": Tag.POOR_HOUSEHOLD,
    "孤儿": Tag.ORPHAN,
    "困境儿童": Tag.CHILD_IN_DIFFICULTY,
    "退役军人": Tag.VETERAN,
    "党员": Tag.PARTY_MEMBER,
} | {tag.value: tag for tag in Tag}
TAG_HELP = "、".join(
    ("独居", "孤寡", "残疾", "失能", "低保", "贫困户", "孤儿", "困境儿童", "退役军人", "党员")
)
TAG_SEPARATORS = re.compile(r"[;；,，、\s]+")
LONGEST = {
    "full_name": 100,
    "guardian_name": 100,
    "guardian_relation": 20,
    "address": 200,
    "household_ref": 40,
}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


@functools.cache
def registration() -> tuple[type[ResidentIn], re.Pattern[str]]:
    """What registration accepts: its request model and its phone pattern. Imported when first
    needed, as the API package imports the import's use case and with it this module."""
    from linli_registry.api.fields import PHONE_PATTERN
    from linli_registry.api.residents_schemas import ResidentIn

    return ResidentIn, re.compile(PHONE_PATTERN)


@dataclass(frozen=True)
class CheckedRow:
    """A row that holds a valid registration: the resident as ResidentIn and its household's key."""

    number: int
    resident: ResidentIn
    id_number: str
    birth_date: date
    household: str | None


class RowCheck:
    """The checks of one row; each problem is noted against its column, and the row yields a
    resident only if it has none."""

    def __init__(
        self, row: SheetRow, note: Callable[[int, str, str], None], grids: Mapping[str, str], today: date
    ) -> None:
        self.row, self.note, self.grids, self.today = row, note, grids, today
        self.found = False

    def problem(self, key: str, message: str) -> None:
        self.found = True
        self.note(self.row.number, key, message)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = text_of(self.row.cells.get(key))
        if not value:
            if required:
                self.problem(key, f"「{BY_KEY[key].header}」是必填项")
            return None
        if (longest := LONGEST.get(key)) is not None and len(value) > longest:
            self.problem(key, f"「{BY_KEY[key].header}」最多 {longest} 个字")
        return value

    def resident(self, district: str, community: str) -> CheckedRow | None:
        values: dict[str, Any] = {
            "district": district,
            "community": community,
            "full_name": self.text("full_name", required=True),
            "gender": self.gender(),
            "grid_code": self.grid(),
            "phone": self.phone("phone"),
            "guardian_name": self.text("guardian_name"),
            "guardian_relation": self.text("guardian_relation"),
            "guardian_phone": self.phone("guardian_phone"),
            "tags": self.tags(),
        }
        id_number = self.id_number()
        birth_date = self.birth_date(id_number)
        ref = self.text("household_ref")
        address = self.text("address")
        if self.found or id_number is None or birth_date is None:
            return None
        values |= {"id_number": id_number, "birth_date": birth_date}
        try:
            resident = registration()[0].model_validate(values)
        except ValidationError as error:  # a rule of registration these checks do not know yet
            for issue in error.errors():
                self.problem(str(issue["loc"][0]) if issue["loc"] else "行", message(issue, "zh"))
            return None
        household = ref or (f"住址:{address}" if address else None)
        return CheckedRow(self.row.number, resident, id_number, birth_date, household)

    def gender(self) -> str | None:
        value = self.text("gender", required=True)
        if value is None:
            return None
        if (gender := GENDERS.get(value.lower())) is None:
            self.problem("gender", f"性别「{value}」无法识别：应为 男、女 或 其他")
        return gender

    def grid(self) -> str | None:
        value = self.text("grid_code")
        if value is None:
            return None
        if (code := self.grids.get(value)) is None:
            self.problem("grid_code", f"本社区没有网格「{value}」")
        return code

    def phone(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not (3 <= len(value) <= 30 and registration()[1].match(value)):
            self.problem(
                key, f"「{BY_KEY[key].header}」格式不对：只能是数字，可用一个空格或连字符分组，可带+，3–30位"
            )
        return value

    def tags(self) -> list[Tag]:
        value = self.text("tags") or ""
        tags: list[Tag] = []
        for name in TAG_SEPARATORS.split(value):
            if not name:
                continue
            if (tag := TAG_NAMES.get(name) or TAG_NAMES.get(name.lower())) is None:
                self.problem("tags", f"未知的标签「{name}」：可用 {TAG_HELP}")
            else:
                tags.append(tag)
        return tags

    def id_number(self) -> str | None:
        raw = self.row.cells.get("id_number")
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            self.problem("id_number", "身份证号被存成了数字（会丢掉末几位）：请把该列设为文本格式后重新填写")
            return None
        value = self.text("id_number", required=True)
        if value is None:
            return None
        number = value.replace(" ", "").upper()
        if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
            self.problem("id_number", "身份证号应为18位：17位数字加1位数字或X")
        elif domain.id_check_char(number[:17]) != number[17]:
            self.problem("id_number", "身份证号校验位不对：请核对号码")
        elif not valid_date(number):
            self.problem("id_number", "身份证号中的出生日期不存在")
        else:
            return domain.normalise_id_number(number)
        return None

    def birth_date(self, id_number: str | None) -> date | None:
        raw = self.row.cells.get("birth_date")
        if text_of(raw):
            born = date_of(raw)
            if born is None:
                self.problem("birth_date", f"出生日期「{text_of(raw)}」无法识别：格式应为 1950-03-01")
                return None
        elif id_number is not None:
            born = domain.birth_date_from_id(id_number)
        else:
            return None
        try:
            domain.check_birth_date(born, self.today)
        except Invalid:
            self.problem("birth_date", "出生日期在今天之后" if born > self.today else "出生日期早于130年前")
            return None
        return born


def valid_date(number: str) -> bool:
    try:
        domain.birth_date_from_id(number)
    except ValueError:
        return False
    return True


def text_of(value: Any) -> str:
    """A cell as text: numbers without a trailing .0 (a phone typed as a number), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


def date_of(value: Any) -> date | None:
    """A date cell, or a date written as text in one of the usual ways."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value)
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None
