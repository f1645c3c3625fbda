"""The gateway's one subscriber: a deleted store frees its owner's quota slot and its name.

A durable pull consumer of the gateway's own (`GATEWAY_SLOTS_DURABLE`) reads `StoreDeleted` from
the STORES stream; replicas share it, so each deletion is handled once. Releasing is idempotent
(a slot already freed stays freed), so a redelivery changes nothing. A database outage naks the
message with a delay; an undecodable one is terminated (a retry cannot fix it).
"""

from __future__ import annotations

import msgspec
import structlog
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig

from storeplane_contracts import events, subjects
from storeplane_gateway.domain.errors import DependencyUnavailable
from storeplane_gateway.ports import StoreSlots
from storeplane_runtime.consumers import durable_consumer, durable_subscriber, raw_body
from storeplane_runtime.metrics import delivered

log = structlog.get_logger(__name__)

RETRY_DELAY_SECONDS = 5.0


async def release_deleted_store(event: events.StoreDeleted, *, slots: StoreSlots) -> bool:
    """Free the deleted store's slot; say whether it held one."""
    return await slots.release(event.store_id)


def slots_consumer() -> ConsumerConfig:
    return durable_consumer(subjects.GATEWAY_SLOTS_DURABLE, subjects.STORE_DELETED_EVENTS, ack_wait=30)


def register_slot_release(broker: NatsBroker, *, slots: StoreSlots) -> None:
    """Subscribe (before the broker starts) to deleted stores, freeing their slots."""

    @durable_subscriber(
        broker,
        subjects.STORE_DELETED_EVENTS,
        slots_consumer(),
        batch_size=10,
        decoder=raw_body,
        title="gateway.release_store_slot",
    )
    async def release_store_slot(body: bytes, message: NatsMessage) -> None:
        delivered(subjects.GATEWAY_SLOTS_DURABLE, message.raw_message.metadata.num_delivered)
        try:
            event = events.decode(body)
        except msgspec.DecodeError as exc:
            log.error("slots.undecodable_event", error=str(exc), subject=message.raw_message.subject)
            await message.reject()
            return
        if not isinstance(event, events.StoreDeleted):
            await message.ack()
            return
        try:
            released = await release_deleted_store(event, slots=slots)
        except DependencyUnavailable as exc:
            log.warning("slots.release_failed", store_id=event.store_id, error=str(exc))
            await message.nack(delay=RETRY_DELAY_SECONDS)
            return
        log.info("slots.released", store_id=event.store_id, owner_id=event.owner_id, held=released)
        await message.ack()
