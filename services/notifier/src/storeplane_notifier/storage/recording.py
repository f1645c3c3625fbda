"""The consumer's write: a store event's messages and the consumer's position in one transaction.

The position moves with the messages, so an event whose transaction committed is recognised when
it is redelivered (its ack was lost), and one whose transaction did not commit is recorded
when it comes again: killed at any moment, the notifier neither loses nor doubles a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec

from storeplane_notifier.messages import Planned, StoreFacts
from storeplane_notifier.storage import deliveries, endpoints
from storeplane_notifier.storage.pool import Connection, Pool


async def last_sequence(connection: Connection | Pool, consumer: str) -> int:
    value = await connection.fetchval("SELECT last_sequence FROM notifier_positions WHERE consumer = $1", consumer)
    return int(value or 0)


async def facts_of(connection: Connection, store_id: str) -> StoreFacts | None:
    value = await connection.fetchval("SELECT facts FROM notifier_store_facts WHERE store_id = $1", store_id)
    return None if value is None else msgspec.convert(value, StoreFacts)


async def record_event(
    pool: Pool,
    *,
    consumer: str,
    sequence: int,
    store_id: str,
    plan: Callable[[StoreFacts | None], Planned],
    owner_id: str,
    at: datetime,
    trace_context: dict[str, str],
) -> list[str] | None:
    """Record the event at `sequence`; the ids of the messages queued, or None when it was recorded before."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "INSERT INTO notifier_positions (consumer, last_sequence) VALUES ($1, 0) ON CONFLICT DO NOTHING", consumer
        )
        done = await connection.fetchval(
            "SELECT last_sequence FROM notifier_positions WHERE consumer = $1 FOR UPDATE", consumer
        )
        if sequence <= done:
            return None
        planned = plan(await facts_of(connection, store_id))
        await connection.execute(
            "INSERT INTO notifier_store_facts (store_id, facts) VALUES ($1, $2)"
            " ON CONFLICT (store_id) DO UPDATE SET facts = excluded.facts",
            store_id,
            msgspec.to_builtins(planned.facts),
        )
        queued: list[str] = []
        if planned.event_type is not None:
            for endpoint_id in await endpoints.subscribed(connection, owner_id, planned.event_type):
                message_id = await deliveries.insert_message(
                    connection,
                    endpoint_id=endpoint_id,
                    event_type=planned.event_type,
                    body=planned.body,
                    at=at,
                    trace_context=trace_context,
                    source_sequence=sequence,
                )
                if message_id is not None:
                    queued.append(message_id)
        await connection.execute(
            "UPDATE notifier_positions SET last_sequence = $2 WHERE consumer = $1", consumer, sequence
        )
        return queued


async def restart_from(pool: Pool, consumer: str, sequence: int) -> None:
    """Forget the position past `sequence`: the stream was recreated and counts from 1 again."""
    await pool.execute(
        "UPDATE notifier_positions SET last_sequence = $2 WHERE consumer = $1 AND last_sequence > $2",
        consumer,
        sequence,
    )
