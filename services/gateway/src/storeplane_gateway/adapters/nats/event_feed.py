"""The event streams' view of the STORES stream: one shared live subscription per process, fanned
out inside the gateway, and short-lived ordered consumers for the catch-up from a sequence.

A thousand open streams are one server-side consumer, not a thousand: the first stream to open
starts the process' live subscription, an ordered push consumer on `stores.*.*` that delivers
only what arrives from then on (NATS' ordered consumer recreates itself from the next sequence
after a gap, a missed heartbeat or a reconnection, so it skips nothing). Each message is decoded
once and handed to the streams whose selector matches it (indexed by store, by owner, and
"everything"), each with a bounded buffer: a client that reads too slowly has its stream ended,
and resumes with its last id, rather than growing the gateway's memory.

The catch-up (`history`) is an ordered consumer of its own, filtered on the store's subjects
when it is one store's, that lives only until it has read what was stored: streams that resume
or start at the beginning cost a consumer for a moment, not for their lifetime.

Messages are read as JSON objects, not as the known event types, so that an event type this
gateway does not know yet (from a newer provisioner) is streamed too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

import msgspec
import nats.errors
import nats.js.errors
import structlog
from faststream.exceptions import IncorrectState
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from storeplane_contracts import subjects
from storeplane_gateway.adapters.nats.bus import NatsBus
from storeplane_gateway.domain.errors import BusUnavailable
from storeplane_gateway.domain.streams import Selector, SequencedEvent, StreamEnded

log = structlog.get_logger(__name__)

# Fields every event carries; the rest of the event is the timeline entry's `data`.
_COMMON_FIELDS = frozenset({"type", "store_id", "owner_id", "event_id", "occurred_at", "version"})
_NATS_ERRORS = (nats.errors.Error, IncorrectState, OSError, TimeoutError)
HISTORY_READ_TIMEOUT = 5.0
SLOW_CLIENT = "the client read too slowly"

Key = tuple[str, str]


def sequenced(msg: Msg) -> SequencedEvent | None:
    """The stream message as a `SequencedEvent`; None (logged) when it is not a store event."""
    try:
        raw = msgspec.json.decode(msg.data)
        fields = [raw[name] for name in ("store_id", "owner_id", "type", "event_id", "occurred_at")]
    except (msgspec.DecodeError, KeyError, TypeError):
        log.error("streams.undecodable_event", subject=msg.subject)
        return None
    if not all(isinstance(value, str) for value in fields):
        log.error("streams.undecodable_event", subject=msg.subject)
        return None
    store_id, owner_id, kind, event_id, occurred_at = fields
    return SequencedEvent(
        sequence=msg.metadata.sequence.stream,
        store_id=store_id,
        owner_id=owner_id,
        type=kind,
        event_id=event_id,
        occurred_at=occurred_at,
        data={key: value for key, value in raw.items() if key not in _COMMON_FIELDS},
    )


def _keys(selector: Selector) -> Key:
    if selector.store_id is not None:
        return ("store", selector.store_id)
    if selector.owner_id is not None:
        return ("owner", selector.owner_id)
    return ("all", "")


class _Subscription:
    """`LiveEvents`: a bounded buffer the shared subscription fills and one stream drains."""

    def __init__(self, feed: NatsEventFeed, key: Key, buffer: int) -> None:
        self._feed = feed
        self.key = key
        self._buffer = buffer
        self._items: deque[SequencedEvent] = deque()
        self._ready = asyncio.Event()
        self._ended: str | None = None

    def offer(self, event: SequencedEvent) -> None:
        if self._ended is not None:
            return
        if len(self._items) >= self._buffer:
            self.end(SLOW_CLIENT)
            return
        self._items.append(event)
        self._ready.set()

    def end(self, reason: str) -> None:
        if self._ended is None:
            self._ended = reason
            self._ready.set()

    def close(self) -> None:
        self._feed.forget(self)

    async def next(self, *, timeout: float) -> SequencedEvent | None:
        while not self._items:
            if self._ended is not None:
                raise StreamEnded(self._ended)
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None
        return self._items.popleft()


class NatsEventFeed:
    """`EventFeed` on the gateway's NATS connection (`NatsBus`)."""

    def __init__(self, bus: NatsBus) -> None:
        self._bus = bus
        self._streams: dict[Key, set[_Subscription]] = {}
        self._live: JetStreamContext.PushSubscription | None = None
        self._starting = asyncio.Lock()

    @property
    def open_subscriptions(self) -> int:
        return sum(len(group) for group in self._streams.values())

    async def subscribe(self, selector: Selector, *, buffer: int) -> _Subscription:
        await self._ensure_live()
        subscription = _Subscription(self, _keys(selector), buffer)
        self._streams.setdefault(subscription.key, set()).add(subscription)
        return subscription

    def forget(self, subscription: _Subscription) -> None:
        group = self._streams.get(subscription.key)
        if group is not None:
            group.discard(subscription)
            if not group:
                del self._streams[subscription.key]

    async def last_sequence(self) -> int:
        return await self._bus.last_sequence()

    async def history(self, selector: Selector, *, after: int, until: int) -> AsyncIterator[SequencedEvent]:
        if after >= until:
            return
        js = self._bus.jetstream()
        subject = f"stores.{selector.store_id}.*" if selector.store_id is not None else subjects.ALL_STORE_EVENTS
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1)
        try:
            reader = await js.subscribe(subject, stream=subjects.STREAM, ordered_consumer=True, config=config)
        except _NATS_ERRORS as exc:
            raise BusUnavailable(f"reading {subjects.STREAM} from {after + 1} failed: {exc!r}") from exc
        try:
            async for event in self._read(reader, until):
                if selector.matches(event):
                    yield event
        finally:
            with contextlib.suppress(*_NATS_ERRORS):
                await reader.unsubscribe()

    async def _read(self, reader: JetStreamContext.PushSubscription, until: int) -> AsyncIterator[SequencedEvent]:
        """What `reader` delivers until nothing more is stored for it, or it passed `until`."""
        try:
            info = await reader.consumer_info()
            # A push consumer starts delivering at once: nothing is left only if nothing was delivered either.
            if info.num_pending == 0 and not (info.delivered and info.delivered.consumer_seq):
                return
            while True:
                msg = await reader.next_msg(timeout=HISTORY_READ_TIMEOUT)
                if (event := sequenced(msg)) is not None:
                    yield event
                if msg.metadata.num_pending == 0 or msg.metadata.sequence.stream >= until:
                    return
        except _NATS_ERRORS as exc:
            raise BusUnavailable(f"reading {subjects.STREAM} failed: {exc!r}") from exc

    async def _ensure_live(self) -> None:
        """Start the process' one live subscription, if it is not running; raises BusUnavailable."""
        if self._live is not None:
            return
        async with self._starting:
            if self._live is not None:
                return
            js = self._bus.jetstream()
            try:
                self._live = await js.subscribe(
                    subjects.ALL_STORE_EVENTS,
                    stream=subjects.STREAM,
                    ordered_consumer=True,
                    deliver_policy=DeliverPolicy.NEW,
                    cb=self._deliver,
                )
            except _NATS_ERRORS as exc:
                raise BusUnavailable(f"subscribing to {subjects.STREAM} failed: {exc!r}") from exc
            log.info("streams.live_subscription_started")

    async def _deliver(self, msg: Msg) -> None:
        if (event := sequenced(msg)) is None:
            return
        for key in (("store", event.store_id), ("owner", event.owner_id), ("all", "")):
            for subscription in tuple(self._streams.get(key, ())):
                subscription.offer(event)

    async def stop(self, reason: str) -> None:
        """End every stream's subscription, then the live subscription."""
        for group in tuple(self._streams.values()):
            for subscription in tuple(group):
                subscription.end(reason)
        if self._live is not None:
            live, self._live = self._live, None
            with contextlib.suppress(*_NATS_ERRORS):
                await live.unsubscribe()
