"""Demo data for the points service: 东李庄社区's volunteers, loaded through the points HTTP API.

The registry's demo (`linli_registry.demo`) makes the community and its residents; this one makes
what the points service keeps for it, as the 东李庄 report tells it: a volunteer team of about 33
(the community's party members and some other adults) in six teams, activities (first-aid
training, haircuts, knife sharpening, visits to elders, tutoring) whose confirmed hours earn points,
a love supermarket stocked from donations and purchases where a few of those points were spent,
a wish wall with wishes in several states, and one neighbour-help offer matched to a request.

Everything goes through the points API (and the registry's, to read residents), so a demo runs
the same paths as real callers. Volunteers are enrolled with their registry resident id, which
the points service learns from the registry's events a little later: an enrolment answered 422
"not known" is retried until `timeout` passes.

Activities can be signed up for only until they end, and hours confirmed only once they have
started; so the "past" activities here started hours before the load and end a few minutes after
it, and the upcoming ones start on the next days (China time).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

import httpx

from linli_points.domain import StockSource, TeamKind
from linli_points.hours import Rounding, check_window
from linli_points.wish_rules import WishStatus
from linli_shared.auth import Role, issue_token
from linli_shared.clock import CHINA_TIME, china_day, utc_now
from linli_shared.demo_api import RETRY_PAUSE, DemoApi, DemoLoadError  # noqa: F401 - re-exported

# The registry demo's community; the values are repeated, not imported: points runs without it.
DISTRICT = "gaoqiaoying"
COMMUNITY = "donglizhuang"
COMMUNITY_NAME = "东李庄社区"
COMMUNITY_WORKER = "community-worker-1"
VOLUNTEER_TARGET = 33  # "在33人组成的志愿者服务队中，党员就有20余人"
MIN_OTHER_VOLUNTEERS = 6
OLDEST_VOLUNTEER = 80
PAST_ACTIVITY_END_MARGIN = timedelta(minutes=15)  # sign-ups close when an activity ends


# --- the data: plain definitions, checked by the unit tests ---------------------------------------


@dataclass(frozen=True)
class DemoTeam:
    key: str
    name: str
    kind: TeamKind


TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam("party", "党建引领先锋服务队", TeamKind.PARTY_BUILDING),
    DemoTeam("convenience", "便民服务队", TeamKind.CONVENIENCE),
    DemoTeam("elderly", "为老服务队", TeamKind.ELDERLY_CARE),
    DemoTeam("youth", "青少年关爱服务队", TeamKind.YOUTH),
    DemoTeam("medical", "红十字医疗救护队", TeamKind.MEDICAL),
    DemoTeam("education", "四点半课堂助学队", TeamKind.EDUCATION),
)

# Volunteers with a trade or a task, as (team, skills, how many); the rest serve in the party
# team (party members) or the elderly-care team (everyone else).
SKILL_SLOTS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("medical", ("急救", "测血压"), 4),
    ("convenience", ("理发",), 3),
    ("convenience", ("磨剪子戗菜刀",), 1),
    ("convenience", ("家电维修",), 2),
    ("education", ("辅导功课",), 3),
    ("youth", ("文体活动", "心理疏导"), 3),
    ("elderly", ("陪伴聊天", "代买代办"), 6),
)
PARTY_SKILLS = ("走访慰问", "政策宣讲")
DEFAULT_SKILLS = ("陪伴聊天",)


@dataclass(frozen=True)
class DemoActivity:
    """An activity; a past one ends just after the load, an upcoming one starts on a later day."""

    key: str
    title: str
    kind: str
    team: str
    skill: str  # volunteers with this skill sign up first, then the team's, then anyone
    place: str
    minutes: int  # how long it lasts
    capacity: int
    sign_ups: int
    points_per_hour: int = 10
    rounding: Rounding = Rounding.DOWN
    daily_points_cap: int | None = None
    served_minutes: int | None = None  # set for past activities: the hours confirmed per volunteer
    days_ahead: int = 0  # upcoming activities: the day (China time) …
    local_start: clock_time = clock_time(9, 0)  # … and the hour they start

    @property
    def past(self) -> bool:
        return self.served_minutes is not None


ACTIVITIES: tuple[DemoActivity, ...] = (
    DemoActivity(
        key="first-aid",
        title="红十字应急救护培训：心肺复苏与AED使用",
        kind="first_aid",
        team="medical",
        skill="急救",
        place="东李庄社区居委会二楼会议室",
        minutes=180,
        capacity=30,
        sign_ups=12,
        served_minutes=180,
    ),
    DemoActivity(
        key="haircut",
        title="义务理发进社区",
        kind="haircut",
        team="convenience",
        skill="理发",
        place="东李庄社区党群服务中心门前",
        minutes=180,
        capacity=6,
        sign_ups=4,
        points_per_hour=15,
        rounding=Rounding.NEAREST,
        served_minutes=150,
    ),
    DemoActivity(
        key="knives",
        title="磨剪子戗菜刀便民服务",
        kind="knife_sharpening",
        team="convenience",
        skill="磨剪子戗菜刀",
        place="东李庄村前街小广场",
        minutes=150,
        capacity=4,
        sign_ups=2,
        points_per_hour=15,
        served_minutes=120,
    ),
    DemoActivity(
        key="old-members",
        title="走访慰问辖区老党员",
        kind="elder_visit",
        team="party",
        skill="走访慰问",
        place="东李庄社区五个片区",
        minutes=150,
        capacity=10,
        sign_ups=8,
        daily_points_cap=60,
        served_minutes=150,
    ),
    DemoActivity(
        key="elders-at-home",
        title="独居老人入户探望",
        kind="elder_visit",
        team="elderly",
        skill="陪伴聊天",
        place="东李庄社区独居老人家中",
        minutes=150,
        capacity=12,
        sign_ups=6,
        days_ahead=1,
        local_start=clock_time(9, 0),
    ),
    DemoActivity(
        key="tutoring",
        title="四点半课堂：小学生作业辅导",
        kind="tutoring",
        team="education",
        skill="辅导功课",
        place="东李庄社区党群服务中心一楼四点半课堂",
        minutes=90,
        capacity=6,
        sign_ups=3,
        days_ahead=2,
        local_start=clock_time(16, 30),
    ),
    DemoActivity(
        key="first-aid-2",
        title="红十字应急救护培训（第二期）",
        kind="first_aid",
        team="medical",
        skill="急救",
        place="东李庄社区卫生服务站",
        minutes=180,
        capacity=30,
        sign_ups=5,
        days_ahead=7,
        local_start=clock_time(9, 30),
    ),
)


@dataclass(frozen=True)
class DemoItem:
    key: str
    name: str
    points_price: int
    monthly_limit: int | None
    low_stock_threshold: int
    intakes: tuple[tuple[int, StockSource, str], ...]  # (quantity, source, note)


ITEMS: tuple[DemoItem, ...] = (
    DemoItem(
        "rice",
        "大米 5kg",
        30,
        1,
        5,
        ((20, StockSource.DONATION, "爱心企业捐赠"), (10, StockSource.PURCHASE, "社区购入")),
    ),
    DemoItem("flour", "面粉 5kg", 25, 1, 5, ((15, StockSource.DONATION, "爱心企业捐赠"),)),
    DemoItem(
        "oil",
        "食用油 5L",
        40,
        1,
        5,
        ((8, StockSource.DONATION, "党员干部捐赠"), (12, StockSource.PURCHASE, "社区购入")),
    ),
    DemoItem("detergent", "洗衣液 2kg", 15, 2, 3, ((10, StockSource.DONATION, "共建单位捐赠"),)),
    DemoItem("towel", "毛巾", 5, 4, 10, ((30, StockSource.PURCHASE, "社区购入"),)),
    DemoItem("umbrella", "雨伞", 20, 1, 2, ((8, StockSource.DONATION, "爱心企业捐赠"),)),
)

# (item, quantity, picked up): spent by the volunteers with the most points, richest first.
REDEMPTIONS: tuple[tuple[str, int, bool], ...] = (("rice", 1, True), ("towel", 2, False))


@dataclass(frozen=True)
class DemoWish:
    key: str
    title: str
    description: str
    points_award: int
    state: WishStatus  # pending, open (approved) or claimed (by a party-member volunteer)


WISHES: tuple[DemoWish, ...] = (
    DemoWish(
        "wheelchair",
        "想要一辆轮椅",
        "老人腿脚不便，去卫生服务站看病、出门晒太阳都要家人背，想要一辆轮椅。",
        50,
        WishStatus.CLAIMED,
    ),
    DemoWish(
        "choir",
        "老年合唱团想请一位指导老师",
        "社区老年合唱团每周二、四下午排练，没人懂乐理，想请一位指导老师每月来指导两次。",
        30,
        WishStatus.OPEN,
    ),
    DemoWish(
        "gas",
        "老旧小区通天然气",
        "楼房是老旧小区，至今没通管道天然气，冬天还要换罐装液化气，老人搬不动也不安全，盼望接通天然气。",
        100,
        WishStatus.PENDING,
    ),
)

HELP_OFFER = ("棉被", "家里闲置的八成新厚棉被两床，已晾晒干净，愿意送给有需要的邻居。")
HELP_REQUEST = ("棉被", "冬天被褥单薄，想要一床厚棉被。")


# --- choices from the registry's residents: pure, deterministic for a seed and the same residents ---


@dataclass(frozen=True)
class VolunteerPlan:
    subject: str
    full_name: str
    resident_id: str
    team: str
    party_member: bool
    skills: tuple[str, ...]


def able(resident: dict[str, Any]) -> bool:
    return not {"bedridden", "disabled"} & set(resident["tags"])


def plan_volunteers(
    party_members: Sequence[dict[str, Any]], residents: Sequence[dict[str, Any]], rng: random.Random
) -> list[VolunteerPlan]:
    """The registry's party members able to serve, and other adults up to about 33, in teams."""
    party = sorted(
        (r for r in party_members if able(r) and 18 <= r["age"] <= OLDEST_VOLUNTEER), key=lambda r: r["id"]
    )
    party_ids = {r["id"] for r in party_members}
    candidates = sorted(
        (r for r in residents if r["id"] not in party_ids and able(r) and 20 <= r["age"] <= 65),
        key=lambda r: r["id"],
    )
    wanted = min(len(candidates), max(VOLUNTEER_TARGET - len(party), MIN_OTHER_VOLUNTEERS))
    people = party + rng.sample(candidates, wanted)
    order = list(range(len(people)))
    rng.shuffle(order)
    slots = [(team, skills) for team, skills, count in SKILL_SLOTS for _ in range(count)]
    assigned: dict[int, tuple[str, tuple[str, ...]]] = dict(zip(order, slots, strict=False))
    plans = []
    for number, resident in enumerate(people, start=1):
        is_party = resident["id"] in party_ids
        team, skills = assigned.get(
            number - 1, ("party", PARTY_SKILLS) if is_party else ("elderly", DEFAULT_SKILLS)
        )
        plans.append(
            VolunteerPlan(
                subject=f"volunteer-{number}",
                full_name=resident["full_name"],
                resident_id=resident["id"],
                team=team,
                party_member=is_party,
                skills=skills + (("走访慰问",) if is_party and "走访慰问" not in skills else ()),
            )
        )
    return plans


def choose_sign_ups(
    activity: DemoActivity, volunteers: Sequence[VolunteerPlan], rng: random.Random
) -> list[VolunteerPlan]:
    """Who signs up: those with the activity's skill first, then its team's members, then anyone."""
    groups: list[list[VolunteerPlan]] = [[], [], []]
    for volunteer in volunteers:
        rank = 0 if activity.skill in volunteer.skills else 1 if volunteer.team == activity.team else 2
        groups[rank].append(volunteer)
    ranked: list[VolunteerPlan] = []
    for group in groups:
        rng.shuffle(group)
        ranked += group
    return ranked[: min(activity.sign_ups, activity.capacity)]


def activity_window(activity: DemoActivity, now: datetime) -> tuple[datetime, datetime]:
    """Past: started `minutes` before a moment just after now; upcoming: on its day, China time."""
    if activity.past:
        ends_at = whole_minutes(now + PAST_ACTIVITY_END_MARGIN, step=5)
        return ends_at - timedelta(minutes=activity.minutes), ends_at
    day = china_day(now) + timedelta(days=activity.days_ahead)
    starts_at = datetime.combine(day, activity.local_start, tzinfo=CHINA_TIME)
    return starts_at, starts_at + timedelta(minutes=activity.minutes)


def whole_minutes(moment: datetime, *, step: int) -> datetime:
    """The moment rounded up to a multiple of `step` minutes past the hour."""
    floor = moment.replace(minute=moment.minute - moment.minute % step, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=step)


def choose_wish_residents(
    residents: Sequence[dict[str, Any]], rng: random.Random
) -> dict[str, dict[str, Any]]:
    """A resident for each wish: an elder who cannot walk, a choir singer, someone in the flats."""
    ordered = sorted(residents, key=lambda r: r["id"])
    elders = [r for r in ordered if r["age"] >= 60]
    cannot_walk = [r for r in elders if {"bedridden", "disabled"} & set(r["tags"])]
    flats = [r for r in ordered if r["grid_code"] in ("zone-2", "zone-3", "zone-4") and r["age"] >= 18]
    adults = [r for r in ordered if r["age"] >= 18]
    if not elders or not adults:
        raise DemoLoadError(f"the registry has no elders or adults in {COMMUNITY}: load its demo first")
    wheelchair = rng.choice(cannot_walk or elders)
    singers = [r for r in elders if able(r) and r["id"] != wheelchair["id"]] or elders
    return {
        "wheelchair": wheelchair,
        "choir": rng.choice(singers),
        "gas": rng.choice(flats or adults),
    }


def choose_help_residents(
    residents: Sequence[dict[str, Any]], rng: random.Random
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(who offers, who asks): an able adult offers; a household on dibao, poor or alone asks."""
    ordered = sorted(residents, key=lambda r: r["id"])
    in_need = [
        r for r in ordered if r["age"] >= 18 and {"dibao", "poor_household", "living_alone"} & set(r["tags"])
    ]
    asker = rng.choice(in_need or [r for r in ordered if r["age"] >= 60] or ordered)
    givers = [r for r in ordered if able(r) and 25 <= r["age"] <= 70 and r["id"] != asker["id"]]
    if not givers:
        raise DemoLoadError(f"the registry has no adult to offer help in {COMMUNITY}: load its demo first")
    return rng.choice(givers), asker


# --- request bodies -------------------------------------------------------------------------------


def place() -> dict[str, str]:
    return {"district": DISTRICT, "community": COMMUNITY}


def team_body(team: DemoTeam) -> dict[str, Any]:
    return {**place(), "name": team.name, "kind": team.kind.value}


def volunteer_body(plan: VolunteerPlan, team_id: str) -> dict[str, Any]:
    return {
        **place(),
        "subject": plan.subject,
        "full_name": plan.full_name,
        "resident_id": plan.resident_id,
        "team_id": team_id,
        "party_member": plan.party_member,
        "skills": list(plan.skills),
    }


def activity_body(activity: DemoActivity, now: datetime) -> dict[str, Any]:
    starts_at, ends_at = activity_window(activity, now)
    check_window(starts_at, ends_at)
    return {
        **place(),
        "title": activity.title,
        "kind": activity.kind,
        "place": activity.place,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "capacity": activity.capacity,
        "points_per_hour": activity.points_per_hour,
        "rounding": activity.rounding.value,
        "daily_points_cap": activity.daily_points_cap,
    }


def item_body(item: DemoItem) -> dict[str, Any]:
    return {
        **place(),
        "name": item.name,
        "points_price": item.points_price,
        "monthly_limit": item.monthly_limit,
        "low_stock_threshold": item.low_stock_threshold,
    }


# --- loading over HTTP ----------------------------------------------------------------------------


def load_demo(
    points_url: str,
    registry_url: str,
    jwt_secret: str,
    *,
    seed: int = 7,
    progress: Callable[[str], None] = print,
    timeout: float = 60,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Load the points demo of 东李庄社区; False, doing nothing, if it has volunteers already."""
    started = time.perf_counter()
    rng = random.Random(seed)
    points = points_url.rstrip("/") + "/v1"
    registry = registry_url.rstrip("/") + "/v1"

    def token(role: Role, subject: str) -> str:
        return issue_token(jwt_secret, role=role, district=DISTRICT, community=COMMUNITY, subject=subject)

    worker = token(Role.COMMUNITY_WORKER, COMMUNITY_WORKER)
    with httpx.Client(timeout=30, transport=transport) as client:
        api = DemoApi(
            client,
            who="points demo",
            learner="the points service",
            lagging_hint="the points service has not learned this resident from the registry's events "
            "(is NATS up and the registry's demo loaded? A points database wiped while NATS kept its "
            "data is not sent the earlier events again)",
            sleep=sleep,
            timeout=timeout,
            progress=progress,
        )
        if api.call("GET", f"{points}/volunteers", worker, 200, params={"limit": 1})["items"]:
            progress(f"points demo: {COMMUNITY_NAME} already has volunteers; nothing loaded")
            return False

        party_members = api.call(
            "GET", f"{registry}/residents", worker, 200, params={"tag": "party_member", "limit": 100}
        )["items"]
        residents = api.call("GET", f"{registry}/residents", worker, 200, params={"limit": 500})["items"]
        if not residents:
            raise DemoLoadError(
                f"points demo: the registry has no residents in {COMMUNITY}: load its demo first"
            )
        plans = plan_volunteers(party_members, residents, rng)
        progress(
            f"points demo: loading {COMMUNITY_NAME}: {len(plans)} volunteers "
            f"({sum(p.party_member for p in plans)} party members) in {len(TEAMS)} teams"
        )

        team_ids = load_teams(api, points, worker)
        volunteer_ids: dict[str, str] = {}
        for count, plan in enumerate(plans, start=1):
            body = volunteer_body(plan, team_ids[plan.team])
            volunteer_ids[plan.subject] = api.call_when_known(
                "POST", f"{points}/volunteers", worker, 201, json=body
            )["id"]
            if count == 1 or count % 10 == 0:
                progress(f"points demo: {count}/{len(plans)} volunteers enrolled")

        balances = dict.fromkeys(volunteer_ids, 0)
        sign_ups = attended = earned = 0
        now = utc_now()
        for activity in ACTIVITIES:
            created = api.call("POST", f"{points}/activities", worker, 201, json=activity_body(activity, now))
            chosen = choose_sign_ups(activity, plans, rng)
            for plan in chosen:
                body = {"volunteer_id": volunteer_ids[plan.subject]}
                api.call("POST", f"{points}/activities/{created['id']}/sign-ups", worker, 201, json=body)
                sign_ups += 1
            if activity.served_minutes is None:
                continue
            for plan in chosen:
                volunteer_id = volunteer_ids[plan.subject]
                body = {"volunteer_id": volunteer_id, "minutes": activity.served_minutes, "note": "签到签退"}
                record = api.call(
                    "POST",
                    f"{points}/activities/{created['id']}/attendance",
                    worker,
                    201,
                    key=f"demo-{seed}-attendance-{created['id']}-{volunteer_id}",
                    json=body,
                )
                balances[plan.subject] += record["points_awarded"]
                earned += record["points_awarded"]
                attended += 1
        past = sum(a.past for a in ACTIVITIES)
        progress(
            f"points demo: {len(ACTIVITIES)} activities ({past} past, {len(ACTIVITIES) - past} upcoming), "
            f"{sign_ups} sign-ups, {attended} attendances confirmed, {earned} points earned"
        )

        item_ids, stock = load_supermarket(api, points, worker, seed)
        redeemed = redeem(api, points, worker, seed, item_ids, balances, volunteer_ids)
        progress(
            f"points demo: love supermarket: {len(ITEMS)} items, {sum(stock.values())} pieces received, "
            f"{len(redeemed)} redemptions ({', '.join(redeemed)})"
        )

        wish_states = post_wishes(api, points, seed, residents, plans, rng, token)
        offer, ask = choose_help_residents(residents, rng)
        match = match_help(api, points, worker, offer, ask)

    progress(
        f"points demo: loaded {COMMUNITY_NAME}: {len(TEAMS)} teams, {len(plans)} volunteers, "
        f"{len(ACTIVITIES)} activities, {sign_ups} sign-ups, {earned} points earned, "
        f"{len(ITEMS)} supermarket items, {len(redeemed)} redemptions, "
        f"{len(wish_states)} wishes ({', '.join(wish_states)}), 1 neighbour-help match ({match}) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return True


def load_teams(api: DemoApi, points: str, worker: str) -> dict[str, str]:
    """The six teams; ones an earlier, interrupted load made are used again, not made twice."""
    existing = {t["name"]: t["id"] for t in api.call("GET", f"{points}/teams", worker, 200)}
    return {
        team.key: existing.get(team.name)
        or api.call("POST", f"{points}/teams", worker, 201, json=team_body(team))["id"]
        for team in TEAMS
    }


def load_supermarket(
    api: DemoApi, points: str, worker: str, seed: int
) -> tuple[dict[str, str], dict[str, int]]:
    item_ids: dict[str, str] = {}
    stock: dict[str, int] = {}
    for item in ITEMS:
        item_id = api.call("POST", f"{points}/items", worker, 201, json=item_body(item))["id"]
        item_ids[item.key] = item_id
        for number, (quantity, source, note) in enumerate(item.intakes, start=1):
            body = {"quantity": quantity, "source": source.value, "note": note}
            url = f"{points}/items/{item_id}/intakes"
            stock[item.key] = api.call(
                "POST", url, worker, 201, key=f"demo-{seed}-intake-{item_id}-{number}", json=body
            )["stock"]
    return item_ids, stock


def redeem(
    api: DemoApi,
    points: str,
    worker: str,
    seed: int,
    item_ids: dict[str, str],
    balances: dict[str, int],
    volunteer_ids: dict[str, str],
) -> list[str]:
    """The volunteers with the most points spend some, richest first; one picks the goods up."""
    prices = {item.key: item.points_price for item in ITEMS}
    names = {item.key: item.name for item in ITEMS}
    richest = sorted(balances, key=lambda subject: (-balances[subject], subject))
    done = []
    for (item, quantity, picked_up), subject in zip(REDEMPTIONS, richest, strict=False):
        if balances[subject] < prices[item] * quantity:
            raise DemoLoadError(
                f"points demo: {subject} earned only {balances[subject]} points, too few for "
                f"{quantity} × {names[item]}"
            )
        body = {"item_id": item_ids[item], "quantity": quantity, "volunteer_id": volunteer_ids[subject]}
        redemption = api.call(
            "POST",
            f"{points}/redemptions",
            worker,
            201,
            key=f"demo-{seed}-redeem-{subject}-{item}",
            json=body,
        )
        balances[subject] -= redemption["points"]
        if picked_up:
            url = f"{points}/redemptions/{redemption['id']}/pickup"
            api.call("POST", url, worker, 200, json={"pickup_code": redemption["pickup_code"]})
        done.append(f"{quantity} × {names[item]} {'picked up' if picked_up else 'reserved'}")
    return done


def post_wishes(
    api: DemoApi,
    points: str,
    seed: int,
    residents: Sequence[dict[str, Any]],
    plans: Sequence[VolunteerPlan],
    rng: random.Random,
    token: Callable[[Role, str], str],
) -> list[str]:
    """Residents' wishes, posted by their grid worker: one waits, one is on the wall, one claimed."""
    worker = token(Role.COMMUNITY_WORKER, COMMUNITY_WORKER)
    wish_residents = choose_wish_residents(residents, rng)
    states = []
    for wish in WISHES:
        resident = wish_residents[wish.key]
        grid_worker = token(Role.GRID_WORKER, grid_worker_of(resident))
        body = {
            "resident_id": resident["id"],
            "title": wish.title,
            "description": wish.description,
            "points_award": wish.points_award,
        }
        posted = api.call_when_known(
            "POST", f"{points}/wishes", grid_worker, 201, key=f"demo-{seed}-wish-{wish.key}", json=body
        )
        if wish.state is not WishStatus.PENDING:
            review = {"approve": True, "note": "支部审核通过，上墙认领"}
            api.call("POST", f"{points}/wishes/{posted['id']}/review", worker, 200, json=review)
        if wish.state is WishStatus.CLAIMED:
            claimant = next(p for p in claimants(plans, rng) if p.resident_id != resident["id"])
            api.call(
                "POST", f"{points}/wishes/{posted['id']}/claim", token(Role.VOLUNTEER, claimant.subject), 200
            )
        states.append(f"{wish.title}: {wish.state.value}")
    return states


def claimants(plans: Sequence[VolunteerPlan], rng: random.Random) -> list[VolunteerPlan]:
    """Party members take the order (党员接单); anyone if there are none."""
    party = [p for p in plans if p.party_member] or list(plans)
    return rng.sample(party, len(party))


def grid_worker_of(resident: dict[str, Any]) -> str:
    """The grid worker of the resident's zone (zone-3 → grid-worker-3), as the registry demo names them."""
    zone = resident.get("grid_code") or "zone-1"
    return "grid-worker-" + zone.removeprefix("zone-")


def match_help(api: DemoApi, points: str, worker: str, offer: dict[str, Any], ask: dict[str, Any]) -> str:
    goods, description = HELP_OFFER
    offered = api.call_when_known(
        "POST",
        f"{points}/help-offers",
        worker,
        201,
        json={**place(), "resident_id": offer["id"], "goods": goods, "description": description},
    )
    goods, description = HELP_REQUEST
    asked = api.call_when_known(
        "POST",
        f"{points}/help-requests",
        worker,
        201,
        json={**place(), "resident_id": ask["id"], "goods": goods, "description": description},
    )
    body = {"offer_id": offered["id"], "request_id": asked["id"]}
    api.call("POST", f"{points}/help-matches", worker, 201, json=body)
    return f"{offer['full_name']} → {ask['full_name']}: {HELP_OFFER[0]}"
