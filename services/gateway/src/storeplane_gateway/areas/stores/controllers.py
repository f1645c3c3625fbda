"""The store routes: order one, list them, read one and its timeline, delete or retry one, reveal its credentials.

Writes are answered 202 only after JetStream acknowledged the event, with the stream sequence in
`X-Stream-Sequence`; a client that sends it back as `X-Min-Sequence` reads its own writes. Each
route names the scope an API token needs. The commands (create, delete, retry) take an
`Idempotency-Key`, acted on by `http/idempotency.py` before they run. The rules are the store
service's (`services.py`); a refusal is a domain error, answered as `http/error_answers.py` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import ResponseHeader, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.types import Middleware

from storeplane_gateway.areas.accounts.guards import require_scope
from storeplane_gateway.areas.stores.schemas import (
    CreateStoreBody,
    CredentialsBody,
    EventListBody,
    StoreBody,
    StoreListBody,
    TraceBody,
)
from storeplane_gateway.areas.stores.services import StorePolicy, StoreService
from storeplane_gateway.domain.pages import DEFAULT_PAGE
from storeplane_gateway.domain.principals import STORES_CREDENTIALS, STORES_READ, STORES_WRITE, Principal
from storeplane_gateway.http.app_state import adapters_of
from storeplane_gateway.http.audit_hook import AUDIT, notes_for
from storeplane_gateway.http.authentication import caller
from storeplane_gateway.http.errors import documented
from storeplane_gateway.http.idempotency import IDEMPOTENT, IdempotencyKeyHeader
from storeplane_gateway.http.openapi_links import links_from
from storeplane_gateway.http.pagination import LINK_HEADER, PageCursor, PageLimit, next_url, paged
from storeplane_gateway.http.rate_limits import RATE_LIMIT, STORE_CREATES
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.telemetry import current_trace_id

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


def _write_headers(sequence: int) -> dict[str, str]:
    return {"X-Stream-Sequence": str(sequence), "X-Trace-Id": current_trace_id()}


def provide_store_service(state: State, settings: NamedDependency[GatewaySettings]) -> StoreService:
    return StoreService.over(adapters_of(state), StorePolicy.of(settings))


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
    store_service: NamedDependency[StoreService],
    idempotency_key: IdempotencyKeyHeader = None,  # documented and checked here, acted on by the middleware
) -> Response[StoreBody]:
    owner = caller(request)
    event, sequence = await store_service.order_store(owner, data.name, data.engine, notes=notes_for(request))
    headers = {"Location": f"/api/v1/stores/{event.store_id}", **_write_headers(sequence)}
    return Response(StoreBody.from_request(event), status_code=202, headers=headers)


AllOwners = Annotated[
    bool, QueryParameter(name="all", description="Admins only: every user's stores, each with its `owner_id`.")
]


@get(
    "/",
    summary="List your stores, newest first, a page at a time",
    description="Follow `next` (or the `Link` header) for the next page; a store ordered meanwhile is on "
    "the first page, never repeated on a later one.",
    response_headers=[LINK_HEADER],
    guards=[require_scope(STORES_READ)],
    responses=documented(
        {
            400: "`invalid_request`: `all` is not `true` or `false`, or `limit` is not 1 to 200; "
            "`invalid_cursor`: start again without `cursor`",
            401: "`not_authenticated`",
            403: "`admin_only` (for `all`) or `insufficient_scope`",
            503: _READ_ERRORS[503],
        }
    ),
)
async def list_stores(
    request: Request[Principal, Any, Any],
    store_service: NamedDependency[StoreService],
    all_owners: AllOwners = False,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> Response[StoreListBody]:
    page = await store_service.stores(caller(request), all_owners=all_owners, limit=limit, cursor=cursor)
    link = next_url(request, page.next_cursor)
    stores = [StoreBody.from_view(store, with_owner=all_owners) for store in page.items]
    return paged(StoreListBody(stores=stores, next=link), link)


@get("/{store_id:str}", summary="Read a store", guards=[require_scope(STORES_READ)], responses=documented(_READ_ERRORS))
async def get_store(
    request: Request[Principal, Any, Any],
    store_id: FromPath[str],
    store_service: NamedDependency[StoreService],
    min_sequence: MinSequence = 0,
) -> StoreBody:
    return StoreBody.from_view(await store_service.store(caller(request), store_id, min_sequence=min_sequence))


@get(
    "/{store_id:str}/events",
    summary="A store's timeline, oldest first, a page at a time",
    description="Follow `next` (or the `Link` header) for the next page.",
    response_headers=[LINK_HEADER],
    guards=[require_scope(STORES_READ)],
    responses=documented(
        {
            **_READ_ERRORS,
            400: "`invalid_request`: a malformed `X-Min-Sequence`, or `limit` is not 1 to 200; "
            "`invalid_cursor`: start again without `cursor`",
        }
    ),
)
async def store_events(
    request: Request[Principal, Any, Any],
    store_id: FromPath[str],
    store_service: NamedDependency[StoreService],
    min_sequence: MinSequence = 0,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: PageCursor = None,
) -> Response[EventListBody]:
    page = await store_service.timeline_page(
        caller(request), store_id, min_sequence=min_sequence, limit=limit, cursor=cursor
    )
    link = next_url(request, page.next_cursor)
    return paged(EventListBody(events=page.items, next=link), link)


@get(
    "/{store_id:str}/trace",
    summary="A store's provisioning trace",
    description="Every span of the trace of the store's latest provisioning, from the gateway, the provisioner, "
    "the status service and the notifier: the request, the publish, each step, the Helm call, the readiness "
    "wait, the projection and each webhook delivery. For the store's owner and admins.",
    guards=[require_scope(STORES_READ)],
    responses=documented(
        {**_READ_ERRORS, 503: "`traces_unavailable` or `status_unavailable`; retry after `Retry-After` seconds"}
    ),
)
async def store_trace(
    request: Request[Principal, Any, Any], store_id: FromPath[str], store_service: NamedDependency[StoreService]
) -> TraceBody:
    return TraceBody.of(await store_service.trace(caller(request), store_id))


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
    store_service: NamedDependency[StoreService],
    min_sequence: MinSequence = 0,
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> Response[StoreBody]:
    store, sequence = await store_service.delete_store(caller(request), store_id, min_sequence=min_sequence)
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
    store_service: NamedDependency[StoreService],
    min_sequence: MinSequence = 0,
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> Response[StoreBody]:
    store, sequence = await store_service.retry_store(caller(request), store_id, min_sequence=min_sequence)
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
    request: Request[Principal, Any, Any], store_id: FromPath[str], store_service: NamedDependency[StoreService]
) -> Response[CredentialsBody]:
    store, credentials = await store_service.credentials(caller(request), store_id)
    body = CredentialsBody(
        username=credentials.username,
        password=credentials.password,
        email=credentials.email,
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
            store_trace,
            delete_store,
            retry_store,
            store_credentials,
        ],
        middleware=list(middleware),
        dependencies={"store_service": Provide(provide_store_service, sync_to_thread=False)},
        security=[{security_scheme: []}],
        tags=["stores"],
    )
