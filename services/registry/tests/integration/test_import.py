"""A community's register imported from Excel over HTTP, on SQLite and PostgreSQL: the template, the
dry run's problems in Chinese, all or none, the events, the statistics and the Idempotency-Key."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import col, select

from linli_registry.domain import id_check_char
from linli_registry.models import Household, Resident
from linli_registry.register_workbook import XLSX
from linli_registry.usecases.statistics import statistics_by_scan
from linli_shared.auth import Caller, Role
from linli_shared.clock import utc_now
from linli_shared.outbox import OutboxMessage
from linli_shared.testing.waiting import eventually

pytestmark = [pytest.mark.integration]

PROBLEM = "application/problem+json"
HEADERS = ["户号", "住址", "姓名*", "性别*", "身份证号*", "出生日期", "网格", "电话", "监护人", "监护人关系",
           "监护人电话", "标签"]  # fmt: skip


def workbook(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "居民登记"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def person(
    id_number: str, *, ref: str = "", address: str = "", name: str = "王桂兰", **cells: Any
) -> list[Any]:
    values = {"gender": "女", "grid": "", "phone": "", "guardian": "", "relation": "", "guardian_phone": ""}
    values |= cells
    return [ref, address, name, values["gender"], id_number, values.get("born", ""), values["grid"],
            values["phone"], values["guardian"], values["relation"], values["guardian_phone"],
            values.get("tags", "")]  # fmt: skip


def id_with(first17: str) -> str:
    return first17 + id_check_char(first17)


def import_path(place: Any, dry_run: bool = False) -> str:
    return f"/v1/communities/{place.district}/{place.community}/import" + ("?dry_run=true" if dry_run else "")


async def send(client: Any, place: Any, content: bytes, *, dry_run: bool = False, **headers: str) -> Any:
    all_headers = {**place.as_(Role.COMMUNITY_WORKER), "Content-Type": XLSX, **headers}
    return await client.post(import_path(place, dry_run), content=content, headers=all_headers)


async def written(client: Any, place: Any) -> tuple[int, int, int]:
    """Residents and households of the place, and every outbox row (events of any place)."""
    async with client.app.state.session_factory() as session:
        residents = (
            await session.exec(select(func.count()).where(col(Resident.district) == place.district))
        ).one()
        households = (
            await session.exec(select(func.count()).where(col(Household.district) == place.district))
        ).one()
        events = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
    return residents, households, events


async def test_template_has_the_registration_columns_and_a_notes_sheet(client, place) -> None:
    response = await client.get("/v1/import/template", headers=place.as_(Role.COMMUNITY_WORKER))
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["居民登记", "填写说明"]
    headers = next(book["居民登记"].iter_rows(values_only=True))
    assert headers == ("户号", "住址", "姓名*", "性别*", "身份证号*", "出生日期", "网格", "电话", "监护人",
                       "监护人关系", "监护人电话", "标签")  # fmt: skip
    notes = [row[0] for row in book["填写说明"].iter_rows(values_only=True)]
    assert "身份证号" in notes and "标签" in notes
    volunteer = await client.get("/v1/import/template", headers=place.as_(Role.VOLUNTEER))
    assert volunteer.status_code == 403


async def test_the_template_filled_in_imports(client, place, id_number) -> None:
    template = (await client.get("/v1/import/template", headers=place.as_(Role.COMMUNITY_WORKER))).content
    book = load_workbook(io.BytesIO(template))
    book["居民登记"].append(person(id_number(), ref="1-101", address="一号楼101", grid="zone-1", tags="独居"))
    buffer = io.BytesIO()
    book.save(buffer)
    response = await send(client, place, buffer.getvalue())
    assert response.status_code == 201, response.text
    assert (response.json()["residents"], response.json()["households"]) == (1, 1)


async def test_dry_run_lists_every_rows_problems_in_chinese_and_writes_nothing(
    client, place, register, id_number
) -> None:
    registered = id_number()
    await register(place, id_number=registered)
    good, twice = id_number(), id_number()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [
        person(good, name="张秀英"),  # row 2: fine
        person(bad_check),  # 3: check character
        person(id_with("11010519500231123")),  # 4: no 31 February
        person(id_number(), grid="zone-9"),  # 5: no such grid
        person(twice),  # 6
        person(twice.lower()),  # 7: the same number again
        person(registered),  # 8: registered already
        person(id_number(), name=""),  # 9: no name
        person(id_number(), tags="独居;长寿"),  # 10: unknown tag
        person(id_number(), gender="男性"),  # 11
        person(id_number(), phone="138-0013-800a"),  # 12
        person(id_number(), born="1950-13-01"),  # 13
    ]
    before = await written(client, place)
    response = await send(client, place, workbook(rows), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    problems = {(p["row"], p["column"]): p["message"] for p in report["problems"]}
    assert problems == {
        (3, "身份证号"): "身份证号校验位不对：请核对号码",
        (4, "身份证号"): "身份证号中的出生日期不存在",
        (5, "网格"): "本社区没有网格「zone-9」",
        (7, "身份证号"): "身份证号与第 6 行重复",
        (8, "身份证号"): "该身份证号已在本街道登记",
        (9, "姓名"): "「姓名」是必填项",
        (
            10,
            "标签",
        ): "未知的标签「长寿」：可用 独居、孤寡、残疾、失能、低保、贫困户、孤儿、困境儿童、退役军人、党员",
        (11, "性别"): "性别「男性」无法识别：应为 男、女 或 其他",
        (12, "电话"): "「电话」格式不对：只能是数字，可用一个空格或连字符分组，可带+，3–30位",
        (13, "出生日期"): "出生日期「1950-13-01」无法识别：格式应为 1950-03-01",
    }
    assert [p["row"] for p in report["problems"]] == sorted(p["row"] for p in report["problems"])
    assert report | {"problems": []} == {
        "district": place.district,
        "community": place.community,
        "dry_run": True,
        "rows_read": 12,
        "rows_ok": 2,
        "households": 0,
        "residents": 2,
        "problem_count": 10,
        "problems": [],
        "ignored_columns": [],
    }
    assert await written(client, place) == before


async def test_import_with_any_problem_is_a_422_with_the_list_and_writes_nothing(
    client, place, id_number
) -> None:
    rows = [
        person(id_number(), ref="1-101", address="一号楼101"),
        person(id_number(), ref="1-101", gender=""),
    ]
    before = await written(client, place)
    response = await send(client, place, workbook(rows))
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert "没有写入任何数据" in body["detail"]
    assert body["problems"] == [{"row": 3, "column": "性别", "message": "「性别」是必填项"}]
    assert body["errors"] == [{"loc": ["body", "第3行", "性别"], "msg": "「性别」是必填项"}]
    assert await written(client, place) == before


async def test_import_writes_households_then_residents_with_their_events(client, place, id_number) -> None:
    elder, son, alone = id_number(date(1940, 5, 1)), id_number(date(1975, 2, 3)), id_number(date(1938, 1, 9))
    rows = [
        person(
            elder,
            ref="3-2-101",
            address="3号楼2单元101",
            grid="zone-1",
            tags="独居；低保",
            phone="13800138000",
            guardian="李建国",
            relation="儿子",
            guardian_phone="13900139000",
        ),
        person(son, ref="3-2-101", name="李建国", gender="男", grid="一片区", phone=13900139000),
        person(
            alone, address="平房5号", name="赵大爷", gender="男", tags="孤寡、党员", born=date(1938, 1, 9)
        ),
    ]
    before = await written(client, place)
    response = await send(client, place, workbook(rows))
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["residents"], report["households"], report["problem_count"]) == (3, 2, 0)
    residents, households, events = await written(client, place)
    assert (residents, households, events) == (before[0] + 3, before[1] + 2, before[2] + 6)
    async with client.app.state.session_factory() as session:
        stored = {
            r.full_name: r
            for r in (await session.exec(select(Resident).where(Resident.district == place.district))).all()
        }
        homes = {h.id: h for h in (await session.exec(select(Household))).all()}
        outbox = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.position)))).all()
    wang, li, zhao = stored["王桂兰"], stored["李建国"], stored["赵大爷"]
    assert wang.household_id == li.household_id and homes[wang.household_id].address == "3号楼2单元101"
    assert homes[wang.household_id].grid_code == "zone-1"
    assert homes[zhao.household_id].address == "平房5号" and homes[zhao.household_id].grid_code is None
    assert (wang.living_alone, wang.dibao, wang.guardian_relation, wang.phone) == (
        True,
        True,
        "儿子",
        "13800138000",
    )
    assert (li.gender, li.grid_code, li.phone, li.birth_date) == (
        "male",
        "zone-1",
        "13900139000",
        date(1975, 2, 3),
    )
    assert (zhao.lonely, zhao.party_member, zhao.grid_code) == (True, True, None)
    announced = [(m.subject.rsplit(".", 2)[-2:], json.loads(m.envelope)["payload"]) for m in outbox]
    for resident in (wang, li, zhao):
        mine = [subject for subject, payload in announced if payload.get("resident_id") == resident.id]
        assert mine == [["resident", "registered"], ["resident", "contact_changed"]]
    search = await client.get(
        "/v1/residents", params={"tag": "living_alone"}, headers=place.as_(Role.COMMUNITY_WORKER)
    )
    assert [r["full_name"] for r in search.json()["items"]] == ["王桂兰"]
    assert all(elder not in m.envelope for m in outbox)

    async def all_published() -> bool:  # the relay sends them on to JetStream as any registration's
        async with client.app.state.session_factory() as session:
            unsent = (
                select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))
            )
            return (await session.exec(unsent)).one() == 0

    assert await eventually(all_published)


async def test_import_keeps_the_statistics_exact(client, place, register, id_number) -> None:
    await register(place, tags=["living_alone"])
    admin = place.as_(Role.DISTRICT_ADMIN)
    before = (await client.get("/v1/statistics", params={"by": "grid"}, headers=admin)).json()
    rows = [
        person(id_number(date(1940, 1, 1)), grid="zone-1", tags="独居;残疾"),
        person(id_number(date(1950, 6, 30)), grid="zone-1", tags="低保"),
        person(id_number(date(2015, 3, 3)), tags="孤儿;困境儿童"),
        person(id_number(date(1960, 12, 31)), tags="退役军人"),
    ]
    response = await send(client, place, workbook(rows))
    assert response.status_code == 201, response.text
    after = (await client.get("/v1/statistics", params={"by": "grid"}, headers=admin)).json()
    async with client.app.state.session_factory() as session:
        caller = Caller(subject="admin", role=Role.DISTRICT_ADMIN, district=place.district)
        scanned = await statistics_by_scan(
            session, caller, by_grid=True, district=place.district, today=utc_now().date()
        )
    assert after == scanned
    by_grid = {row["grid_code"]: row for row in after}
    old = {row["grid_code"]: row for row in before}
    assert by_grid["zone-1"]["population"] == old["zone-1"]["population"] + 2
    assert by_grid["zone-1"]["disabled"] == old["zone-1"]["disabled"] + 1
    assert by_grid[None]["population"] == 2 and by_grid[None]["orphans"] == 1


async def test_the_same_idempotency_key_imports_once_and_answers_alike(client, place, id_number) -> None:
    content = workbook([person(id_number(), ref="7", address="七号院"), person(id_number(), ref="7")])
    first = await send(client, place, content, **{"Idempotency-Key": "register-import-1"})
    again = await send(client, place, content, **{"Idempotency-Key": "register-import-1"})
    assert first.status_code == again.status_code == 201, again.text
    assert first.json() == again.json()
    residents, households, _ = await written(client, place)
    assert (residents, households) == (2, 1)
    other = workbook([person(id_number())])
    reused = await send(client, place, other, **{"Idempotency-Key": "register-import-1"})
    assert reused.status_code == 409


async def test_a_file_that_is_not_a_register_is_refused_in_chinese(client, place) -> None:
    for content in (b"not a workbook", b"PK\x03\x04broken"):
        response = await send(client, place, content)
        assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
        assert "xlsx" in response.json()["detail"]
    response = await client.post(
        import_path(place), json={"rows": []}, headers=place.as_(Role.COMMUNITY_WORKER)
    )
    assert response.status_code == 415 and response.headers["content-type"] == PROBLEM
    past_the_default_limit = await send(client, place, b"PK" + b"x" * 1_500_000)
    assert past_the_default_limit.status_code == 422  # read, not refused: the route takes 4 MB
    too_large = await send(client, place, b"PK" + b"x" * (4 * 1024 * 1024))
    assert too_large.status_code == 413
    empty = await send(client, place, workbook([]))
    assert empty.status_code == 422 and "没有居民" in empty.json()["detail"]
    no_id_column = await send(client, place, workbook([["王桂兰", "女"]], ["姓名", "性别"]), dry_run=True)
    assert no_id_column.status_code == 200
    assert no_id_column.json()["problems"] == [
        {"row": 1, "column": "身份证号", "message": "缺少必填列「身份证号」"}
    ]


async def test_only_registry_writers_in_scope_may_import(client, new_place, id_number) -> None:
    home, elsewhere = await new_place(), await new_place()
    content = workbook([person(id_number())])
    for dry_run in (True, False):
        path = import_path(home, dry_run)
        outsider = await client.post(
            path, content=content, headers={**elsewhere.as_(Role.COMMUNITY_WORKER), "Content-Type": XLSX}
        )
        assert outsider.status_code == 404
        officer = await client.post(
            path, content=content, headers={**home.as_(Role.FUND_OFFICER), "Content-Type": XLSX}
        )
        assert officer.status_code == 403
    assert (await written(client, home))[:2] == (0, 0)
    missing = await client.post(
        f"/v1/communities/{home.district}/nowhere/import",
        content=content,
        headers={**home.as_(Role.DISTRICT_ADMIN), "Content-Type": XLSX},
    )
    assert missing.status_code == 404
