"""Stores: order one, list them, read one and its timeline, delete one.

Writes are events: a create or delete is answered 202 only after JetStream acknowledged the
event, with the stream sequence in `X-Stream-Sequence`. Reads are queries to the status
service; a client that sends that sequence back as `X-Min-Sequence` reads its own writes.
Another user's store and a missing one get the same 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, cast, get_args

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.middleware import DefineMiddleware
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.security.jwt import Token

from storeplane_contracts import naming
from storeplane_contracts.events import Engine, StoreDeletionRequested, StoreRequested, new_id
from storeplane_contracts.queries import StoreView
from storeplane_gateway.bodies import CreateStoreBody, CredentialsBody, EventListBody, StoreBody, StoreListBody
from storeplane_gateway.errors import ApiError, documented
from storeplane_gateway.ports import Bus, StatusQueries, StoreSecrets, User
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.telemetry import current_trace_id

KNOWN_ENGINES: tuple[str, ...] = get_args(Engine)
GONE_OR_GOING = frozenset({"deleting", "deleted"})

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
]
_READ_ERRORS = {
    400: "`invalid_request`: a malformed `X-Min-Sequence`",
    401: "`not_authenticated`",
    404: "`store_not_found`",
    503: "`status_unavailable` or `bus_unavailable`; retry after `Retry-After` seconds",
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


async def _owned_store(
    status_queries: StatusQueries, bus: Bus, raw_id: str, user: User, min_sequence: int
) -> StoreView:
    store_id = _parsed_store_id(raw_id)
    store = await status_queries.get_store(store_id, user.id, min_sequence=min_sequence)
    if store is None:
        # Perhaps accepted a moment ago and not projected yet: ask again once the read model has
        # caught up with everything on the stream, so nobody sees a 404 for a store they just made.
        newest = await bus.last_sequence()
        if newest > min_sequence:
            store = await status_queries.get_store(store_id, user.id, min_sequence=newest)
    if store is None or store.owner_id != user.id:
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
    responses=documented(
        {
            400: "`invalid_body`: not a JSON object with exactly `name` and `engine` as strings",
            401: "`not_authenticated`",
            409: "`name_taken`",
            422: "`invalid_name` or `unsupported_engine`",
            503: "`bus_unavailable` or `status_unavailable`; retry after `Retry-After` seconds",
        }
    ),
)
async def create_store(
    request: Request[User, Token, Any],
    data: JSONBody[CreateStoreBody],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    settings: NamedDependency[GatewaySettings],
) -> Response[StoreBody]:
    name = checked_name(data.name)
    engine = checked_engine(data.engine, settings.installable_engines)
    if await status_queries.find_live_store_by_name(name) is not None:
        raise ApiError(409, "name_taken", f"a store named {name!r} already exists; choose another name")
    store_id = new_id()
    event = StoreRequested(
        store_id=store_id,
        owner_id=request.user.id,
        name=name,
        engine=engine,
        namespace=naming.namespace_for(name, store_id),
        trace_id=current_trace_id(),
    )
    sequence = await bus.publish(event)
    headers = {"Location": f"/api/v1/stores/{store_id}", **_write_headers(sequence)}
    return Response(StoreBody.from_request(event), status_code=202, headers=headers)


@get("/", summary="List your stores", responses=documented({401: "`not_authenticated`", 503: _READ_ERRORS[503]}))
async def list_stores(
    request: Request[User, Token, Any], status_queries: NamedDependency[StatusQueries]
) -> StoreListBody:
    stores = await status_queries.list_stores(request.user.id)
    return StoreListBody(stores=[StoreBody.from_view(store) for store in stores if store.owner_id == request.user.id])


@get("/{store_id:str}", summary="Read a store", responses=documented(_READ_ERRORS))
async def get_store(
    request: Request[User, Token, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    min_sequence: MinSequence = 0,
) -> StoreBody:
    return StoreBody.from_view(await _owned_store(status_queries, bus, store_id, request.user, min_sequence))


@get("/{store_id:str}/events", summary="A store's timeline, oldest first", responses=documented(_READ_ERRORS))
async def store_events(
    request: Request[User, Token, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    min_sequence: MinSequence = 0,
) -> EventListBody:
    parsed = _parsed_store_id(store_id)
    events = await status_queries.store_events(parsed, request.user.id, min_sequence=min_sequence)
    if events is None and (newest := await bus.last_sequence()) > min_sequence:
        events = await status_queries.store_events(parsed, request.user.id, min_sequence=newest)  # as in _owned_store
    if events is None:
        raise _store_not_found(store_id)
    return EventListBody(events=sorted(events, key=lambda entry: entry.sequence))


@delete(
    "/{store_id:str}",
    status_code=202,
    summary="Delete a store",
    response_headers=_WRITE_HEADERS,
    responses=documented({**_READ_ERRORS, 409: "`already_deleting`"}),
)
async def delete_store(
    request: Request[User, Token, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    bus: NamedDependency[Bus],
    min_sequence: MinSequence = 0,
) -> Response[StoreBody]:
    store = await _owned_store(status_queries, bus, store_id, request.user, min_sequence)
    if store.status in GONE_OR_GOING:
        raise ApiError(409, "already_deleting", f"store {store.name!r} is already {store.status}")
    event = StoreDeletionRequested(
        store_id=store.id, owner_id=request.user.id, namespace=store.namespace, trace_id=current_trace_id()
    )
    sequence = await bus.publish(event)
    return Response(StoreBody.from_view(store, status="deleting"), status_code=202, headers=_write_headers(sequence))


@get(
    "/{store_id:str}/credentials",
    summary="Your store's admin login, shown once",
    description="The password is generated for the store and can be read exactly once; keep it safe.",
    response_headers=[_documented_header("Cache-Control", "no-store")],
    responses=documented(
        {
            **_READ_ERRORS,
            409: "`store_not_ready`: credentials exist once the store is ready",
            410: "`credentials_already_revealed`",
        }
    ),
)
async def store_credentials(
    request: Request[User, Token, Any],
    store_id: FromPath[str],
    status_queries: NamedDependency[StatusQueries],
    store_secrets: NamedDependency[StoreSecrets],
    bus: NamedDependency[Bus],
) -> Response[CredentialsBody]:
    store = await _owned_store(status_queries, bus, store_id, request.user, 0)
    if store.status != "ready":
        raise ApiError(409, "store_not_ready", f"store {store.name!r} is {store.status}; credentials come when ready")
    reply = await store_secrets.reveal_credentials(store.id, request.user.id, store.namespace)
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


def stores_router(authentication: DefineMiddleware, security_scheme: str) -> Router:
    """Every route here needs a bearer token; `authentication` is Litestar's JWT middleware."""
    return Router(
        path="/api/v1/stores",
        route_handlers=[create_store, list_stores, get_store, store_events, delete_store, store_credentials],
        middleware=[authentication],
        security=[{security_scheme: []}],
        tags=["stores"],
    )
