"""The bodies of the accounts and sessions routes: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (a 400 `invalid_body`); values are checked by
the area's service, which knows the rules and says what to fix. The same structs document the API in the
OpenAPI schema.
"""

from __future__ import annotations

import msgspec

from storeplane_gateway.domain.users import Role


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An email and a password, to register or to log in."""

    email: str
    password: str


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
    refresh_token: str
    refresh_expires_in: int
    user: UserBody


class RefreshBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A refresh token, to be exchanged (once) for new tokens."""

    refresh_token: str


class QuotaBody(msgspec.Struct, frozen=True):
    """How many live stores the user may have (`limit`) and has (`in_use`)."""

    limit: int
    in_use: int


class AccountBody(msgspec.Struct, frozen=True):
    """The caller and their store quota."""

    user: UserBody
    quota: QuotaBody
