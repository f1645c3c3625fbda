"""The API's JSON bodies as msgspec structs: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (Litestar turns the msgspec error into
a 400 `invalid_body`); values are checked by the handlers, which know the rules and say
what to fix. The same structs document the API in the OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, get_args

import msgspec

from storeplane_contracts.audit import CommandAudited
from storeplane_contracts.events import Engine, StoreRequested
from storeplane_contracts.naming import MAX_NAME, MIN_NAME
from storeplane_contracts.queries import StoreError, StoreStatus, StoreView, TimelineEntry
from storeplane_gateway.ports import SCOPES, ApiToken, Role


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


class QuotaBody(msgspec.Struct, frozen=True):
    """How many live stores the user may have (`limit`) and has (`in_use`)."""

    limit: int
    in_use: int


class AccountBody(msgspec.Struct, frozen=True):
    """The caller and their store quota."""

    user: UserBody
    quota: QuotaBody


class SetQuotaBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A user's own limit of live stores; null returns the user to the platform's default."""

    store_limit: int | None


class UserQuotaBody(msgspec.Struct, frozen=True):
    """A user's store quota as an admin sees it: the limit in force, the user's own (if any), and the use."""

    user_id: str
    email: str
    limit: int
    override: int | None
    in_use: int


class AuditListBody(msgspec.Struct, frozen=True):
    """Audit records, newest first."""

    entries: list[CommandAudited]


StoreName = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={
            "description": "Becomes a DNS-1123 label: lower-cased, spaces and underscores to hyphens "
            f"(`My Shop` is `my-shop`); {MIN_NAME} to {MAX_NAME} characters; some names are reserved.",
            "examples": ["my-shop", "My Shop"],
        }
    ),
]
# Documented as the known engines; the handler says which of them are installable (422 otherwise).
EngineName = Annotated[
    str,
    msgspec.Meta(extra_json_schema={"examples": ["woocommerce"], "extra": {"enum": list(get_args(Engine))}}),
]


class CreateStoreBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a user orders: a store name (a DNS label) and an engine."""

    name: StoreName
    engine: EngineName


class StoreBody(msgspec.Struct, frozen=True, omit_defaults=True):
    """One store as its owner sees it (with `owner_id` only in an admin's listing of all stores)."""

    id: str
    name: str
    engine: str
    status: StoreStatus
    namespace: str
    created_at: datetime
    urls: dict[str, str]
    error: StoreError | None
    owner_id: str | None = None

    @classmethod
    def from_view(cls, view: StoreView, *, status: StoreStatus | None = None, with_owner: bool = False) -> StoreBody:
        return cls(
            id=view.id,
            name=view.name,
            engine=view.engine,
            status=status or view.status,
            namespace=view.namespace,
            created_at=view.created_at,
            urls=dict(view.urls),
            error=view.error,
            owner_id=view.owner_id if with_owner else None,
        )

    @classmethod
    def from_request(cls, event: StoreRequested) -> StoreBody:
        return cls(
            id=event.store_id,
            name=event.name,
            engine=event.engine,
            status="requested",
            namespace=event.namespace,
            created_at=event.occurred_at,
            urls={},
            error=None,
        )


class StoreListBody(msgspec.Struct, frozen=True):
    """The caller's stores (every user's, for an admin who asks for `all`)."""

    stores: list[StoreBody]


class EventListBody(msgspec.Struct, frozen=True):
    """A store's activity timeline, oldest first."""

    events: list[TimelineEntry]


class CredentialsBody(msgspec.Struct, frozen=True):
    """A store's admin login, shown once."""

    username: str
    password: str
    email: str
    admin_url: str | None
