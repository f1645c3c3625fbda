"""Stream tickets in Postgres: single use across every gateway process, because claiming one is a
single `DELETE ... RETURNING` of its row, which exactly one of concurrent claims wins.

Only the ticket's SHA-256 hash is stored, with the principal it authenticates and its expiry;
expired tickets are deleted as new ones are issued, so the table holds about a minute's worth.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import msgspec

from storeplane_gateway.adapters.postgres.pool import unavailable_when_down
from storeplane_gateway.domain.principals import Principal


class PostgresStreamTickets:
    """`StreamTickets` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def issue(self, ticket_hash: str, principal: Principal, *, ttl: float) -> None:
        with unavailable_when_down():
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("DELETE FROM gateway_stream_tickets WHERE expires_at < now()")
                await conn.execute(
                    "INSERT INTO gateway_stream_tickets (ticket_hash, principal, expires_at) "
                    "VALUES ($1, $2, now() + $3::interval)",
                    ticket_hash,
                    msgspec.json.encode(principal).decode(),
                    timedelta(seconds=ttl),
                )

    async def claim(self, ticket_hash: str) -> Principal | None:
        with unavailable_when_down():
            principal = await self._pool.fetchval(
                "DELETE FROM gateway_stream_tickets WHERE ticket_hash = $1 AND expires_at >= now() RETURNING principal",
                ticket_hash,
            )
        return None if principal is None else msgspec.json.decode(principal, type=Principal)
