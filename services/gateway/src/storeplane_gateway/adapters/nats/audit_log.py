"""The audit trail on JetStream: records are published to the AUDIT stream and read back from it.

Reading is newest first without a database of its own: the stream's last sequence is known, so
the reader takes a window of sequences just below it (or below `before`, for a later page) with a
short-lived pull consumer (filtered on `audit.<action>.<actor>` when asked), and moves the window
down until it has `limit` records or reaches the start. Each record comes with its sequence, where
the next page starts. A pull consumer says how many matching records remain before anything is
fetched, so an empty window costs no waiting.
"""

from __future__ import annotations

import contextlib

import msgspec
import nats.errors
import structlog
from faststream.exceptions import IncorrectState
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from storeplane_contracts import audit, subjects
from storeplane_contracts.audit import CommandAudited
from storeplane_contracts.events import new_id
from storeplane_gateway.adapters.nats.bus import NatsBus
from storeplane_gateway.domain.errors import BusUnavailable
from storeplane_gateway.ports import AuditRecord

log = structlog.get_logger(__name__)

# Sequences scanned per step when a filter may skip records.
WINDOW = 1000
FETCH_BATCH = 256


class NatsAuditLog:
    """`AuditLog` on the gateway's NATS connection."""

    def __init__(self, bus: NatsBus, *, fetch_timeout: float = 5.0) -> None:
        self._bus = bus
        self._fetch_timeout = fetch_timeout

    async def record(self, entry: CommandAudited) -> None:
        await self._bus.publish_audit(entry)

    async def recent(
        self, *, limit: int, action: str | None = None, actor_id: str | None = None, before: int | None = None
    ) -> list[AuditRecord]:
        js = self._bus.jetstream()
        try:
            info = await js.stream_info(subjects.AUDIT_STREAM)
            first, last = int(info.state.first_seq), int(info.state.last_seq)
            if info.state.messages == 0 or limit <= 0:
                return []
            subject = subjects.audit_filter(action=action, actor_id=actor_id)
            window = limit if action is None and actor_id is None else max(WINDOW, limit)
            found: list[AuditRecord] = []  # newest first
            end = last if before is None else min(last, before - 1)
            while end >= first and len(found) < limit:
                start = max(first, end - window + 1)
                found.extend(reversed(await self._read(js, subject, start, end)))
                end = start - 1
            return found[:limit]
        except (nats.errors.Error, IncorrectState, OSError, TimeoutError) as exc:
            raise BusUnavailable(f"the {subjects.AUDIT_STREAM} stream cannot be read: {exc!r}") from exc

    async def _read(self, js: JetStreamContext, subject: str, start: int, end: int) -> list[AuditRecord]:
        """The records of `subject` with sequences `start..end`, oldest first."""
        name = f"gateway-audit-reader-{new_id()}"
        config = ConsumerConfig(
            name=name,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=30.0,  # the server removes it should we not
            mem_storage=True,
        )
        consumer = await js.pull_subscribe(subject, stream=subjects.AUDIT_STREAM, config=config)
        try:
            info = await consumer.consumer_info()
            remaining = int(info.num_pending or 0)
            records: list[AuditRecord] = []
            while remaining > 0:
                messages = await consumer.fetch(min(remaining, FETCH_BATCH), timeout=self._fetch_timeout)
                remaining -= len(messages)
                for message in messages:
                    sequence = message.metadata.sequence.stream
                    if sequence > end:
                        return records
                    try:
                        records.append(AuditRecord(sequence, audit.decode(message.data)))
                    except msgspec.DecodeError:
                        log.warning("audit.undecodable_record", sequence=message.metadata.sequence.stream)
            return records
        finally:
            with contextlib.suppress(nats.errors.Error, NotFoundError, TimeoutError):
                await consumer.unsubscribe()
                await js.delete_consumer(subjects.AUDIT_STREAM, name)
