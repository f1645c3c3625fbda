"""The rules of the event streams: what a caller may follow, from where, and for how long.

A stream first subscribes to the live events (the gateway's shared subscription), then reads what
the STORES stream already holds after the client's last id up to its newest sequence, then
continues with the live events, skipping those it already sent: every event once, in stream
order, with no gap between the stored and the live ones. The ids are JetStream sequences, so a
client may resume on any gateway process.

Only the caller's own events are ever streamed (any store's, for an admin's session): one store's
stream is opened only after the status service says the store is the caller's (another user's
store is the same 404 as a missing one), and every event is checked against the owner it carries
(every event names its store's owner, so the all-stores stream needs no lookup and sees stores
made after it opened). A store's stream ends after its `StoreDeleted`.

`OpenStreams` counts this process' streams, per user and in all, and ends them all when the
gateway shuts down, so that their clients reconnect (with their last id) to another process.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
import structlog

from storeplane_gateway.areas.stores.services import StoreService
from storeplane_gateway.domain.errors import AdminOnly, DependencyUnavailable, TooManyStreams
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.domain.streams import (
    STORE_DELETED,
    TICKET_TTL_SECONDS,
    Selector,
    SequencedEvent,
    StreamEnded,
    hash_ticket,
    new_ticket,
)
from storeplane_gateway.ports import EventFeed, LiveEvents, StreamTickets
from storeplane_gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)

SHUTTING_DOWN = "the gateway is shutting down"
BUS_FAILED = "the gateway lost its event bus"
IDLE = "nothing happened for a long time"


@dataclass(frozen=True)
class StreamPolicy:
    """The limits and timings of the streams, from the settings."""

    per_user: int = 10
    per_process: int = 2000
    idle_seconds: float = 3600.0
    keepalive_seconds: float = 15.0
    retry_ms: int = 3000
    buffer: int = 1000
    catch_ups: int = 8

    @classmethod
    def of(cls, settings: GatewaySettings) -> StreamPolicy:
        return cls(
            per_user=settings.streams_per_user,
            per_process=settings.streams_per_process,
            idle_seconds=settings.stream_idle_seconds,
            keepalive_seconds=settings.stream_keepalive_seconds,
            retry_ms=settings.stream_retry_ms,
            buffer=settings.stream_buffer_events,
            catch_ups=settings.stream_catch_ups,
        )


class Keepalive(msgspec.Struct, frozen=True):
    """Nothing to send for a while: a comment keeps the connection open."""


class Closing(msgspec.Struct, frozen=True):
    """The stream ends for `reason`; the client reconnects with its last id."""

    reason: str


StreamItem = SequencedEvent | Keepalive | Closing
KEEPALIVE = Keepalive()


class OpenStreams:
    """This process' open streams: admitted within the limits, and ended together at shutdown."""

    def __init__(self, policy: StreamPolicy) -> None:
        self.policy = policy
        self._per_user: Counter[str] = Counter()
        self._live: set[LiveEvents] = set()
        self._closing: str | None = None
        self.catching_up = asyncio.Semaphore(policy.catch_ups)

    @property
    def total(self) -> int:
        return sum(self._per_user.values())

    def of_user(self, user_id: str) -> int:
        return self._per_user[user_id]

    def admit(self, principal: Principal) -> None:
        """Count one more stream of `principal`, or TooManyStreams."""
        if self._per_user[principal.id] >= self.policy.per_user:
            raise TooManyStreams(self.policy.per_user, per_user=True)
        if self._closing is not None or self.total >= self.policy.per_process:
            raise TooManyStreams(self.policy.per_process, per_user=False)
        self._per_user[principal.id] += 1

    def release(self, user_id: str) -> None:
        self._per_user[user_id] -= 1
        if self._per_user[user_id] <= 0:
            del self._per_user[user_id]

    def follow(self, live: LiveEvents) -> None:
        if self._closing is not None:
            live.end(self._closing)
        self._live.add(live)

    def unfollow(self, live: LiveEvents) -> None:
        self._live.discard(live)

    def shutdown(self, reason: str = SHUTTING_DOWN) -> None:
        """End every open stream (each says why and closes), and admit no more."""
        self._closing = reason
        for live in tuple(self._live):
            live.end(reason)


class Stream:
    """One admitted stream: its live subscription, where it resumes, and when it ends."""

    def __init__(
        self,
        *,
        streams: OpenStreams,
        feed: EventFeed,
        principal: Principal,
        selector: Selector,
        live: LiveEvents,
        after: int,
        until: int,
        replay: bool,
    ) -> None:
        self._streams = streams
        self._feed = feed
        self._selector = selector
        self._live = live
        self._after = after
        self._until = until
        self._replay = replay
        self.ends_on_deletion = selector.store_id is not None
        streams.follow(live)
        # Given back when the stream ends, or if its response never starts (the client left first).
        self._release = weakref.finalize(self, _release, streams, live, principal.id)

    def close(self) -> None:
        self._release()

    async def items(self) -> AsyncIterator[StreamItem]:
        """The events (stored, then live), keep-alives while idle, and a `Closing` unless the store was deleted.
        A bus that fails once the stream has started ends it the same way: the client resumes with its last id."""
        last = self._after
        try:
            if self._replay:
                async with self._streams.catching_up:
                    async for event in self._feed.history(self._selector, after=last, until=self._until):
                        yield event
                        last = event.sequence
                        if self._ends_with(event):
                            return
            async for item in self._live_items(last):
                yield item
        except DependencyUnavailable as exc:
            log.warning("streams.bus_failed", error=str(exc), last_event_id=last)
            yield Closing(BUS_FAILED)
        finally:
            self.close()

    async def _live_items(self, last: int) -> AsyncIterator[StreamItem]:
        policy = self._streams.policy
        loop = asyncio.get_running_loop()
        idle_until = loop.time() + policy.idle_seconds
        while True:
            wait = min(policy.keepalive_seconds, max(idle_until - loop.time(), 0.0))
            try:
                event = await self._live.next(timeout=wait)
            except StreamEnded as ended:
                yield Closing(ended.reason)
                return
            if event is None:
                if loop.time() >= idle_until:
                    yield Closing(IDLE)
                    return
                yield KEEPALIVE
            elif event.sequence > last and self._selector.matches(event):
                yield event
                last = event.sequence
                idle_until = loop.time() + policy.idle_seconds
                if self._ends_with(event):
                    return

    def _ends_with(self, event: SequencedEvent) -> bool:
        return self.ends_on_deletion and event.type == STORE_DELETED


def _release(streams: OpenStreams, live: LiveEvents, user_id: str) -> None:
    live.close()
    streams.unfollow(live)
    streams.release(user_id)


class StreamService:
    """Opens the caller's streams and hands out stream tickets; one per request."""

    def __init__(
        self, *, streams: OpenStreams, feed: EventFeed, tickets: StreamTickets, store_service: StoreService
    ) -> None:
        self._streams = streams
        self._feed = feed
        self._tickets = tickets
        self._store_service = store_service

    async def store_stream(self, caller: Principal, raw_id: str, *, after: int) -> Stream:
        """One store's timeline from after `after` (the beginning: 0), then live; StoreNotFound for a
        store the caller may not see."""
        store = await self._store_service.store(caller, raw_id)
        owner = None if caller.is_admin else caller.id
        return await self._open(caller, Selector(store_id=store.id, owner_id=owner), after=after, replay=True)

    async def all_stores_stream(self, caller: Principal, *, after: int | None, all_owners: bool = False) -> Stream:
        """Every event of the caller's stores (every store's, for an admin asking for all), live from now,
        or from after `after` when the client resumes (0: from the beginning)."""
        if all_owners and not caller.is_admin:
            raise AdminOnly("stream every user's stores")
        selector = Selector(everything=True) if all_owners else Selector(owner_id=caller.id)
        return await self._open(caller, selector, after=after or 0, replay=after is not None)

    async def _open(self, caller: Principal, selector: Selector, *, after: int, replay: bool) -> Stream:
        self._streams.admit(caller)
        try:
            live = await self._feed.subscribe(selector, buffer=self._streams.policy.buffer)
        except BaseException:
            self._streams.release(caller.id)
            raise
        try:
            # Subscribed first: whatever is stored after `until` arrives live, so nothing falls between.
            until = await self._feed.last_sequence() if replay else 0
        except BaseException:
            _release(self._streams, live, caller.id)
            raise
        return Stream(
            streams=self._streams,
            feed=self._feed,
            principal=caller,
            selector=selector,
            live=live,
            after=after,
            until=until,
            replay=replay,
        )

    async def issue_ticket(self, caller: Principal) -> tuple[str, int]:
        """A new single-use ticket for `caller`, and how many seconds it is valid."""
        ticket = new_ticket()
        await self._tickets.issue(hash_ticket(ticket), caller, ttl=TICKET_TTL_SECONDS)
        return ticket, TICKET_TTL_SECONDS
