"""The gateway's one subscriber: a deleted store frees its owner's quota slot and its name.

A durable pull consumer of the gateway's own (`GATEWAY_SLOTS_DURABLE`) reads `StoreDeleted` from
the STORES stream; replicas share it, so each deletion is handled once. Releasing is idempotent
(a slot already freed stays freed), so a redelivery changes nothing. A database outage naks the
message with a delay; an undecodable one is terminated (a retry cannot fix it).
"""

from __future__ import annotations

import msgspec
import structlog
from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.nats import NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import AckPolicy as ConsumerAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy

from storeplane_contracts import events, subjects
from storeplane_gateway.ports import DependencyUnavailable, StoreSlots
from storeplane_runtime.bus import STORES_STREAM

log = structlog.get_logger(__name__)

RETRY_DELAY_SECONDS = 5.0


async def release_deleted_store(event: events.StoreDeleted, *, slots: StoreSlots) -> bool:
    """Free the deleted store's slot; say whether it held one."""
    return await slots.release(event.store_id)


def slots_consumer() -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=subjects.GATEWAY_SLOTS_DURABLE,
        filter_subject=subjects.STORE_DELETED_EVENTS,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=ConsumerAckPolicy.EXPLICIT,
        ack_wait=30,
    )


async def _raw_body(message: StreamMessage[object]) -> bytes:
    return bytes(message.body)


def register_slot_release(broker: NatsBroker, *, slots: StoreSlots) -> None:
    """Subscribe (before the broker starts) to deleted stores, freeing their slots."""

    @broker.subscriber(
        subjects.STORE_DELETED_EVENTS,
        stream=STORES_STREAM,
        durable=subjects.GATEWAY_SLOTS_DURABLE,
        pull_sub=PullSub(batch_size=10),
        config=slots_consumer(),
        ack_policy=AckPolicy.MANUAL,
        decoder=_raw_body,
        title="gateway.release_store_slot",
    )
    async def release_store_slot(body: bytes, message: NatsMessage) -> None:
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
