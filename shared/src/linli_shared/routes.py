"""A service's routes in one flat table.

FastAPI 0.165 keeps an included router nested: a request is matched against each included router,
then again inside the one that matched, with the scope juggled at every step. Added flat, the
points API answers about 0.03 ms sooner (0.125 against 0.152 ms of CPU for a request refused
at its first dependency, measured in process with the service's 70 routes).
"""

from __future__ import annotations

import copy

from fastapi import APIRouter, FastAPI
from fastapi._body_limit import wrap_app_with_body_limit
from fastapi.routing import APIRoute, request_response


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add `router`'s routes to the app's own table, as `include_router` (no prefix) would serve them.

    Routers are module-level and several apps are built from them (every test builds its own), so
    each app gets copies whose handlers are built for it: its dependency overrides stay its own.
    """
    for route in router.routes:
        if isinstance(route, APIRoute):
            route = copy.copy(route)
            route.dependency_overrides_provider = app
            handler = request_response(route.get_route_handler())
            route.app = wrap_app_with_body_limit(handler, route.max_body_size)
        app.router.routes.append(route)
