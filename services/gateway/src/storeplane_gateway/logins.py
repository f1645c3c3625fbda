"""Failed logins per email in Postgres (asyncpg), which slow password guessing down.

The first `free_failures` failures cost nothing; after that each one makes the next attempt for
that email wait twice as long as the last (1 s, 2 s, 4 s, ... up to `max_delay` seconds). The
count is per email, known or not, so the throttle reveals nothing about which accounts exist;
a successful login, or a day without failures, clears it. Kept in Postgres so that every gateway
replica counts the same failures.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from storeplane_gateway.database import unavailable_when_down

# Failures older than this no longer count.
FORGET_AFTER = timedelta(days=1)


def delay_after(failures: int, *, free_failures: int, max_delay: float) -> float:
    """Seconds the next attempt must wait after `failures` consecutive failures."""
    if failures <= free_failures:
        return 0.0
    return float(min(2 ** min(failures - free_failures - 1, 30), max_delay))


class PostgresLoginThrottle:
    """`LoginThrottle` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool, *, free_failures: int, max_delay: float) -> None:
        self._pool = pool
        self._free_failures = free_failures
        self._max_delay = max_delay

    async def blocked_for(self, email: str) -> float:
        with unavailable_when_down():
            seconds = await self._pool.fetchval(
                "SELECT extract(epoch FROM blocked_until - now()) FROM gateway_login_failures WHERE email = $1",
                email,
            )
        return max(0.0, float(seconds or 0))

    async def failed(self, email: str) -> float:
        with unavailable_when_down():
            async with self._pool.acquire() as conn, conn.transaction():
                failures = await conn.fetchval(
                    """
                    INSERT INTO gateway_login_failures AS f (email, failures) VALUES ($1, 1)
                    ON CONFLICT (email) DO UPDATE SET
                        failures = CASE WHEN f.last_failure_at < now() - $2::interval THEN 1 ELSE f.failures + 1 END,
                        last_failure_at = now()
                    RETURNING failures
                    """,
                    email,
                    FORGET_AFTER,
                )
                delay = delay_after(failures, free_failures=self._free_failures, max_delay=self._max_delay)
                await conn.execute(
                    "UPDATE gateway_login_failures SET blocked_until = now() + $2::interval WHERE email = $1",
                    email,
                    timedelta(seconds=delay),
                )
                await conn.execute(
                    "DELETE FROM gateway_login_failures WHERE last_failure_at < now() - $1::interval", FORGET_AFTER
                )
        return delay

    async def succeeded(self, email: str) -> None:
        with unavailable_when_down():
            await self._pool.execute("DELETE FROM gateway_login_failures WHERE email = $1", email)
