"""Accounts and sessions: register, log in, refresh, log out (this session or all of them).

Register, log in and refresh answer with a session's access token and refresh token. Wrong email
and wrong password get the same 401 (and take as long), so logging in does not reveal which
emails are registered (registering does, `409 email_taken`, as a sign-up without e-mail
verification must). Failed logins for one email slow further attempts down exponentially (429
`login_throttled` with `Retry-After`), known email or not: an attempt is claimed (and counted as
a failure) before its password is checked, so concurrent guesses cannot slip past the throttle.
These three are rate limited per client address too.

Every account is registered as a `user`. Roles come from the account's row at every login and
refresh, so a role an operator grants or revokes (`storeplane-gateway admin grant|revoke EMAIL`)
is in the next token; nothing a client sends can make an admin.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from litestar import Request, Router, post
from litestar.di import NamedDependency
from litestar.middleware import DefineMiddleware
from litestar.params import JSONBody

from storeplane_gateway.auditing import AUDIT, note
from storeplane_gateway.auth import SECURITY_SCHEME, TokenIssuer, caller, require_session
from storeplane_gateway.bodies import Credentials, RefreshBody, TokenBody
from storeplane_gateway.errors import ApiError, documented
from storeplane_gateway.limits import AUTH, RATE_LIMIT
from storeplane_gateway.links import links_from
from storeplane_gateway.passwords import MAX_PASSWORD, MIN_PASSWORD, Passwords
from storeplane_gateway.ports import EmailTaken, LoginThrottle, Sessions, User, Users

MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def checked_email(raw: str) -> str:
    email = normalize_email(raw)
    if len(email) > MAX_EMAIL or not _EMAIL.match(email) or any(unicodedata.category(c)[0] == "C" for c in email):
        raise ApiError(422, "invalid_email", "email must be an address like name@example.com")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ApiError(422, "weak_password", f"password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise ApiError(422, "invalid_password", f"password must be at most {MAX_PASSWORD} characters long")


def _invalid_credentials(retry_after: float = 0) -> ApiError:
    headers = {"WWW-Authenticate": "Bearer"}
    if retry_after > 0:
        headers["Retry-After"] = str(math.ceil(retry_after))
    return ApiError(401, "invalid_credentials", "email or password is wrong", headers=headers)


async def _start_session(user: User, tokens: TokenIssuer, sessions: Sessions) -> TokenBody:
    issued = tokens.issue(user)
    await sessions.start(issued.session)
    return issued.body


_PUBLIC = {"exclude_from_auth": True, RATE_LIMIT: AUTH}
_TOO_MANY = "`too_many_requests`: too many requests from this address; retry after `Retry-After` seconds"


@post(
    "/register",
    status_code=201,
    summary="Create an account",
    description="Returns a session's access token (`token`) and refresh token for the new account.",
    opt={**_PUBLIC, AUDIT: "register"},
    operation_class=links_from(
        201,
        {
            "GetQuota": ("/api/v1/admin/users/{user_id}/quota", "GET", {"path.user_id": "$response.body#/user/id"}),
            "SetQuota": ("/api/v1/admin/users/{user_id}/quota", "PUT", {"path.user_id": "$response.body#/user/id"}),
        },
    ),
    responses=documented(
        {
            400: "`invalid_body`: not a JSON object with exactly `email` and `password` as strings",
            409: "`email_taken`: log in instead",
            422: "`invalid_email`, `weak_password` or `invalid_password`",
            429: _TOO_MANY,
        }
    ),
)
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[Credentials],
    users: NamedDependency[Users],
    passwords: NamedDependency[Passwords],
    tokens: NamedDependency[TokenIssuer],
    sessions: NamedDependency[Sessions],
) -> TokenBody:
    email = checked_email(data.email)
    note(request, email=email)
    check_password(data.password)
    try:
        user = await users.add(email, await passwords.hash(data.password))
    except EmailTaken:
        raise ApiError(409, "email_taken", f"{email} is already registered; log in instead") from None
    note(request, actor=user)
    return await _start_session(user, tokens, sessions)


@post(
    "/login",
    status_code=200,
    summary="Log in",
    description=(
        "Returns a session's access token for `Authorization: Bearer <token>` and a refresh token. "
        "After a few failed attempts for one email, each further one makes the next wait twice as long."
    ),
    opt={**_PUBLIC, AUDIT: "login"},
    responses=documented(
        {
            400: "`invalid_body`",
            401: "`invalid_credentials`",
            429: "`login_throttled`: too many failed logins for this email, or `too_many_requests`; "
            "retry after `Retry-After` seconds",
        }
    ),
)
async def login(
    request: Request[Any, Any, Any],
    data: JSONBody[Credentials],
    users: NamedDependency[Users],
    passwords: NamedDependency[Passwords],
    tokens: NamedDependency[TokenIssuer],
    sessions: NamedDependency[Sessions],
    logins: NamedDependency[LoginThrottle],
) -> TokenBody:
    email = normalize_email(data.email)
    if len(email) > MAX_EMAIL or len(data.password) > MAX_PASSWORD:
        raise _invalid_credentials()  # it could never have been registered; don't spend a hash on it
    note(request, email=email)
    # Claimed (and counted as a failure) before the password is checked: concurrent guesses queue here.
    attempt = await logins.claim(email)
    if attempt.retry_after > 0:
        seconds = math.ceil(attempt.retry_after)
        raise ApiError(
            429,
            "login_throttled",
            f"too many failed logins for this account; try again in {seconds} seconds",
            headers={"Retry-After": str(seconds)},
        )
    stored = await users.by_email(email)
    if not await passwords.verify(stored.password_hash if stored else None, data.password) or stored is None:
        raise _invalid_credentials(attempt.delay_if_failed)
    await logins.succeeded(email)
    if passwords.needs_rehash(stored.password_hash):
        await users.replace_password_hash(stored.id, await passwords.hash(data.password))
    user = User(id=stored.id, email=stored.email, role=stored.role)  # the role as it is now
    note(request, actor=user)
    return await _start_session(user, tokens, sessions)


@post(
    "/refresh",
    status_code=200,
    summary="New tokens for a refresh token",
    description=(
        "Exchanges a refresh token for a new access token and a new refresh token. Each refresh token "
        "works once: using one again ends its session."
    ),
    opt={**_PUBLIC, AUDIT: "refresh"},
    responses=documented(
        {
            400: "`invalid_body`",
            401: "`invalid_refresh_token`: invalid, expired, already used, or its session ended",
            429: _TOO_MANY,
        }
    ),
)
async def refresh(
    request: Request[Any, Any, Any],
    data: JSONBody[RefreshBody],
    users: NamedDependency[Users],
    tokens: NamedDependency[TokenIssuer],
    sessions: NamedDependency[Sessions],
) -> TokenBody:
    claims = tokens.read_refresh(data.refresh_token)
    stored = await users.by_id(claims.user_id)
    if stored is None:
        raise ApiError(401, "invalid_refresh_token", "the refresh token's account does not exist; register")
    user = User(id=stored.id, email=stored.email, role=stored.role)  # a role granted or revoked since applies now
    note(request, actor=user, target=claims.session_id)
    issued = tokens.issue(user, claims.session_id)
    rotated = await sessions.rotate(
        claims.session_id,
        user.id,
        used_jti=claims.jti,
        next_jti=issued.session.refresh_jti,
        expires_at=issued.session.expires_at,
    )
    if not rotated:
        raise ApiError(
            401,
            "invalid_refresh_token",
            "the refresh token was already used or its session has ended; log in at POST /api/v1/auth/login",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return issued.body


_SESSION_ERRORS = documented(
    {401: "`not_authenticated`", 403: "`session_required`: an API token cannot log out; delete it instead"}
)


@post(
    "/logout",
    status_code=204,
    summary="Log out this session",
    description="Revokes the session of the token in `Authorization`: its access and refresh tokens stop working.",
    guards=[require_session],
    security=[{SECURITY_SCHEME: []}],
    opt={AUDIT: "logout"},
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
        tags=["auth"],
    )
