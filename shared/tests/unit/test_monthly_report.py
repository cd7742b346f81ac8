"""The monthly report's shared parts: the month in China time, the scope of each role, the sections
composed side by side, the workbook read back cell by cell, and `linli report monthly`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from linli_shared.auth import Caller, Role
from linli_shared.cli import main
from linli_shared.errors import Forbidden, Invalid, NotFound
from linli_shared.monthly_report import COLUMNS, Month, compose, report_scope, write_workbook
from linli_shared.ops import report as ops_report

SECTIONS: dict[str, dict[str, Any]] = {
    "registry": {
        "month": "2026-11",
        "communities": [
            {
                "district": "gqy",
                "community": "dlz",
                "community_name": "东李庄社区",
                "residents": 300,
                "residents_by_tag": {"living_alone": 12, "party_member": 40},
                "residents_by_age_band": {"80+": 9},
                "households": 120,
                "visits": 30,
                "calls": 4,
                "overdue_alerts": 3,
                "overdue_visit_alerts": 2,
                "visit_completion_rate": 0.9375,
            },
            {
                "district": "gqy",
                "community": "xlz",
                "community_name": "西李庄社区",
                "residents": 200,
                "residents_by_tag": {"living_alone": 5, "party_member": 10},
                "residents_by_age_band": {"80+": 4},
                "households": 80,
                "visits": 10,
                "calls": 0,
                "overdue_alerts": 0,
                "overdue_visit_alerts": 0,
                "visit_completion_rate": 1.0,
            },
        ],
    },
    "notify": {
        "month": "2026-11",
        "communities": [
            {
                "district": "gqy",
                "community": "dlz",
                "alerts": 3,
                "alerts_acknowledged": 2,
                "acknowledgement_rate": 0.6667,
                "median_seconds_to_acknowledge": 600.0,
                "mean_seconds_to_acknowledge": 600.0,
                "alerts_escalated": 1,
            }
        ],
    },
    "points": {
        "month": "2026-11",
        "communities": [
            {
                "district": "gqy",
                "community": "dlz",
                "activities_held": 4,
                "service_hours": 12.5,
                "points_earned": 250,
            },
            {
                "district": "gqy",
                "community": "xlz",
                "activities_held": 1,
                "service_hours": 2.0,
                "points_earned": 20,
            },
        ],
    },
    "fund": {
        "month": "2026-11",
        "communities": [
            {
                "district": "gqy",
                "community": "dlz",
                "donations": 20,
                "donations_fen": 3_035_000,
                "disbursements": 1,
                "disbursements_fen": 300_000,
                "funds_at_end": {"general": 2_000_000, "education": 735_000, "medical": 0, "relief": 0},
                "balance_at_end_fen": 2_735_000,
            }
        ],
    },
}


def test_a_month_runs_from_china_midnight_to_china_midnight() -> None:
    month = Month.parse("2026-12")
    assert (month.label, str(month.first_day), str(month.last_day)) == ("2026-12", "2026-12-01", "2026-12-31")
    assert month.start.isoformat() == "2026-12-01T00:00:00+08:00"
    assert month.end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert Month.parse("2028-02").last_day.day == 29
    in_china = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 1 December, 00:30 in China
    assert Month.asked(None, in_china).label == "2026-11"
    assert Month.asked(None, datetime(2027, 1, 15, tzinfo=UTC)).label == "2026-12"
    assert Month.asked("2026-03", in_china).label == "2026-03"
    for wrong in ("2026-13", "9999-12", "0000-01", "2026", "2026-1x"):
        with pytest.raises(Invalid):
            Month.parse(wrong)


def test_each_role_reads_its_own_scope_and_no_other() -> None:
    worker = Caller(subject="w", role=Role.COMMUNITY_WORKER, district="gqy", community="dlz")
    assert (report_scope(worker, None, None).district, report_scope(worker, None, None).community) == (
        "gqy",
        "dlz",
    )
    with pytest.raises(NotFound):
        report_scope(worker, "gqy", "xlz")
    admin = Caller(subject="a", role=Role.DISTRICT_ADMIN, district="gqy")
    assert report_scope(admin, None, None).places([("gqy", "dlz"), ("gqy", "xlz"), ("other", "c")]) == [
        ("gqy", "dlz"),
        ("gqy", "xlz"),
    ]
    with pytest.raises(NotFound):
        report_scope(admin, "other", None)
    city = Caller(subject="c", role=Role.CITY_ADMIN)
    assert report_scope(city, "gqy", "new").places([]) == [("gqy", "new")]
    with pytest.raises(Invalid):
        report_scope(city, None, "dlz")
    with pytest.raises(Forbidden):
        report_scope(Caller(subject="g", role=Role.GRID_WORKER, district="gqy", community="dlz"), None, None)


def test_sections_are_composed_side_by_side_with_a_total() -> None:
    report = compose(SECTIONS)
    assert report["month"] == "2026-11"
    first, second = report["rows"]
    assert (first["community"], first["name"], second["name"]) == ("dlz", "东李庄社区", "西李庄社区")
    assert (first["registry.residents"], first["points.activities_held"], first["fund.donations"]) == (
        300,
        4,
        20,
    )
    assert second["fund.donations"] == 0, "no records in the fund: none given"
    assert second["notify.acknowledgement_rate"] is None, "no alerts: no rate"
    assert compose({"registry": SECTIONS["registry"]})["rows"][0]["fund.donations"] is None, "not asked"
    total = report["total"]
    assert (total["registry.residents"], total["registry.residents_by_tag.living_alone"]) == (500, 17)
    assert total["registry.visit_completion_rate"] == round(40 / 42, 4), "recomputed from the sums"
    assert total["notify.acknowledgement_rate"] == round(2 / 3, 4)
    assert total["notify.median_seconds_to_acknowledge"] is None, "a median does not add up"
    assert total["fund.balance_at_end_fen"] == 2_735_000


def test_sections_of_different_months_are_refused() -> None:
    with pytest.raises(ValueError):
        compose({**SECTIONS, "fund": {"month": "2026-10", "communities": []}})


def test_the_workbook_reads_back_every_figure(tmp_path: Path) -> None:
    report = compose(SECTIONS)
    path = write_workbook(report, tmp_path / "out" / "2026-11.xlsx")
    sheet = load_workbook(path)["月报"]
    assert sheet["A1"].value == "2026-11 社区月报"
    headers = [cell.value for cell in sheet[2]]
    assert headers[:3] == ["街道", "社区代码", "社区名称"]
    assert headers[3:] == [header for _, _, header in COLUMNS]
    column = {header: index for index, header in enumerate(headers)}
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert [row[1] for row in rows] == ["dlz", "xlz", None] and rows[-1][0] == "合计"
    for row, composed in zip(rows, [*report["rows"], report["total"]], strict=True):
        for section, path_in_section, header in COLUMNS:
            value = composed[f"{section}.{path_in_section}"]
            if value is not None and ("fen" in path_in_section or "funds" in path_in_section):
                value = value / 100  # money in yuan
            assert row[column[header]] == value, header
    assert rows[0][column["捐赠金额(元)"]] == 30_350.0
    assert rows[2][column["月末在册居民"]] == 500
    assert sheet.cell(row=3, column=column["走访按时率"] + 1).number_format == "0.00%"


def answering(sections: dict[str, dict[str, Any]], seen: list[httpx.Request]) -> httpx.MockTransport:
    ports = {"8101": "registry", "8102": "points", "8103": "fund", "8104": "notify"}

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers["Authorization"] != "Bearer t0ken":
            return httpx.Response(401, json={"detail": "bad token"})
        return httpx.Response(200, json=sections[ports[str(request.url.port)]])

    return httpx.MockTransport(handle)


def test_sections_are_fetched_from_every_service_with_the_token() -> None:
    seen: list[httpx.Request] = []
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ops_report_ports().items()}
    query = {"month": "2026-11", "district": "gqy", "community": None}
    sections = asyncio.run(ops_report.fetch_sections(urls, "t0ken", query, answering(SECTIONS, seen)))
    assert sections == SECTIONS
    assert sorted(str(r.url) for r in seen) == sorted(
        f"{url}/v1/reports/monthly?month=2026-11&district=gqy" for url in urls.values()
    )


def test_a_service_refusing_its_section_fails_the_report() -> None:
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ops_report_ports().items()}
    with pytest.raises(ops_report.SectionFailed, match="401: bad token"):
        asyncio.run(ops_report.fetch_sections(urls, "wrong", {"month": "2026-11"}, answering(SECTIONS, [])))


def ops_report_ports() -> dict[str, int]:
    return {"registry": 8101, "points": 8102, "fund": 8103, "notify": 8104}


def test_the_command_writes_the_workbook_and_the_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[dict[str, str], str, dict[str, str | None]]] = []

    async def fetch(urls: dict[str, str], token: str, query: dict[str, str | None]) -> dict[str, Any]:
        asked.append((dict(urls), token, dict(query)))
        return SECTIONS

    monkeypatch.setattr(ops_report, "fetch_sections", fetch)
    out = tmp_path / "report.xlsx"
    code = main(
        ["report", "monthly", "--month", "2026-11", "--district", "gqy", "--out", str(out), "--json", "-"]
        + ["--token", "t0ken", "--url", "registry=http://r:1", "--url", "fund=http://f:2"]
    )
    assert code == 0
    assert asked == [
        (
            {"registry": "http://r:1", "fund": "http://f:2"},
            "t0ken",
            {"month": "2026-11", "district": "gqy", "community": None},
        )
    ]
    assert json.loads(capsys.readouterr().out) == compose(SECTIONS)
    assert load_workbook(out)["月报"]["C3"].value == "东李庄社区"


def test_the_command_needs_somewhere_to_write_and_a_month_that_is_one(tmp_path: Path) -> None:
    assert main(["report", "monthly", "--month", "2026-11", "--token", "t"]) == 2
    assert (
        main(["report", "monthly", "--month", "2026-13", "--token", "t", "--out", str(tmp_path / "x")]) == 2
    )
    assert not (tmp_path / "x").exists()
