"""The demo's connection to the points API: who calls, and the key every write carries."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linli_points.demo.data import COMMUNITY, COMMUNITY_WORKER, DISTRICT
from linli_shared.auth import Role, issue_token
from linli_shared.demo_api import DemoApi


@dataclass
class Loader:
    """One load: the API, where it points, the seed its keys and choices come from."""

    api: DemoApi
    points: str
    registry: str
    jwt_secret: str
    seed: int
    now: datetime
    rng: random.Random = field(init=False)
    worker: str = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.worker = self.token(Role.COMMUNITY_WORKER, COMMUNITY_WORKER)

    def token(self, role: Role, subject: str) -> str:
        return issue_token(
            self.jwt_secret, role=role, district=DISTRICT, community=COMMUNITY, subject=subject
        )

    def key(self, *parts: object) -> str:
        return "-".join(["demo", str(self.seed), *map(str, parts)])

    def post(self, path: str, expect: int, key: str, *, token: str | None = None, **kwargs: Any) -> Any:
        return self.api.call("POST", f"{self.points}{path}", token or self.worker, expect, key=key, **kwargs)

    def post_when_known(self, path: str, key: str, *, token: str | None = None, **kwargs: Any) -> Any:
        url = f"{self.points}{path}"
        return self.api.call_when_known("POST", url, token or self.worker, 201, key=key, **kwargs)


def every_item(loader: Loader, path: str) -> list[dict[str, Any]]:
    """Every item of a paged list, page after page."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500}
    while True:
        page = loader.api.call("GET", f"{loader.points}{path}", loader.worker, 200, params=params)
        items += page["items"]
        if not page.get("next_cursor"):
            return items
        params = {"limit": 500, "cursor": page["next_cursor"]}
