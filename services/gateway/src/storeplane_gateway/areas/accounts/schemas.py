"""The bodies of the accounts and sessions routes: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (a 400 `invalid_body`); values are checked by
the area's service, which knows the rules and says what to fix. The same structs document the API in the
OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from storeplane_gateway.areas.accounts.passwords import MAX_PASSWORD, MIN_PASSWORD
from storeplane_gateway.domain.users import EMAIL_PATTERN, MAX_EMAIL, Role
from storeplane_gateway.http.bodies import NO_NUL

# The bounds the rules apply (areas/accounts/services.py), shown in the OpenAPI schema (Litestar reads
# `extra`); the rules themselves answer with what to fix.
Email = Annotated[str, msgspec.Meta(extra_json_schema={"extra": {"pattern": EMAIL_PATTERN, "max_length": MAX_EMAIL}})]
Password = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"extra": {"min_length": MIN_PASSWORD, "max_length": MAX_PASSWORD, "pattern": NO_NUL}}
    ),
]


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An email and a password, to register or to log in."""

    email: Email
    password: Password


class UserBody(msgspec.Struct, frozen=True):
    """A user as the API shows it."""

    id: str
    email: str
    role: Role


class TokenBody(msgspec.Struct, frozen=True):
    """A session's bearer token, the refresh token that renews it, and who they are for."""

    token: str
    token_type: str
    expires_in: int
    refresh_token: Annotated[str, msgspec.Meta(extra_json_schema={"extra": {"pattern": NO_NUL}})]
    refresh_expires_in: int
    user: UserBody


class BrowserTokenBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A browser's session tokens: the refresh token is in the HttpOnly cookie, not here."""

    token: str
    token_type: str
    expires_in: int
    refresh_expires_in: int
    user: UserBody


class EmptyBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`{}`: what a browser may send to refresh (its refresh token is in the cookie)."""


class RefreshBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A refresh token, to be exchanged (once) for new tokens."""

    refresh_token: Annotated[str, msgspec.Meta(extra_json_schema={"extra": {"pattern": NO_NUL}})]


class QuotaBody(msgspec.Struct, frozen=True):
    """How many live stores the user may have (`limit`) and has (`in_use`)."""

    limit: int
    in_use: int


class AccountBody(msgspec.Struct, frozen=True):
    """The caller and their store quota."""

    user: UserBody
    quota: QuotaBody
