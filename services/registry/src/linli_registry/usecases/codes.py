"""Sign-in by a one-time code sent by SMS. The registry keeps only a keyed hash of the code and
raises an event carrying it encrypted; notify decrypts and sends it. The code is never logged."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from linli_registry.account_models import SignInAttempt, SignInCode
from linli_registry.account_rules import message, normalise_phone
from linli_registry.settings import RegistrySettings
from linli_registry.signing import code_hash, encrypt_code, new_code
from linli_registry.usecases.sign_in import (
    Attempt,
    SignedIn,
    TooManyAttempts,
    account_by_phone,
    check_not_locked,
    signed_in,
)
from linli_registry.usecases.tokens import SigningOff, signing_key_of
from linli_shared.contracts.registry import SignInCodeRequested
from linli_shared.errors import Unauthorized
from linli_shared.ids import new_id
from linli_shared.unit_of_work import UnitOfWork

RESEND_SECONDS = 60
TRIES_PER_CODE = 5
CITY = "city"
"""The subject's district token for an account above district level."""


def code_key_of(settings: RegistrySettings, language: str) -> str:
    if settings.sign_in_code_key is None:
        raise SigningOff(message("codes_off", language))
    return settings.sign_in_code_key.get_secret_value()


async def check_codes_of_address(uow: UnitOfWork, settings: RegistrySettings, attempt: Attempt) -> None:
    """One address asking for codes for many phones (a script sending texts to strangers) is
    stopped after `sign_in_codes_per_address` in the window, until the oldest of them leaves it."""
    window = timedelta(seconds=settings.sign_in_window_seconds)
    statement = (
        select(SignInCode.created_at)
        .where(SignInCode.address == attempt.address, col(SignInCode.created_at) > uow.now - window)
        .order_by(col(SignInCode.created_at))
    )
    sent = list((await uow.session.exec(statement)).all())
    if len(sent) >= settings.sign_in_codes_per_address:
        wait = int((sent[0] + window - uow.now).total_seconds()) + 1
        raise TooManyAttempts(message("codes_per_address", attempt.language), wait)


async def request_code(uow: UnitOfWork, settings: RegistrySettings, attempt: Attempt) -> datetime:
    """Make a code for the phone's account and raise the event that sends it; one per minute per
    phone. The answer is the same for a phone without an account."""
    key = code_key_of(settings, attempt.language)
    signing_key_of(settings, attempt.language)
    attempt = Attempt(normalise_phone(attempt.phone), attempt.address, attempt.language)
    phone = attempt.phone
    async with uow:
        expires_at = uow.now + timedelta(seconds=settings.sign_in_code_seconds)
        await check_not_locked(uow.session, settings, attempt, uow.now)
        latest = select(SignInCode.created_at).where(
            SignInCode.phone == phone,
            col(SignInCode.created_at) > uow.now - timedelta(seconds=RESEND_SECONDS),
        )
        if (sent := (await uow.session.exec(latest)).first()) is not None:
            wait = int((sent + timedelta(seconds=RESEND_SECONDS) - uow.now).total_seconds()) + 1
            raise TooManyAttempts(message("code_too_soon", attempt.language), wait)
        await check_codes_of_address(uow, settings, attempt)
        account = await account_by_phone(uow.session, phone)
        if account is None or account.disabled:
            return expires_at
        code = new_code()
        uow.session.add(
            SignInCode(
                id=new_id(),
                phone=phone,
                address=attempt.address,
                code_hash=code_hash(key, phone, code),
                created_at=uow.now,
                expires_at=expires_at,
            )
        )
        event = SignInCodeRequested(
            account_id=account.id,
            phone=phone,
            community=account.community,
            code_encrypted=encrypt_code(key, code),
            expires_at=expires_at,
        )
        uow.record(event, district=account.district or CITY, community=account.community)
        await uow.commit()
        return expires_at


async def sign_in_with_code(
    uow: UnitOfWork, settings: RegistrySettings, attempt: Attempt, code: str, grant_id: str | None
) -> SignedIn:
    """A code signs in once, before it expires, within a few tries; failures count toward the
    lock-out like wrong passwords."""
    key = code_key_of(settings, attempt.language)
    signing_key_of(settings, attempt.language)
    attempt = Attempt(normalise_phone(attempt.phone), attempt.address, attempt.language)
    async with uow:
        await check_not_locked(uow.session, settings, attempt, uow.now)
        statement = (
            select(SignInCode)
            .where(
                SignInCode.phone == attempt.phone,
                col(SignInCode.used_at).is_(None),
                col(SignInCode.expires_at) > uow.now,
            )
            .order_by(col(SignInCode.created_at).desc())
        )
        sent = (await uow.session.exec(statement)).first()
        ok = (
            sent is not None
            and sent.tries < TRIES_PER_CODE
            and hmac.compare_digest(sent.code_hash, code_hash(key, attempt.phone, code))
        )
        if sent is not None:
            values = {"used_at": uow.now} if ok else {"tries": sent.tries + 1}
            condition = col(SignInCode.used_at).is_(None) & (col(SignInCode.tries) == sent.tries)
            taken = await uow.session.exec(
                update(SignInCode)
                .where(col(SignInCode.id) == sent.id, condition)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            ok = ok and bool(taken.rowcount)  # of two racing uses of one code, one signs in
        account = await account_by_phone(uow.session, attempt.phone) if ok else None
        ok = ok and account is not None and not account.disabled
        uow.session.add(SignInAttempt(phone=attempt.phone, address=attempt.address, at=uow.now, ok=ok))
        if not ok or account is None:
            await uow.commit()
            raise Unauthorized(message("bad_code", attempt.language))
        result = await signed_in(uow, settings, account, grant_id, attempt.language)
        await uow.commit()
        return result
