"""Sign-in, refresh and sign-out over HTTP, and the public keys that verify the tokens.

These routes take no bearer token (the password, the code or the refresh token is the credential)
and answer a person in their language: Chinese unless Accept-Language asks for English."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from linli_registry.account_models import Account, RoleGrant
from linli_registry.account_rules import language_of
from linli_registry.api.accounts import Phone
from linli_registry.models import Community, District
from linli_registry.settings import RegistrySettings
from linli_registry.signing import private_key
from linli_registry.usecases import codes, sign_in, tokens
from linli_shared.auth import Role
from linli_shared.errors import problem
from linli_shared.openapi import problem_response
from linli_shared.schema_types import Strict
from linli_shared.service import SessionDep
from linli_shared.token_keys import public_jwk
from linli_shared.unit_of_work import KeylessUnitOfWorkDep

router = APIRouter(tags=["sign-in"])

LanguageHeader = Annotated[str | None, Header(alias="Accept-Language", max_length=200)]
SIGN_IN_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: problem_response("Wrong phone number and password, wrong code, or a refresh token no longer valid."),
    403: problem_response("The account holds no role."),
    429: problem_response("Too many failed attempts: Retry-After says when to try again."),
    404: problem_response("Sign-in is not set up here (no signing key, or no SMS code key)."),
}


class SignInIn(Strict):
    phone: str = Phone
    password: str = Field(min_length=1, max_length=128)
    grant_id: str | None = Field(default=None, max_length=36, description="Which role, if several.")


class CodeRequestIn(Strict):
    phone: str = Phone


class CodeSignInIn(Strict):
    phone: str = Phone
    code: str = Field(pattern=r"^[0-9]{6}$")
    grant_id: str | None = Field(default=None, max_length=36)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class GrantChoice(BaseModel):
    id: str
    role: Role
    district: str | None
    community: str | None
    district_name: str | None = Field(default=None, description="The district's name, e.g. 高桥营街道.")
    community_name: str | None = Field(default=None, description="The community's name, e.g. 东李庄社区.")


class SignInOut(BaseModel):
    """Tokens, or (`access_token` null) the grants to choose from: send again with `grant_id`."""

    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"
    expires_in: int | None = Field(default=None, description="Seconds the access token holds.")
    grant: GrantChoice | None = None
    grants: list[GrantChoice]
    display_name: str | None = Field(default=None, description="The signed-in person's name.")


class CodeSentOut(BaseModel):
    expires_at: datetime


Names = dict[tuple[str | None, str | None], str]


def choice(grant: RoleGrant, names: Names) -> GrantChoice:
    return GrantChoice(
        id=grant.id,
        role=Role(grant.role),
        district=grant.district,
        community=grant.community,
        district_name=names.get((grant.district, None)),
        community_name=names.get((grant.district, grant.community)) if grant.community else None,
    )


async def place_names(session: AsyncSession, grants: list[RoleGrant]) -> Names:
    """(district, None) → the district's name, (district, community) → the community's: two queries."""
    districts = {g.district for g in grants if g.district}
    communities = {g.community for g in grants if g.community}
    names: Names = {}
    if districts:
        for code, name in (
            await session.exec(select(District.code, District.name).where(col(District.code).in_(districts)))
        ).all():
            names[(code, None)] = name
    if communities:
        statement = select(Community.district, Community.code, Community.name).where(
            col(Community.code).in_(communities), col(Community.district).in_(districts)
        )
        for district, code, name in (await session.exec(statement)).all():
            names[(district, code)] = name
    return names


async def answer(
    session: AsyncSession, tokens_made: tokens.Tokens | None, grants: list[RoleGrant]
) -> SignInOut:
    """The tokens (or the grants to choose from), with the person's name and their places' names."""
    names = await place_names(session, grants)
    account = await session.get(Account, grants[0].account_id) if grants else None
    display_name = account.display_name if account is not None else None
    if tokens_made is None:
        return SignInOut(grants=[choice(g, names) for g in grants], display_name=display_name)
    return SignInOut(
        access_token=tokens_made.access_token,
        refresh_token=tokens_made.refresh_token,
        expires_in=tokens_made.expires_in,
        grant=choice(tokens_made.grant, names),
        grants=[choice(g, names) for g in grants],
        display_name=display_name,
    )


def settings_of(request: Request) -> RegistrySettings:
    settings: RegistrySettings = request.app.state.settings
    return settings


def attempt_of(request: Request, phone: str, language: str | None) -> sign_in.Attempt:
    address = request.client.host if request.client else "unknown"
    return sign_in.Attempt(phone, address[:64], language_of(language))


def too_many(error: sign_in.TooManyAttempts, language: str) -> Response:
    response = problem(error.status, error.title, error.detail_in(language))
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.post("/v1/sign-in", response_model=SignInOut, responses=SIGN_IN_PROBLEMS)
async def sign_in_with_password(
    data: SignInIn,
    request: Request,
    uow: KeylessUnitOfWorkDep,
    session: SessionDep,
    accept_language: LanguageHeader = None,
) -> object:
    attempt = attempt_of(request, data.phone, accept_language)
    try:
        made = await sign_in.sign_in_with_password(
            uow, settings_of(request), attempt, data.password, data.grant_id
        )
    except sign_in.TooManyAttempts as error:
        return too_many(error, attempt.language)
    return await answer(session, made.tokens, made.grants)


@router.post("/v1/sign-in/code", status_code=202, response_model=CodeSentOut, responses=SIGN_IN_PROBLEMS)
async def request_sign_in_code(
    data: CodeRequestIn, request: Request, uow: KeylessUnitOfWorkDep, accept_language: LanguageHeader = None
) -> object:
    """Send a one-time code by SMS to the phone, if an account has it (the answer is the same if
    not, so nobody learns which phones have accounts)."""
    attempt = attempt_of(request, data.phone, accept_language)
    try:
        expires_at = await codes.request_code(uow, settings_of(request), attempt)
    except sign_in.TooManyAttempts as error:
        return too_many(error, attempt.language)
    return CodeSentOut(expires_at=expires_at)


@router.post("/v1/sign-in/code/verify", response_model=SignInOut, responses=SIGN_IN_PROBLEMS)
async def sign_in_with_code(
    data: CodeSignInIn,
    request: Request,
    uow: KeylessUnitOfWorkDep,
    session: SessionDep,
    accept_language: LanguageHeader = None,
) -> object:
    attempt = attempt_of(request, data.phone, accept_language)
    try:
        made = await codes.sign_in_with_code(uow, settings_of(request), attempt, data.code, data.grant_id)
    except sign_in.TooManyAttempts as error:
        return too_many(error, attempt.language)
    return await answer(session, made.tokens, made.grants)


@router.post("/v1/tokens/refresh", response_model=SignInOut, responses=SIGN_IN_PROBLEMS)
async def refresh(
    data: RefreshIn,
    request: Request,
    uow: KeylessUnitOfWorkDep,
    session: SessionDep,
    accept_language: LanguageHeader = None,
) -> object:
    """A new access token and a new refresh token; the one sent no longer works. A refresh token
    used a second time ends every token of its sign-in."""
    made = await tokens.refresh(uow, settings_of(request), data.refresh_token, language_of(accept_language))
    return await answer(session, made, [made.grant])


@router.post("/v1/sign-out", status_code=204)
async def sign_out(data: RefreshIn, uow: KeylessUnitOfWorkDep) -> Response:
    """End the sign-in the refresh token belongs to: it and its successors stop working at once."""
    await tokens.sign_out(uow, data.refresh_token)
    return Response(status_code=204)


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict[str, Any]:
    """The public keys the registry's tokens are signed with (RFC 7517): every service verifies
    tokens with these, and none can mint one."""
    key = settings_of(request).signing_key
    if key is None:
        return {"keys": []}
    return {"keys": [public_jwk(private_key(key.get_secret_value()).public_key())]}
