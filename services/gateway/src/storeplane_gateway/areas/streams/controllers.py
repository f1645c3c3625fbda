"""The stream routes: one store's timeline and every store of the caller, as server-sent events
(Litestar's `ServerSentEvent`), and the tickets that let a browser's `EventSource` open them.

Each message is `id:` the event's JetStream sequence, `event:` its type and `data:` the timeline
entry's JSON plus `store_id`. The first message says `retry:` (how soon to reconnect); a comment
every `stream_keepalive_seconds` keeps idle connections open; a stream that the gateway ends (it
shuts down, the client is too slow, or it was idle too long) says why in a last comment. A client
resumes with `Last-Event-ID` (or `?last_event_id=`). Refusals happen before the stream starts, as
the usual JSON errors. docs/streams.md is the integrator's guide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.types import Middleware

from storeplane_gateway.areas.stores.services import StorePolicy, StoreService
from storeplane_gateway.areas.streams.guards import all_only_for_admins, reads_stores
from storeplane_gateway.areas.streams.schemas import StreamTicketBody
from storeplane_gateway.areas.streams.services import Closing, Keepalive, OpenStreams, Stream, StreamService
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.http.app_state import adapters_of
from storeplane_gateway.http.authentication import caller
from storeplane_gateway.http.errors import documented
from storeplane_gateway.http.stream_tickets import TICKET_AUTH
from storeplane_gateway.settings import GatewaySettings

OPEN_STREAMS = "open_streams"

LastEventIdHeader = Annotated[
    int | None,
    HeaderParameter(
        name="Last-Event-ID", ge=0, required=False, description="Resume after this event id (set by `EventSource`)."
    ),
]
LastEventIdQuery = Annotated[
    int | None,
    QueryParameter(
        name="last_event_id", ge=0, required=False, description="Resume after this id, for clients without headers."
    ),
]
Ticket = Annotated[
    str | None,
    QueryParameter(
        name="ticket",
        required=False,
        description="A single-use ticket from POST /api/v1/stream-tickets, instead of the Authorization header.",
    ),
]
AllOwners = Annotated[bool, QueryParameter(name="all", description="Admins only: every user's stores.", required=False)]

_STREAM_ERRORS = {
    400: "`invalid_request`: a malformed `Last-Event-ID` or `last_event_id`",
    401: "`not_authenticated`, or `invalid_stream_ticket` (unknown, expired or used)",
    403: "`insufficient_scope` (an API token without `stores:read`) or `admin_only` (for `all`)",
    429: "`too_many_streams`: you (or this gateway) have as many streams open as allowed",
    503: "`bus_unavailable` or `status_unavailable`; retry after `Retry-After` seconds",
}
_STREAM_DESCRIPTION = (
    "Server-sent events (`text/event-stream`): `id:` the event's stream sequence, `event:` its type, "
    "`data:` the timeline entry's JSON plus `store_id`. Resume with `Last-Event-ID`. See docs/streams.md."
)
_encoder = msgspec.json.Encoder()


def open_streams_of(state: State) -> OpenStreams:
    streams: OpenStreams = state[OPEN_STREAMS]
    return streams


def provide_stream_service(state: State, settings: NamedDependency[GatewaySettings]) -> StreamService:
    adapters = adapters_of(state)
    return StreamService(
        streams=open_streams_of(state),
        feed=adapters.events,
        tickets=adapters.stream_tickets,
        store_service=StoreService.over(adapters, StorePolicy.of(settings)),
    )


def resumed_after(header: int | None, query: int | None) -> int | None:
    """Where the client resumes: after its `Last-Event-ID` header, else the query's; None if it gave neither."""
    return header if header is not None else query


async def messages(stream: Stream, retry_ms: int) -> AsyncIterator[ServerSentEventMessage]:
    """The stream's items as server-sent messages, after one that tells clients when to reconnect."""
    yield ServerSentEventMessage(data=None, retry=retry_ms, comment="stream open")
    async for item in stream.items():
        if isinstance(item, Keepalive):
            yield ServerSentEventMessage(data=None, comment="keep-alive")
        elif isinstance(item, Closing):
            yield ServerSentEventMessage(data=None, comment=f"closing: {item.reason}; reconnect with Last-Event-ID")
        else:
            data = _encoder.encode(item.entry()).decode()
            yield ServerSentEventMessage(data=data, event=item.type, id=item.sequence)


def _event_stream(stream: Stream, state: State) -> ServerSentEvent:
    return ServerSentEvent(
        messages(stream, open_streams_of(state).policy.retry_ms), headers={"Cache-Control": "no-store"}
    )


@get(
    "/stores/{store_id:str}/events/stream",
    summary="Follow a store's timeline (server-sent events)",
    description=f"From the beginning (or after `Last-Event-ID`), then live; ends after `StoreDeleted`. "
    f"{_STREAM_DESCRIPTION}",
    guards=[reads_stores],
    opt={TICKET_AUTH: True},
    media_type="text/event-stream",
    responses=documented({**_STREAM_ERRORS, 404: "`store_not_found` (also for another user's store)"}),
)
async def store_event_stream(
    request: Request[Principal, Any, Any],
    state: State,
    store_id: FromPath[str],
    stream_service: NamedDependency[StreamService],
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: LastEventIdQuery = None,
    ticket: Ticket = None,  # documented here; taken out of the URL and checked by the authentication
) -> ServerSentEvent:
    after = resumed_after(last_event_id, last_event_id_query)
    stream = await stream_service.store_stream(caller(request), store_id, after=after or 0)
    return _event_stream(stream, state)


@get(
    "/events/stream",
    summary="Follow every store of yours (server-sent events)",
    description=f"Live from now (or after `Last-Event-ID`), stores made later included; never ends by itself. "
    f"{_STREAM_DESCRIPTION}",
    guards=[reads_stores, all_only_for_admins],
    opt={TICKET_AUTH: True},
    media_type="text/event-stream",
    responses=documented(_STREAM_ERRORS),
)
async def all_event_stream(
    request: Request[Principal, Any, Any],
    state: State,
    stream_service: NamedDependency[StreamService],
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: LastEventIdQuery = None,
    all_owners: AllOwners = False,
    ticket: Ticket = None,  # documented here; taken out of the URL and checked by the authentication
) -> ServerSentEvent:
    after = resumed_after(last_event_id, last_event_id_query)
    stream = await stream_service.all_stores_stream(caller(request), after=after, all_owners=all_owners)
    return _event_stream(stream, state)


@post(
    "/stream-tickets",
    status_code=201,
    summary="A single-use ticket to open a stream from a browser",
    description="`EventSource` cannot send headers: pass the ticket as `?ticket=` within `expires_in` seconds.",
    guards=[reads_stores],
    responses=documented({401: "`not_authenticated`", 403: "`insufficient_scope`", 503: "`database_unavailable`"}),
)
async def create_stream_ticket(
    request: Request[Principal, Any, Any], stream_service: NamedDependency[StreamService]
) -> StreamTicketBody:
    ticket, ttl = await stream_service.issue_ticket(caller(request))
    return StreamTicketBody(ticket=ticket, expires_in=ttl)


def streams_router(middleware: list[Middleware], security_scheme: str) -> Router:
    """The stream routes and the ticket route, behind the authentication."""
    return Router(
        path="/api/v1",
        route_handlers=[store_event_stream, all_event_stream, create_stream_ticket],
        middleware=middleware,
        dependencies={"stream_service": Provide(provide_stream_service, sync_to_thread=False)},
        security=[{security_scheme: []}],
        tags=["streams"],
    )
