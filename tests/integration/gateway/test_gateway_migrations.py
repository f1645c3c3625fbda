"""The gateway's versioned migrations on a real database: a new one, and one an older gateway made.

Before it had versions, the gateway ran one idempotent SQL script at every start and recorded
nothing; that script is migration 1, word for word. A database it made must upgrade cleanly:
migration 1 changes nothing there and is only recorded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from infra.local.servers import Server
from storeplane_gateway.adapters.postgres.migrations import MIGRATIONS, VERSION_TABLE, ensure_schema

pytestmark = pytest.mark.integration

# What the gateway's tables look like, in enough detail to tell two schemas apart.
_COLUMNS = """
SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
WHERE table_schema = 'public' AND table_name LIKE 'gateway_%' AND table_name <> $1
ORDER BY table_name, column_name
"""
_CONSTRAINTS = """
SELECT conrelid::regclass::text AS table_name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text LIKE 'gateway_%'
ORDER BY 1, 2
"""
_INDEXES = """
SELECT tablename, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename LIKE 'gateway_%' AND tablename <> $1 ORDER BY 1, 2
"""


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    yield pool
    await pool.close()


@pytest.fixture
async def other_pool(postgres_server: Server) -> AsyncIterator[asyncpg.Pool]:
    """A second new database on the same server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.extra["admin_url"])
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    pool = await asyncpg.create_pool(postgres_server.url.rsplit("/", 1)[0] + f"/{name}", min_size=1, max_size=2)
    yield pool
    await pool.close()


async def schema_of(pool: asyncpg.Pool) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "columns": [tuple(r) for r in await pool.fetch(_COLUMNS, VERSION_TABLE)],
        "constraints": [tuple(r) for r in await pool.fetch(_CONSTRAINTS)],
        "indexes": [tuple(r) for r in await pool.fetch(_INDEXES, VERSION_TABLE)],
    }


async def recorded(pool: asyncpg.Pool) -> list[int]:
    return [r["version"] for r in await pool.fetch(f"SELECT version FROM {VERSION_TABLE} ORDER BY version")]


async def made_before_versions(pool: asyncpg.Pool) -> None:
    """What a gateway without versions did at start-up: its one script, recording nothing."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('storeplane-gateway-schema'))")
        await conn.execute(MIGRATIONS[0].sql)


async def test_a_new_database_gets_every_migration_once(pool: asyncpg.Pool) -> None:
    assert await ensure_schema(pool) == [m.version for m in MIGRATIONS]
    assert await ensure_schema(pool) == []
    assert await recorded(pool) == [m.version for m in MIGRATIONS]
    tables = {table for table, *_ in (await schema_of(pool))["columns"]}
    assert tables == {
        "gateway_users",
        "gateway_sessions",
        "gateway_api_tokens",
        "gateway_store_slots",
        "gateway_login_failures",
        "gateway_idempotency_keys",
        "gateway_stream_tickets",
    }


async def test_a_database_made_before_versions_upgrades_to_the_same_schema_keeping_its_rows(
    pool: asyncpg.Pool, other_pool: asyncpg.Pool
) -> None:
    await made_before_versions(pool)
    user_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO gateway_users (id, email, password_hash, role, store_limit) VALUES ($1, $2, 'h', 'admin', 3)",
        user_id,
        "root@example.com",
    )
    await pool.execute(
        "INSERT INTO gateway_store_slots (store_id, owner_id, name) VALUES ($1, $2, 'shop-one')",
        uuid.uuid4(),
        str(user_id),
    )

    assert await ensure_schema(pool) == [1, *[m.version for m in MIGRATIONS[1:]]]

    assert await recorded(pool) == [m.version for m in MIGRATIONS]
    await ensure_schema(other_pool)  # a new database, for comparison
    assert await schema_of(pool) == await schema_of(other_pool)
    row = await pool.fetchrow("SELECT email, role, store_limit FROM gateway_users WHERE id = $1", user_id)
    assert row is not None and tuple(row) == ("root@example.com", "admin", 3)
    assert await pool.fetchval("SELECT state FROM gateway_store_slots WHERE name = 'shop-one'") == "confirmed"


async def test_replicas_starting_together_apply_the_migrations_once(pool: asyncpg.Pool) -> None:
    runs = await asyncio.gather(*(ensure_schema(pool) for _ in range(3)))
    assert sorted(runs) == [[], [], [m.version for m in MIGRATIONS]]


async def test_an_older_gateway_starting_beside_a_newer_one_is_no_trouble(pool: asyncpg.Pool) -> None:
    """During a rolling update both kinds start: they take the same lock, and the old script changes nothing."""
    await asyncio.gather(made_before_versions(pool), ensure_schema(pool), made_before_versions(pool))
    assert await recorded(pool) == [m.version for m in MIGRATIONS]
    assert await ensure_schema(pool) == []
