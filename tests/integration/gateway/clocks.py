"""A clock the contract tests move instead of sleeping, on both sides of a contract.

The in-memory adapters take a clock function. The Postgres adapters ask the database for `now()`,
so the database gets the clock: a `test_clock.now()` that is the server's `now()` plus a shift kept
in a table, found before `pg_catalog.now()` because the pool's `search_path` names `test_clock`
before `pg_catalog` (with `public` first, so the adapters' tables stay where they would be). The
adapters' SQL is unchanged; only the time it reads moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

# Found before pg_catalog's functions, after the adapters' own tables (public).
SEARCH_PATH = "public, test_clock, pg_catalog"

_CLOCK_SQL = """
CREATE SCHEMA IF NOT EXISTS test_clock;
CREATE TABLE IF NOT EXISTS test_clock.shift (seconds double precision NOT NULL);
INSERT INTO test_clock.shift SELECT 0 WHERE NOT EXISTS (SELECT FROM test_clock.shift);
CREATE OR REPLACE FUNCTION test_clock.now() RETURNS timestamptz LANGUAGE sql STABLE AS
$$ SELECT pg_catalog.now() + make_interval(secs => (SELECT seconds FROM test_clock.shift)) $$;
"""


class ManualClock:
    """Seconds that move only when a test moves them; call it for the time, as `time.monotonic`."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def pool_on_a_moving_clock(database_url: str, **options: Any) -> AsyncIterator[asyncpg.Pool]:
    """A pool whose `now()` is `test_clock.now()`; move it with `advance_database_clock`."""
    setup = await asyncpg.connect(database_url)
    try:
        await setup.execute(_CLOCK_SQL)
    finally:
        await setup.close()
    pool = await asyncpg.create_pool(database_url, server_settings={"search_path": SEARCH_PATH}, **options)
    try:
        yield pool
    finally:
        await pool.close()


async def advance_database_clock(pool: asyncpg.Pool, seconds: float) -> None:
    """Move the database's `now()` forward by `seconds`, for every connection of `pool`."""
    await pool.execute("UPDATE test_clock.shift SET seconds = seconds + $1", seconds)
