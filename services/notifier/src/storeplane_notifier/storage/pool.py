"""The asyncpg pool, with JSON columns decoded by msgspec."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
import msgspec

from storeplane_runtime.pool_metrics import track_pool

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
# A connection of its own or one borrowed from the pool.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _init_connection(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    for typename in ("json", "jsonb"):
        await connection.set_type_codec(
            typename, schema="pg_catalog", encoder=_encode_json, decoder=msgspec.json.decode
        )


class Database:
    """The notifier's pool; opened at start, closed at stop."""

    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: Pool | None = None

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("the database is not open: call open() first")
        return self._pool

    async def open(self) -> None:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self._dsn, min_size=1, max_size=self._pool_size, init=_init_connection
            )
            track_pool("notifier", self._pool)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
