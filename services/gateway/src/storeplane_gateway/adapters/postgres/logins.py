"""Failed logins per email in Postgres (asyncpg), which slow password guessing down.

The first `free_failures` failures cost nothing; after that each one makes the next attempt for
that email wait twice as long as the last (1 s, 2 s, 4 s, ... up to `max_delay` seconds). The
count is per email, known or not, so the throttle reveals nothing about which accounts exist;
a successful login, or a day without failures, clears it. Kept in Postgres so that every gateway
replica counts the same failures.

An attempt is claimed before its password is checked, in one statement that both checks the
wait and counts the attempt as a failure (a success clears it afterwards). Concurrent guesses
therefore queue on the email's row: once the free failures are used up, the next claim sets a
wait and every later one is refused, however many arrive at once. A check, then a count after
the password was verified, would let them all through.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from storeplane_gateway.adapters.postgres.pool import unavailable_when_down
from storeplane_gateway.domain.sessions import LoginClaim

# Failures older than this no longer count.
FORGET_AFTER = timedelta(days=1)
# Seconds a refused attempt is told to wait at least (its wait ended as it was refused).
MIN_RETRY_AFTER = 1.0

# When the next attempt may come after n failures (see `delay_after`), in SQL: NULL for at once.
_BLOCKED_UNTIL = (
    "CASE WHEN {n} > $3 THEN now() + make_interval(secs => least(power(2, least({n} - $3 - 1, 30)), $4)) END"
)

# Take the attempt unless the email must wait: insert the first failure, or count one more (from 1
# again once the last is older than FORGET_AFTER) and set the wait it will cause. ON CONFLICT locks
# the row and checks its newest version, so concurrent claims see each other's. No row back: refused.
# (No wait is NULL, not now(): a claim that queued on the lock has an earlier now() than the wait.)
_CLAIM = f"""
INSERT INTO gateway_login_failures AS f (email, failures, blocked_until, last_failure_at)
VALUES ($1, 1, {_BLOCKED_UNTIL.format(n=1)}, now())
ON CONFLICT (email) DO UPDATE SET (failures, blocked_until, last_failure_at) = (
    SELECT next.n, {_BLOCKED_UNTIL.format(n="next.n")}, now()
    FROM (SELECT CASE WHEN f.last_failure_at < now() - $2::interval THEN 1 ELSE f.failures + 1 END AS n) AS next
)
WHERE f.blocked_until IS NULL OR f.blocked_until <= now()
RETURNING coalesce(extract(epoch FROM blocked_until - now()), 0)
"""


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

    async def claim(self, email: str) -> LoginClaim:
        with unavailable_when_down():
            async with self._pool.acquire() as conn:
                delay = await conn.fetchval(_CLAIM, email, FORGET_AFTER, self._free_failures, self._max_delay)
                if delay is None:
                    wait = await conn.fetchval(
                        "SELECT extract(epoch FROM blocked_until - now()) FROM gateway_login_failures WHERE email = $1",
                        email,
                    )
                    return LoginClaim(retry_after=max(MIN_RETRY_AFTER, float(wait or 0)))
                await conn.execute(
                    "DELETE FROM gateway_login_failures WHERE last_failure_at < now() - $1::interval", FORGET_AFTER
                )
        return LoginClaim(delay_if_failed=max(0.0, float(delay)))

    async def succeeded(self, email: str) -> None:
        with unavailable_when_down():
            await self._pool.execute("DELETE FROM gateway_login_failures WHERE email = $1", email)
