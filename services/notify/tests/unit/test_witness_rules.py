"""The 公示 witness's pure parts: the short code, the group channel as a recipient, the time-stamp
request's imprint, and the authority's address as the operator sets it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from asn1crypto import tsp
from pydantic import ValidationError

from linli_notify.domain import APPRISE, default_channels, group_recipient, reads_the_inbox
from linli_notify.models import Contact
from linli_notify.settings import NotifySettings
from linli_notify.timestamping import TimestampError, timestamp_request
from linli_notify.usecases.notifications import reach_of
from linli_shared.testing.http import TEST_JWT_SECRET

HASH = hashlib.sha256(b"period 1").hexdigest()


def settings(**values: object) -> NotifySettings:
    return NotifySettings(jwt_secret=TEST_JWT_SECRET, **values)  # type: ignore[arg-type]


def test_the_group_channel_is_reached_only_through_the_communitys_outside_channels() -> None:
    group = group_recipient("c1")
    assert default_channels(group) == [APPRISE] and not reads_the_inbox(group)
    contact = Contact(
        district="d1",
        recipient=group,
        community="c1",
        display_name="c1",
        channels=[APPRISE],
        updated_at=datetime(2026, 11, 3, tzinfo=UTC),
    )
    assert reach_of(contact, settings(channels={"c1": ["json://127.0.0.1:9/hook"]}), False).channels == [
        APPRISE
    ]
    unreached = reach_of(contact, settings(), False)
    assert unreached.channels == [] and unreached.unreachable == APPRISE


def test_the_request_carries_the_hash_itself_as_its_sha256_imprint_and_asks_for_the_certificate() -> None:
    request = tsp.TimeStampReq.load(timestamp_request(HASH, 42))
    imprint = request["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
    assert imprint["hashed_message"].native == bytes.fromhex(HASH)
    assert (request["nonce"].native, request["cert_req"].native) == (42, True)


@pytest.mark.parametrize("bad", ["not hex", "abcd", HASH + "00"])
def test_only_a_sha256_is_sent_to_the_authority(bad: str) -> None:
    with pytest.raises(TimestampError):
        timestamp_request(bad, 1)


def test_the_authority_is_an_http_url_or_unset() -> None:
    assert settings().tsa_url is None and settings(tsa_url="").tsa_url is None
    assert settings(tsa_url="https://tsa.example.org/").tsa_url == "https://tsa.example.org/"
    with pytest.raises(ValidationError, match="http"):
        settings(tsa_url="ftp://tsa.example.org/")


def test_verification_url_names_the_place_and_the_hash() -> None:
    url = settings(fund_public_url="https://fund.example.org/").verification_url("d1", "c1", HASH)
    assert url == f"https://fund.example.org/v1/public/funds/d1/c1/disclosures/verification?sha256={HASH}"
