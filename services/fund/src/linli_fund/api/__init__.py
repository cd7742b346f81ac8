"""The fund's HTTP API: one router per topic, each with its request and response models beside it."""

from fastapi import APIRouter

from linli_fund.api import commitments, disbursements, donations, ledger, publication, questions, reports

routers: list[APIRouter] = [
    donations.router,
    disbursements.router,
    ledger.router,
    commitments.router,
    publication.router,
    questions.router,
    reports.router,
]
