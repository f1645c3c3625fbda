"""User accounts and their roles, as the API shows them and as the users table keeps them."""

from __future__ import annotations

from typing import Literal, TypeAlias

import msgspec

Role: TypeAlias = Literal["user", "admin"]
ROLES: tuple[Role, ...] = ("user", "admin")


class User(msgspec.Struct, frozen=True):
    """A registered user as the API shows it."""

    id: str
    email: str
    role: Role = "user"


class StoredUser(msgspec.Struct, frozen=True):
    """A registered user as the users table keeps it: with the password hash and their own store limit."""

    id: str
    email: str
    password_hash: str
    role: Role = "user"
    store_limit: int | None = None  # None: the platform's default


def limit_of(user: StoredUser | None, default: int) -> int:
    """The user's own store limit if an admin set one, else the platform's."""
    return user.store_limit if user is not None and user.store_limit is not None else default


# What an email must look like, as a regular expression both the rule (`areas/accounts/services.py`)
# and the OpenAPI schema use: printable ASCII, one `@`, a dotted domain, perhaps with spaces around (they
# are dropped); at most `MAX_EMAIL` characters as sent.
EMAIL_PATTERN = r"^\s*[!-?A-~]+@[!-\-/-?A-~]+(\.[!-\-/-?A-~]+)+\s*$"
MAX_EMAIL = 254
