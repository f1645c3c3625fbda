"""The connection to NATS JetStream: one broker per service, and the streams declared once.

Every service builds its broker here so that tracing (context in message headers) and the
streams' definitions cannot differ between them: STORES (every store event) and AUDIT (every
command given through the API, kept for `audit_retention_seconds`), each with `stream_replicas`
copies (three on a JetStream cluster: a publish is acknowledged once a majority stored it).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from typing import Any

from faststream.nats import JStream, NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.security import SASLPlaintext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError
from opentelemetry import trace

from storeplane_contracts import audit, subjects
from storeplane_contracts.events import Event, encode
from storeplane_runtime.settings import NatsLogin

# Subscribers refer to the stream through this object; they do not redeclare it.
STORES_STREAM = JStream(name=subjects.STREAM, declare=False)


# JetStream's error code for a missing stream (a missing message is 10037).
NO_SUCH_STREAM = 10059


def nats_servers(url: str) -> list[str]:
    """The servers in `STOREPLANE_NATS_URL`: one URL, or a cluster's URLs separated by commas."""
    return [server.strip() for server in url.split(",") if server.strip()]


def _kept_stream(name: str, stream_subjects: Sequence[str], replicas: int, **limits: Any) -> StreamConfig:
    """A file-backed stream with limits retention (not work-queue), deduplicated by message id, on
    `replicas` servers. Its durable consumers inherit the count (their `num_replicas` is left at 0)."""
    return StreamConfig(
        name=name,
        subjects=list(stream_subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=subjects.DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
        **limits,
    )


def stream_config(replicas: int = 1) -> StreamConfig:
    """Limits retention (not work-queue): the read models must be rebuildable by replay."""
    return _kept_stream(subjects.STREAM, subjects.STREAM_SUBJECTS, replicas, max_msgs_per_subject=-1)


async def ensure_stream(js: JetStreamContext, *, replicas: int = 1) -> None:
    """Create the stream, or bring an existing one to the declared configuration."""
    await _ensure(js, stream_config(replicas))


def audit_stream_config(
    max_age_seconds: float = subjects.AUDIT_RETENTION_SECONDS, *, replicas: int = 1
) -> StreamConfig:
    """The audit trail: append-only, file-backed, deduplicated by record id, aged out after `max_age_seconds`."""
    return _kept_stream(subjects.AUDIT_STREAM, subjects.AUDIT_STREAM_SUBJECTS, replicas, max_age=max_age_seconds)


async def ensure_audit_stream(
    js: JetStreamContext, *, max_age_seconds: float = subjects.AUDIT_RETENTION_SECONDS, replicas: int = 1
) -> None:
    await _ensure(js, audit_stream_config(max_age_seconds, replicas=replicas))


async def _ensure(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


# Each broker's inbox prefix, for the pull subscribers FastStream would otherwise fetch on `_INBOX.`.
_INBOXES: weakref.WeakKeyDictionary[NatsBroker, str] = weakref.WeakKeyDictionary()


def make_broker(url: str, *, service: str, login: NatsLogin | None = None, **options: Any) -> NatsBroker:
    """The service's broker; with `login`, connected as that NATS user (its password is never logged)."""
    if login is not None:
        options |= {"security": SASLPlaintext(login.user, login.secret()), "inbox_prefix": login.inbox_prefix}
    broker = _broker(url, service, options)
    _INBOXES[broker] = options.get("inbox_prefix", "_INBOX")
    return broker


def inbox_prefix_of(broker: NatsBroker) -> bytes:
    """Where `broker`'s pull subscribers receive their messages (`<prefix>.<nuid>`): its user's own inbox."""
    return (_INBOXES.get(broker, "_INBOX") + ".").encode()


def _broker(url: str, service: str, options: dict[str, Any]) -> NatsBroker:
    return NatsBroker(
        nats_servers(url),
        name=f"storeplane-{service}",
        middlewares=[NatsTelemetryMiddleware(tracer_provider=trace.get_tracer_provider())],
        max_reconnect_attempts=-1,
        # FastStream's per-message access lines are debugging detail; our handlers log outcomes.
        log_level=logging.DEBUG,
        **options,
    )


async def start_serving(broker: NatsBroker) -> None:
    """Start the subscribers and return once the server has them all: NATS orders nothing across
    connections, so without the flush a request sent right after a (re)start may find no responder."""
    await broker.start()
    await broker.connection.flush()


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


async def stream_has(js: JetStreamContext, subject: str) -> bool:
    """Whether the STORES stream holds a message on `subject` (a store's event of one type).

    Raises `NotFoundError` when the stream itself is missing: that is no answer, not a no.
    """
    try:
        await js.get_last_msg(subjects.STREAM, subject)
    except NotFoundError as exc:
        if exc.err_code == NO_SUCH_STREAM:
            raise
        return False
    return True


async def publish_audit(broker: NatsBroker, entry: audit.CommandAudited) -> int:
    """Store an audit record durably (deduplicated by its id) and return its AUDIT stream sequence."""
    ack = await broker.publish(
        audit.encode(entry),
        subjects.audit_subject(entry.action, entry.actor_id),
        headers={"Nats-Msg-Id": entry.event_id, "content-type": "application/json"},
        stream=subjects.AUDIT_STREAM,
    )
    return int(ack.seq)
