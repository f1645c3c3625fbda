"""The Postgres adapter: every SQL statement the status service runs, over an asyncpg pool.

The projection's write (`apply`) puts the timeline row, the store row and the consumer's
tracking position in one transaction, so a crash leaves either all of them or none, and
a redelivered message is recognised by its stream sequence.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from storeplane_contracts.events import AnyEvent
from storeplane_contracts.queries import StepDurations, StoreError, StoreKey, StoreView, TimelineEntry
from storeplane_runtime.pool_metrics import track_pool
from storeplane_status.metrics import StoreCounts
from storeplane_status.projections import Applied, StoreRow, project, timeline_row
from storeplane_status.stats import step_stats_sql

# The columns of a store as users see it (`StoreView`), then the projection's bookkeeping.
STORE_VIEW_COLUMNS = "id, owner_id, name, engine, namespace, status, urls, error, created_at, updated_at"
_STORE_COLUMNS = f"{STORE_VIEW_COLUMNS}, last_sequence"


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _init_connection(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    for typename in ("json", "jsonb"):
        await connection.set_type_codec(
            typename, schema="pg_catalog", encoder=_encode_json, decoder=msgspec.json.decode
        )


def _store_row(record: asyncpg.Record) -> StoreRow:
    error = record["error"]
    return StoreRow(
        id=record["id"],
        owner_id=record["owner_id"],
        name=record["name"],
        engine=record["engine"],
        namespace=record["namespace"],
        status=record["status"],
        urls=dict(record["urls"]),
        error=None if error is None else msgspec.convert(error, StoreError),
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        last_sequence=record["last_sequence"],
    )


def _owned_by(owner_id: str | None, parameter: str) -> str:
    """The owner condition on `parameter`; without an owner (`None`), none. Two statements rather than
    `($1 IS NULL OR owner_id = $1)`, so that Postgres' generic plan for the owner's reads keeps its index."""
    return f"owner_id = {parameter}" if owner_id is not None else f"{parameter}::text IS NULL"


def _after(after: StoreKey | None, created_at: str, store_id: str) -> str:
    """The keyset condition of a page after `after` (newest first): a row comparison that the
    `(owner_id, created_at DESC, id DESC)` and `(created_at DESC, id DESC)` indexes answer; none on the first page."""
    if after is not None:
        return f"(created_at, id) < ({created_at}, {store_id})"
    return f"{created_at}::timestamptz IS NULL AND {store_id}::text IS NULL"


def _limit(limit: int) -> int | None:
    """A page's LIMIT: 0 (every row) is NULL, which Postgres reads as no limit."""
    return limit if limit > 0 else None


class StoreRepository:
    """The status read models in Postgres: projection writes and query reads."""

    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    @property
    def pool(self) -> asyncpg.Pool[asyncpg.Record]:
        if self._pool is None:
            raise RuntimeError("the repository is not open: call open() first")
        return self._pool

    async def open(self) -> None:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self._dsn, min_size=1, max_size=self._pool_size, init=_init_connection
            )
            track_pool("status", self._pool)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    # The projection's writes.

    async def position(self, consumer: str) -> int:
        """The last stream sequence applied for `consumer` (0 before the first)."""
        sequence = await self.pool.fetchval(
            "SELECT last_sequence FROM projection_tracking WHERE consumer = $1", consumer
        )
        return int(sequence or 0)

    async def apply(self, consumer: str, sequence: int, event: AnyEvent) -> Applied:
        """Project one message: timeline, store row and tracking position in one transaction."""
        async with self.pool.acquire() as connection, connection.transaction():
            if await self._tracked(connection, consumer) >= sequence:
                return Applied.ALREADY_APPLIED
            entry = timeline_row(event, sequence)
            inserted = await connection.fetchval(
                """
                INSERT INTO store_events (event_id, store_id, sequence, type, occurred_at, data)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (event_id) DO NOTHING
                RETURNING true
                """,
                entry.event_id,
                entry.store_id,
                entry.sequence,
                entry.type,
                entry.occurred_at,
                entry.data,
            )
            outcome = Applied.REPEATED_EVENT
            if inserted:
                outcome = Applied.APPLIED
                record = await connection.fetchrow(
                    f"SELECT {_STORE_COLUMNS} FROM stores WHERE id = $1 FOR UPDATE", event.store_id
                )
                row = project(event, sequence, None if record is None else _store_row(record))
                if row is not None:
                    await self._write_store(connection, row)
            await self._track(connection, consumer, sequence)
            return outcome

    async def skip(self, consumer: str, sequence: int) -> None:
        """Move the position past a message that cannot be applied (it is terminated, not retried)."""
        async with self.pool.acquire() as connection, connection.transaction():
            if await self._tracked(connection, consumer) < sequence:
                await self._track(connection, consumer, sequence)

    @staticmethod
    async def _tracked(connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], consumer: str) -> int:
        # The row lock serialises two instances that share the consumer.
        await connection.execute(
            "INSERT INTO projection_tracking (consumer, last_sequence) VALUES ($1, 0) "
            "ON CONFLICT (consumer) DO NOTHING",
            consumer,
        )
        sequence = await connection.fetchval(
            "SELECT last_sequence FROM projection_tracking WHERE consumer = $1 FOR UPDATE", consumer
        )
        return int(sequence)

    @staticmethod
    async def _track(
        connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], consumer: str, sequence: int
    ) -> None:
        await connection.execute(
            "UPDATE projection_tracking SET last_sequence = $2, updated_at = now() WHERE consumer = $1",
            consumer,
            sequence,
        )

    @staticmethod
    async def _write_store(connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], row: StoreRow) -> None:
        await connection.execute(
            f"""
            INSERT INTO stores ({_STORE_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (id) DO UPDATE SET
                status = EXCLUDED.status, urls = EXCLUDED.urls, error = EXCLUDED.error,
                updated_at = EXCLUDED.updated_at, last_sequence = EXCLUDED.last_sequence
            """,
            row.id,
            row.owner_id,
            row.name,
            row.engine,
            row.namespace,
            row.status,
            row.urls,
            None if row.error is None else msgspec.to_builtins(row.error),
            row.created_at,
            row.updated_at,
            row.last_sequence,
        )

    # The queries' reads.

    async def list_stores(
        self, owner_id: str | None, *, include_deleted: bool, limit: int = 0, after: StoreKey | None = None
    ) -> list[StoreView]:
        """`owner_id=None`: every owner's stores. Newest first, by keyset: at most `limit` (0: all), older than
        `after`; a store made meanwhile is newer than any key already handed out, so no page repeats or skips."""
        records = await self.pool.fetch(
            f"""
            SELECT {_STORE_COLUMNS} FROM stores
            WHERE {_owned_by(owner_id, "$1")} AND ($2 OR status <> 'deleted') AND {_after(after, "$3", "$4")}
            ORDER BY created_at DESC, id DESC
            LIMIT $5
            """,
            owner_id,
            include_deleted,
            None if after is None else after.created_at,
            None if after is None else after.id,
            _limit(limit),
        )
        return [_store_row(record).view() for record in records]

    async def stores_in_status(
        self, statuses: list[str], *, limit: int = 0, after: StoreKey | None = None
    ) -> list[StoreView]:
        """Oldest first, by keyset: at most `limit` (0: all), newer than `after`."""
        after_condition = "(created_at, id) > ($2, $3)" if after else "$2::timestamptz IS NULL AND $3::text IS NULL"
        records = await self.pool.fetch(
            f"""
            SELECT {_STORE_COLUMNS} FROM stores WHERE status = ANY($1::text[]) AND {after_condition}
            ORDER BY created_at, id LIMIT $4
            """,
            statuses,
            None if after is None else after.created_at,
            None if after is None else after.id,
            _limit(limit),
        )
        return [_store_row(record).view() for record in records]

    async def get_store(self, store_id: str, owner_id: str | None) -> StoreView | None:
        record = await self.pool.fetchrow(
            f"SELECT {_STORE_COLUMNS} FROM stores WHERE id = $1 AND {_owned_by(owner_id, '$2')}",
            store_id,
            owner_id,
        )
        return None if record is None else _store_row(record).view()

    async def timeline(
        self, store_id: str, owner_id: str | None, *, limit: int = 0, after_sequence: int = 0
    ) -> list[TimelineEntry] | None:
        """Oldest first: at most `limit` entries (0: all) with a stream sequence above `after_sequence`."""
        async with self.pool.acquire() as connection, connection.transaction(readonly=True):
            owned = await connection.fetchval(
                f"SELECT true FROM stores WHERE id = $1 AND {_owned_by(owner_id, '$2')}", store_id, owner_id
            )
            if not owned:
                return None
            records = await connection.fetch(
                """
                SELECT event_id, type, occurred_at, sequence, data FROM store_events
                WHERE store_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3
                """,
                store_id,
                after_sequence,
                _limit(limit),
            )
        return [
            TimelineEntry(
                event_id=r["event_id"],
                type=r["type"],
                occurred_at=r["occurred_at"],
                sequence=r["sequence"],
                data=dict(r["data"]),
            )
            for r in records
        ]

    async def find_live_by_name(self, name: str) -> StoreView | None:
        record = await self.pool.fetchrow(
            f"""
            SELECT {_STORE_COLUMNS} FROM stores WHERE name = $1 AND status <> 'deleted'
            ORDER BY created_at DESC LIMIT 1
            """,
            name,
        )
        return None if record is None else _store_row(record).view()

    async def store_counts(self) -> StoreCounts:
        """How many stores there are by (engine, status), and how long the oldest store still being provisioned
        has been at it (0 when none is): what `storeplane_stores` and `storeplane_provisioning_oldest_seconds` show."""
        records = await self.pool.fetch("SELECT engine, status, count(*) AS n FROM stores GROUP BY engine, status")
        oldest = await self.pool.fetchval(
            "SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM stores "
            "WHERE status IN ('requested', 'provisioning')"
        )
        return StoreCounts({(r["engine"], r["status"]): int(r["n"]) for r in records}, float(oldest))

    async def step_stats(self) -> list[StepDurations]:
        """Per engine and step, the p50 and p95 of recent durations (storeplane_status.stats)."""
        records = await self.pool.fetch(step_stats_sql())
        return [
            StepDurations(
                engine=r["engine"],
                step=r["step"],
                samples=int(r["samples"]),
                p50_seconds=round(float(r["p50"]), 3),
                p95_seconds=round(float(r["p95"]), 3),
            )
            for r in records
        ]
