"""The accounts and sessions routes: register, log in, refresh, log out (this session or all of them),
and the caller's own account (who the token belongs to, and how much of the store quota is in use).

Register, log in and refresh answer with a session's access token and refresh token; their rules
are the account service's (`services.py`): the same 401 for a wrong email and a wrong password,
429 `login_throttled` with `Retry-After` after failed logins for one email. These three are rate
limited per client address too.

A browser sends `X-Storeplane-Session: cookie` to all three: its refresh token then travels as an
HttpOnly cookie instead of in the bodies (`browser_sessions.py`), and logging out clears that cookie.

Every account is registered as a `user`. Roles come from the account's row at every login and
refresh, so a role an operator grants or revokes (`storeplane-gateway admin grant|revoke EMAIL`)
is in the next token; nothing a client sends can make an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import JSONBody

from storeplane_gateway.areas.accounts.browser_sessions import (
    COOKIE_MODE,
    DOCUMENTED_COOKIE,
    SESSION_HEADER,
    RefreshCookie,
    SessionMode,
    TokenAnswer,
    cleared_cookie,
    cleared_cookie_header,
    token_answer,
)
from storeplane_gateway.areas.accounts.guards import require_scope, require_session
from storeplane_gateway.areas.accounts.passwords import Passwords
from storeplane_gateway.areas.accounts.schemas import (
    AccountBody,
    Credentials,
    EmptyBody,
    QuotaBody,
    RefreshBody,
    UserBody,
)
from storeplane_gateway.areas.accounts.services import AccountService
from storeplane_gateway.areas.accounts.session_tokens import TokenIssuer
from storeplane_gateway.domain.errors import InvalidRefreshToken, RefreshTokenUnreadable
from storeplane_gateway.domain.principals import STORES_READ
from storeplane_gateway.domain.users import limit_of
from storeplane_gateway.http.audit_hook import AUDIT, note, notes_for
from storeplane_gateway.http.authentication import SECURITY_SCHEME, caller
from storeplane_gateway.http.bodies import NO_NUL, decoded_body
from storeplane_gateway.http.error_answers import refusal_answer
from storeplane_gateway.http.errors import ApiError, documented
from storeplane_gateway.http.openapi_links import links_from
from storeplane_gateway.http.rate_limits import AUTH, RATE_LIMIT
from storeplane_gateway.ports import LoginThrottle, Sessions, StoreSlots, Users
from storeplane_gateway.settings import GatewaySettings


def provide_account_service(
    users: NamedDependency[Users],
    sessions: NamedDependency[Sessions],
    logins: NamedDependency[LoginThrottle],
    passwords: NamedDependency[Passwords],
    tokens: NamedDependency[TokenIssuer],
) -> AccountService:
    return AccountService(users=users, sessions=sessions, logins=logins, passwords=passwords, tokens=tokens)


_PUBLIC = {"exclude_from_auth": True, RATE_LIMIT: AUTH}
_TOO_MANY = "`too_many_requests`: too many requests from this address; retry after `Retry-After` seconds"


@post(
    "/register",
    status_code=201,
    summary="Create an account",
    description=(
        "Returns a session's access token (`token`) and refresh token for the new account "
        f"(with `{SESSION_HEADER}: cookie`, the refresh token as a cookie instead)."
    ),
    opt={**_PUBLIC, AUDIT: "register"},
    response_cookies=[DOCUMENTED_COOKIE],
    operation_class=links_from(
        201,
        {
            "GetQuota": ("/api/v1/admin/users/{user_id}/quota", "GET", {"path.user_id": "$response.body#/user/id"}),
            "SetQuota": ("/api/v1/admin/users/{user_id}/quota", "PUT", {"path.user_id": "$response.body#/user/id"}),
        },
    ),
    responses=documented(
        {
            400: "`invalid_body`: not a JSON object with exactly `email` and `password` as strings; "
            f"`invalid_request`: `{SESSION_HEADER}` other than `cookie`",
            409: "`email_taken`: log in instead",
            422: "`invalid_email`, `weak_password` or `invalid_password`",
            429: _TOO_MANY,
        }
    ),
)
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[Credentials],
    account_service: NamedDependency[AccountService],
    session: SessionMode = "",
) -> TokenAnswer:
    body = await account_service.register(data.email, data.password, notes=notes_for(request))
    return token_answer(body, session, status_code=201)


@post(
    "/login",
    status_code=200,
    summary="Log in",
    description=(
        "Returns a session's access token for `Authorization: Bearer <token>` and a refresh token "
        f"(with `{SESSION_HEADER}: cookie`, as a cookie instead). "
        "After a few failed attempts for one email, each further one makes the next wait twice as long."
    ),
    opt={**_PUBLIC, AUDIT: "login"},
    response_cookies=[DOCUMENTED_COOKIE],
    responses=documented(
        {
            400: f"`invalid_body`, or `invalid_request`: `{SESSION_HEADER}` other than `cookie`",
            401: "`invalid_credentials`",
            429: "`login_throttled`: too many failed logins for this email, or `too_many_requests`; "
            "retry after `Retry-After` seconds",
        }
    ),
)
async def login(
    request: Request[Any, Any, Any],
    data: JSONBody[Credentials],
    account_service: NamedDependency[AccountService],
    session: SessionMode = "",
) -> TokenAnswer:
    body = await account_service.login(data.email, data.password, notes=notes_for(request))
    return token_answer(body, session)


# The refresh token's shape in the body (the handler reads its body itself, as it may come without one).
_REFRESH_BODY = Schema(
    type=OpenAPIType.OBJECT,
    properties={"refresh_token": Schema(type=OpenAPIType.STRING, pattern=NO_NUL)},
    required=["refresh_token"],
    additional_properties=False,
)


@dataclass
class RefreshOperation(Operation):
    """The refresh route's operation, with the body it reads (without the session header)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=_REFRESH_BODY)},
            description=f"The refresh token; with `{SESSION_HEADER}: cookie` none (or `{{}}`): the cookie holds it",
            required=True,
        )


@post(
    "/refresh",
    status_code=200,
    summary="New tokens for a refresh token",
    description=(
        "Exchanges a refresh token for a new access token and a new refresh token. Each refresh token "
        "works once: using one again ends its session. "
        f"With `{SESSION_HEADER}: cookie`, the next refresh token is set as the cookie instead, and with no "
        "refresh token in the body (no body, or `{}`) the cookie's is used."
    ),
    opt={**_PUBLIC, AUDIT: "refresh"},
    operation_class=RefreshOperation,
    response_cookies=[DOCUMENTED_COOKIE],
    responses=documented(
        {
            400: f"`invalid_body`, or `invalid_request`: `{SESSION_HEADER}` other than `cookie`",
            401: "`invalid_refresh_token`: invalid, expired, already used, or its session ended "
            "(or, in cookie mode without one in the body, no cookie: the cookie is then cleared)",
            429: _TOO_MANY,
        }
    ),
)
async def refresh(
    request: Request[Any, Any, Any],
    account_service: NamedDependency[AccountService],
    session: SessionMode = "",
    cookie: RefreshCookie = "",
) -> TokenAnswer:
    cookie_mode = session == COOKIE_MODE
    sent = await _token_in_body(request, cookie_mode=cookie_mode)
    if sent is not None:
        return token_answer(await account_service.refresh(sent, notes=notes_for(request)), session)
    try:  # a browser's: the token is its cookie's
        if not cookie:
            raise RefreshTokenUnreadable()
        return token_answer(await account_service.refresh(cookie, notes=notes_for(request)), session)
    except InvalidRefreshToken as exc:
        answer = refusal_answer(exc)
        headers = {**answer.headers, **cleared_cookie_header()}
        raise ApiError(answer.status_code, answer.code, answer.message, headers) from None


async def _token_in_body(request: Request[Any, Any, Any], *, cookie_mode: bool) -> str | None:
    """The refresh token in the body; None when a browser sent none (no body, or `{}`): its cookie holds it."""
    try:
        body = await decoded_body(request, RefreshBody)
    except ValidationException:
        if cookie_mode and await _empty_object(request):
            return None
        raise
    if body is None and not cookie_mode:
        raise ApiError(400, "invalid_body", 'a JSON object body is required: {"refresh_token": "..."}')
    return body.refresh_token if body is not None else None


async def _empty_object(request: Request[Any, Any, Any]) -> bool:
    try:
        await decoded_body(request, EmptyBody)
    except ValidationException:
        return False
    return True


_SESSION_ERRORS = documented(
    {401: "`not_authenticated`", 403: "`session_required`: an API token cannot log out; delete it instead"}
)


@post(
    "/logout",
    status_code=204,
    summary="Log out this session",
    description=(
        "Revokes the session of the token in `Authorization`: its access and refresh tokens stop working "
        "(a browser's refresh cookie is cleared)."
    ),
    guards=[require_session],
    security=[{SECURITY_SCHEME: []}],
    opt={AUDIT: "logout"},
    response_cookies=[cleared_cookie()],
    responses=_SESSION_ERRORS,
)
async def logout(request: Request[Any, Any, Any], sessions: NamedDependency[Sessions]) -> None:
    principal = caller(request)
    note(request, target=principal.session_id)
    await sessions.end(principal.session_id, principal.id)


@post(
    "/logout-all",
    status_code=204,
    summary="Log out every session",
    description="Revokes every session of the caller (on every device). API tokens stay; delete them separately.",
    guards=[require_session],
    security=[{SECURITY_SCHEME: []}],
    opt={AUDIT: "logout_all"},
    response_cookies=[cleared_cookie()],
    responses=_SESSION_ERRORS,
)
async def logout_all(request: Request[Any, Any, Any], sessions: NamedDependency[Sessions]) -> None:
    principal = caller(request)
    note(request, target=principal.id)
    await sessions.end_all(principal.id)


def auth_router(authentication: DefineMiddleware, limits: list[DefineMiddleware]) -> Router:
    """`authentication` runs on logout and logout-all only; `limits` (per address) on the others."""
    return Router(
        path="/api/v1/auth",
        route_handlers=[register, login, refresh, logout, logout_all],
        middleware=[authentication, *limits],
        dependencies={"account_service": Provide(provide_account_service, sync_to_thread=False)},
        tags=["auth"],
    )


@get(
    "/",
    summary="Your account and store quota",
    guards=[require_scope(STORES_READ)],
    responses=documented({401: "`not_authenticated`", 403: "`insufficient_scope`"}),
)
async def account(
    request: Request[Any, Any, Any],
    users: NamedDependency[Users],
    slots: NamedDependency[StoreSlots],
    settings: NamedDependency[GatewaySettings],
) -> AccountBody:
    principal = caller(request)
    limit = limit_of(await users.by_id(principal.id), settings.max_stores_per_user)
    in_use = len(await slots.of_owner(principal.id))
    return AccountBody(
        user=UserBody(id=principal.id, email=principal.email, role=principal.role),
        quota=QuotaBody(limit=limit, in_use=in_use),
    )


def account_router(authentication: DefineMiddleware) -> Router:
    return Router(
        path="/api/v1/account",
        route_handlers=[account],
        middleware=[authentication],
        security=[{SECURITY_SCHEME: []}],
        tags=["account"],
    )
