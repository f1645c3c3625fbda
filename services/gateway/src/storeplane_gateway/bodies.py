"""The API's JSON bodies as msgspec structs: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (Litestar turns the msgspec error into
a 400 `invalid_body`); values are checked by the handlers, which know the rules and say
what to fix. The same structs document the API in the OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from storeplane_contracts.events import StoreRequested
from storeplane_contracts.queries import StoreError, StoreStatus, StoreView, TimelineEntry


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An email and a password, to register or to log in."""

    email: str
    password: str


class UserBody(msgspec.Struct, frozen=True):
    """A user as the API shows it."""

    id: str
    email: str


class TokenBody(msgspec.Struct, frozen=True):
    """A bearer token and who it is for."""

    token: str
    token_type: str
    expires_in: int
    user: UserBody


class CreateStoreBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a user orders: a store name (a DNS label) and an engine."""

    name: str
    engine: str


class StoreBody(msgspec.Struct, frozen=True):
    """One store as its owner sees it."""

    id: str
    name: str
    engine: str
    status: StoreStatus
    namespace: str
    created_at: datetime
    urls: dict[str, str]
    error: StoreError | None

    @classmethod
    def from_view(cls, view: StoreView, *, status: StoreStatus | None = None) -> StoreBody:
        return cls(
            id=view.id,
            name=view.name,
            engine=view.engine,
            status=status or view.status,
            namespace=view.namespace,
            created_at=view.created_at,
            urls=dict(view.urls),
            error=view.error,
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
    """The caller's stores."""

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
