"""The thin FastStream subscribers: decode, call a handler, settle the message or reply.

The projection consumer is a durable pull consumer that holds at most one unacknowledged
message (`max_ack_pending=1`), so events are applied strictly in stream order, even across
naks and redeliveries; that order is what lets a sequence at or below the tracked one be
recognised as already applied. How a message is settled:

- applied, already applied or a repeated event: ack;
- undecodable: logged and terminated (a retry cannot fix it), its sequence marked as passed;
- anything else (the database is down, a bug): logged and nak'ed with a growing delay, so
  the message is redelivered and the projection waits for it rather than losing it.

After each message the instance announces its sequence on core NATS; every instance follows
those notes, so a query waiting for read-your-writes is released whichever instance projected.

Queries are core NATS request-reply on a queue group, answered concurrently (a query may
wait for read-your-writes). A reply is msgspec JSON; a query that cannot be answered gets
an empty body and a `Storeplane-Error` header, so the caller fails at once, not on timeout.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import msgspec
import structlog
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from structlog.types import FilteringBoundLogger

from storeplane_contracts import events, subjects
from storeplane_contracts.queries import (
    FindLiveStoreByName,
    GetStepStats,
    GetStore,
    GetStoreEvents,
    ListStores,
    ListStoresInStatus,
)
from storeplane_runtime.consumers import durable_consumer, durable_subscriber, raw_body
from storeplane_runtime.logs import store_context
from storeplane_runtime.metrics import delivered
from storeplane_runtime.responders import register_responder
from storeplane_status import queries
from storeplane_status.handlers import ProjectionStore, apply_store_event, skip_message
from storeplane_status.positions import ProjectionPosition
from storeplane_status.settings import StatusSettings
from storeplane_status.stats import StepStats

log: FilteringBoundLogger = structlog.get_logger(__name__)

# Instances of the status service share the query load through this NATS queue group.
QUERY_QUEUE = "storeplane-status"
# Redelivery delays after a failed projection: 1 s, 2 s, 4 s ... at most this.
MAX_RETRY_DELAY = 30.0

_encoder = msgspec.json.Encoder()
Query = TypeVar("Query", bound=msgspec.Struct)


class ReadModels(ProjectionStore, queries.StoreReadModels, Protocol):
    """Everything the subscribers need from the database adapter."""


class Settle(enum.Enum):
    """What becomes of a stream message."""

    ACK = "ack"
    NAK = "nak"
    TERMINATE = "terminate"


def retry_delay(num_delivered: int) -> float:
    return float(min(2 ** max(num_delivered - 1, 0), MAX_RETRY_DELAY))


def register_subscribers(
    broker: NatsBroker,
    *,
    read_models: ReadModels,
    position: ProjectionPosition,
    settings: StatusSettings,
    stats: StepStats | None = None,
) -> None:
    """Register the projection consumer and the query responders on `broker` (before it starts)."""
    register_projection(broker, store=read_models, position=position)

    # Every instance (no queue group) follows the projection, whichever instance applied the event.
    @broker.subscriber(subjects.STATUS_PROJECTED, decoder=raw_body, title="status.follow_projection")
    async def follow_projection(body: bytes) -> None:
        try:
            await position.advance(int(body))
        except ValueError:
            log.warning("malformed projection position", body=body[:40])

    wait = settings.read_your_writes_timeout
    workers = settings.query_concurrency

    async def list_stores(query: ListStores) -> msgspec.Struct:
        return await queries.list_stores(query, read_models=read_models)

    step_figures = stats or StepStats()

    async def get_store(query: GetStore) -> msgspec.Struct:
        return await queries.get_store(query, read_models=read_models, position=position, wait=wait, stats=step_figures)

    async def step_stats(query: GetStepStats) -> msgspec.Struct:
        return queries.step_stats(query, stats=step_figures)

    async def get_store_events(query: GetStoreEvents) -> msgspec.Struct:
        return await queries.get_store_events(query, read_models=read_models, position=position, wait=wait)

    async def find_live_store_by_name(query: FindLiveStoreByName) -> msgspec.Struct:
        return await queries.find_live_store_by_name(query, read_models=read_models)

    async def list_stores_in_status(query: ListStoresInStatus) -> msgspec.Struct:
        return await queries.list_stores_in_status(query, read_models=read_models)

    register_query(broker, subjects.QUERY_LIST_STORES, ListStores, list_stores, workers=workers)
    register_query(broker, subjects.QUERY_LIST_IN_STATUS, ListStoresInStatus, list_stores_in_status, workers=workers)
    register_query(broker, subjects.QUERY_GET_STORE, GetStore, get_store, workers=workers)
    register_query(broker, subjects.QUERY_STEP_STATS, GetStepStats, step_stats, workers=workers)
    register_query(broker, subjects.QUERY_STORE_EVENTS, GetStoreEvents, get_store_events, workers=workers)
    register_query(
        broker, subjects.QUERY_FIND_LIVE_BY_NAME, FindLiveStoreByName, find_live_store_by_name, workers=workers
    )


def projection_consumer() -> ConsumerConfig:
    """The durable consumer the projection reads from: every store event, one at a time."""
    return durable_consumer(
        subjects.STATUS_DURABLE,
        subjects.ALL_STORE_EVENTS,
        max_ack_pending=1,  # strict stream order; see the module docstring
        ack_wait=60,
    )


async def project_message(
    body: bytes, message: NatsMessage, *, store: ProjectionStore, position: ProjectionPosition
) -> Settle:
    """Decode and apply one stream message and say how to settle it; raises when it must be retried."""
    consumer = subjects.STATUS_DURABLE
    sequence = message.raw_message.metadata.sequence.stream
    context = {"subject": message.raw_message.subject, "sequence": sequence}
    try:
        event = events.decode(body)
    except msgspec.DecodeError as exc:  # includes ValidationError
        log.error("store event cannot be decoded; terminating it", error=str(exc), **context)
        await skip_message(sequence, consumer=consumer, store=store, position=position)
        return Settle.TERMINATE
    with store_context(event.store_id):
        return await _apply(event, sequence, context, store=store, position=position)


async def _apply(
    event: events.AnyEvent,
    sequence: int,
    context: dict[str, object],
    *,
    store: ProjectionStore,
    position: ProjectionPosition,
) -> Settle:
    consumer = subjects.STATUS_DURABLE
    applied = await apply_store_event(event, sequence, consumer=consumer, store=store, position=position)
    log.info(
        "store event projected",
        outcome=applied.value,
        type=type(event).__name__,
        store_id=event.store_id,
        event_id=event.event_id,
        **context,
    )
    return Settle.ACK


async def announce(broker: NatsBroker, sequence: int) -> None:
    """Tell the other instances (queries waiting there for read-your-writes); a lost note only
    makes such a query wait for its time-out, so failing to send it is logged, not raised."""
    try:
        await broker.connection.publish(subjects.STATUS_PROJECTED, str(sequence).encode())
    except Exception as exc:
        log.warning("projection position not announced", sequence=sequence, error=repr(exc))


async def settle_message(broker: NatsBroker, message: NatsMessage, settle: Settle) -> None:
    """Announce the sequence unless the message is to be retried, then ack, terminate or nak it."""
    if settle is not Settle.NAK:
        await announce(broker, message.raw_message.metadata.sequence.stream)
    if settle is Settle.ACK:
        await message.ack()
    elif settle is Settle.TERMINATE:
        await message.reject()
    else:
        await message.nack(delay=retry_delay(message.raw_message.metadata.num_delivered))


def register_projection(broker: NatsBroker, *, store: ProjectionStore, position: ProjectionPosition) -> None:
    """Register the projection's durable pull consumer; every message is projected, then settled."""

    @durable_subscriber(
        broker, subjects.ALL_STORE_EVENTS, projection_consumer(), decoder=raw_body, title="status.project_store_event"
    )
    async def project_store_event(body: bytes, message: NatsMessage) -> None:
        delivered(subjects.STATUS_DURABLE, message.raw_message.metadata.num_delivered)
        try:
            settle = await project_message(body, message, store=store, position=position)
        except Exception:
            log.exception("store event not projected; it will be redelivered", subject=message.raw_message.subject)
            settle = Settle.NAK
        await settle_message(broker, message, settle)


async def reconcile_consumer(js: JetStreamContext, tracked: int) -> bool:
    """Drop the durable consumer when it no longer fits the read models; say whether it was dropped.

    It does not fit when it has acknowledged more than the read models hold (the database
    was emptied or restored from a backup) or when its configuration drifted from
    `projection_consumer()` (it was created by an older version). The subscriber then
    creates it again, delivering the stream from the start; sequences the read models
    already hold are skipped, so the read models are rebuilt by replay.
    """
    try:
        info = await js.consumer_info(subjects.STREAM, subjects.STATUS_DURABLE)
    except NotFoundError:
        return False
    wanted = projection_consumer()
    acknowledged = info.ack_floor.stream_seq if info.ack_floor else 0
    drifted = (
        info.config.max_ack_pending != wanted.max_ack_pending
        or info.config.ack_policy != wanted.ack_policy
        or info.config.filter_subject != wanted.filter_subject
        or bool(info.config.filter_subjects)
    )
    if acknowledged <= tracked and not drifted:
        return False
    log.warning(
        "the projection's consumer does not fit the read models; replaying the stream",
        tracked=tracked,
        acknowledged=acknowledged,
        drifted=drifted,
    )
    await js.delete_consumer(subjects.STREAM, subjects.STATUS_DURABLE)
    return True


def register_query(
    broker: NatsBroker,
    subject: str,
    query_type: type[Query],
    answer: Callable[[Query], Awaitable[msgspec.Struct]],
    *,
    workers: int,
) -> None:
    register_responder(
        broker,
        subject,
        query_type,
        answer,
        queue=QUERY_QUEUE,
        workers=workers,
        title=f"status.{subject}",
        name=answer.__name__,
    )
