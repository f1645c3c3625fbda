"""Idempotency keys in Postgres (asyncpg): one row per caller, operation and key.

A claim is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE <the row is free>`: a new key is
inserted, an expired or abandoned one is taken over in place, and a live one is left alone (and
read back to say what holds it). Postgres lets exactly one of concurrent claims of a key insert
or take it over; the others wait on the row and then find it held. Each claim gets its own id,
so that a late `complete` or `release` of a claim that was taken over changes nothing.
Expired rows are deleted a few at a time whenever a key is claimed.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import msgspec

from storeplane_gateway.adapters.postgres.pool import unavailable_when_down
from storeplane_gateway.domain.idempotency import IdempotencyKey, KeyClaimed, KeyHeld, StoredResponse

# Expired rows deleted per claim: enough to keep up with the claims, few enough to stay quick.
_PURGE_BATCH = 100
# A row seen held but gone when read back (released in between) is claimed again; not forever.
_CLAIM_ATTEMPTS = 3

_CLAIM = """
INSERT INTO gateway_idempotency_keys AS k (principal_id, operation, key, fingerprint, claim_id, state)
VALUES ($1, $2, $3, $4, $5, 'pending')
ON CONFLICT (principal_id, operation, key) DO UPDATE SET
    fingerprint = EXCLUDED.fingerprint, claim_id = EXCLUDED.claim_id, state = 'pending',
    status_code = NULL, headers = NULL, body = NULL, target = NULL, created_at = now()
WHERE k.created_at < now() - $6::interval OR (k.state = 'pending' AND k.created_at < now() - $7::interval)
RETURNING true
"""
_HOLDER = """
SELECT fingerprint, state, status_code, headers, body, target FROM gateway_idempotency_keys
WHERE principal_id = $1 AND operation = $2 AND key = $3
"""
_PURGE = """
DELETE FROM gateway_idempotency_keys WHERE (principal_id, operation, key) IN (
    SELECT principal_id, operation, key FROM gateway_idempotency_keys
    WHERE created_at < now() - $1::interval LIMIT $2 FOR UPDATE SKIP LOCKED
)
"""
_COMPLETE = """
UPDATE gateway_idempotency_keys
SET state = 'completed', status_code = $5, headers = $6::jsonb, body = $7, target = $8
WHERE principal_id = $1 AND operation = $2 AND key = $3 AND claim_id = $4 AND state = 'pending'
RETURNING true
"""
_RELEASE = """
DELETE FROM gateway_idempotency_keys
WHERE principal_id = $1 AND operation = $2 AND key = $3 AND claim_id = $4 AND state = 'pending'
RETURNING true
"""


def _held(row: asyncpg.Record) -> KeyHeld:
    if row["state"] != "completed":
        return KeyHeld(fingerprint=row["fingerprint"], response=None)
    response = StoredResponse(
        status_code=row["status_code"],
        headers=msgspec.json.decode(row["headers"], type=dict[str, str]),
        body=bytes(row["body"]),
        target=row["target"] or "",
    )
    return KeyHeld(fingerprint=row["fingerprint"], response=response)


class PostgresIdempotencyKeys:
    """`IdempotencyKeys` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, key: IdempotencyKey, fingerprint: str, *, ttl: float, lease: float) -> KeyClaimed | KeyHeld:
        scope = (key.principal_id, key.operation, key.key)
        ttl_interval = timedelta(seconds=ttl)
        with unavailable_when_down():
            for _attempt in range(_CLAIM_ATTEMPTS):
                token = uuid.uuid4()
                if await self._pool.fetchval(
                    _CLAIM, *scope, fingerprint, token, ttl_interval, timedelta(seconds=lease)
                ):
                    await self._pool.execute(_PURGE, ttl_interval, _PURGE_BATCH)
                    return KeyClaimed(token=str(token))
                if (row := await self._pool.fetchrow(_HOLDER, *scope)) is not None:
                    return _held(row)
        # Claimed and released again each time we looked: as good as in flight.
        return KeyHeld(fingerprint=fingerprint, response=None)

    async def complete(self, key: IdempotencyKey, token: str, response: StoredResponse) -> bool:
        with unavailable_when_down():
            done = await self._pool.fetchval(
                _COMPLETE,
                key.principal_id,
                key.operation,
                key.key,
                uuid.UUID(token),
                response.status_code,
                msgspec.json.encode(response.headers).decode(),
                response.body,
                response.target,
            )
        return bool(done)

    async def release(self, key: IdempotencyKey, token: str) -> bool:
        with unavailable_when_down():
            released = await self._pool.fetchval(_RELEASE, key.principal_id, key.operation, key.key, uuid.UUID(token))
        return bool(released)
