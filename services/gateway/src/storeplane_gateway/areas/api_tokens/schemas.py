"""The bodies of the API token routes: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (a 400 `invalid_body`); values are checked by
the area's service, which knows the rules and says what to fix. The same structs document the API in the
OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from storeplane_gateway.domain.api_tokens import ApiToken
from storeplane_gateway.domain.principals import SCOPES


class CreateApiTokenBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A name to recognise the token by (1 to 64 characters), and what it may do."""

    name: Annotated[str, msgspec.Meta(extra_json_schema={"examples": ["ci deploys"]})]
    scopes: Annotated[
        list[str],
        msgspec.Meta(extra_json_schema={"description": "Any of: " + ", ".join(SCOPES), "examples": [["stores:read"]]}),
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
