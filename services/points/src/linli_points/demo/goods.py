"""The demo's love supermarket, wish wall and neighbour help, each record keyed."""

from __future__ import annotations

from typing import Any

from linli_points.demo.client import Loader
from linli_points.demo.data import HELP_OFFER, HELP_REQUEST, ITEMS, REDEMPTIONS, WISHES
from linli_points.demo.plan import (
    VolunteerPlan,
    choose_help_residents,
    choose_wish_residents,
    claimants,
    grid_worker_of,
    item_body,
    place,
)
from linli_points.domain.wishes import WishStatus
from linli_shared.auth import Role
from linli_shared.demo_api import DemoLoadError


def load_supermarket(loader: Loader) -> dict[str, str]:
    item_ids: dict[str, str] = {}
    for item in ITEMS:
        item_id = loader.post("/items", 201, loader.key("item", item.key), json=item_body(item))["id"]
        item_ids[item.key] = item_id
        for number, (quantity, source, note) in enumerate(item.intakes, start=1):
            body = {"quantity": quantity, "source": source.value, "note": note}
            loader.post(f"/items/{item_id}/intakes", 201, loader.key("intake", item_id, number), json=body)
    return item_ids


def redeem(
    loader: Loader, item_ids: dict[str, str], balances: dict[str, int], volunteer_ids: dict[str, str]
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
        redemption = loader.post("/redemptions", 201, loader.key("redeem", subject, item), json=body)
        balances[subject] -= redemption["points"]
        if picked_up:
            code = {"pickup_code": redemption["pickup_code"]}
            key = loader.key("pickup", redemption["id"])
            loader.post(f"/redemptions/{redemption['id']}/pickup", 200, key, json=code)
        done.append(f"{quantity} × {names[item]} {'picked up' if picked_up else 'reserved'}")
    return done


def post_wishes(loader: Loader, residents: list[dict[str, Any]], plans: list[VolunteerPlan]) -> list[str]:
    """Residents' wishes, posted by their grid worker: one waits, one is on the wall, one claimed."""
    wish_residents = choose_wish_residents(residents, loader.rng)
    states = []
    for wish in WISHES:
        resident = wish_residents[wish.key]
        grid_worker = loader.token(Role.GRID_WORKER, grid_worker_of(resident))
        body = {
            "resident_id": resident["id"],
            "title": wish.title,
            "description": wish.description,
            "points_award": wish.points_award,
        }
        posted = loader.post_when_known("/wishes", loader.key("wish", wish.key), token=grid_worker, json=body)
        if wish.state is not WishStatus.PENDING:
            review = {"approve": True, "note": "支部审核通过，上墙认领"}
            loader.post(f"/wishes/{posted['id']}/review", 200, loader.key("review", wish.key), json=review)
        if wish.state is WishStatus.CLAIMED:
            claimant = next(p for p in claimants(plans, loader.rng) if p.resident_id != resident["id"])
            volunteer = loader.token(Role.VOLUNTEER, claimant.subject)
            loader.post(f"/wishes/{posted['id']}/claim", 200, loader.key("claim", wish.key), token=volunteer)
        states.append(f"{wish.title}: {wish.state.value}")
    return states


def match_help(loader: Loader, residents: list[dict[str, Any]]) -> str:
    offer, ask = choose_help_residents(residents, loader.rng)
    goods, description = HELP_OFFER
    body = {**place(), "resident_id": offer["id"], "goods": goods, "description": description}
    offered = loader.post_when_known("/help-offers", loader.key("help-offer"), json=body)
    goods, description = HELP_REQUEST
    body = {**place(), "resident_id": ask["id"], "goods": goods, "description": description}
    asked = loader.post_when_known("/help-requests", loader.key("help-request"), json=body)
    match = {"offer_id": offered["id"], "request_id": asked["id"]}
    loader.post("/help-matches", 201, loader.key("help-match"), json=match)
    return f"{offer['full_name']} → {ask['full_name']}: {HELP_OFFER[0]}"
