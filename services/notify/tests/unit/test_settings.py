"""Outside channels and escalation ladders come from the environment, per community, as JSON."""

from __future__ import annotations

import json

import apprise
import pytest
from pydantic import ValidationError

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


def test_a_community_sets_a_shorter_wait_before_an_alert_climbs(monkeypatch: pytest.MonkeyPatch) -> None:
    """How a demo community gets a ladder that climbs within minutes, not after a quarter hour."""
    monkeypatch.setenv("LINLI_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("LINLI_NOTIFY_ESCALATE_AFTER_BY_COMMUNITY", '{"donglizhuang": 120}')
    monkeypatch.setenv("LINLI_NOTIFY_ESCALATION_CHECK_SECONDS", "15")
    settings = NotifySettings()  # type: ignore[call-arg]
    assert settings.escalate_after("donglizhuang") == 120 and settings.escalation_check_seconds == 15
    assert settings.escalate_after("elsewhere") == settings.escalate_after(None) == 900
    for wait in ("0", "-5"):
        monkeypatch.setenv("LINLI_NOTIFY_ESCALATE_AFTER_BY_COMMUNITY", f'{{"donglizhuang": {wait}}}')
        with pytest.raises(ValueError, match="positive number of seconds"):
            NotifySettings()  # type: ignore[call-arg]


def test_outbox_file_quiet_hours_and_digest_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINLI_JWT_SECRET", TEST_JWT_SECRET)
    defaults = NotifySettings()  # type: ignore[call-arg]
    assert defaults.outbox_file is None and (defaults.quiet_start, defaults.quiet_end) == ("22:00", "07:00")
    assert defaults.digest_enabled and defaults.digest_hour == 7
    monkeypatch.setenv("LINLI_NOTIFY_OUTBOX_FILE", "var/notify-outbox.jsonl")
    monkeypatch.setenv("LINLI_NOTIFY_QUIET_START", "00:00")
    monkeypatch.setenv("LINLI_NOTIFY_QUIET_END", "00:00")
    monkeypatch.setenv("LINLI_NOTIFY_DIGEST_HOUR", "18")
    settings = NotifySettings()  # type: ignore[call-arg]
    assert str(settings.outbox_file) == "var/notify-outbox.jsonl" and settings.digest_hour == 18
    monkeypatch.setenv("LINLI_NOTIFY_QUIET_START", "25:00")
    with pytest.raises(ValueError, match="quiet_start"):
        NotifySettings()  # type: ignore[call-arg]


def test_sms_gateway_is_a_json_webhook_per_community_and_ladders_name_known_rungs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINLI_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("LINLI_NOTIFY_SMS_GATEWAY", '{"c1": "jsons://sms.example.org/send?:sign=linli"}')
    settings = NotifySettings()  # type: ignore[call-arg]
    assert settings.sms_url("c1") == "jsons://sms.example.org/send?:sign=linli"
    assert settings.sms_url("c2") is None and settings.sms_url(None) is None
    monkeypatch.setenv("LINLI_NOTIFY_SMS_GATEWAY", '{"c1": "mailto://someone@example.org"}')
    with pytest.raises(ValueError, match="json://"):
        NotifySettings()  # type: ignore[call-arg]
    monkeypatch.delenv("LINLI_NOTIFY_SMS_GATEWAY")
    for ladder in ('["grid_worker", "mayor"]', "[]", '["grid_worker", "grid_worker"]'):
        monkeypatch.setenv("LINLI_NOTIFY_ESCALATION_LADDERS", f'{{"c1": {ladder}}}')
        with pytest.raises(ValueError, match="distinct rungs"):
            NotifySettings()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "url",
    [
        "wecombot://0a1b2c3d-4e5f-6789-abcd-ef0123456789",  # WeCom group bot: its webhook key
        "dingtalk://0123456789abcdef0123456789abcdef/",  # DingTalk group bot: its access token
        "dingtalk://SECabcdef@0123456789abcdef0123456789abcdef/",  # …signed with the bot's secret
        "mailtos://linli:password@smtp.example.org?to=grid@example.org",
        "jsons://hooks.example.org/notify",
    ],
)
def test_wecom_dingtalk_mail_and_webhook_urls_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("LINLI_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("LINLI_NOTIFY_CHANNELS", json.dumps({"c1": [url]}))
    assert NotifySettings().apprise_urls("c1") == [url]  # type: ignore[call-arg]
    assert apprise.Apprise().add(url), "Apprise itself takes it"


@pytest.mark.parametrize("url", ["wecombot://", "nonsense://secret-key@example.org", "not a url"])
def test_a_channel_url_apprise_cannot_use_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("LINLI_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("LINLI_NOTIFY_CHANNELS", json.dumps({"c1": ["json://127.0.0.1:9/hook", url]}))
    with pytest.raises(ValidationError, match="channel URL number 2 of 'c1'") as refused:
        NotifySettings()  # type: ignore[call-arg]
    assert "secret-key" not in str(refused.value) and url not in str(refused.value).replace("'c1'", "")


def test_acknowledgement_links_are_signed_with_the_link_key_not_a_token_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Production sets no LINLI_JWT_SECRET (only the registry can mint tokens): notify's links
    need their own key, and notify refuses to start with none."""
    monkeypatch.delenv("LINLI_JWT_SECRET", raising=False)
    monkeypatch.delenv("LINLI_NOTIFY_LINK_KEY", raising=False)
    with pytest.raises(ValidationError, match="LINLI_NOTIFY_LINK_KEY"):
        NotifySettings()
    monkeypatch.setenv("LINLI_NOTIFY_LINK_KEY", "k" * 40)
    assert NotifySettings().ack_key() == "k" * 40
    assert NotifySettings().jwt_secret is None, "so notify accepts no HS256 token either"
    monkeypatch.setenv("LINLI_JWT_SECRET", TEST_JWT_SECRET)
    assert NotifySettings().ack_key() == "k" * 40, "the link key, where both are set"
    monkeypatch.delenv("LINLI_NOTIFY_LINK_KEY")
    assert NotifySettings().ack_key() == TEST_JWT_SECRET, "a development machine's one secret"
