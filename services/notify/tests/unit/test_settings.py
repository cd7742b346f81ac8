"""Outside channels and escalation ladders come from the environment, per community, as JSON."""

from __future__ import annotations

import pytest

from linli_notify.settings import DEFAULT_LADDER, NotifySettings
from linli_shared.testing.http import TEST_JWT_SECRET


def test_channels_and_ladders_are_read_per_community_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("LINLI_NOTIFY_CHANNELS", '{"c1": ["json://127.0.0.1:9/hook"]}')
    monkeypatch.setenv("LINLI_NOTIFY_ESCALATION_LADDERS", '{"c1": ["grid_worker", "community_worker"]}')
    settings = NotifySettings()  # type: ignore[call-arg]
    assert settings.http_port == 8104 and settings.database_url.endswith("var/notify.db")
    assert settings.apprise_urls("c1") == ["json://127.0.0.1:9/hook"] and settings.apprise_urls("c2") == []
    assert settings.ladder("c1") == ["grid_worker", "community_worker"]
    assert settings.ladder("c2") == DEFAULT_LADDER == ["neighbour", "grid_worker", "community_worker"]
