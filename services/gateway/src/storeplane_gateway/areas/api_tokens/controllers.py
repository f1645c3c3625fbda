"""The API token routes: make one (its secret shown once), list them, revoke one.

A token authenticates as its owner with the scopes it was given (`stores:read`, `stores:write`,
`stores:credentials`), never as an admin, and cannot manage tokens or sessions: these routes need
a login session's token. The rules are the service's (`services.py`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, JSONBody

from storeplane_gateway.areas.accounts.guards import require_session
from storeplane_gateway.areas.api_tokens.schemas import (
    ApiTokenBody,
    ApiTokenListBody,
    CreateApiTokenBody,
    NewApiTokenBody,
)
from storeplane_gateway.areas.api_tokens.services import ApiTokenService
from storeplane_gateway.http.audit_hook import AUDIT, notes_for
from storeplane_gateway.http.authentication import SECURITY_SCHEME, caller
from storeplane_gateway.http.errors import documented
from storeplane_gateway.http.openapi_links import links_from
from storeplane_gateway.ports import ApiTokens

_AUTH_ERRORS = {401: "`not_authenticated`", 403: "`session_required`: use a login session's token"}


def provide_api_token_service(api_tokens: NamedDependency[ApiTokens]) -> ApiTokenService:
    return ApiTokenService(api_tokens)


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
    request: Request[Any, Any, Any],
    data: JSONBody[CreateApiTokenBody],
    api_token_service: NamedDependency[ApiTokenService],
) -> Response[NewApiTokenBody]:
    made = await api_token_service.create(caller(request), data.name, data.scopes, notes=notes_for(request))
    token = made.token
    body = NewApiTokenBody(
        id=token.id,
        name=token.name,
        scopes=list(token.scopes),
        prefix=token.prefix,
        created_at=token.created_at,
        token=made.secret,
    )
    return Response(body, status_code=201, headers={"Location": f"/api/v1/tokens/{token.id}"})


@get("/", summary="Your API tokens", guards=[require_session], responses=documented(_AUTH_ERRORS))
async def list_tokens(
    request: Request[Any, Any, Any], api_token_service: NamedDependency[ApiTokenService]
) -> ApiTokenListBody:
    tokens = await api_token_service.tokens(caller(request))
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
    request: Request[Any, Any, Any], token_id: FromPath[str], api_token_service: NamedDependency[ApiTokenService]
) -> None:
    await api_token_service.revoke(caller(request), token_id)


def tokens_router(authentication: DefineMiddleware) -> Router:
    return Router(
        path="/api/v1/tokens",
        route_handlers=[create_token, list_tokens, revoke_token],
        middleware=[authentication],
        dependencies={"api_token_service": Provide(provide_api_token_service, sync_to_thread=False)},
        security=[{SECURITY_SCHEME: []}],
        tags=["tokens"],
    )
