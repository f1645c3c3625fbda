"""The bodies of the API token routes: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (a 400 `invalid_body`); values are checked by
the area's service, which knows the rules and says what to fix. The same structs document the API in the
OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema

from storeplane_gateway.areas.api_tokens.services import MAX_NAME, TOKEN_NAME_PATTERN
from storeplane_gateway.domain.api_tokens import ApiToken
from storeplane_gateway.domain.principals import SCOPES

# Documented as an enum; the rule says which scope is unknown (422) for a client that sends another.
SCOPE_SCHEMA = Schema(type=OpenAPIType.STRING, enum=list(SCOPES))


class CreateApiTokenBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A name to recognise the token by (1 to 64 characters), and what it may do."""

    name: Annotated[
        str,
        msgspec.Meta(
            extra_json_schema={
                "examples": ["ci deploys"],
                "extra": {"min_length": 1, "max_length": MAX_NAME, "pattern": TOKEN_NAME_PATTERN},
            }
        ),
    ]
    scopes: Annotated[
        list[str],
        msgspec.Meta(
            extra_json_schema={
                "description": "One or more of: " + ", ".join(SCOPES),
                "examples": [["stores:read"]],
                "extra": {"min_items": 1, "items": SCOPE_SCHEMA},
            }
        ),
    ]


class ApiTokenBody(msgspec.Struct, frozen=True):
    """An API token, without its secret."""

    id: str
    name: str
    scopes: list[str]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_token(cls, token: ApiToken) -> ApiTokenBody:
        return cls(
            id=token.id,
            name=token.name,
            scopes=list(token.scopes),
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
        )


class NewApiTokenBody(msgspec.Struct, frozen=True):
    """A new API token with its secret `token`: shown this once, stored only as a hash."""

    id: str
    name: str
    scopes: list[str]
    prefix: str
    created_at: datetime
    token: str


class ApiTokenListBody(msgspec.Struct, frozen=True):
    """The caller's API tokens, newest first."""

    tokens: list[ApiTokenBody]
