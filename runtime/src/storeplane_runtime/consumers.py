"""Durable pull consumers of the STORES stream: how a service reads the stream as a group.

Each service that follows the stream (the provisioner's work queue, the status projection, the
gateway's slot release) has a durable consumer of its own, shared by its replicas. They differ
in what they filter, how many messages may be out at once and how long one may take; everything
else is the same and set here: every message from the start of the stream, acknowledged
explicitly by the handler (`AckPolicy.MANUAL`), pulled in batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.nats import NatsBroker, PullSub
from faststream.nats.subscriber.usecases import LogicSubscriber
from nats.js.api import AckPolicy as ConsumerAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from storeplane_contracts import subjects as stream_subjects
from storeplane_runtime.bus import STORES_STREAM, inbox_prefix_of
from storeplane_runtime.metrics import CONSUMER_PENDING, CONSUMER_REDELIVERIES

log = structlog.get_logger("storeplane.consumers")

# A FastStream decoder: the message in, the handler's first argument out.
Decoder = Callable[[StreamMessage[Any]], Awaitable[Any]]


def durable_consumer(
    durable: str,
    subjects: str | Sequence[str],
    *,
    ack_wait: float,
    max_ack_pending: int | None = None,
    max_deliver: int | None = None,
) -> ConsumerConfig:
    """The configuration of a durable consumer of the STORES stream.

    One subject is JetStream's `filter_subject`, several its `filter_subjects`: a consumer created
    with one stays comparable with the configuration the server reports for it.
    """
    one = subjects if isinstance(subjects, str) else None
    return ConsumerConfig(
        durable_name=durable,
        filter_subject=one,
        filter_subjects=None if one is not None else list(subjects),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=ConsumerAckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_ack_pending=max_ack_pending,
        max_deliver=max_deliver,
    )


def durable_subscriber(
    broker: NatsBroker,
    subject: str,
    consumer: ConsumerConfig,
    *,
    batch_size: int = 1,
    max_workers: int | None = None,
    decoder: Decoder | None = None,
    title: str | None = None,
) -> LogicSubscriber[Any]:
    """FastStream's pull subscriber on `consumer` (register before the broker starts); decorate the
    handler with it. The handler settles every message itself: ack, nack (with a delay) or reject."""
    return broker.subscriber(
        subject,
        stream=STORES_STREAM,
        durable=consumer.durable_name,
        pull_sub=PullSub(batch_size=batch_size),
        inbox_prefix=inbox_prefix_of(broker),
        config=consumer,
        ack_policy=AckPolicy.MANUAL,
        max_workers=max_workers,
        decoder=decoder,
        title=title,
    )


async def raw_body(message: StreamMessage[Any]) -> bytes:
    """A FastStream decoder that leaves the body to msgspec."""
    return bytes(message.body)


async def watch_consumer(
    js: JetStreamContext, durable: str, *, every: float = 5.0, on_pending: Callable[[int], None] | None = None
) -> None:
    """Keep `storeplane_consumer_pending{durable}` current until cancelled (and tell `on_pending`);
    the bus being away leaves the last value and is retried on the next round."""
    CONSUMER_REDELIVERIES.labels(durable)  # the series exists (at 0) before the first redelivery
    while True:
        try:
            info = await js.consumer_info(stream_subjects.STREAM, durable)
            pending = (info.num_pending or 0) + (info.num_ack_pending or 0)
            CONSUMER_PENDING.labels(durable).set(pending)
            if on_pending is not None:
                on_pending(pending)
        except Exception as exc:
            log.info("consumer info not read", durable=durable, error=repr(exc))
        await asyncio.sleep(every)
