"""The bodies of the store routes: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (a 400 `invalid_body`); values are checked by
the area's service, which knows the rules and says what to fix. The same structs document the API in the
OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, cast, get_args

import msgspec

from storeplane_contracts.events import Engine, StoreRequested
from storeplane_contracts.naming import MAX_NAME, MIN_NAME
from storeplane_contracts.queries import StoreError, StoreStatus, StoreView, TimelineEntry
from storeplane_gateway.areas.stores.services import RAW_NAME_PATTERN
from storeplane_gateway.domain.traces import StoreTrace
from storeplane_gateway.http.pagination import NextPage

StoreName = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={
            "description": "Becomes a DNS-1123 label: lower-cased, spaces and underscores to hyphens "
            f"(`My Shop` is `my-shop`); {MIN_NAME} to {MAX_NAME} characters; some names are reserved.",
            "examples": ["my-shop", "My Shop"],
            "extra": {"min_length": MIN_NAME, "max_length": MAX_NAME, "pattern": RAW_NAME_PATTERN},
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
    # While requested or provisioning: when it is likely ready (recent provisionings of its engine, p50, then
    # p95 once that has passed); absent once both have passed (its timeline says what holds it) or without figures.
    estimated_ready_at: datetime | None = None

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
            estimated_ready_at=view.estimated_ready_at if status is None else None,
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
    """A page of the caller's stores, newest first (every user's, for an admin who asks for `all`)."""

    stores: list[StoreBody]
    next: NextPage


class EventListBody(msgspec.Struct, frozen=True):
    """A page of a store's activity timeline, oldest first."""

    events: list[TimelineEntry]
    next: NextPage


class CredentialsBody(msgspec.Struct, frozen=True):
    """A store's admin login, shown once."""

    username: str
    password: str
    email: str
    admin_url: str | None


class SpanBody(msgspec.Struct, frozen=True):
    """One span of a store's trace: which service did what, when, for how long, and how it ended."""

    span_id: str
    parent_id: str | None
    service: str
    name: str
    start: datetime
    duration_ms: float
    status: Literal["ok", "error", "unset"]
    attributes: dict[str, str | int | float | bool]


class TraceBody(msgspec.Struct, frozen=True):
    """The trace of a store's latest provisioning, its spans oldest first (empty while the trace backend has
    none: a trace arrives within seconds, and is kept only for a while); earlier attempts' trace ids beside it."""

    trace_id: str
    spans: list[SpanBody]
    earlier_trace_ids: list[str]

    @classmethod
    def of(cls, trace: StoreTrace) -> TraceBody:
        spans = [
            SpanBody(
                span_id=s.span_id,
                parent_id=s.parent_id,
                service=s.service,
                name=s.name,
                start=s.start,
                duration_ms=s.duration_ms,
                status=cast(Literal["ok", "error", "unset"], s.status),
                attributes=s.attributes,
            )
            for s in trace.spans
        ]
        return cls(trace_id=trace.trace_id, spans=spans, earlier_trace_ids=trace.earlier_trace_ids)
