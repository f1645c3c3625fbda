"""The rules of the event streams without a network: stored then live events merged with no gap and no
duplicate, the end after `StoreDeleted`, keep-alives and the idle cap, the caps per user and per
process, shutdown; tickets taken out of the URL; the stream routes' refusals before a stream starts.

The streams themselves, over real HTTP, are tests/integration/gateway/test_gateway_streams_served.py.
Here `ScriptedFeed` is a feed whose stored and live events each test sets (pure logic only).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.areas.streams.services import (
    IDLE,
    SHUTTING_DOWN,
    Closing,
    Keepalive,
    OpenStreams,
    Stream,
    StreamItem,
    StreamPolicy,
)
from storeplane_gateway.domain.errors import TooManyStreams
from storeplane_gateway.domain.principals import SCOPES, STORES_READ, Principal
from storeplane_gateway.domain.streams import Selector, SequencedEvent, StreamEnded
from storeplane_gateway.http.stream_tickets import TICKET_SCOPE_KEY, hide_ticket, ticket_of
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.helpers import assert_error, sign_up

ADA = Principal(id="ada", email="ada@example.com", role="user", scopes=frozenset(SCOPES), session_id="s1")
BOB = Principal(id="bob", email="bob@example.com", role="user", scopes=frozenset(SCOPES), session_id="s2")


def event(sequence: int, kind: str = "ProvisioningStarted", *, store: str = "s", owner: str = "ada") -> SequencedEvent:
    return SequencedEvent(
        sequence=sequence,
        store_id=store,
        owner_id=owner,
        type=kind,
        event_id=f"e{sequence}",
        occurred_at="2026-12-01T10:00:00Z",
        data={},
    )


class ScriptedLive:
    """`LiveEvents` handing out the events a test gave it, then None (nothing within the timeout)."""

    def __init__(self, events: list[SequencedEvent], ended: str | None = None) -> None:
        self.events = list(events)
        self.ended = ended
        self.closed = False

    async def next(self, *, timeout: float) -> SequencedEvent | None:
        if self.events:
            return self.events.pop(0)
        if self.ended is not None:
            raise StreamEnded(self.ended)
        await asyncio.sleep(timeout)
        return None

    def end(self, reason: str) -> None:
        self.ended = reason

    def close(self) -> None:
        self.closed = True


class ScriptedFeed:
    """`EventFeed` over stored events and one live subscription a test sets."""

    def __init__(self, stored: list[SequencedEvent], live: ScriptedLive) -> None:
        self.stored = stored
        self.live = live

    async def subscribe(self, selector: Selector, *, buffer: int) -> ScriptedLive:
        return self.live

    async def history(self, selector: Selector, *, after: int, until: int) -> AsyncIterator[SequencedEvent]:
        for stored in self.stored:
            if stored.sequence > after and selector.matches(stored):
                yield stored

    async def last_sequence(self) -> int:
        return max((stored.sequence for stored in self.stored), default=0)


def _stream(feed: ScriptedFeed, streams: OpenStreams, selector: Selector, *, after: int = 0) -> Stream:
    streams.admit(ADA)
    return Stream(
        streams=streams,
        feed=feed,
        principal=ADA,
        selector=selector,
        live=feed.live,
        after=after,
        until=max((stored.sequence for stored in feed.stored), default=0),
        replay=True,
    )


async def _items(stream: Stream, limit: int = 20) -> list[StreamItem]:
    items: list[StreamItem] = []
    async for item in stream.items():
        items.append(item)
        if len(items) >= limit:
            break
    return items


def _sequences(items: list[StreamItem]) -> list[int]:
    return [item.sequence for item in items if isinstance(item, SequencedEvent)]


QUICK = StreamPolicy(keepalive_seconds=0.01, idle_seconds=0.05)


async def test_stored_then_live_events_overlap_but_each_is_sent_once_in_order() -> None:
    # The live subscription started before the catch-up read the stream: 3 and 4 come both ways.
    live = ScriptedLive([event(3), event(4), event(5), event(6, owner="bob")], ended=SHUTTING_DOWN)
    feed = ScriptedFeed([event(1), event(2), event(3), event(4)], live)
    streams = OpenStreams(QUICK)
    items = await _items(_stream(feed, streams, Selector(store_id="s", owner_id="ada")))
    assert _sequences(items) == [1, 2, 3, 4, 5]  # 6 is bob's
    assert items[-1] == Closing(SHUTTING_DOWN)
    assert streams.total == 0 and live.closed  # given back when it ended


async def test_a_resumed_stream_starts_after_its_last_id() -> None:
    live = ScriptedLive([event(5)], ended=SHUTTING_DOWN)
    feed = ScriptedFeed([event(1), event(2), event(3), event(4)], live)
    items = await _items(_stream(feed, OpenStreams(QUICK), Selector(store_id="s"), after=2))
    assert _sequences(items) == [3, 4, 5]


async def test_a_store_stream_ends_after_store_deleted_even_when_more_is_live() -> None:
    live = ScriptedLive([event(3, "StoreDeleted"), event(4)])
    feed = ScriptedFeed([event(1, "StoreRequested"), event(2, "StoreDeletionRequested")], live)
    items = await _items(_stream(feed, OpenStreams(QUICK), Selector(store_id="s")))
    assert [item.type for item in items if isinstance(item, SequencedEvent)] == [
        "StoreRequested",
        "StoreDeletionRequested",
        "StoreDeleted",
    ]
    assert not any(isinstance(item, Closing) for item in items)


async def test_an_idle_stream_keeps_alive_then_closes_saying_why() -> None:
    feed = ScriptedFeed([], ScriptedLive([]))
    items = await _items(_stream(feed, OpenStreams(QUICK), Selector(owner_id="ada")), limit=100)
    assert isinstance(items[0], Keepalive)
    assert items[-1] == Closing(IDLE)


def test_a_user_gets_as_many_streams_as_allowed_and_one_more_once_one_ends() -> None:
    streams = OpenStreams(StreamPolicy(per_user=2, per_process=3))
    streams.admit(ADA)
    streams.admit(ADA)
    with pytest.raises(TooManyStreams) as refused:
        streams.admit(ADA)
    assert refused.value.per_user and refused.value.limit == 2
    streams.admit(BOB)  # counted apart
    with pytest.raises(TooManyStreams) as full:
        streams.admit(BOB)  # the process is full
    assert not full.value.per_user
    streams.release(ADA.id)
    streams.admit(BOB)


def test_shutdown_ends_every_open_stream_and_admits_no_more() -> None:
    streams = OpenStreams(StreamPolicy())
    live = ScriptedLive([])
    streams.follow(live)
    streams.shutdown()
    assert live.ended == SHUTTING_DOWN
    with pytest.raises(TooManyStreams):
        streams.admit(ADA)


def test_a_ticket_is_taken_out_of_the_query_string() -> None:
    scope: dict[str, Any] = {"type": "http", "query_string": b"last_event_id=4&ticket=spt_secret&x=%2F"}
    hide_ticket(scope)
    assert scope["query_string"] == b"last_event_id=4&ticket=REDACTED&x=%2F"
    assert ticket_of(scope) == "spt_secret"


@pytest.mark.parametrize("query", [b"", b"tickets=1", b"a=ticket"])
def test_a_query_string_without_a_ticket_is_left_alone(query: bytes) -> None:
    scope: dict[str, Any] = {"type": "http", "query_string": query}
    hide_ticket(scope)
    assert scope["query_string"] == query and TICKET_SCOPE_KEY not in scope


async def test_stream_routes_refuse_before_streaming(client: AsyncTestClient[Litestar], fakes: Fakes) -> None:
    assert_error(await client.get("/api/v1/events/stream"), 401, "not_authenticated")
    ada = await sign_up(client)
    bob = await sign_up(client, "bob@example.com")
    adas = fakes.status.add_store(owner_id=ada.id, name="adas-shop")
    theirs = await client.get(f"/api/v1/stores/{adas.id}/events/stream", headers=bob.headers)
    assert_error(theirs, 404, "store_not_found")
    assert_error(await client.get("/api/v1/events/stream?all=true", headers=ada.headers), 403, "admin_only")
    bad_id = {**ada.headers, "Last-Event-ID": "soon"}
    assert_error(await client.get("/api/v1/events/stream", headers=bad_id), 400, "invalid_request")
    # The bus is down in these tests: a stream that would start says so, as any route does.
    assert_error(await client.get("/api/v1/events/stream", headers=ada.headers), 503, "bus_unavailable")
    assert_error(await client.get("/api/v1/events/stream?ticket=spt_unknown"), 401, "invalid_stream_ticket")


async def test_a_ticket_is_issued_to_a_token_with_the_read_scope_only(
    client: AsyncTestClient[Litestar], fakes: Fakes
) -> None:
    ada = await sign_up(client)
    issued = await client.post("/api/v1/stream-tickets", headers=ada.headers)
    assert issued.status_code == 201 and issued.json()["expires_in"] == 60
    [(holder, _)] = fakes.stream_tickets.rows.values()
    assert holder.id == ada.id and issued.json()["ticket"] not in str(fakes.stream_tickets.rows)  # only its hash
    made = await client.post("/api/v1/tokens", json={"name": "writer", "scopes": ["stores:write"]}, headers=ada.headers)
    writer = {"Authorization": f"Bearer {made.json()['token']}"}
    assert_error(await client.post("/api/v1/stream-tickets", headers=writer), 403, "insufficient_scope")
    assert STORES_READ not in made.json()["scopes"]
