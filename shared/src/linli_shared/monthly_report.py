"""The street office's monthly report: each service's section of it, and the workbook composed of them.

Every service answers `GET /v1/reports/monthly?month=YYYY-MM[&district=][&community=]` from its own
database: one entry per community in the caller's scope, its figures counted over the month in
China time. `compose` lays the sections side by side, one row per community, and `write_workbook`
writes them to one .xlsx with Chinese headers and a total row (openpyxl is imported there only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from linli_shared.auth import Caller, Role
from linli_shared.clock import CHINA_TIME, china_day, utc_now
from linli_shared.errors import Invalid, NotFound

REPORT_READERS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR, Role.COMMUNITY_WORKER)
"""Who reads the monthly report: the admins and auditors above a community, and its workers."""

Place = tuple[str, str]


@dataclass(frozen=True)
class Month:
    """A calendar month in China: its first and last day, and the instants it starts and ends at."""

    first_day: date
    last_day: date

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year, month = (int(part) for part in text.split("-"))
            if not 1900 <= year <= 2199:
                raise ValueError(year)
            first, following = date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
        except ValueError as error:
            raise Invalid(f"月份应写作 YYYY-MM (1900—2199 年), 而不是 {text!r}") from error
        return cls(first, following - timedelta(days=1))

    @classmethod
    def asked(cls, text: str | None, now: datetime | None = None) -> Month:
        """The month asked for, or else the last whole month (China time) before `now`."""
        if text is not None:
            return cls.parse(text)
        today = china_day(now or utc_now())
        return cls.parse(f"{today.replace(day=1) - timedelta(days=1):%Y-%m}")

    @property
    def label(self) -> str:
        return f"{self.first_day:%Y-%m}"

    @property
    def start(self) -> datetime:
        """The first instant of the month, China time."""
        return datetime.combine(self.first_day, time(), CHINA_TIME)

    @property
    def end(self) -> datetime:
        """The first instant after the month, China time."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), CHINA_TIME)

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


@dataclass(frozen=True)
class ReportScope:
    """Which communities a report covers: a district and community narrowed to the caller's scope."""

    district: str | None
    community: str | None

    def keeps(self, place: Place) -> bool:
        district, community = place
        return (self.district is None or district == self.district) and (
            self.community is None or community == self.community
        )

    def narrow(self, statement: Any, model: Any) -> Any:
        """The statement kept to the scope's district and community (columns of `model`)."""
        if self.district is not None:
            statement = statement.where(model.district == self.district)
        if self.community is not None:
            statement = statement.where(model.community == self.community)
        return statement

    def places(self, seen: Iterable[Place]) -> list[Place]:
        """The communities of `seen` the scope keeps, plus the one it names: one entry each, sorted."""
        found = {place for place in seen if self.keeps(place)}
        if self.district is not None and self.community is not None:
            found.add((self.district, self.community))
        return sorted(found)


def report_scope(
    caller: Caller, district: str | None, community: str | None, readers: Sequence[Role] = REPORT_READERS
) -> ReportScope:
    """The caller's scope, narrowed by the query: a community role reads its own community, a district
    role its district, a city admin any; a place outside the caller's scope is not found (404)."""
    caller.check_role(*readers)
    if community is not None and district is None and caller.role is Role.CITY_ADMIN:
        raise Invalid("按社区查询时请同时给出街道 (district)")
    if caller.role is not Role.CITY_ADMIN:
        if district is not None and district != caller.district:
            raise NotFound("该街道不在您的范围内")
        district = caller.district
    if caller.community is not None:
        if community is not None and community != caller.community:
            raise NotFound("该社区不在您的范围内")
        community = caller.community
    return ReportScope(district, community)


def rate(part: int, whole: int) -> float | None:
    """part / whole to four places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def seconds_summary(waits: Sequence[float]) -> tuple[float | None, float | None]:
    """The median and the mean of some waits in seconds, to one place; None for none."""
    if not waits:
        return None, None
    return round(float(median(waits)), 1), round(sum(waits) / len(waits), 1)


# --- the composed report ------------------------------------------------------------------------

Column = tuple[str, str, str]
"""(section, field path in the section's community entry with dots, Chinese header)."""

TAGS = [
    ("living_alone", "独居"),
    ("lonely", "孤寡"),
    ("disabled", "残疾"),
    ("bedridden", "失能卧床"),
    ("dibao", "低保"),
    ("poor_household", "困难家庭"),
    ("orphan", "孤儿"),
    ("child_in_difficulty", "困境儿童"),
    ("veteran", "退役军人"),
    ("party_member", "党员"),
]
AGE_BANDS = ["0-17", "18-59", "60-69", "70-79", "80+"]
FUNDS = [("general", "非限定"), ("education", "助学"), ("medical", "医疗"), ("relief", "救助")]

COLUMNS: list[Column] = [
    ("registry", "residents", "月末在册居民"),
    *(("registry", f"residents_by_tag.{tag}", f"{label}人数") for tag, label in TAGS),
    *(("registry", f"residents_by_age_band.{band}", f"{band}岁") for band in AGE_BANDS),
    ("registry", "households", "户数"),
    ("registry", "visits", "走访次数"),
    ("registry", "calls", "电话问候次数"),
    ("registry", "overdue_alerts", "逾期提醒"),
    ("registry", "overdue_visit_alerts", "走访逾期提醒"),
    ("registry", "visit_completion_rate", "走访按时率"),
    ("notify", "alerts", "紧急提醒"),
    ("notify", "alerts_acknowledged", "已确认提醒"),
    ("notify", "acknowledgement_rate", "确认率"),
    ("notify", "median_seconds_to_acknowledge", "确认用时中位数(秒)"),
    ("notify", "mean_seconds_to_acknowledge", "确认用时平均(秒)"),
    ("notify", "alerts_escalated", "逐级上报提醒"),
    ("points", "activities_held", "开展活动"),
    ("points", "service_hours", "志愿服务时长(小时)"),
    ("points", "volunteers_serving", "服务志愿者人数"),
    ("points", "residents_served", "受益居民人数"),
    ("points", "wishes_fulfilled", "实现微心愿"),
    ("points", "help_handed_over", "邻里互助交接"),
    ("points", "points_earned", "获得积分"),
    ("points", "points_redeemed", "兑换积分"),
    ("points", "points_refunded", "退回积分"),
    ("fund", "donations", "捐赠笔数"),
    ("fund", "donations_fen", "捐赠金额(元)"),
    ("fund", "disbursements", "支出笔数"),
    ("fund", "disbursements_fen", "支出金额(元)"),
    *(("fund", f"funds_at_end.{fund}", f"月末{label}基金(元)") for fund, label in FUNDS),
    ("fund", "balance_at_end_fen", "月末基金余额(元)"),
]
"""Every column of the workbook after the place, in order; a fen figure is shown in yuan."""

RATES = {
    "visit_completion_rate": ("visits", ("visits", "overdue_visit_alerts")),
    "acknowledgement_rate": ("alerts_acknowledged", ("alerts",)),
}
"""A rate's total is recomputed from the totals of its part and of what it is a part of."""


def figure(entry: Mapping[str, Any], path: str) -> Any:
    value: Any = entry
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def compose(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One row per community, each service's figures side by side (0 where a service has no records
    of it), and a total row: sums, rates recomputed from the sums, medians left out."""
    months = {section["month"] for section in sections.values()}
    if len(months) > 1:
        raise ValueError(f"the sections are of different months: {sorted(months)}")
    entries: dict[Place, dict[str, Mapping[str, Any]]] = {}
    names: dict[Place, str] = {}
    for service, section in sections.items():
        for entry in section["communities"]:
            place = (entry["district"], entry["community"])
            entries.setdefault(place, {})[service] = entry
            if entry.get("community_name"):
                names[place] = entry["community_name"]
    rows = []
    for place in sorted(entries):
        values = {
            f"{s}.{p}": figure(entries[place][s], p) if s in entries[place] else unrecorded(s, p, sections)
            for s, p, _ in COLUMNS
        }
        rows.append({"district": place[0], "community": place[1], "name": names.get(place, ""), **values})
    return {"month": months.pop() if months else None, "rows": rows, "total": total_of(rows)}


def unrecorded(section: str, path: str, sections: Mapping[str, Any]) -> int | None:
    """A figure of a community a service answered for without an entry: it has no records of it, so a
    count is 0; a rate or a time is none, and so is anything of a service that did not answer."""
    if section not in sections or path in RATES or "seconds" in path:
        return None
    return 0


def total_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for section, path, _ in COLUMNS:
        key = f"{section}.{path}"
        numbers = [row[key] for row in rows if isinstance(row[key], int | float)]
        total[key] = sum(numbers) if numbers and path not in RATES and "seconds" not in path else None
    for path, (part, wholes) in RATES.items():
        section = next(s for s, p, _ in COLUMNS if p == path)
        whole = sum(total[f"{section}.{w}"] or 0 for w in wholes)
        total[f"{section}.{path}"] = rate(total[f"{section}.{part}"] or 0, whole)
    return total


def shown(path: str, value: Any) -> Any:
    """A cell's value: fen as yuan, a rate as it is (the cell is formatted as a percentage)."""
    if value is None:
        return None
    if path.endswith("_fen") or path.startswith("funds_at_end."):
        return value / 100
    return value


def write_workbook(report: Mapping[str, Any], out: Path) -> Path:
    """Write the composed report to `out` (.xlsx): a sheet 月报 with one row per community and a
    total row, money in yuan, rates as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "月报"
    sheet.append([f"{report['month']} 社区月报"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["街道", "社区代码", "社区名称", *(header for _, _, header in COLUMNS)])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in report["rows"]:
        values = [shown(p, row[f"{s}.{p}"]) for s, p, _ in COLUMNS]
        sheet.append([row["district"], row["community"], row["name"], *values])
    total = report["total"]
    sheet.append(["合计", "", "", *(shown(p, total[f"{s}.{p}"]) for s, p, _ in COLUMNS)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, (_, path, _) in enumerate(COLUMNS, start=4):
        number_format = "0.00%" if path in RATES else "#,##0.00" if "fen" in path or "funds" in path else None
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "D3"
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out
