"""Sign-in, sign-out and each role's landing page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of, safe_next
from linli_console.navigation import all_pages, landing_path
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal, Services, refusal_of
from linli_console.session import Desk, clear_session_cookies, set_session_cookies, tokens_of
from linli_console.settings import ConsoleSettings
from linli_shared.field_labels import ROLE_NAMES

router = APIRouter(include_in_schema=False)

CARE_DAY_ROLES = {"grid_worker", "community_worker"}
"""Roles whose day is the care groups' visits and alerts (the 三人关爱小组 members who sign in)."""
WHAT_EACH_ROLE_DOES: dict[str, list[str]] = {
    "grid_worker": [
        "今天要走访、要打电话的老人",
        "在老人家门口两步登记走访或电话",
        "确认逾期提醒",
        "帮居民登记心愿",
    ],
    "community_worker": [
        "今天要走访、要打电话的老人（您所在的关爱小组）",
        "确认逾期提醒",
        "按姓名、身份证尾号或户查找居民（即将上线）",
        "登记和更正居民、户，导入登记表（即将上线）",
        "社区逾期名单、提醒记录和统计图表（即将上线）",
        "爱心超市：凭取货码确认取货、入库、看缺货",
        "帮居民登记心愿",
        "审核心愿，确认志愿者完成的心愿",
    ],
    "volunteer": [
        "可报名的活动、我的积分和服务时长",
        "爱心超市：兑换商品，取货码",
        "心愿墙：认领、完成心愿",
        "我的服务证书：开具、查看，凭编号或二维码核验",
    ],
    "fund_officer": ["登记捐赠", "待我审批的申请、付款", "公示一期账目"],
    "resident": ["我的心愿：看进度，心愿实现后点确认"],
    "district_admin": ["本街道的账号：新建、停用", "授予和收回各社区的角色", "审核居民的心愿"],
    "city_admin": ["各街道的账号：新建、停用", "授予和收回角色"],
    "auditor": ["审计记录（即将上线）"],
}


def choices(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each grant named by its role; its place (by the name the registry gives with the grant, else
    its code) is added only where one role is held in two places."""
    names = [ROLE_NAMES.get(g["role"], g["role"]) for g in grants]
    return [
        {**g, "label": name if names.count(name) == 1 else f"{name}（{place_of_grant(g)}）"}
        for g, name in zip(grants, names, strict=True)
    ]


def place_of_grant(grant: dict[str, Any]) -> str:
    if grant.get("community"):
        return str(grant.get("community_name") or grant["community"])
    return str(grant.get("district_name") or grant.get("district") or "")


def sign_in_page(
    request: Request, *, error: Refusal | None = None, phone: str = "", status_code: int = 200, **extra: Any
) -> Response:
    values = {"error": error, "phone": phone, "next": safe_next(request.query_params.get("next")), **extra}
    return render(request, "sign_in.html", values, status_code=status_code)


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    return sign_in_page(request, signed_out=request.query_params.get("signed_out") == "1")


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """The registry checks the password; the tokens it gives go into HttpOnly cookies, nowhere else."""
    form = await form_of(request)
    phone, password = form.get("phone", "").strip(), form.get("password", "")
    body: dict[str, Any] = {"phone": phone, "password": password}
    if form.get("grant_id"):
        body["grant_id"] = form["grant_id"]
    services: Services = request.app.state.services
    response = await services.send("registry", "POST", "/v1/sign-in", json=body)
    if response.status_code != 200:
        refusal = refusal_of(response)
        if response.status_code == 401:
            refusal.fields.setdefault("password", [refusal.detail])
        return sign_in_page(request, error=refusal, phone=phone, status_code=response.status_code)
    answer = response.json()
    tokens = tokens_of(answer)
    if tokens is None:  # several roles: the person chooses one, and gives the password again
        grants = choices(answer["grants"])
        return sign_in_page(request, phone=phone, grants=grants)
    settings: ConsoleSettings = request.app.state.settings
    redirect = RedirectResponse(safe_next(form.get("next")), status_code=303)
    set_session_cookies(redirect, settings, tokens)
    return redirect


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """The registry ends the sign-in (its refresh token stops working at once); the cookies go."""
    desk = Desk(request)
    if desk.refresh:
        await desk.services.send("registry", "POST", "/v1/sign-out", json={"refresh_token": desk.refresh})
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    clear_session_cookies(response, desk.settings)
    request.state.signed_out = True
    return response


@router.get("/")
async def landing(request: Request) -> Response:
    """Each role lands on the page for their day."""
    desk = Desk(request)
    person = await desk.person()
    return RedirectResponse(landing_path(person.role), status_code=303)


@router.get("/home")
async def home(request: Request) -> Response:
    _, person = await signed_in(request)
    role = person.role
    return render(
        request,
        "home.html",
        {
            "tasks": WHAT_EACH_ROLE_DOES.get(role, []),
            "care_day": role in CARE_DAY_ROLES,
            "pages": all_pages(role),
        },
    )
