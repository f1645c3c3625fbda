"""The provisioner's one subscriber: a durable pull consumer shared as a work queue.

Thin on purpose: it hands the body to `process_command` and maps the decision to an ack,
a delayed nak or a term. Adding provisioner processes on the same durable scales out.
"""

from __future__ import annotations

import msgspec
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig

from storeplane_contracts import subjects
from storeplane_contracts.queries import CredentialsReply, RevealCredentials
from storeplane_provisioner.provisioning.credentials import reveal_credentials
from storeplane_provisioner.provisioning.processing import Dependencies, Outcome, process_command
from storeplane_runtime.consumers import durable_consumer, durable_subscriber
from storeplane_runtime.metrics import delivered


def work_queue_consumer(*, max_in_flight: int, ack_wait: float) -> ConsumerConfig:
    """The provisioners' shared durable consumer: every command, at most `max_in_flight` handed out
    across all provisioners (each one also limits itself, to its own concurrency)."""
    return durable_consumer(
        subjects.PROVISIONER_DURABLE,
        subjects.PROVISIONER_SUBJECTS,
        ack_wait=ack_wait,
        max_ack_pending=max_in_flight,
        max_deliver=-1,
    )


def register(broker: NatsBroker, deps: Dependencies, *, concurrency: int, max_in_flight: int, ack_wait: float) -> None:
    @broker.subscriber(subjects.REVEAL_CREDENTIALS, queue="provisioner")
    async def on_reveal_credentials(msg: NatsMessage) -> bytes:
        try:
            query = msgspec.json.decode(msg.body, type=RevealCredentials)
        except msgspec.DecodeError:
            return msgspec.json.encode(CredentialsReply(refused="bad_request"))
        reply = await reveal_credentials(query, cluster=deps.cluster, publish=deps.publish)
        return msgspec.json.encode(reply)

    @durable_subscriber(
        broker,
        subjects.ALL_STORE_EVENTS,
        work_queue_consumer(max_in_flight=max_in_flight, ack_wait=ack_wait),
        max_workers=concurrency,
    )
    async def on_command(msg: NatsMessage) -> None:
        delivered(subjects.PROVISIONER_DURABLE, msg.raw_message.metadata.num_delivered or 1)
        decision = await process_command(
            msg.body, attempt=msg.raw_message.metadata.num_delivered or 1, heartbeat=msg.in_progress, deps=deps
        )
        if decision.outcome is Outcome.ACK:
            await msg.ack()
        elif decision.outcome is Outcome.RETRY:
            await msg.nack(delay=decision.delay)
        else:
            await msg.reject()
