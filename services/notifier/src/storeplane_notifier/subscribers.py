"""The thin FastStream subscribers: the notifier's durable consumer, and the API's responders.

The consumer `notifier` reads every store event in stream order (one unacknowledged message at
a time, so the store facts fold in order). A message is acknowledged only after its deliveries
and the consumer's position are committed (`storage.recording`); if that fails the message is
nak'ed and comes again, so an event is never acknowledged without its deliveries. An event that
cannot be decoded is terminated (a retry cannot fix it).

The API is core NATS request-reply on a queue group, like the status service's queries: a reply
is msgspec JSON; a request that cannot be answered gets an empty body and a `Storeplane-Error`
header, so the gateway fails at once rather than on its timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import msgspec
import structlog
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry import propagate
from structlog.types import FilteringBoundLogger

from storeplane_contracts import events, subjects
from storeplane_contracts import webhooks as w
from storeplane_notifier import messages
from storeplane_notifier.api import WebhookApi
from storeplane_notifier.delivering import utcnow
from storeplane_notifier.storage import recording
from storeplane_notifier.storage.pool import Pool
from storeplane_runtime.consumers import durable_consumer, durable_subscriber, raw_body
from storeplane_runtime.metrics import delivered
from storeplane_runtime.responders import register_responder
from storeplane_runtime.telemetry import current_trace_id

log: FilteringBoundLogger = structlog.get_logger(__name__)

API_QUEUE = "storeplane-notifier"
MAX_RETRY_DELAY = 30.0

_encoder = msgspec.json.Encoder()


def notifier_consumer() -> ConsumerConfig:
    return durable_consumer(subjects.NOTIFIER_DURABLE, subjects.ALL_STORE_EVENTS, max_ack_pending=1, ack_wait=60)


async def reconcile_position(js: JetStreamContext, pool: Pool) -> bool:
    """After the STORES stream was recreated (its consumer gone, its sequences lower than the
    position recorded), start over from the stream's beginning rather than skip every new event.
    Whether the position was reset."""
    try:
        await js.consumer_info(subjects.STREAM, subjects.NOTIFIER_DURABLE)
        return False
    except NotFoundError:
        pass
    last = (await js.stream_info(subjects.STREAM)).state.last_seq
    if await recording.last_sequence(pool, subjects.NOTIFIER_DURABLE) <= last:
        return False
    log.warning("the STORES stream was recreated; following it from its start", stream_last_sequence=last)
    await recording.restart_from(pool, subjects.NOTIFIER_DURABLE, 0)
    return True


async def record_message(body: bytes, message: NatsMessage, *, pool: Pool) -> list[str] | None:
    """Record one stream message's deliveries; raises when it must come again."""
    sequence = message.raw_message.metadata.sequence.stream
    event = events.decode(body)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the event's trace: each delivery's span joins it
    return await recording.record_event(
        pool,
        consumer=subjects.NOTIFIER_DURABLE,
        sequence=sequence,
        store_id=event.store_id,
        owner_id=event.owner_id,
        plan=partial(messages.plan, event, trace_id=current_trace_id()),
        at=utcnow(),
        trace_context=carrier,
    )


def register_consumer(broker: NatsBroker, *, pool: Pool, queued: Callable[[], None]) -> None:
    @durable_subscriber(
        broker, subjects.ALL_STORE_EVENTS, notifier_consumer(), decoder=raw_body, title="notifier.record_store_event"
    )
    async def record_store_event(body: bytes, message: NatsMessage) -> None:
        subject = message.raw_message.subject
        delivered(subjects.NOTIFIER_DURABLE, message.raw_message.metadata.num_delivered)
        try:
            queued_ids = await record_message(body, message, pool=pool)
        except msgspec.DecodeError as exc:
            log.error("store event cannot be decoded; terminating it", subject=subject, error=str(exc))
            await message.reject()
            return
        except Exception:
            log.exception("store event not recorded; it will be redelivered", subject=subject)
            delay = min(2.0 ** max(message.raw_message.metadata.num_delivered - 1, 0), MAX_RETRY_DELAY)
            await message.nack(delay=delay)
            return
        await message.ack()
        if queued_ids:
            log.info("webhook messages queued", subject=subject, messages=len(queued_ids))
            queued()


def register_api(broker: NatsBroker, api: WebhookApi, *, workers: int) -> None:
    operations: list[tuple[str, type[msgspec.Struct], Callable[[Any], Awaitable[msgspec.Struct]]]] = [
        (w.CREATE_ENDPOINT, w.CreateEndpoint, api.create),
        (w.LIST_ENDPOINTS, w.ListEndpoints, api.list),
        (w.GET_ENDPOINT, w.GetEndpoint, api.get),
        (w.UPDATE_ENDPOINT, w.UpdateEndpoint, api.update),
        (w.DELETE_ENDPOINT, w.DeleteEndpoint, api.delete),
        (w.SEND_TEST, w.SendTest, api.send_test),
        (w.LIST_DELIVERIES, w.ListDeliveries, api.deliveries),
        (w.RESEND_MESSAGE, w.ResendMessage, api.resend),
        (w.RECOVER_MESSAGES, w.RecoverMessages, api.recover),
        (w.ROTATE_SECRET, w.RotateSecret, api.rotate),
    ]
    for subject, request_type, answer in operations:
        name = f"webhooks_{subject.rsplit('.', 1)[-1]}"
        register_responder(
            broker,
            subject,
            request_type,
            answer,
            queue=API_QUEUE,
            workers=workers,
            title=f"notifier.{subject}",
            name=name,
        )
