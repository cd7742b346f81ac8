"""The 公示期 (question period) of the fund's published periods: a resident of the community questions
one donation or payment line of a period still open, and later reads the answer; a fund officer of
the community sees the questions waiting and answers them. The fund decides who may ask and answer
and until when; these pages show its public report and its refusals in people's words."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from linli_console.forms import form_of
from linli_console.pages_fund import FormErrors, public_path
from linli_console.pages_points import new_key
from linli_console.places import signed_in
from linli_console.rendering import render
from linli_console.services import Refusal
from linli_console.session import Desk, Person
from linli_console.words import DONOR_KIND_NAMES, FUND_NAMES, PURPOSE_NAMES, parse_moment
from linli_shared.words import day_words, yuan

router = APIRouter(include_in_schema=False)

MAX_QUESTION, MAX_ANSWER = 500, 1000
"""The fund's limits on a question's and an answer's text, checked here first to say so in words."""
OFFICER = "fund_officer"


def place_of(person: Person) -> tuple[str, str]:
    if not person.district or not person.community:
        raise Refusal(403, "公示质询页面只对本社区的居民和基金管理员开放")
    return person.district, person.community


def line_views(report: dict[str, Any]) -> list[dict[str, Any]]:
    """A period's donation and payment lines as the page lists them: a payment by its number (1, 2, …)."""
    donations = [
        {
            "kind": "donation",
            "ref": str(d["receipt_number"]),
            "title": f"捐赠 No.{d['receipt_number']}",
            "amount": yuan(d["amount_fen"]),
            "detail": " · ".join(
                part
                for part in (
                    day_words(d["received_on"], year=False),
                    str(d["donor"]),
                    DONOR_KIND_NAMES.get(d["donor_kind"], d["donor_kind"]),
                    FUND_NAMES.get(d["fund"], d["fund"]),
                    d.get("campaign") or "",
                )
                if part
            ),
            "reversed": bool(d.get("reversed")),
        }
        for d in report.get("donations", [])
    ]
    payments = [
        {
            "kind": "payment",
            "ref": str(number),
            "title": f"第 {number} 笔支出",
            "amount": yuan(p["amount_fen"]),
            "detail": " · ".join(
                (
                    day_words(p["paid_on"], year=False),
                    PURPOSE_NAMES.get(p["purpose"], p["purpose"]),
                    f"受助人 {p['beneficiary']}",
                    FUND_NAMES.get(p["fund"], p["fund"]),
                )
            ),
            "reversed": bool(p.get("reversed")),
        }
        for number, p in enumerate(report.get("disbursements", []), start=1)
    ]
    return [{**line, "anchor": f"{line['kind']}-{line['ref']}"} for line in donations + payments]


def question_view(question: dict[str, Any]) -> dict[str, Any]:
    answer = question.get("answer")
    return {
        "id": question["id"],
        "anchor": f"{question['line_kind']}-{question['line_ref']}",
        "text": question["text"],
        "asked_at": parse_moment(question["asked_at"]),
        "answer": (
            {
                "text": answer["text"],
                "answered_at": parse_moment(answer["answered_at"]),
                "correction": answer.get("correction_entry_id"),
            }
            if answer
            else None
        ),
    }


def period_view(published: dict[str, Any], fund_url: str) -> dict[str, Any]:
    """A published period in people's words: its days, totals, 公示期 and questions by line."""
    report, window = published["report"], published["question_period"]
    lines = line_views(report)
    questions = [question_view(q) for q in published.get("questions", [])]
    for line in lines:
        line["questions"] = [q for q in questions if q["anchor"] == line["anchor"]]
    by_anchor = {line["anchor"]: line for line in lines}
    for question in questions:
        question["line"] = by_anchor.get(question["anchor"])
    district, community, sequence = report["district"], report["community"], published["sequence"]
    return {
        "sequence": sequence,
        "first_day": day_words(published["first_day"]),
        "last_day": day_words(published["last_day"]),
        "income": yuan(report["income"]["total_fen"]),
        "spending": yuan(report["spending"]["total_fen"]),
        "open": bool(window["open"]),
        "closes_on": day_words(window["closes_on"]),
        "summary": window["summary"],
        "lines": lines,
        "questions": questions,
        "link": fund_url + public_path(district, community, sequence),
    }


async def periods_of(desk: Desk, person: Person) -> list[dict[str, Any]]:
    """The community's published periods, newest first (the fund's public list: no token needed)."""
    district, community = place_of(person)
    published = await desk.call("fund", "GET", public_path(district, community))
    fund_url = desk.settings.url_of("fund")
    return [period_view(p, fund_url) for p in sorted(published, key=lambda p: -int(p["sequence"]))]


@router.get("/fund/questions")
async def questions(request: Request) -> Response:
    """A resident: the periods open for questions (and the closed ones); an officer: the questions."""
    desk, person = await signed_in(request)
    periods = await periods_of(desk, person)
    if person.role == OFFICER:
        return await officer_page(request, periods)
    return render(
        request,
        "fund_questions.html",
        {
            "open_periods": [p for p in periods if p["open"]],
            "closed_periods": [p for p in periods if not p["open"]],
        },
    )


async def period_page(
    request: Request,
    desk: Desk,
    person: Person,
    sequence: int,
    *,
    failed: str = "",
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    district, community = place_of(person)
    published = await desk.call("fund", "GET", f"{public_path(district, community)}/{sequence}.json")
    period = period_view(published, desk.settings.url_of("fund"))
    errors = errors or FormErrors()
    if failed and failed not in {line["anchor"] for line in period["lines"]} and errors:
        errors.general = errors.general or errors.about("text")
    return render(
        request,
        "fund_questions_period.html",
        {
            "period": period,
            "may_ask": person.role == "resident" and period["open"],
            "asked": request.query_params.get("asked", "")[:36],
            "failed": failed,
            "errors": errors,
            "form": form or {},
            "key": new_key(),
            "max_question": MAX_QUESTION,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/fund/questions/{sequence}")
async def period(sequence: int, request: Request) -> Response:
    """One period's lines, each with its questions and answers, and a form to question it while open."""
    desk, person = await signed_in(request)
    return await period_page(request, desk, person, sequence)


def all_messages(refusal: Refusal) -> str:
    """Every message of a refusal as one sentence: a question form has one field to show it by."""
    return "；".join([m for messages in refusal.fields.values() for m in messages] or [refusal.detail])


@router.post("/fund/questions/{sequence}")
async def ask(sequence: int, request: Request) -> Response:
    """One question about one line; the form's key makes a double tap ask it once."""
    desk, person = await signed_in(request)
    district, community = place_of(person)
    form = await form_of(request)
    kind, ref, text = form.get("line_kind", ""), form.get("line_ref", "")[:40], form.get("text", "").strip()
    anchor = f"{kind}-{ref}"
    errors = FormErrors(fields={"text": question_mistake(text)} if question_mistake(text) else None)
    if not errors:
        path = f"/v1/funds/{district}/{community}/disclosures/{sequence}/questions"
        body = {"line_kind": kind, "line_ref": ref, "text": text}
        try:
            asked = await desk.call("fund", "POST", path, json=body, idempotency_key=form.get("key") or None)
        except Refusal as refusal:
            errors = FormErrors(fields={"text": all_messages(refusal)})
            errors.status = refusal.status
        else:
            return RedirectResponse(
                f"/fund/questions/{sequence}?asked={asked['id']}#question-{asked['id']}", status_code=303
            )
    return await period_page(request, desk, person, sequence, failed=anchor, errors=errors, form=form)


def question_mistake(text: str) -> str:
    if not text:
        return "请写下您想问的，例如“这笔钱入账了吗？”"
    if len(text) > MAX_QUESTION:
        return f"最多 {MAX_QUESTION} 个字，现在是 {len(text)} 个字，请缩短后再提交"
    return ""


async def officer_page(
    request: Request,
    periods: list[dict[str, Any]],
    *,
    failed: str = "",
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    asked = [{**q, "sequence": p["sequence"]} for p in periods for q in p["questions"]]
    return render(
        request,
        "fund_questions_officer.html",
        {
            "waiting": [q for q in asked if q["answer"] is None],
            "answered": sorted(
                (q for q in asked if q["answer"] is not None),
                key=lambda q: q["answer"]["answered_at"],
                reverse=True,
            ),
            "periods": periods,
            "answered_now": request.query_params.get("answered", "")[:36],
            "failed": failed,
            "errors": errors or FormErrors(),
            "form": form or {},
            "key": new_key(),
            "max_answer": MAX_ANSWER,
        },
        status_code=errors.status if errors else 200,
    )


def answer_body(form: dict[str, str]) -> tuple[dict[str, Any], FormErrors]:
    mistakes: dict[str, str] = {}
    text, entry = form.get("text", "").strip(), form.get("correction_entry_id", "").strip()
    if not text:
        mistakes["text"] = "请写下答复，居民和公示页上都会看到"
    elif len(text) > MAX_ANSWER:
        mistakes["text"] = f"最多 {MAX_ANSWER} 个字，现在是 {len(text)} 个字"
    if entry and not (entry.isascii() and entry.isdigit() and 1 <= int(entry) < 2**31):
        mistakes["correction_entry_id"] = "请填写冲正分录的编号（数字），没有更正就空着"
    body: dict[str, Any] = {
        "text": text,
        "correction_entry_id": int(entry) if entry and not mistakes else None,
    }
    return body, FormErrors(fields=mistakes)


@router.post("/fund/questions/{sequence}/{question_id}/answer")
async def answer(sequence: int, question_id: str, request: Request) -> Response:
    """A fund officer answers once; a correction is a reversing entry already posted, by its number."""
    desk, person = await signed_in(request)
    district, community = place_of(person)
    form = await form_of(request)
    target = question_id[:36]
    body, errors = answer_body(form)
    if not errors:
        path = f"/v1/funds/{district}/{community}/disclosures/{sequence}/questions/{target}/answer"
        try:
            await desk.call("fund", "POST", path, json=body, idempotency_key=form.get("key") or None)
        except Refusal as refusal:
            errors = FormErrors(refusal)
            errors.move_general_to("correction_entry_id", ("分录",))
            if errors.general:  # already answered, or not allowed: said by the answer
                errors.fields.setdefault("text", []).append(errors.general)
                errors.general = ""
        else:
            return RedirectResponse(f"/fund/questions?answered={target}#question-{target}", status_code=303)
    periods = await periods_of(desk, person)
    return await officer_page(request, periods, failed=target, errors=errors, form=form)
