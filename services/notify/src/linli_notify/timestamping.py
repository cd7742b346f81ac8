"""RFC 3161 time-stamping of a witnessed hash: the request, the authority's reply, and the HTTP client.

The 公示 hash itself is the message imprint (SHA-256): anyone holding the token can show, with any
RFC 3161 tool (e.g. `openssl ts -verify -digest <hash>`), that the hash existed at the token's time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from asn1crypto import algos, cms, tsp

from linli_notify.settings import NotifySettings

REQUEST_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
GRANTED = ("granted", "granted_with_mods")


class TimestampError(Exception):
    """The authority could not be reached, refused, or replied with a token for something else."""


@dataclass(frozen=True)
class Stamp:
    token: bytes  # the DER TimeStampToken (a CMS SignedData), as the authority signed it
    at: datetime  # its genTime: when the authority saw the hash


def timestamp_request(sha256_hex: str, nonce: int) -> bytes:
    """A DER TimeStampReq for the hash, asking for the authority's certificate in the token."""
    return bytes(
        tsp.TimeStampReq(
            {
                "version": "v1",
                "message_imprint": imprint_of(sha256_hex),
                "nonce": nonce,
                "cert_req": True,
            }
        ).dump()
    )


def imprint_of(sha256_hex: str) -> tsp.MessageImprint:
    try:
        digest = bytes.fromhex(sha256_hex)
    except ValueError as error:
        raise TimestampError(f"{sha256_hex!r} is not a hex SHA-256") from error
    if len(digest) != 32:
        raise TimestampError(f"{sha256_hex!r} is not a SHA-256 (32 bytes)")
    algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
    return tsp.MessageImprint({"hash_algorithm": algorithm, "hashed_message": digest})


def stamp_from_reply(reply: bytes, sha256_hex: str, nonce: int) -> Stamp:
    """The token and its time, if the reply grants a stamp of this very hash with this nonce."""
    try:
        response = tsp.TimeStampResp.load(reply)
        status = response["status"]["status"].native
        if status not in GRANTED:
            text = response["status"]["status_string"].native
            raise TimestampError(f"the authority refused: {status} {text or ''}".strip())
        token: cms.ContentInfo = response["time_stamp_token"]
        info = token["content"]["encap_content_info"]["content"].parsed
        imprint, gen_time, echoed = info["message_imprint"], info["gen_time"].native, info["nonce"].native
        token_der = bytes(token.dump())
    except (ValueError, TypeError, KeyError) as error:  # asn1crypto's answers to malformed DER
        raise TimestampError(f"the authority's reply cannot be read: {error}") from error
    if imprint.dump() != imprint_of(sha256_hex).dump():
        raise TimestampError("the authority stamped another hash")
    if echoed != nonce:
        raise TimestampError("the authority's reply does not carry our nonce (a replayed reply?)")
    return Stamp(token=token_der, at=gen_time.astimezone(UTC))


class TimestampAuthority:
    """The operator's RFC 3161 authority (LINLI_NOTIFY_TSA_URL), over HTTP."""

    def __init__(self, settings: NotifySettings) -> None:
        assert settings.tsa_url is not None  # only built where one is configured
        self.url = settings.tsa_url
        self.timeout = settings.tsa_timeout_seconds

    async def __call__(self, sha256_hex: str) -> Stamp:
        """A stamp of the hash; TimestampError if the authority is down, refuses, or answers amiss."""
        nonce = secrets.randbits(63)
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                reply = await client.post(
                    self.url,
                    content=timestamp_request(sha256_hex, nonce),
                    headers={"Content-Type": REQUEST_TYPE, "Accept": REPLY_TYPE},
                )
                reply.raise_for_status()
        except httpx.HTTPError as error:
            raise TimestampError(f"the authority cannot be reached: {type(error).__name__}") from error
        return stamp_from_reply(reply.content, sha256_hex, nonce)
