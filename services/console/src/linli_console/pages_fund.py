"""A fund officer's day: record a donation on the day it came in and hand over its receipt number,
approve or refuse the requests waiting for them, pay what is approved, publish a period (公示)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk, Person
from linli_console.words import (
    CHANNEL_NAMES,
    DONOR_KIND_NAMES,
    FUND_NAMES,
    PURPOSE_NAMES,
    dates_in,
    fen_of,
    full_when,
    local_day,
    parse_moment,
)
from linli_shared.clock import utc_now
from linli_shared.words import day_words, yuan

router = APIRouter(include_in_schema=False)

DONATION_FIELDS = {
    "amount_fen": "amount",
    "donor_name": "donor_name",
    "donor_kind": "donor_kind",
    "channel": "channel",
    "received_on": "received_on",
    "donor_phone": "donor_phone",
    "restricted_to": "restricted_to",
}
"""The fund's field (as its 422 names it) → the form's field the message is shown next to."""
ABOUT_THE_DAY = ("日期", "补记", "公示")
"""The fund's refusals of a received date carry no field: these words say they concern the date."""


class FormErrors:
    """Messages per form field, in Chinese; `general` for what concerns no one field."""

    def __init__(self, refusal: Refusal | None = None, fields: dict[str, str] | None = None) -> None:
        self.fields: dict[str, list[str]] = {k: [v] for k, v in (fields or {}).items()}
        self.general = ""
        if refusal is not None:
            self.status = refusal.status
            for name, messages in refusal.fields.items():
                self.fields.setdefault(DONATION_FIELDS.get(name, name), []).extend(messages)
            if not refusal.fields:
                self.general = dates_in(refusal.detail)
        else:
            self.status = 422

    def about(self, name: str) -> str:
        return "；".join(dates_in(m) for m in self.fields.get(name, []))

    def move_general_to(self, name: str, words: tuple[str, ...]) -> None:
        if self.general and any(w in self.general for w in words):
            self.fields.setdefault(name, []).append(self.general)
            self.general = ""

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def place_of(person: Person) -> tuple[str, str]:
    if not person.district or not person.community:
        raise Refusal(403, "爱心基金的页面只对社区的基金管理员开放")
    return person.district, person.community


def donation_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    recorded: dict[str, Any] | None = None,
) -> Response:
    today = local_day(utc_now())
    return render(
        request,
        "fund_donation.html",
        {
            "form": form or {"received_on": today.isoformat()},
            "errors": errors or FormErrors(),
            "recorded": recorded,
            "key": uuid.uuid4().hex if not form else form.get("key") or uuid.uuid4().hex,
            "today": today,
            "yesterday": today - timedelta(days=1),
            "DONOR_KIND_NAMES": DONOR_KIND_NAMES,
            "CHANNEL_NAMES": CHANNEL_NAMES,
            "PURPOSE_NAMES": PURPOSE_NAMES,
            "FUND_NAMES": FUND_NAMES,
            "yuan": yuan,
            "day_words": day_words,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/fund/donation")
async def donation_form(request: Request) -> Response:
    """The donation form; after recording, the same page shows the receipt number to hand over."""
    desk, person = await signed_in(request)
    place_of(person)
    recorded = None
    if receipt_of := request.query_params.get("recorded"):
        recorded = await desk.call("fund", "GET", f"/v1/donations/{receipt_of[:36]}")
        recorded["received_day"] = day_words(local_day(parse_moment(recorded["received_at"])))
    return donation_page(request, recorded=recorded)


def donation_body(form: dict[str, str], district: str, community: str) -> tuple[dict[str, Any], FormErrors]:
    mistakes: dict[str, str] = {}
    amount = fen_of(form.get("amount", ""))
    if amount is None or amount <= 0:
        mistakes["amount"] = "请填写收到的金额，以元为单位，例如 200 或 12.50"
    if not form.get("donor_name", "").strip():
        mistakes["donor_name"] = "请填写捐赠人姓名或单位名称（匿名捐赠也请填写，公示时会显示为“匿名”）"
    body: dict[str, Any] = {
        "district": district,
        "community": community,
        "donor_kind": form.get("donor_kind") or "resident",
        "donor_name": form.get("donor_name", "").strip(),
        "anonymous": form.get("anonymous") == "1",
        "channel": form.get("channel") or "cash",
        "amount_fen": amount,
        "received_on": form.get("received_on") or None,
    }
    if form.get("restricted_to"):
        body["restricted_to"] = form["restricted_to"]
    if form.get("donor_phone", "").strip():
        body["donor_phone"] = form["donor_phone"].strip()
    return body, FormErrors(fields=mistakes)


@router.post("/fund/donation")
async def record_donation(request: Request) -> Response:
    """One donation, booked on the day it came in; the form's key makes a double tap record it once."""
    desk, person = await signed_in(request)
    district, community = place_of(person)
    form = await form_of(request)
    body, errors = donation_body(form, district, community)
    if errors:
        return donation_page(request, form=form, errors=errors)
    try:
        donation = await desk.call(
            "fund", "POST", "/v1/donations", json=body, idempotency_key=form.get("key") or None
        )
    except Refusal as refusal:
        errors = FormErrors(refusal)
        errors.move_general_to("received_on", ABOUT_THE_DAY)
        return donation_page(request, form=form, errors=errors)
    return RedirectResponse(f"/fund/donation?recorded={donation['id']}", status_code=303)


def request_view(item: dict[str, Any], person: Person) -> dict[str, Any]:
    """A disbursement as the officer reads it: what for, how much, who asked, what is still needed."""
    approvers = [a for a in (item.get("first_approved_by"), item.get("second_approved_by")) if a]
    mine = item.get("requested_by") == person.subject
    return {
        "id": item["id"],
        "purpose": PURPOSE_NAMES.get(item["purpose"], item["purpose"]),
        "fund": FUND_NAMES.get(item["fund"], item["fund"]),
        "amount": yuan(item["amount_fen"]),
        "reason": item.get("reason", ""),
        "requested_at": parse_moment(item["requested_at"]),
        "requested_by": "您" if mine else "另一位基金管理员",
        "approvals": len(approvers),
        "approvals_needed": int(item.get("approvals_needed") or 1),
        "may_approve": not mine and person.subject not in approvers,
        "instalment": item.get("instalment_number"),
    }


async def requests_page(
    request: Request,
    desk: Desk,
    person: Person,
    *,
    failed: str | None = None,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    items = await desk.get_all("fund", "/v1/disbursements")
    items.sort(key=lambda d: parse_moment(d["requested_at"]))
    return render(
        request,
        "fund_requests.html",
        {
            "waiting": [request_view(d, person) for d in items if d["status"] == "requested"],
            "approved": [request_view(d, person) for d in items if d["status"] == "approved"],
            "done": request.query_params.get("done"),
            "failed": failed,
            "errors": errors or FormErrors(),
            "form": form or {},
            "key": uuid.uuid4().hex,
            "CHANNEL_NAMES": CHANNEL_NAMES,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/fund/requests")
async def waiting_requests(request: Request) -> Response:
    """Requests waiting for my approval (not the ones I asked for), then those approved, to pay."""
    desk, person = await signed_in(request)
    place_of(person)
    return await requests_page(request, desk, person)


async def decide(request: Request, disbursement_id: str, action: str) -> Response:
    desk, person = await signed_in(request)
    form = await form_of(request)
    target = disbursement_id[:36]
    if action == "rejection" and not form.get("reason", "").strip():
        errors = FormErrors(fields={"reason": "请写明不同意的理由，申请人会看到"})
        return await requests_page(request, desk, person, failed=target, errors=errors, form=form)
    body: dict[str, Any] | None = None
    if action == "rejection":
        body = {"reason": form["reason"].strip()}
    elif action == "payment":
        body = {"channel": form.get("channel") or "bank_transfer"}
    path = f"/v1/disbursements/{target}/{action}"
    try:
        await desk.call("fund", "POST", path, json=body, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        errors = FormErrors(refusal)
        if action == "rejection":
            errors.move_general_to("reason", ("理由",))
        return await requests_page(request, desk, person, failed=target, errors=errors, form=form)
    return RedirectResponse(f"/fund/requests?done={action}", status_code=303)


@router.post("/fund/requests/{disbursement_id}/approval")
async def approve(disbursement_id: str, request: Request) -> Response:
    return await decide(request, disbursement_id, "approvals")


@router.post("/fund/requests/{disbursement_id}/rejection")
async def refuse(disbursement_id: str, request: Request) -> Response:
    return await decide(request, disbursement_id, "rejection")


@router.post("/fund/requests/{disbursement_id}/payment")
async def pay(disbursement_id: str, request: Request) -> Response:
    return await decide(request, disbursement_id, "payment")


def next_period(published: list[dict[str, Any]], today: date) -> tuple[date, date]:
    """The day after the last published period up to the end of last month (or yesterday, if the
    last period already reaches last month)."""
    end_of_last_month = today.replace(day=1) - timedelta(days=1)
    if published:
        first = date.fromisoformat(str(published[-1]["last_day"])) + timedelta(days=1)
    else:
        first = end_of_last_month.replace(day=1)
    last = end_of_last_month if end_of_last_month >= first else today - timedelta(days=1)
    return first, max(first, last)


def public_path(district: str, community: str, sequence: int | None = None) -> str:
    path = f"/v1/public/funds/{district}/{community}/disclosures"
    return path if sequence is None else f"{path}/{sequence}.html"


async def publication_page(
    request: Request,
    desk: Desk,
    person: Person,
    *,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    district, community = place_of(person)
    published = await desk.call("fund", "GET", public_path(district, community))
    published.sort(key=lambda p: p["sequence"])
    first, last = next_period(published, local_day(utc_now()))
    fund_url = desk.settings.url_of("fund")
    return render(
        request,
        "fund_publication.html",
        {
            "periods": [
                {
                    "sequence": p["sequence"],
                    "first_day": day_words(p["first_day"]),
                    "last_day": day_words(p["last_day"]),
                    "published_at": full_when(p["published_at"]),
                    "income": yuan(p["report"]["income"]["total_fen"]),
                    "spending": yuan(p["report"]["spending"]["total_fen"]),
                    "link": fund_url + public_path(district, community, p["sequence"]),
                }
                for p in reversed(published)
            ],
            "form": form or {"first_day": first.isoformat(), "last_day": last.isoformat()},
            "errors": errors or FormErrors(),
            "published": request.query_params.get("published"),
            "key": uuid.uuid4().hex,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/fund/publication")
async def publication(request: Request) -> Response:
    """The periods published so far (each a link to its public page) and the form for the next."""
    desk, person = await signed_in(request)
    return await publication_page(request, desk, person)


@router.post("/fund/publication")
async def publish(request: Request) -> Response:
    desk, person = await signed_in(request)
    district, community = place_of(person)
    form = await form_of(request)
    mistakes = {name: "请选择日期" for name in ("first_day", "last_day") if not form.get(name)}
    if mistakes:
        return await publication_page(request, desk, person, errors=FormErrors(fields=mistakes), form=form)
    path = f"/v1/funds/{district}/{community}/disclosures"
    body = {"first_day": form["first_day"], "last_day": form["last_day"]}
    try:
        done = await desk.call("fund", "POST", path, json=body, idempotency_key=form.get("key") or None)
    except Refusal as refusal:
        errors = FormErrors(refusal)
        errors.move_general_to("last_day", ("截止", "今天", "之前"))
        errors.move_general_to("first_day", ("起始", "日"))
        return await publication_page(request, desk, person, errors=errors, form=form)
    return RedirectResponse(f"/fund/publication?published={done['sequence']}", status_code=303)
