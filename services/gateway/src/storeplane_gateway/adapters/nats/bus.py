"""The gateway's one NATS connection: connected in the background, used to publish and to ask.

The broker from `storeplane_runtime.bus.make_broker` reconnects forever, so connecting is a
background task: the gateway serves `/health` at once, `/ready` says 503 until NATS is
connected and the STORES and AUDIT streams ensured (and the gateway's own subscribers, such as
the one that frees quota slots, started), and requests that need the bus get a 503
`bus_unavailable` meanwhile instead of hanging. A publish is only reported as done once
JetStream acknowledged it; an ack that times out is retried with the same message id, which
the server deduplicates. A publish that fails tells a certain failure (`BusUnavailable`: never
sent, or refused) from an uncertain one (`PublishUnconfirmed`: an ack timed out, so the event
may be stored), because a store's quota slot is given back only after a certain one.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats.errors
import nats.js.errors
import structlog
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from nats.js.client import JetStreamContext
from opentelemetry import propagate

from storeplane_contracts import subjects
from storeplane_contracts.audit import CommandAudited
from storeplane_contracts.events import Event
from storeplane_gateway.adapters.nats.request_reply import NoReply
from storeplane_gateway.domain.errors import BusUnavailable, PublishUnconfirmed
from storeplane_runtime.bus import (
    ensure_audit_stream,
    ensure_stream,
    publish_audit,
    publish_event,
    stream_has,
)

log = structlog.get_logger(__name__)


# Failures that leave no doubt: the message was never sent, or the server answered that it did not store it.
_NOT_SENT: tuple[type[Exception], ...] = (
    BusUnavailable,  # we are not connected
    IncorrectState,  # FastStream has no connection
    nats.errors.ConnectionClosedError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,  # no stream takes the subject
    nats.js.errors.APIError,  # JetStream's refusal
)


# What a stream answers while it has no leader (or its ack was lost): worth a retry with the same id.
_LEADERLESS: tuple[type[Exception], ...] = (
    nats.js.errors.NoStreamResponseError,
    nats.errors.NoRespondersError,
    nats.errors.TimeoutError,
    TimeoutError,
)


def _unconfirmed(attempts: list[str], last: BaseException) -> PublishUnconfirmed:
    return PublishUnconfirmed(f"JetStream did not confirm the publish ({', '.join(attempts)}; then {last!r})")


class NatsBus:
    """`Bus` on a FastStream NATS broker, plus request-reply for the status client."""

    def __init__(
        self,
        broker: NatsBroker,
        *,
        publish_attempts: int = 3,
        retry_delay: float = 1.0,
        probe_timeout: float = 2.0,
        audit_retention_seconds: float = subjects.AUDIT_RETENTION_SECONDS,
        stream_replicas: int = 1,
    ) -> None:
        self._broker = broker
        self._audit_retention_seconds = audit_retention_seconds
        self._stream_replicas = stream_replicas
        self._probe_timeout = probe_timeout
        self._publish_attempts = publish_attempts
        self._retry_delay = retry_delay
        self._stream_ready = False
        self._connecting: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        self._connecting = asyncio.create_task(self._connect(), name="storeplane-gateway-bus-connect")

    async def stop(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        self._stream_ready = False
        try:
            connection = self._broker.connection
        except IncorrectState:
            connection = None  # never connected
        try:
            await self._broker.stop()  # drains: in-flight publishes finish first
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            # Draining needs a live connection (it fails while reconnecting): close without it.
            log.warning("bus.drain_failed", error=repr(exc))
            if connection is not None:
                with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
                    await connection.close()

    @property
    def nats_connected(self) -> bool:
        try:
            return bool(self._broker.connection.is_connected)
        except IncorrectState:
            return False

    @property
    def connected(self) -> bool:
        """Connected to NATS and the STORES stream exists (as far as we know)."""
        return self._stream_ready and self.nats_connected

    async def problem(self) -> str | None:
        """None if NATS is connected and the STORES stream exists; else what is wrong."""
        if not self.connected:
            return "not connected"
        try:
            await self._broker.connection.jetstream(timeout=self._probe_timeout).stream_info(subjects.STREAM)
        except (nats.errors.Error, IncorrectState, OSError, TimeoutError) as exc:
            return f"stream {subjects.STREAM} not available ({type(exc).__name__})"
        return None

    async def publish(self, event: Event) -> int:
        """The stream sequence of the stored event. `BusUnavailable` when it was certainly not stored (no
        connection, no stream, refused by the server); `PublishUnconfirmed` when an attempt's ack timed out,
        so that the event may be stored all the same."""
        unconfirmed: list[str] = []  # attempts whose ack timed out: the event may be on the stream
        for _attempt in range(self._publish_attempts):
            try:
                if not self.connected:
                    raise BusUnavailable("not connected to NATS")
                return await publish_event(self._broker, event)
            except (nats.errors.TimeoutError, TimeoutError) as exc:
                # The event may be stored and only the ack lost: repeat with the same message id.
                log.warning("bus.publish_ack_timeout", event_id=event.event_id, error=repr(exc))
                unconfirmed.append(repr(exc))
            except _NOT_SENT as exc:
                if unconfirmed:
                    raise _unconfirmed(unconfirmed, exc) from exc
                raise BusUnavailable(f"publish failed: {exc!r}") from exc
            except (nats.errors.Error, OSError) as exc:  # lost on the way, or its ack: unknown
                raise _unconfirmed([*unconfirmed, repr(exc)], exc) from exc
        raise PublishUnconfirmed(f"JetStream did not acknowledge after {self._publish_attempts} attempts")

    async def publish_audit(self, entry: CommandAudited) -> int:
        """Store an audit record on the AUDIT stream; raises BusUnavailable. A stream without a leader
        for a moment (a JetStream cluster electing one after a node's loss answers "no responders") or
        an ack that timed out is tried again, with the same record id, `publish_attempts` times."""
        for attempt in range(1, self._publish_attempts + 1):
            if not self.connected:
                raise BusUnavailable("not connected to NATS")
            try:
                return await publish_audit(self._broker, entry)
            except _LEADERLESS as exc:
                if attempt == self._publish_attempts:
                    raise BusUnavailable(f"audit publish failed: {exc!r}") from exc
                log.info("bus.audit_publish_retried", event_id=entry.event_id, error=repr(exc))
                await asyncio.sleep(self._retry_delay)
            except (nats.errors.Error, IncorrectState, OSError, TimeoutError) as exc:
                raise BusUnavailable(f"audit publish failed: {exc!r}") from exc
        raise BusUnavailable("audit publish was not tried")  # publish_attempts < 1

    def jetstream(self) -> JetStreamContext:
        """The JetStream context of the live connection; raises BusUnavailable while disconnected."""
        if not self.connected:
            raise BusUnavailable("not connected to NATS")
        return self._broker.connection.jetstream(timeout=self._probe_timeout)

    async def last_sequence(self) -> int:
        if not self.connected:
            raise BusUnavailable("not connected to NATS")
        try:
            info = await self._broker.connection.jetstream(timeout=self._probe_timeout).stream_info(subjects.STREAM)
        except (nats.errors.Error, IncorrectState, OSError, TimeoutError) as exc:
            raise BusUnavailable(f"stream {subjects.STREAM} not available: {exc!r}") from exc
        return int(info.state.last_seq)

    async def holds(self, subject: str) -> bool:
        """Whether the STORES stream holds a message on `subject` (its last one, looked up by subject)."""
        try:
            return await stream_has(self.jetstream(), subject)
        except nats.js.errors.NotFoundError as exc:
            raise BusUnavailable(f"stream {subjects.STREAM} not found") from exc
        except (nats.errors.Error, IncorrectState, OSError, TimeoutError) as exc:
            raise BusUnavailable(f"looking up {subject} on {subjects.STREAM} failed: {exc!r}") from exc

    async def request(self, subject: str, payload: bytes, *, max_wait: float) -> bytes:
        """Send a request and return the reply's body; raises BusUnavailable or NoReply."""
        if not self.nats_connected:
            raise BusUnavailable("not connected to NATS")
        # nats-py's own request (one shared reply subscription on this user's inbox), not FastStream's:
        # the broker's request path, with its telemetry middleware, was a quarter of the gateway's time
        # on a store read (docs/performance.md). The trace still reaches the status service in the headers.
        headers: dict[str, str] = {}
        propagate.inject(headers)
        try:
            reply = await self._broker.connection.request(subject, payload, timeout=max_wait, headers=headers or None)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError, TimeoutError) as exc:
            raise NoReply(f"no reply on {subject} within {max_wait}s ({type(exc).__name__})") from exc
        except (nats.errors.Error, IncorrectState, OSError) as exc:
            raise BusUnavailable(f"request on {subject} failed: {exc!r}") from exc
        return bytes(reply.data)

    async def _connect(self) -> None:
        try:
            await self._broker.connect()
            while True:
                try:
                    js = self._broker.connection.jetstream()
                    await ensure_stream(js, replicas=self._stream_replicas)
                    await ensure_audit_stream(
                        js, max_age_seconds=self._audit_retention_seconds, replicas=self._stream_replicas
                    )
                    await self._broker.start()  # the subscribers registered by the composition root
                    break
                except (nats.errors.Error, TimeoutError) as exc:
                    log.warning("bus.ensure_stream_failed", error=repr(exc))
                    await asyncio.sleep(self._retry_delay)
        except Exception:  # an unrecoverable error (bad credentials, ...): stay unready, say why
            log.exception("bus.connect_failed")
            return
        self._stream_ready = True
        log.info("bus.connected")
