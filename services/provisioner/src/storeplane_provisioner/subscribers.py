"""The provisioner's one subscriber: a durable pull consumer shared as a work queue.

Thin on purpose: it hands the body to `process_command` and maps the decision to an ack,
a delayed nak or a term. Adding provisioner processes on the same durable scales out.
"""

from __future__ import annotations

import msgspec
from faststream import AckPolicy
from faststream.nats import NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy

from storeplane_contracts import subjects
from storeplane_contracts.queries import CredentialsReply, RevealCredentials
from storeplane_provisioner.handlers import reveal_credentials
from storeplane_provisioner.processing import Dependencies, Outcome, process_command
from storeplane_runtime.bus import STORES_STREAM


def work_queue_consumer(*, max_in_flight: int, ack_wait: float) -> ConsumerConfig:
    """The provisioners' shared durable consumer: every command, at most `max_in_flight` handed out
    across all provisioners (each one also limits itself, to its own concurrency)."""
    return ConsumerConfig(
        durable_name=subjects.PROVISIONER_DURABLE,
        filter_subjects=list(subjects.PROVISIONER_SUBJECTS),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=JsAckPolicy.EXPLICIT,
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

    @broker.subscriber(
        subjects.ALL_STORE_EVENTS,
        stream=STORES_STREAM,
        durable=subjects.PROVISIONER_DURABLE,
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        config=work_queue_consumer(max_in_flight=max_in_flight, ack_wait=ack_wait),
        ack_policy=AckPolicy.MANUAL,
        max_workers=concurrency,
    )
    async def on_command(msg: NatsMessage) -> None:
        decision = await process_command(
            msg.body, attempt=msg.raw_message.metadata.num_delivered or 1, heartbeat=msg.in_progress, deps=deps
        )
        if decision.outcome is Outcome.ACK:
            await msg.ack()
        elif decision.outcome is Outcome.RETRY:
            await msg.nack(delay=decision.delay)
        else:
            await msg.reject()
