"""API tokens for integrations: make one (its secret shown once), list them, revoke one.

A token is `sp_` and 256 random bits; only its SHA-256 hash is stored. It authenticates as its
owner with the scopes it was given (`stores:read`, `stores:write`, `stores:credentials`), never
as an admin, and cannot manage tokens or sessions: these routes need a login session's token.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, JSONBody

from storeplane_contracts.events import new_id
from storeplane_gateway.auditing import AUDIT, note
from storeplane_gateway.auth import (
    API_TOKEN_SHOWN_PREFIX,
    SECURITY_SCHEME,
    caller,
    hash_api_token,
    new_api_token,
    require_session,
)
from storeplane_gateway.bodies import ApiTokenBody, ApiTokenListBody, CreateApiTokenBody, NewApiTokenBody
from storeplane_gateway.errors import ApiError, documented
from storeplane_gateway.links import links_from
from storeplane_gateway.ports import SCOPES, ApiToken, ApiTokens, TokenNameTaken

MAX_NAME = 64
MAX_TOKENS_PER_USER = 20
_AUTH_ERRORS = {401: "`not_authenticated`", 403: "`session_required`: use a login session's token"}


def checked_token_name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise ApiError(422, "invalid_token_name", f"name must be 1 to {MAX_NAME} characters long")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise ApiError(422, "invalid_token_name", "name must not contain control characters")
    return name


def checked_scopes(raw: list[str]) -> tuple[str, ...]:
    known = ", ".join(SCOPES)
    if not raw:
        raise ApiError(422, "invalid_scopes", f"give the token at least one scope of: {known}")
    unknown = [scope for scope in raw if scope not in SCOPES]
    if unknown:
        raise ApiError(422, "invalid_scopes", f"unknown scope {unknown[0]!r}; scopes are: {known}")
    return tuple(scope for scope in SCOPES if scope in raw)


@post(
    "/",
    status_code=201,
    summary="Make an API token",
    description="The answer's `token` is the secret: it is shown this once and stored only as a hash.",
    guards=[require_session],
    opt={AUDIT: "create_api_token"},
    operation_class=links_from(
        201, {"RevokeToken": ("/api/v1/tokens/{token_id}", "DELETE", {"path.token_id": "$response.body#/id"})}
    ),
    responses=documented(
        {
            **_AUTH_ERRORS,
            400: "`invalid_body`: not a JSON object with exactly `name` (string) and `scopes` (strings)",
            409: "`token_name_taken` or `token_limit_reached`",
            422: "`invalid_token_name` or `invalid_scopes`",
        }
    ),
)
async def create_token(
    request: Request[Any, Any, Any], data: JSONBody[CreateApiTokenBody], api_tokens: NamedDependency[ApiTokens]
) -> Response[NewApiTokenBody]:
    owner = caller(request)
    name, scopes = checked_token_name(data.name), checked_scopes(data.scopes)
    if len(await api_tokens.of_user(owner.id)) >= MAX_TOKENS_PER_USER:
        raise ApiError(
            409, "token_limit_reached", f"you have {MAX_TOKENS_PER_USER} API tokens; revoke one you no longer use"
        )
    secret = new_api_token()
    token = ApiToken(
        id=new_id(),
        user_id=owner.id,
        name=name,
        scopes=scopes,
        prefix=secret[:API_TOKEN_SHOWN_PREFIX],
        created_at=datetime.now(UTC),
    )
    note(request, target=token.id)
    try:
        await api_tokens.add(token, hash_api_token(secret))
    except TokenNameTaken:
        raise ApiError(409, "token_name_taken", f"you already have a token named {name!r}") from None
    body = NewApiTokenBody(
        id=token.id, name=name, scopes=list(scopes), prefix=token.prefix, created_at=token.created_at, token=secret
    )
    return Response(body, status_code=201, headers={"Location": f"/api/v1/tokens/{token.id}"})


@get("/", summary="Your API tokens", guards=[require_session], responses=documented(_AUTH_ERRORS))
async def list_tokens(request: Request[Any, Any, Any], api_tokens: NamedDependency[ApiTokens]) -> ApiTokenListBody:
    tokens = await api_tokens.of_user(caller(request).id)
    return ApiTokenListBody(tokens=[ApiTokenBody.from_token(token) for token in tokens])


@delete(
    "/{token_id:str}",
    status_code=204,
    summary="Revoke an API token",
    guards=[require_session],
    opt={AUDIT: "revoke_api_token"},
    responses=documented({**_AUTH_ERRORS, 400: "`invalid_request`", 404: "`token_not_found`"}),
)
async def revoke_token(
    request: Request[Any, Any, Any], token_id: FromPath[str], api_tokens: NamedDependency[ApiTokens]
) -> None:
    try:
        parsed = str(uuid.UUID(token_id))
    except ValueError:
        parsed = ""
    if not parsed or not await api_tokens.revoke(caller(request).id, parsed):
        raise ApiError(404, "token_not_found", f"you have no API token with id {token_id!r}; GET /api/v1/tokens")


def tokens_router(authentication: DefineMiddleware) -> Router:
    return Router(
        path="/api/v1/tokens",
        route_handlers=[create_token, list_tokens, revoke_token],
        middleware=[authentication],
        security=[{SECURITY_SCHEME: []}],
        tags=["tokens"],
    )
