"""Accounts: register and log in, each answering with a bearer token.

Wrong email and wrong password get the same 401 (and take as long), so the API does not
reveal which emails are registered.
"""

from __future__ import annotations

import re

from litestar import Router, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from storeplane_gateway.auth import TokenIssuer
from storeplane_gateway.bodies import Credentials, TokenBody
from storeplane_gateway.errors import ApiError, documented
from storeplane_gateway.passwords import MAX_PASSWORD, MIN_PASSWORD, Passwords
from storeplane_gateway.ports import EmailTaken, User, Users

MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def checked_email(raw: str) -> str:
    email = normalize_email(raw)
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise ApiError(422, "invalid_email", "email must be an address like name@example.com")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ApiError(422, "weak_password", f"password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise ApiError(422, "invalid_password", f"password must be at most {MAX_PASSWORD} characters long")


def _invalid_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "email or password is wrong", headers={"WWW-Authenticate": "Bearer"})


@post(
    "/register",
    status_code=201,
    summary="Create an account",
    description="Returns a bearer token for the new account.",
    responses=documented(
        {
            400: "`invalid_body`: not a JSON object with exactly `email` and `password` as strings",
            409: "`email_taken`: log in instead",
            422: "`invalid_email`, `weak_password` or `invalid_password`",
        }
    ),
)
async def register(
    data: JSONBody[Credentials],
    users: NamedDependency[Users],
    passwords: NamedDependency[Passwords],
    tokens: NamedDependency[TokenIssuer],
) -> TokenBody:
    email = checked_email(data.email)
    check_password(data.password)
    try:
        user = await users.add(email, await passwords.hash(data.password))
    except EmailTaken:
        raise ApiError(409, "email_taken", f"{email} is already registered; log in instead") from None
    return tokens.issue(user)


@post(
    "/login",
    status_code=200,
    summary="Log in",
    description="Returns a bearer token for `Authorization: Bearer <token>`.",
    responses=documented({400: "`invalid_body`", 401: "`invalid_credentials`"}),
)
async def login(
    data: JSONBody[Credentials],
    users: NamedDependency[Users],
    passwords: NamedDependency[Passwords],
    tokens: NamedDependency[TokenIssuer],
) -> TokenBody:
    if len(data.password) > MAX_PASSWORD:
        raise _invalid_credentials()  # it could never have been registered; don't spend a hash on it
    stored = await users.by_email(normalize_email(data.email))
    if not await passwords.verify(stored.password_hash if stored else None, data.password) or stored is None:
        raise _invalid_credentials()
    if passwords.needs_rehash(stored.password_hash):
        await users.replace_password_hash(stored.id, await passwords.hash(data.password))
    return tokens.issue(User(id=stored.id, email=stored.email))


def auth_router() -> Router:
    return Router(path="/api/v1/auth", route_handlers=[register, login], tags=["auth"])
