"""Stores: order one, list them, read one and its timeline, delete one.

Writes are events: a create or delete is answered 202 only after JetStream acknowledged the
event, with the stream sequence in `X-Stream-Sequence`. Reads are queries to the status
service; a client that sends that sequence back as `X-Min-Sequence` reads its own writes.
Another user's store and a missing one get the same 404; only an admin's session reads and acts
on every store. Each route names the scope an API token needs. A create first reserves a slot of
the owner's quota: confirmed once JetStream acknowledged the request, released at once if it
certainly did not (`quotas.py`). A store being provisioned cannot be deleted yet (409
`store_busy`). The commands (create, delete, retry) take an `Idempotency-Key`, acted on by
`idempotent_commands.py` before they run.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, cast, get_args

import structlog
from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.types import Middleware

from storeplane_contracts import naming
from storeplane_contracts.events import Engine, StoreDeletionRequested, StoreRequested, StoreRetryRequested, new_id
from storeplane_contracts.queries import StoreView
from storeplane_gateway.auditing import AUDIT, note
from storeplane_gateway.auth import caller, require_scope
from storeplane_gateway.bodies import CreateStoreBody, CredentialsBody, EventListBody, StoreBody, StoreListBody
from storeplane_gateway.errors import ApiError, documented
from storeplane_gateway.idempotent_commands import IDEMPOTENT, IdempotencyKeyHeader
from storeplane_gateway.limits import RATE_LIMIT, STORE_CREATES
from storeplane_gateway.links import links_from
from storeplane_gateway.ports import (
    STORES_CREDENTIALS,
    STORES_READ,
    STORES_WRITE,
    Bus,
    DependencyUnavailable,
    Principal,
    PublishUnconfirmed,
    StatusQueries,
    StoreSecrets,
    StoreSlot,
    StoreSlots,
    Users,
)
from storeplane_gateway.quotas import name_taken, reserve_slot, store_limit
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.telemetry import current_trace_id

log = structlog.get_logger(__name__)

KNOWN_ENGINES: tuple[str, ...] = get_args(Engine)
GONE_OR_GOING = frozenset({"deleting", "deleted"})
# Provisioning is under way: deleting now would race it (a namespace made after the deletion ran).
BEING_PROVISIONED = frozenset({"requested", "provisioning"})

MinSequence = Annotated[
    int,
    HeaderParameter(
        name="X-Min-Sequence",
        ge=0,
        required=False,
        description="Read your writes: the `X-Stream-Sequence` of an earlier create or delete.",
    ),
]


def _documented_header(name: str, description: str) -> ResponseHeader:
    return ResponseHeader(name=name, documentation_only=True, description=description)


_WRITE_HEADERS = [
    _documented_header("X-Stream-Sequence", "JetStream sequence of the accepted event; send it back as X-Min-Sequence"),
    _documented_header("X-Trace-Id", "OpenTelemetry trace id of this request"),
    _documented_header("Idempotent-Replayed", "`true` on the stored answer to a repeated `Idempotency-Key`"),
]
_READ_ERRORS = {
    400: "`invalid_request`: a malformed `X-Min-Sequence`",
    401: "`not_authenticated`",
    403: "`insufficient_scope`: an API token without this route's scope",
    404: "`store_not_found`",
    503: "`status_unavailable` or `bus_unavailable`; retry after `Retry-After` seconds",
}
_KEY_ERRORS = (
    "`idempotency_key_reused` (the key was used for another request: use a new one) or "
    "`idempotency_key_in_use` (its request is still running: retry after `Retry-After` seconds)"
)
_COMMAND_ERRORS = {
    **_READ_ERRORS,
    400: "`invalid_request`: a malformed `X-Min-Sequence`; `invalid_idempotency_key`",
    503: "`status_unavailable`, `bus_unavailable` or `database_unavailable`; retry after `Retry-After` seconds",
}


def checked_engine(engine: str, installable: Sequence[str]) -> Engine:
    if engine in installable:
        return cast(Engine, engine)
    supported = ", ".join(installable) or "none"
    if engine in KNOWN_ENGINES:
        message = f"engine {engine!r} is known but not installable yet; supported engines: {supported}"
    else:
        message = f"unknown engine {engine!r}; supported engines: {supported}"
    raise ApiError(422, "unsupported_engine", message)


def checked_name(raw: str) -> str:
    try:
        return naming.validate_name(raw)
    except naming.InvalidStoreName as exc:
        raise ApiError(422, "invalid_name", str(exc)) from None


def _store_not_found(raw_id: str) -> ApiError:
    return ApiError(404, "store_not_found", f"you have no store with id {raw_id!r}; GET /api/v1/stores lists yours")


def _parsed_store_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise _store_not_found(raw) from None


async def _reached(bus: Bus, min_sequence: int) -> int:
    """`min_sequence`, but no further than the stream: a sequence from the future names no write of the
    client's, and would only keep the status service waiting for it until the query times out."""
    return min(min_sequence, await bus.last_sequence()) if min_sequence > 0 else 0


async def _owned_store(
    status_queries: StatusQueries, bus: Bus, raw_id: str, user: Principal, min_sequence: int, *, any_owner: bool
) -> StoreView:
    """The caller's store (any user's with `any_owner`, which only admins get), or the same 404 for both."""
    store_id = _parsed_store_id(raw_id)
    min_sequence = await _reached(bus, min_sequence)
    store = await status_queries.get_store(store_id, user.id, min_sequence=min_sequence, any_owner=any_owner)
    if store is None:
        # Perhaps accepted a moment ago and not projected yet: ask again once the read model has
        # caught up with everything on the stream, so nobody sees a 404 for a store they just made.
        newest = await bus.last_sequence()
        if newest > min_sequence:
            store = await status_queries.get_store(store_id, user.id, min_sequence=newest, any_owner=any_owner)
    if store is None or (store.owner_id != user.id and not any_owner):
        raise _store_not_found(raw_id)
    return store


def _write_headers(sequence: int) -> dict[str, str]:
    return {"X-Stream-Sequence": str(sequence), "X-Trace-Id": current_trace_id()}


@post(
    "/",
    status_code=202,
    summary="Order a store",
    description="Accepted once the request is durably on the bus; provisioning continues in the background.",
    response_headers=[_documented_header("Location", "The new store"), *_WRITE_HEADERS],
    operation_class=links_from(
        202,
        {
            "GetStore": ("/api/v1/stores/{store_id}", "GET", {"path.store_id": "$response.body#/id"}),
            "GetStoreEvents": ("/api/v1/stores/{store_id}/events", "GET", {"path.store_id": "$response.body#/id"}),
            "DeleteStore": ("/api/v1/stores/{store_id}", "DELETE", {"path.store_id": "$response.body#/id"}),
        },
    ),
    guards=[require_scope(STORES_WRITE)],
    opt={AUDIT: "create_store", RATE_LIMIT: STORE_CREATES, IDEMPOTENT: True},
    responses=documented(
        {
            400: "`invalid_body`: not a JSON object with exactly `name` and `engine` as strings; "
            "`invalid_idempotency_key`",
            401: "`not_authenticated`",
            403: "`store_quota_exceeded` (the message says the limit and how many are in use) or `insufficient_scope`",
            409: f"`name_taken`, {_KEY_ERRORS}",
            422: "`invalid_name` or `unsupported_engine`",
            429: "`too_many_requests`; retry after `Retry-After` seconds",
            503: "`bus_unavailable`, `status_unavailable` or `database_unavailable`; retry after `Retry-After` seconds",
        }
    ),
)
async def create_store(
    request: Request[Principal, Any, Any],
    data: JSONBody[CreateStoreBody],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    settings: NamedDependency[GatewaySettings],
    users: NamedDependency[Users],
    slots: NamedDependency[StoreSlots],
    idempotency_key: IdempotencyKeyHeader = None,  # documented and checked here, acted on by the middleware
) -> Response[StoreBody]:
    owner = caller(request)
    name = checked_name(data.name)
    engine = checked_engine(data.engine, settings.installable_engines)
    if await status_queries.find_live_store_by_name(name) is not None:
        raise name_taken(name)  # a store from before the slot table, or one the slots do not know
    store_id = new_id()
    note(request, target=store_id)
    limit = await store_limit(users, owner.id, settings.max_stores_per_user)
    slot = StoreSlot(store_id=store_id, owner_id=owner.id, name=name)
    await reserve_slot(
        slot, limit=limit, slots=slots, status=status_queries, bus=bus, lease=settings.slot_lease_seconds
    )
    event = StoreRequested(
        store_id=store_id,
        owner_id=owner.id,
        name=name,
        engine=engine,
        namespace=naming.namespace_for(name, store_id),
        trace_id=current_trace_id(),
    )
    try:
        sequence = await bus.publish(event)
    except PublishUnconfirmed:
        # The request may be on the stream: the reservation stays until its lease is over, then the
        # stream decides (quotas.settle_reservations), so a store never exists without its slot.
        raise
    except DependencyUnavailable:
        await slots.release(store_id)  # certainly not accepted: the quota and the name are free again
        raise
    await _confirm(slots, store_id)
    headers = {"Location": f"/api/v1/stores/{store_id}", **_write_headers(sequence)}
    return Response(StoreBody.from_request(event), status_code=202, headers=headers)


async def _confirm(slots: StoreSlots, store_id: str) -> None:
    """The store is accepted whatever happens here; an unconfirmed slot is confirmed later by its lease."""
    try:
        confirmed = await slots.confirm(store_id)
    except DependencyUnavailable as exc:
        log.warning("slots.confirm_failed", store_id=store_id, error=str(exc))
        return
    if not confirmed:  # settled as abandoned meanwhile: the publish took longer than the lease
        log.error("slots.confirmed_too_late", store_id=store_id)


AllOwners = Annotated[
    bool, QueryParameter(name="all", description="Admins only: every user's stores, each with its `owner_id`.")
]


@get(
    "/",
    summary="List your stores",
    guards=[require_scope(STORES_READ)],
    responses=documented(
        {
            400: "`invalid_request`: `all` is not `true` or `false`",
            401: "`not_authenticated`",
            403: "`admin_only` (for `all`) or `insufficient_scope`",
            503: _READ_ERRORS[503],
        }
    ),
)
async def list_stores(
    request: Request[Principal, Any, Any], status_queries: NamedDependency[StatusQueries], all_owners: AllOwners = False
) -> StoreListBody:
    user = caller(request)
    if all_owners and not user.is_admin:
        raise ApiError(403, "admin_only", "only an admin's session may list every user's stores")
    stores = await status_queries.list_stores(user.id, all_owners=all_owners)
    return StoreListBody(
        stores=[
            StoreBody.from_view(store, with_owner=all_owners)
            for store in stores
            if all_owners or store.owner_id == user.id
        ]
    )


@get("/{store_id:str}", summary="Read a store", guards=[require_scope(STORES_READ)], responses=documented(_READ_ERRORS))
async def get_store(
    request: Request[Principal, Any, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    min_sequence: MinSequence = 0,
) -> StoreBody:
    user = caller(request)
    store = await _owned_store(status_queries, bus, store_id, user, min_sequence, any_owner=user.is_admin)
    return StoreBody.from_view(store)


@get(
    "/{store_id:str}/events",
    summary="A store's timeline, oldest first",
    guards=[require_scope(STORES_READ)],
    responses=documented(_READ_ERRORS),
)
async def store_events(
    request: Request[Principal, Any, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    min_sequence: MinSequence = 0,
) -> EventListBody:
    user = caller(request)
    parsed = _parsed_store_id(store_id)
    min_sequence = await _reached(bus, min_sequence)
    any_owner = user.is_admin
    events = await status_queries.store_events(parsed, user.id, min_sequence=min_sequence, any_owner=any_owner)
    if events is None and (newest := await bus.last_sequence()) > min_sequence:  # as in _owned_store
        events = await status_queries.store_events(parsed, user.id, min_sequence=newest, any_owner=any_owner)
    if events is None:
        raise _store_not_found(store_id)
    return EventListBody(events=sorted(events, key=lambda entry: entry.sequence))


@delete(
    "/{store_id:str}",
    status_code=202,
    summary="Delete a store",
    response_headers=_WRITE_HEADERS,
    guards=[require_scope(STORES_WRITE)],
    opt={AUDIT: "delete_store", IDEMPOTENT: True},
    responses=documented(
        {
            **_COMMAND_ERRORS,
            409: "`store_busy` (it is being provisioned: delete it once it is ready or failed), `already_deleting` "
            f"(unless the deletion failed: then it runs again), {_KEY_ERRORS}",
        }
    ),
)
async def delete_store(
    request: Request[Principal, Any, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    min_sequence: MinSequence = 0,
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> Response[StoreBody]:
    user = caller(request)
    store = await _owned_store(status_queries, bus, store_id, user, min_sequence, any_owner=user.is_admin)
    if store.status in BEING_PROVISIONED:
        raise ApiError(
            409,
            "store_busy",
            f"store {store.name!r} is being provisioned ({store.status}); delete it once it is ready or failed "
            "(provisioning that runs past its deadline fails by itself)",
        )
    # A deletion that gave up (its error says what blocked it) may be asked for again, once that is fixed.
    if store.status in GONE_OR_GOING and not (store.status == "deleting" and store.error is not None):
        raise ApiError(409, "already_deleting", f"store {store.name!r} is already {store.status}")
    event = StoreDeletionRequested(
        store_id=store.id, owner_id=store.owner_id, namespace=store.namespace, trace_id=current_trace_id()
    )
    sequence = await bus.publish(event)
    return Response(StoreBody.from_view(store, status="deleting"), status_code=202, headers=_write_headers(sequence))


@post(
    "/{store_id:str}/retry",
    status_code=202,
    summary="Provision a failed store again",
    description="Steps that were done are kept; the failed one and those after it run again.",
    response_headers=_WRITE_HEADERS,
    guards=[require_scope(STORES_WRITE)],
    opt={AUDIT: "retry_store", IDEMPOTENT: True},
    responses=documented({**_COMMAND_ERRORS, 409: f"`not_failed`: only a failed store can be retried; {_KEY_ERRORS}"}),
)
async def retry_store(
    request: Request[Principal, Any, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    min_sequence: MinSequence = 0,
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> Response[StoreBody]:
    user = caller(request)
    store = await _owned_store(status_queries, bus, store_id, user, min_sequence, any_owner=user.is_admin)
    if store.status != "failed":
        raise ApiError(409, "not_failed", f"store {store.name!r} is {store.status}; only a failed store is retried")
    event = StoreRetryRequested(
        store_id=store.id,
        owner_id=store.owner_id,
        name=store.name,
        engine=cast(Engine, store.engine),
        namespace=store.namespace,
        failed_step=store.error.step if store.error else "",
        trace_id=current_trace_id(),
    )
    sequence = await bus.publish(event)
    body = StoreBody.from_view(store, status="provisioning")
    return Response(body, status_code=202, headers=_write_headers(sequence))


@get(
    "/{store_id:str}/credentials",
    summary="Your store's admin login, shown once",
    description="The password is generated for the store and can be read exactly once; keep it safe.",
    response_headers=[_documented_header("Cache-Control", "no-store")],
    guards=[require_scope(STORES_CREDENTIALS)],
    opt={AUDIT: "read_credentials"},
    responses=documented(
        {
            **_READ_ERRORS,
            409: "`store_not_ready`: credentials exist once the store is ready",
            410: "`credentials_already_revealed`",
            503: "`provisioner_unavailable` (nothing was revealed: try again) or `status_unavailable`",
        }
    ),
)
async def store_credentials(
    request: Request[Principal, Any, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    store_secrets: NamedDependency[StoreSecrets],
    bus: NamedDependency[Bus],
) -> Response[CredentialsBody]:
    # Owners only, admins included: revealing is once, so nobody else may spend the owner's one read.
    store = await _owned_store(status_queries, bus, store_id, caller(request), 0, any_owner=False)
    if store.status != "ready":
        raise ApiError(409, "store_not_ready", f"store {store.name!r} is {store.status}; credentials come when ready")
    reply = await store_secrets.reveal_credentials(store.id, store.owner_id, store.namespace)
    if reply.refused == "already_revealed":
        raise ApiError(
            410,
            "credentials_already_revealed",
            "this store's credentials were already shown once; reset the admin password in the store itself",
        )
    if reply.credentials is None:
        raise _store_not_found(store_id)
    body = CredentialsBody(
        username=reply.credentials.username,
        password=reply.credentials.password,
        email=reply.credentials.email,
        admin_url=store.urls.get("admin"),
    )
    return Response(body, headers={"Cache-Control": "no-store"})


def stores_router(middleware: Sequence[Middleware], security_scheme: str) -> Router:
    """Every route here needs a bearer token: `middleware` is the authentication, the rate limits, then
    the idempotent commands."""
    return Router(
        path="/api/v1/stores",
        route_handlers=[
            create_store,
            list_stores,
            get_store,
            store_events,
            delete_store,
            retry_store,
            store_credentials,
        ],
        middleware=list(middleware),
        security=[{security_scheme: []}],
        tags=["stores"],
    )
