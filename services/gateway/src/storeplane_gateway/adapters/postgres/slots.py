"""Store slots in Postgres (asyncpg): the per-owner quota of live stores, reserved atomically.

A reservation is one transaction: it takes a transaction-level advisory lock for the owner,
counts the owner's slots and inserts the new one. Concurrent orders of one owner therefore
queue on the lock and cannot exceed the limit (reserve and release, not check-then-act), and
the UNIQUE name makes two orders for one name, by anyone, end in one slot.

A new slot is `reserved` (its `created_at` is the reservation's time) until the store's request
is acknowledged by JetStream, then `confirmed`. A reservation that stays unconfirmed (its
gateway died, or the ack was lost) is listed by `expired_reservations` once its lease is over,
for `areas/stores/quotas.settle_reservations` to confirm or release by what the stream holds.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from storeplane_gateway.adapters.postgres.pool import unavailable_when_down, uuid_or_none
from storeplane_gateway.domain.errors import NameTaken, QuotaExceeded
from storeplane_gateway.domain.slots import StoreSlot

# The advisory lock's first key: this table's, so it cannot collide with another lock in the database.
_LOCK_SPACE = "storeplane-gateway-store-slots"


def _slot(row: asyncpg.Record) -> StoreSlot:
    return StoreSlot(store_id=str(row["store_id"]), owner_id=row["owner_id"], name=row["name"])


class PostgresStoreSlots:
    """`StoreSlots` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def reserve(self, slot: StoreSlot, *, limit: int) -> None:
        with unavailable_when_down():
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", _LOCK_SPACE, slot.owner_id
                )
                in_use = await conn.fetchval(
                    "SELECT count(*) FROM gateway_store_slots WHERE owner_id = $1", slot.owner_id
                )
                if in_use >= limit:
                    raise QuotaExceeded(limit=limit, in_use=in_use)
                holder = await conn.fetchrow(
                    "SELECT store_id, owner_id, name FROM gateway_store_slots WHERE name = $1", slot.name
                )
                if holder is not None:
                    raise NameTaken(_slot(holder))
                try:
                    async with conn.transaction():  # a savepoint: a lost race on the name is not an aborted reservation
                        await conn.execute(
                            "INSERT INTO gateway_store_slots (store_id, owner_id, name, state) "
                            "VALUES ($1, $2, $3, 'reserved')",
                            uuid.UUID(slot.store_id),
                            slot.owner_id,
                            slot.name,
                        )
                except asyncpg.UniqueViolationError:
                    holder = await conn.fetchrow(
                        "SELECT store_id, owner_id, name FROM gateway_store_slots WHERE name = $1", slot.name
                    )
                    raise NameTaken(_slot(holder) if holder is not None else slot) from None

    async def confirm(self, store_id: str) -> bool:
        if (parsed := uuid_or_none(store_id)) is None:
            return False
        with unavailable_when_down():
            held = await self._pool.fetchval(
                "UPDATE gateway_store_slots SET state = 'confirmed' WHERE store_id = $1 RETURNING true", parsed
            )
        return bool(held)

    async def release(self, store_id: str) -> bool:
        if (parsed := uuid_or_none(store_id)) is None:
            return False
        with unavailable_when_down():
            released = await self._pool.fetchval(
                "DELETE FROM gateway_store_slots WHERE store_id = $1 RETURNING true", parsed
            )
        return bool(released)

    async def of_owner(self, owner_id: str) -> list[StoreSlot]:
        with unavailable_when_down():
            rows = await self._pool.fetch(
                "SELECT store_id, owner_id, name FROM gateway_store_slots WHERE owner_id = $1 ORDER BY created_at",
                owner_id,
            )
        return [_slot(row) for row in rows]

    async def expired_reservations(self, owner_id: str, *, lease: float) -> list[StoreSlot]:
        with unavailable_when_down():
            rows = await self._pool.fetch(
                """
                SELECT store_id, owner_id, name FROM gateway_store_slots
                WHERE owner_id = $1 AND state = 'reserved' AND created_at <= now() - $2::interval
                ORDER BY created_at
                """,
                owner_id,
                timedelta(seconds=lease),
            )
        return [_slot(row) for row in rows]
