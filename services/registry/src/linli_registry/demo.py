"""Demo data: one sample community from the reports, loaded through the registry's HTTP API.

东李庄社区 of 高桥营街道 is cut into 5 zones (片区), each with its grid worker. About 300
residents live there in about 120 households; elders have health records, every elder living
alone or bedridden has a care group (三人关爱小组) with a few visit logs (民情日志), and every
orphan or child in difficulty has a guardian on record (a parent, or a grandparent for the orphan).

`demo_community(seed, today)` makes the data and is a pure function: the same seed and day give
the same community. `load_demo(...)` posts it to a running registry over HTTP, so a demo
exercises the same paths as real callers, and does nothing if the community is already there.
Names, ID numbers and phone numbers are made up. Phone numbers have the shape of a Chinese mobile
number (11 digits starting with 1) but start with 100, which no real one does, so a demo can never
text or call a real person.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from linli_registry.domain import Tag, VisitKind, age_on, id_check_char
from linli_shared.auth import Role, issue_token
from linli_shared.clock import CHINA_TIME, utc_now
from linli_shared.demo_api import DemoApi, DemoLoadError  # noqa: F401 - re-exported

DISTRICT = "gaoqiaoying"
DISTRICT_NAME = "高桥营街道"
COMMUNITY = "donglizhuang"
COMMUNITY_NAME = "东李庄社区"
COMMUNITY_WORKER = "community-worker-1"
HOUSEHOLDS = 120
DEMO_PHONE_PREFIX = "100"  # not a mobile prefix in China: demo numbers reach nobody

GRID_NAMES = ("第一片区", "第二片区", "第三片区", "第四片区", "第五片区")
# Relative sizes of the zones, and where people live in each: old village lanes or blocks of flats.
GRID_WEIGHTS = (22, 18, 20, 24, 16)
GRID_PLACES: tuple[tuple[str, ...], ...] = (
    ("东李庄村前街", "东李庄村后街"),
    ("1号楼", "2号楼", "3号楼"),
    ("4号楼", "5号楼", "6号楼"),
    ("7号楼", "8号楼", "9号楼", "10号楼"),
    ("东李庄村东街", "东李庄村西街"),
)

# Surnames roughly by frequency; 李 weighs more in a village named after the Li clan.
SURNAMES = (
    "李" * 12
    + "王张" * 6
    + "刘" * 5
    + "陈杨赵" * 3
    + "黄周吴徐孙马朱胡郭高" * 2
    + "何林罗郑梁谢宋唐许韩冯邓曹彭田董袁于蒋杜程苏魏吕"
    + "丁任沈姚卢姜崔谭陆范金石贾夏付方白孟秦尹薛闫段侯史贺郝邵武"
)
GIVEN_NAMES = {
    # (gender, generation): generation 0 born before 1965, 1 before 1995, 2 since.
    ("male", 0): "建国 德福 玉山 振华 宝山 永利 长江 树林 文忠 福来 庆林 志强 有才 金生 凤山 世荣 "
    "广田 守业 春生 占奎 连生 明德 富贵 学文 保国 秀山 洪亮 立新 万军 德胜",
    ("female", 0): "桂兰 秀英 淑珍 凤英 玉兰 秀兰 桂英 淑芬 玉珍 凤兰 素芳 金凤 翠花 秀珍 玉梅 淑兰 "
    "桂珍 春兰 月英 凤琴 秀云 桂芝 玉华 淑英 金兰 素琴",
    ("male", 1): "伟 强 磊 军 勇 涛 斌 超 明 刚 辉 鹏 杰 建华 海涛 志刚 晓东 春雷 立伟 振宇 永强 "
    "国栋 海波 俊峰 亚军 卫东 文博 建军 志勇 红军",
    ("female", 1): "丽 芳 娜 敏 静 燕 艳 霞 玲 红 丽娟 晓燕 红梅 海燕 春燕 丽华 秀梅 雪梅 艳红 晓丽 "
    "文静 慧敏 丹丹 婷婷 静怡 晓梅 美玲 春梅 红霞 亚楠",
    ("male", 2): "浩然 子轩 宇轩 梓豪 俊杰 一鸣 浩宇 子墨 皓轩 宇航 博文 天佑 思远 奕辰 明轩 泽宇 "
    "铭泽 子豪 晨阳 嘉诚",
    ("female", 2): "子涵 梓萱 欣怡 诗涵 雨桐 一诺 可馨 思雨 语嫣 梦瑶 佳怡 雨萱 紫涵 若汐 欣然 雅琪 "
    "梓涵 安琪 心怡 芷若",
}
# Where residents were born: mostly this district, some from neighbouring provinces.
REGION_CODES = ("110105",) * 16 + ("110112", "130102", "130682", "410102", "370102", "230102")

ILLNESSES = (
    ("高血压", "硝苯地平缓释片"),
    ("糖尿病", "二甲双胍片"),
    ("冠心病", "阿司匹林肠溶片"),
    ("脑梗死后遗症", "阿托伐他汀钙片"),
    ("慢性支气管炎", "氨溴索口服液（发作时）"),
    ("骨关节炎", "氨基葡萄糖胶囊"),
    ("高脂血症", "阿托伐他汀钙片"),
    ("慢性胃炎", "奥美拉唑肠溶胶囊"),
    ("白内障术后", ""),
)
VISIT_FINDINGS = (
    ("血压平稳，精神状态良好。", ""),
    ("老人反映膝盖疼，已联系社区卫生服务站上门看看。", "明天回访膝盖情况"),
    ("常用药剩三天的量，提醒按时取药。", "后天确认是否已取药"),
    ("家中暖气不太热，已报物业。", "跟进物业维修"),
    ("老人情绪不错，聊了聊家常，帮忙倒了垃圾。", ""),
    ("冰箱里菜不多，志愿者已代买米面。", ""),
    ("老人说晚上睡不好，建议白天多到养老站坐坐。", "联系养老站"),
    ("屋里收拾得干净，炉子、燃气都检查过，安全。", ""),
)
CALL_FINDINGS = (
    ("电话随访：老人说一切都好。", ""),
    ("电话随访：子女这周回来看过。", ""),
    ("电话随访：老人咳嗽几天了，已约卫生服务站上门。", "上门查看咳嗽情况"),
)


@dataclass(frozen=True)
class DemoGrid:
    code: str
    name: str
    grid_worker: str


@dataclass(frozen=True)
class DemoHousehold:
    key: int
    grid_code: str
    address: str


@dataclass(frozen=True)
class DemoHealth:
    address: str
    children_phones: tuple[str, ...]
    past_illnesses: str
    regular_medicines: str
    notes: str


@dataclass(frozen=True)
class DemoPerson:
    key: int
    household_key: int
    grid_code: str
    full_name: str
    gender: str
    birth_date: date
    id_number: str
    phone: str | None
    tags: frozenset[Tag]
    health: DemoHealth | None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    guardian_phone: str | None = None


@dataclass(frozen=True)
class DemoVisit:
    """A visit or call some days back, at a local (China time) hour of the day."""

    days_ago: int
    hour: int
    minute: int
    kind: VisitKind
    findings: str
    follow_up: str


@dataclass(frozen=True)
class DemoCareGroup:
    person_key: int
    grid_worker: str
    neighbour_name: str
    neighbour_phone: str | None
    visits: tuple[DemoVisit, ...]


@dataclass(frozen=True)
class DemoCommunity:
    grids: tuple[DemoGrid, ...]
    households: tuple[DemoHousehold, ...]
    people: tuple[DemoPerson, ...]
    care_groups: tuple[DemoCareGroup, ...]


# --- generation: pure, deterministic for a seed and a day -----------------------------------------


@dataclass
class _Member:
    """A household member before names and numbers are drawn."""

    age: int
    gender: str
    surname: str
    role: str = "adult"  # "parent", "grandparent" or "child" where the household has generations


HOUSEHOLD_KINDS = (
    ("elder_alone", 14),  # 独居老人
    ("elder_couple", 13),
    ("elder_with_child", 4),  # a widowed elder and an unmarried or divorced child
    ("single", 10),
    ("couple", 9),
    ("nuclear", 28),
    ("three_generations", 12),
    ("with_parent", 7),  # a couple looking after one old parent
)


def demo_community(seed: int = 7, today: date | None = None) -> DemoCommunity:
    """The demo community: the same for the same seed and day (ages are counted from `today`)."""
    today = today or utc_now().date()
    rng = random.Random(seed)
    grids = tuple(
        DemoGrid(code=f"zone-{n}", name=name, grid_worker=f"grid-worker-{n}")
        for n, name in enumerate(GRID_NAMES, start=1)
    )
    kinds = [kind for kind, _ in HOUSEHOLD_KINDS]
    weights = [weight for _, weight in HOUSEHOLD_KINDS]
    plans = [rng.choices(kinds, weights)[0] for _ in range(HOUSEHOLDS - 1)]
    plans.insert(rng.randrange(HOUSEHOLDS), "orphan_with_grandparents")

    households: list[DemoHousehold] = []
    members: list[tuple[int, _Member]] = []
    addresses: set[str] = set()
    zones = [index for index, weight in enumerate(GRID_WEIGHTS) for _ in range(weight)]
    zones = [zones[round(n * len(zones) / HOUSEHOLDS)] for n in range(HOUSEHOLDS)]
    rng.shuffle(zones)
    for key, kind in enumerate(plans):
        grid_index = zones[key]
        address = _address(rng, grid_index, addresses)
        households.append(DemoHousehold(key=key, grid_code=grids[grid_index].code, address=address))
        members += [(key, member) for member in _members(rng, kind)]

    people = _people(rng, households, plans, members, today)
    people = _with_health_records(rng, households, people, today)
    care_groups = _care_groups(rng, grids, households, people, today)
    people = _with_guardians(people, [member for _, member in members])
    return DemoCommunity(
        grids=grids, households=tuple(households), people=tuple(people), care_groups=tuple(care_groups)
    )


def _address(rng: random.Random, grid_index: int, taken: set[str]) -> str:
    while True:
        place = rng.choice(GRID_PLACES[grid_index])
        if place.endswith("楼"):
            address = f"{COMMUNITY_NAME}{place}{rng.randint(1, 3)}单元{rng.randint(1, 6)}0{rng.randint(1, 2)}"
        else:
            address = f"{place}{rng.randint(1, 60)}号"
        if address not in taken:
            taken.add(address)
            return address


def _surname(rng: random.Random) -> str:
    return rng.choice(SURNAMES)


def _elder_age(rng: random.Random, low: int = 60) -> int:
    """Elder ages thin out with age: many in their sixties and seventies, a few past ninety."""
    return min(low + int(rng.expovariate(1 / 9)), 98)


def _members(rng: random.Random, kind: str) -> list[_Member]:
    family = _surname(rng)
    if kind == "elder_alone":
        gender = "female" if rng.random() < 0.65 else "male"  # more widows than widowers
        return [_Member(_elder_age(rng, 63), gender, family)]
    if kind == "elder_couple":
        husband = _elder_age(rng, 61)
        return [
            _Member(husband, "male", family),
            _Member(max(58, husband - rng.randint(0, 5)), "female", _surname(rng)),
        ]
    if kind == "elder_with_child":
        parent = _elder_age(rng, 72)
        return [
            _Member(parent, "female" if rng.random() < 0.7 else "male", family),
            _Member(parent - rng.randint(25, 33), rng.choice(("female", "male")), family),
        ]
    if kind == "single":
        return [_Member(rng.randint(20, 58), rng.choice(("female", "male")), family)]
    if kind == "couple":
        husband = rng.randint(23, 40)
        return [
            _Member(husband, "male", family),
            _Member(max(21, husband - rng.randint(-2, 4)), "female", _surname(rng)),
        ]
    if kind == "nuclear":
        father = rng.randint(27, 54)
        mother = max(23, father - rng.randint(-2, 4))
        return [
            _Member(father, "male", family, "parent"),
            _Member(mother, "female", _surname(rng), "parent"),
            *_children(rng, mother, family, rng.choice((1, 1, 1, 2, 2))),
        ]
    if kind == "three_generations":
        grandfather = _elder_age(rng, 60)
        father = max(26, grandfather - rng.randint(24, 32))
        mother = max(23, father - rng.randint(-2, 4))
        old = [_Member(grandfather, "male", family, "grandparent")] if rng.random() < 0.7 else []
        old.append(_Member(max(58, grandfather - rng.randint(0, 5)), "female", _surname(rng), "grandparent"))
        return [
            *old,
            _Member(father, "male", family, "parent"),
            _Member(mother, "female", _surname(rng), "parent"),
            *_children(rng, mother, family, rng.choice((1, 1, 2))),
        ]
    if kind == "with_parent":
        husband = rng.randint(42, 62)
        return [
            _Member(husband, "male", family),
            _Member(max(38, husband - rng.randint(-2, 4)), "female", _surname(rng)),
            _Member(min(husband + rng.randint(24, 32), 98), rng.choice(("female", "male")), family),
        ]
    if kind == "orphan_with_grandparents":
        # From the 东李庄 report: a 6-year-old orphan living with grandparents, the grandfather
        # over 80 and past working, the grandmother with heart disease and diabetes.
        return [
            _Member(rng.randint(81, 85), "male", family, "grandparent"),
            _Member(rng.randint(76, 80), "female", _surname(rng), "grandparent"),
            _Member(6, rng.choice(("female", "male")), family, "child"),
        ]
    raise ValueError(f"unknown household kind {kind}")


def _children(rng: random.Random, mother_age: int, surname: str, count: int) -> list[_Member]:
    oldest = min(mother_age - 21, 24)
    if oldest < 0:
        return []
    return [
        _Member(rng.randint(0, oldest), rng.choice(("female", "male")), surname, "child")
        for _ in range(count)
    ]


def _birth_date(rng: random.Random, age: int, today: date) -> date:
    """A birth date giving `age` on `today`, and at least a day ago."""
    latest = min(_years_before(today, age), today - timedelta(days=1))
    earliest = _years_before(today, age + 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def make_id_number(rng: random.Random, birth_date: date, gender: str, taken: set[str]) -> str:
    """A made-up 18-character ID number: region, birth date, sequence (odd for men), check char."""
    while True:
        region = rng.choice(REGION_CODES)
        sex_digit = rng.choice("13579" if gender == "male" else "02468")
        first17 = f"{region}{birth_date:%Y%m%d}{rng.randrange(100):02d}{sex_digit}"
        number = first17 + id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def _phone(rng: random.Random, taken: set[str]) -> str:
    while True:
        phone = f"{DEMO_PHONE_PREFIX}{rng.randrange(10**8):08d}"
        if phone not in taken:
            taken.add(phone)
            return phone


def _given_name(rng: random.Random, gender: str, birth_year: int) -> str:
    generation = 0 if birth_year < 1965 else 1 if birth_year < 1995 else 2
    return rng.choice(GIVEN_NAMES[(gender, generation)].split())


def _people(
    rng: random.Random,
    households: Sequence[DemoHousehold],
    plans: Sequence[str],
    members: Sequence[tuple[int, _Member]],
    today: date,
) -> list[DemoPerson]:
    names: set[str] = set()
    id_numbers: set[str] = set()
    phones: set[str] = set()
    tags = _tags(rng, plans, members)
    people = []
    for key, (household_key, member) in enumerate(members):
        birth_date = _birth_date(rng, member.age, today)
        for _ in range(50):  # one name per person in the demo, so people are easy to tell apart
            full_name = member.surname + _given_name(rng, member.gender, birth_date.year)
            if full_name not in names:
                break
        names.add(full_name)
        has_phone = member.age >= 14 and (member.age < 85 or rng.random() < 0.5)
        people.append(
            DemoPerson(
                key=key,
                household_key=household_key,
                grid_code=households[household_key].grid_code,
                full_name=full_name,
                gender=member.gender,
                birth_date=birth_date,
                id_number=make_id_number(rng, birth_date, member.gender, id_numbers),
                phone=_phone(rng, phones) if has_phone else None,
                tags=frozenset(tags[key]),
                health=None,
            )
        )
    return people


def _tags(
    rng: random.Random,
    plans: Sequence[str],
    members: Sequence[tuple[int, _Member]],
) -> list[set[Tag]]:
    """Care attributes with about the frequencies a community like 东李庄 would have."""
    tags: list[set[Tag]] = [set() for _ in members]
    dibao = {
        key for key, kind in enumerate(plans) if rng.random() < (0.12 if kind == "elder_alone" else 0.03)
    }
    dibao.add(plans.index("orphan_with_grandparents"))
    others = [key for key in range(len(plans)) if key not in dibao]
    poor = {key for key in others if rng.random() < 0.03} or set(rng.sample(others, k=2))
    for index, (household, member) in enumerate(members):
        mine = tags[index]
        if plans[household] == "elder_alone":
            mine.add(Tag.LIVING_ALONE)
            if rng.random() < 0.4:
                mine.add(Tag.LONELY)  # 孤寡: no children either
        if rng.random() < (0.09 if member.age >= 70 else 0.02):
            mine.add(Tag.DISABLED)
        if household in dibao:
            mine.add(Tag.DIBAO)
        if household in poor:
            mine.add(Tag.POOR_HOUSEHOLD)
        if plans[household] == "orphan_with_grandparents" and member.age < 18:
            mine |= {Tag.ORPHAN, Tag.CHILD_IN_DIFFICULTY}
        elif member.age < 18 and (household in dibao or household in poor) and rng.random() < 0.6:
            mine.add(Tag.CHILD_IN_DIFFICULTY)
        if member.gender == "male" and 35 <= member.age <= 90 and rng.random() < 0.07:
            mine.add(Tag.VETERAN)
    # A few bedridden (失能) among those 75 and over, at least two so the demo shows them.
    old = [index for index, (_, member) in enumerate(members) if member.age >= 75]
    bedridden = {index for index in old if rng.random() < 0.08}
    while len(bedridden) < min(2, len(old)):
        bedridden.add(rng.choice(old))
    for index in bedridden:
        tags[index].add(Tag.BEDRIDDEN)
    # About twenty party members (the report counts 20-odd in the volunteer team), more among the old.
    adults = [index for index, (_, member) in enumerate(members) if member.age >= 22]
    weights = [1 + members[index][1].age / 30 for index in adults]
    chosen: set[int] = set()
    target = 20 + rng.randint(0, 4)
    while len(chosen) < min(target, len(adults)):
        chosen.add(rng.choices(adults, weights)[0])
    for index in chosen:
        tags[index].add(Tag.PARTY_MEMBER)
    return tags


def _with_health_records(
    rng: random.Random, households: Sequence[DemoHousehold], people: list[DemoPerson], today: date
) -> list[DemoPerson]:
    """Health records (健康档案) for everyone 60 or over, as the report's free check-up made."""
    by_household: dict[int, list[DemoPerson]] = {}
    for person in people:
        by_household.setdefault(person.household_key, []).append(person)
    phones: set[str] = {p.phone for p in people if p.phone}
    orphan_homes = {p.household_key for p in people if Tag.ORPHAN in p.tags}
    result = []
    for person in people:
        age = age_on(person.birth_date, today)
        if age < 60:
            result.append(person)
            continue
        illnesses = rng.sample(ILLNESSES, k=rng.choice((0, 1, 1, 2, 2, 3)))
        if Tag.BEDRIDDEN in person.tags:
            illnesses.append(ILLNESSES[3])  # a stroke is what most often leaves an elder bedridden
        if person.household_key in orphan_homes and person.gender == "female":
            illnesses += [ILLNESSES[2], ILLNESSES[1]]  # the report's grandmother: heart disease, diabetes
        illnesses = list(dict.fromkeys(illnesses))
        medicines = list(dict.fromkeys(medicine for _, medicine in illnesses if medicine))
        if Tag.LONELY in person.tags:
            children: tuple[str, ...] = ()
        else:
            younger = [
                p.phone
                for p in by_household[person.household_key]
                if p.phone and 18 <= age_on(p.birth_date, today) <= age - 20
            ]
            away = [_phone(rng, phones) for _ in range(rng.choice((1, 1, 2)))]
            children = tuple(younger or away)
        notes = []
        if Tag.LIVING_ALONE in person.tags:
            notes.append("独居，三人关爱小组每日上门查看、每周电话随访。")
        if Tag.LONELY in person.tags:
            notes.append("孤寡老人，无子女。")
        if Tag.BEDRIDDEN in person.tags:
            notes.append("长期卧床，需协助翻身，防压疮。")
        if Tag.DISABLED in person.tags:
            notes.append("持残疾证。")
        health = DemoHealth(
            address=households[person.household_key].address,
            children_phones=children,
            past_illnesses="、".join(name for name, _ in illnesses),
            regular_medicines="、".join(medicines),
            notes="".join(notes),
        )
        result.append(replace(person, health=health))
    return result


GUARDIAN_RELATIONS = {
    ("parent", "female"): "母亲",
    ("parent", "male"): "父亲",
    ("grandparent", "female"): "奶奶",
    ("grandparent", "male"): "爷爷",
}


def _with_guardians(people: Sequence[DemoPerson], members: Sequence[_Member]) -> list[DemoPerson]:
    """Every orphan or child in difficulty gets a guardian from home: a parent, else a grandparent.

    Mothers before fathers, and among grandparents the one with a phone; no randomness, so the
    rest of the community does not change with it.
    """
    by_household: dict[int, list[DemoPerson]] = {}
    for person in people:
        by_household.setdefault(person.household_key, []).append(person)
    ranks = {"parent": 0, "grandparent": 1}
    result = []
    for person in people:
        if not {Tag.ORPHAN, Tag.CHILD_IN_DIFFICULTY} & person.tags:
            result.append(person)
            continue
        candidates = sorted(
            (p for p in by_household[person.household_key] if members[p.key].role in ranks),
            key=lambda p: (ranks[members[p.key].role], p.phone is None, p.gender != "female", p.key),
        )
        if not candidates:
            result.append(person)
            continue
        guardian = candidates[0]
        relation = GUARDIAN_RELATIONS[(members[guardian.key].role, guardian.gender)]
        result.append(
            replace(
                person,
                guardian_name=guardian.full_name,
                guardian_relation=relation,
                guardian_phone=guardian.phone,
            )
        )
    return result


def needs_care_group(person: DemoPerson, today: date) -> bool:
    """Every elder living alone or bedridden gets a 三人关爱小组."""
    return age_on(person.birth_date, today) >= 60 and bool({Tag.LIVING_ALONE, Tag.BEDRIDDEN} & person.tags)


def _care_groups(
    rng: random.Random,
    grids: Sequence[DemoGrid],
    households: Sequence[DemoHousehold],
    people: Sequence[DemoPerson],
    today: date,
) -> list[DemoCareGroup]:
    workers = {grid.code: grid.grid_worker for grid in grids}
    groups = []
    for person in people:
        if not needs_care_group(person, today):
            continue
        neighbour = _neighbour(rng, households, people, person, today)
        # A visit a day for the last few days (as the groups promise), and the week's phone call.
        visits = [_visit(rng, day, VisitKind.VISIT) for day in range(rng.randint(2, 4))]
        visits.append(_visit(rng, rng.randint(2, 6), VisitKind.CALL))
        visits.sort(key=lambda v: (-v.days_ago, v.hour, v.minute))
        groups.append(
            DemoCareGroup(
                person_key=person.key,
                grid_worker=workers[person.grid_code],
                neighbour_name=neighbour.full_name,
                neighbour_phone=neighbour.phone,
                visits=tuple(visits),
            )
        )
    return groups


def _visit(rng: random.Random, days_ago: int, kind: VisitKind) -> DemoVisit:
    if kind is VisitKind.VISIT:
        hour, (findings, follow_up) = rng.randint(8, 17), rng.choice(VISIT_FINDINGS)
    else:
        hour, (findings, follow_up) = rng.randint(18, 20), rng.choice(CALL_FINDINGS)
    return DemoVisit(days_ago, hour, rng.randrange(60), kind, findings, follow_up)


def _neighbour(
    rng: random.Random,
    households: Sequence[DemoHousehold],
    people: Sequence[DemoPerson],
    elder: DemoPerson,
    today: date,
) -> DemoPerson:
    """An able adult of another household in the same zone, in the same building or lane if any."""

    def place(household_key: int) -> str:
        address = households[household_key].address
        return address[: address.index("楼") + 1] if "楼" in address else address.rstrip("0123456789号")

    candidates = [
        p
        for p in people
        if p.grid_code == elder.grid_code
        and p.household_key != elder.household_key
        and p.phone
        and 25 <= age_on(p.birth_date, today) <= 70
        and not {Tag.BEDRIDDEN, Tag.DISABLED} & p.tags
    ]
    close = [p for p in candidates if place(p.household_key) == place(elder.household_key)]
    return rng.choice(close or candidates)


def visit_time(now: datetime, visit: DemoVisit) -> datetime:
    """When a demo visit happened, counted back from `now`, in China time and never in the future."""
    local_now = now.astimezone(CHINA_TIME)
    moment = (local_now - timedelta(days=visit.days_ago)).replace(
        hour=visit.hour, minute=visit.minute, second=0, microsecond=0
    )
    if moment > local_now:
        moment -= timedelta(days=1)
    return moment


# --- request bodies: what the API is sent for each piece of demo data -----------------------------


def grid_body(grid: DemoGrid) -> dict[str, Any]:
    return {
        "district": DISTRICT,
        "community": COMMUNITY,
        "code": grid.code,
        "name": grid.name,
        "grid_worker": grid.grid_worker,
    }


def household_body(household: DemoHousehold) -> dict[str, Any]:
    return {
        "district": DISTRICT,
        "community": COMMUNITY,
        "grid_code": household.grid_code,
        "address": household.address,
    }


def resident_body(person: DemoPerson, household_id: str) -> dict[str, Any]:
    return {
        "district": DISTRICT,
        "community": COMMUNITY,
        "grid_code": person.grid_code,
        "household_id": household_id,
        "full_name": person.full_name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat(),
        "id_number": person.id_number,
        "phone": person.phone,
        "guardian_name": person.guardian_name,
        "guardian_relation": person.guardian_relation,
        "guardian_phone": person.guardian_phone,
        "tags": sorted(tag.value for tag in person.tags),
    }


def health_body(health: DemoHealth) -> dict[str, Any]:
    return {
        "address": health.address,
        "children_phones": list(health.children_phones),
        "past_illnesses": health.past_illnesses,
        "regular_medicines": health.regular_medicines,
        "notes": health.notes,
    }


def care_group_body(group: DemoCareGroup, resident_id: str) -> dict[str, Any]:
    return {
        "resident_id": resident_id,
        "community_worker": COMMUNITY_WORKER,
        "grid_worker": group.grid_worker,
        "neighbour_name": group.neighbour_name,
        "neighbour_phone": group.neighbour_phone,
    }


def visit_body(visit: DemoVisit, resident_id: str, now: datetime) -> dict[str, Any]:
    return {
        "resident_id": resident_id,
        "kind": visit.kind.value,
        "visited_at": visit_time(now, visit).isoformat(),
        "findings": visit.findings,
        "follow_up": visit.follow_up,
    }


# --- loading over HTTP ----------------------------------------------------------------------------


def load_demo(
    base_url: str,
    jwt_secret: str,
    *,
    seed: int = 7,
    progress: Callable[[str], None] = print,
    transport: httpx.BaseTransport | None = None,
) -> bool:
    """Load the demo community through the API; False, doing nothing, if it is already there."""
    started = time.perf_counter()
    now = utc_now()

    def token(role: Role, subject: str, community: str | None = COMMUNITY) -> str:
        district = None if role is Role.CITY_ADMIN else DISTRICT
        return issue_token(jwt_secret, role=role, district=district, community=community, subject=subject)

    admin = token(Role.CITY_ADMIN, "demo-city-admin", community=None)
    worker = token(Role.COMMUNITY_WORKER, COMMUNITY_WORKER)
    with httpx.Client(base_url=base_url, timeout=30, transport=transport) as client:
        api = DemoApi(client, who="demo")
        communities = api.call("GET", "/v1/communities", admin, 200, params={"district": DISTRICT})
        if any(c["code"] == COMMUNITY for c in communities):
            progress(f"demo: {COMMUNITY_NAME} ({DISTRICT}/{COMMUNITY}) is already there; nothing loaded")
            return False

        data = demo_community(seed, now.date())
        progress(f"demo: loading {DISTRICT_NAME} {COMMUNITY_NAME} ({len(data.people)} residents)")
        if not any(d["code"] == DISTRICT for d in api.call("GET", "/v1/districts", admin, 200)):
            api.call("POST", "/v1/districts", admin, 201, json={"code": DISTRICT, "name": DISTRICT_NAME})
        community = {"district": DISTRICT, "code": COMMUNITY, "name": COMMUNITY_NAME}
        api.call("POST", "/v1/communities", admin, 201, json=community)
        for grid in data.grids:
            api.call("POST", "/v1/grids", worker, 201, json=grid_body(grid))

        household_ids = {
            h.key: api.call("POST", "/v1/households", worker, 201, json=household_body(h))["id"]
            for h in data.households
        }
        resident_ids: dict[int, str] = {}
        for count, person in enumerate(data.people, start=1):
            body = resident_body(person, household_ids[person.household_key])
            resident_ids[person.key] = api.call("POST", "/v1/residents", worker, 201, json=body)["id"]
            if count % 50 == 0:
                progress(f"demo: {count}/{len(data.people)} residents registered")

        health_records = 0
        for person in data.people:
            if person.health is not None:
                path = f"/v1/residents/{resident_ids[person.key]}/health-record"
                api.call("PUT", path, worker, 200, json=health_body(person.health))
                health_records += 1

        grid_tokens = {g.grid_worker: token(Role.GRID_WORKER, g.grid_worker) for g in data.grids}
        visits = 0
        for group in data.care_groups:
            resident_id = resident_ids[group.person_key]
            api.call("POST", "/v1/care-groups", worker, 201, json=care_group_body(group, resident_id))
            for visit in group.visits:
                body = visit_body(visit, resident_id, now)
                api.call("POST", "/v1/visits", grid_tokens[group.grid_worker], 201, json=body)
                visits += 1

    progress(
        f"demo: loaded {COMMUNITY_NAME}: {len(data.grids)} grids, {len(data.households)} households, "
        f"{len(data.people)} residents, {health_records} health records, "
        f"{len(data.care_groups)} care groups, {visits} visit logs "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return True
