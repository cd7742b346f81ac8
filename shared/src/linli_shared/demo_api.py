"""What every service's demo loader does over HTTP, written once.

Bearer-token calls that expect one status (and name the request when they get another), an
optional Idempotency-Key, and a patient variant for services that learn the registry's residents
from its events a moment after the registry made them: it retries while they answer
422 "… not known …", saying once that it waits, until `timeout` passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

RETRY_PAUSE = 0.5


class DemoLoadError(RuntimeError):
    """A service answered a demo request in a way the loader did not expect."""


class DemoApi:
    def __init__(
        self,
        client: httpx.Client,
        *,
        who: str,
        learner: str = "",
        lagging_hint: str = "",
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
        progress: Callable[[str], None] = print,
    ) -> None:
        """`who` starts every message ("fund demo"); `learner` names the service that learns
        residents from events ("the fund"); `lagging_hint` says what to check when it never does."""
        self.client = client
        self.who = who
        self.learner = learner
        self.lagging_hint = lagging_hint
        self.sleep = sleep
        self.timeout = timeout
        self.progress = progress
        self.told_waiting = False

    def call(
        self, method: str, url: str, token: str, expect: int, *, key: str | None = None, **kwargs: Any
    ) -> Any:
        response = self.send(method, url, token, key, **kwargs)
        self.check(method, url, response, expect)
        return response.json()

    def send(self, method: str, url: str, token: str, key: str | None, **kwargs: Any) -> httpx.Response:
        # English: the loader reads the answers (it waits out "not known" while events arrive)
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(method, url, headers=headers, **kwargs)

    def check(self, method: str, url: str, response: httpx.Response, expect: int) -> None:
        if response.status_code != expect:
            raise DemoLoadError(
                f"{self.who}: {method} {url} returned {response.status_code} (expected {expect}): "
                f"{response.text}"
            )

    def call_when_known(
        self, method: str, url: str, token: str, expect: int, *, key: str | None = None, **kwargs: Any
    ) -> Any:
        """Like `call`, retrying while the service answers that a resident is not known yet."""
        deadline = time.monotonic() + self.timeout
        while True:
            response = self.send(method, url, token, key, **kwargs)
            if response.status_code != 422 or "not known" not in response.text:
                self.check(method, url, response, expect)
                return response.json()
            if time.monotonic() >= deadline:
                raise DemoLoadError(
                    f"{self.who}: {method} {url} still answers {response.status_code} after "
                    f"{self.timeout:g} s: {response.text} — {self.lagging_hint}"
                )
            if not self.told_waiting:
                self.progress(f"{self.who}: waiting for {self.learner} to learn the registry's residents…")
                self.told_waiting = True
            self.sleep(RETRY_PAUSE)
