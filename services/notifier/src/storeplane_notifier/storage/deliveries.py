"""The `webhook_messages` and `webhook_attempts` tables: what is to be delivered, and every try.

A message is `pending` while an attempt is due or scheduled (`next_attempt_at`); an instance
about to try it takes a lease (`lease_until`) in a short transaction with `FOR UPDATE SKIP
LOCKED`, so two notifiers never try the same message at once, and a notifier killed mid-attempt
leaves a lease that simply runs out: the message is tried again (at-least-once).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from storeplane_contracts.webhooks import AttemptView, DeliveryKey, DeliveryStatus, MessageView
from storeplane_notifier.storage.pool import Connection, Pool

_MESSAGE_COLUMNS = "id, endpoint_id, event_type, status, created_at, next_attempt_at, body"


@dataclasses.dataclass(frozen=True)
class DueMessage:
    """A leased message, with what an attempt needs of it."""

    id: str
    endpoint_id: str
    body: bytes
    trace_context: dict[str, str]
    failed_attempts: int


@dataclasses.dataclass(frozen=True)
class AttemptRecord:
    """One attempt, as it is stored."""

    attempted_at: datetime
    status_code: int | None
    error: str
    latency_ms: float
    response_body: str
    succeeded: bool


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


async def insert_message(
    connection: Pool | Connection,
    *,
    endpoint_id: str,
    event_type: str,
    body: bytes,
    at: datetime,
    trace_context: dict[str, str],
    source_sequence: int | None = None,
) -> str | None:
    """Queue a message due now; None when this stream sequence is already recorded for the endpoint."""
    result: str | None = await connection.fetchval(
        """
        INSERT INTO webhook_messages
            (id, endpoint_id, event_type, source_sequence, body, trace_context, status, created_at, next_attempt_at)
        VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)
        ON CONFLICT (endpoint_id, source_sequence) DO NOTHING RETURNING id
        """,
        new_message_id(),
        endpoint_id,
        event_type,
        source_sequence,
        body.decode(),
        trace_context,
        at,
    )
    return result


async def claim_due(
    pool: Pool, *, busy: Sequence[str], limit: int, at: datetime, lease_until: datetime
) -> list[tuple[str, str]]:
    """Lease the earliest due message of up to `limit` endpoints not in `busy`: (endpoint id, message id) pairs."""
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(
            """
            SELECT m.id, m.endpoint_id FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id
            WHERE m.status = 'pending' AND m.next_attempt_at <= $1 AND (m.lease_until IS NULL OR m.lease_until < $1)
              AND e.enabled AND NOT (m.endpoint_id = ANY($2::text[]))
            ORDER BY m.next_attempt_at, m.created_at LIMIT $3
            FOR UPDATE OF m SKIP LOCKED
            """,
            at,
            list(busy),
            limit * 4,  # several may belong to one endpoint; one per endpoint is taken
        )
        chosen: dict[str, str] = {}
        for row in rows:
            chosen.setdefault(row["endpoint_id"], row["id"])
        taken = list(chosen.items())[:limit]
        await connection.execute(
            "UPDATE webhook_messages SET lease_until = $2 WHERE id = ANY($1::text[])",
            [m for _, m in taken],
            lease_until,
        )
        return taken


async def leased(pool: Pool, message_id: str) -> DueMessage | None:
    record = await pool.fetchrow(
        "SELECT id, endpoint_id, body, trace_context, failed_attempts FROM webhook_messages"
        " WHERE id = $1 AND status = 'pending'",
        message_id,
    )
    if record is None:
        return None
    return DueMessage(
        record["id"],
        record["endpoint_id"],
        record["body"].encode(),
        dict(record["trace_context"]),
        record["failed_attempts"],
    )


async def record_attempt(connection: Connection, message_id: str, attempt: AttemptRecord) -> None:
    await connection.execute(
        """
        INSERT INTO webhook_attempts
            (message_id, attempted_at, status_code, error, latency_ms, response_body, succeeded)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        message_id,
        *dataclasses.astuple(attempt),
    )


async def settle(
    connection: Connection,
    message_id: str,
    *,
    status: DeliveryStatus,
    failed_attempts: int,
    next_attempt_at: datetime | None,
) -> None:
    await connection.execute(
        """
        UPDATE webhook_messages SET status = $2, failed_attempts = $3, next_attempt_at = $4, lease_until = NULL
        WHERE id = $1
        """,
        message_id,
        status,
        failed_attempts,
        next_attempt_at,
    )


async def fail_pending(connection: Connection, endpoint_id: str) -> int:
    """Stop every pending message of a disabled endpoint; how many there were."""
    result = await connection.execute(
        "UPDATE webhook_messages SET status = 'failed', next_attempt_at = NULL, lease_until = NULL"
        " WHERE endpoint_id = $1 AND status = 'pending'",
        endpoint_id,
    )
    return int(result.split()[-1])


async def requeue(
    pool: Pool, endpoint_id: str, *, at: datetime, message_id: str | None = None, since: datetime | None = None
) -> list[str]:
    """Make one message (any status), or every failed one created since `since`, due now with a fresh schedule."""
    condition = "id = $3" if message_id is not None else "status = 'failed' AND created_at >= $3"
    rows = await pool.fetch(
        f"""
        UPDATE webhook_messages SET status = 'pending', failed_attempts = 0, next_attempt_at = $2, lease_until = NULL
        WHERE endpoint_id = $1 AND {condition} RETURNING id
        """,
        endpoint_id,
        at,
        message_id if message_id is not None else since,
    )
    return [r["id"] for r in rows]


async def page(
    pool: Pool,
    endpoint_id: str,
    *,
    status: DeliveryStatus | None,
    limit: int,
    before: datetime | None,
    after: DeliveryKey | None = None,
) -> list[MessageView]:
    """The endpoint's messages, newest first, each with its attempts oldest first: at most `limit`, older than
    `after` (a keyset read on `webhook_messages_endpoint_created_id_idx`) and created before `before`."""
    after_condition = (
        "(created_at, id) < ($5, $6)" if after is not None else "$5::timestamptz IS NULL AND $6::text IS NULL"
    )
    rows = await pool.fetch(
        f"""
        SELECT {_MESSAGE_COLUMNS} FROM webhook_messages
        WHERE endpoint_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::timestamptz IS NULL OR created_at < $3)
            AND {after_condition}
        ORDER BY created_at DESC, id DESC LIMIT $4
        """,
        endpoint_id,
        status,
        before,
        limit,
        None if after is None else after.created_at,
        None if after is None else after.id,
    )
    attempts = await attempts_of(pool, [r["id"] for r in rows])
    return [message_view(r, attempts.get(r["id"], [])) for r in rows]


async def one(pool: Pool, endpoint_id: str, message_id: str) -> MessageView | None:
    record = await pool.fetchrow(
        f"SELECT {_MESSAGE_COLUMNS} FROM webhook_messages WHERE id = $1 AND endpoint_id = $2", message_id, endpoint_id
    )
    if record is None:
        return None
    return message_view(record, (await attempts_of(pool, [message_id])).get(message_id, []))


async def attempts_of(pool: Pool, message_ids: list[str]) -> dict[str, list[AttemptView]]:
    rows = await pool.fetch(
        """
        SELECT message_id, attempted_at, status_code, error, latency_ms, response_body, succeeded
        FROM webhook_attempts WHERE message_id = ANY($1::text[]) ORDER BY attempted_at, id
        """,
        message_ids,
    )
    found: dict[str, list[AttemptView]] = {}
    for r in rows:
        values = {name: r[name] for name in AttemptView.__struct_fields__}
        found.setdefault(r["message_id"], []).append(AttemptView(**values))
    return found


def message_view(record: asyncpg.Record, attempts: list[AttemptView]) -> MessageView:
    payload: dict[str, Any] = msgspec.json.decode(record["body"])
    return MessageView(
        id=record["id"],
        endpoint_id=record["endpoint_id"],
        event_type=record["event_type"],
        status=record["status"],
        created_at=record["created_at"],
        next_attempt_at=record["next_attempt_at"],
        payload=payload,
        attempts=attempts,
    )
