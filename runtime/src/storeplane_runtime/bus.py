"""The connection to NATS JetStream: one broker per service, and the STORES stream declared once.

Every service builds its broker here so that tracing (context in message headers) and the
stream's definition cannot differ between them.
"""

from __future__ import annotations

import logging
from typing import Any

from faststream.nats import JStream, NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError
from opentelemetry import trace

from storeplane_contracts import subjects
from storeplane_contracts.events import Event, encode

# Subscribers refer to the stream through this object; they do not redeclare it.
STORES_STREAM = JStream(name=subjects.STREAM, declare=False)


def stream_config() -> StreamConfig:
    """Limits retention (not work-queue): the read models must be rebuildable by replay."""
    return StreamConfig(
        name=subjects.STREAM,
        subjects=list(subjects.STREAM_SUBJECTS),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=subjects.DUPLICATE_WINDOW_SECONDS,
        max_msgs_per_subject=-1,
    )


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the stream, or bring an existing one to the declared configuration."""
    config = stream_config()
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


def make_broker(url: str, *, service: str, **options: Any) -> NatsBroker:
    return NatsBroker(
        url,
        name=f"storeplane-{service}",
        middlewares=[NatsTelemetryMiddleware(tracer_provider=trace.get_tracer_provider())],
        max_reconnect_attempts=-1,
        # FastStream's per-message access lines are debugging detail; our handlers log outcomes.
        log_level=logging.DEBUG,
        **options,
    )


async def publish_event(broker: NatsBroker, event: Event) -> int:
    """Publish durably and return the stream sequence once JetStream has stored the event.

    The event id is the message id, so a retried publish is deduplicated by the server.
    """
    ack = await broker.publish(
        encode(event),
        subjects.subject_for(event),
        headers={"Nats-Msg-Id": event.event_id, "content-type": "application/json"},
        stream=subjects.STREAM,
    )
    return int(ack.seq)
