"""What every Postgres adapter of the gateway shares: the pool, how an outage reaches the API, ids.

A database that does not answer is `DatabaseUnavailable` (a 503 with `Retry-After`), never an
unhandled 500. Ids are uuids in the tables and strings everywhere else; a string that is not a
uuid names no row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from storeplane_gateway.domain.errors import DatabaseUnavailable
from storeplane_runtime.pool_metrics import track_pool

DATABASE_TIMEOUT_SECONDS = 10.0


async def create_pool(
    database_url: str, *, max_size: int, command_timeout: float | None = DATABASE_TIMEOUT_SECONDS
) -> asyncpg.Pool:
    """A pool of at least one connection, opened now (connecting times out after 10 s)."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        timeout=DATABASE_TIMEOUT_SECONDS,  # to connect
        command_timeout=command_timeout,
    )
    track_pool("gateway", pool)
    return pool


@contextmanager
def unavailable_when_down() -> Iterator[None]:
    """Connection trouble becomes DatabaseUnavailable (a 503), not an unhandled 500."""
    try:
        yield
    except (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.OperatorInterventionError,
    ) as exc:
        raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc


def uuid_or_none(raw: str) -> uuid.UUID | None:
    """`raw` as a uuid, or None when it is not one (so it matches no row)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None
