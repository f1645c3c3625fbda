"""The shared migration runner (`storeplane_runtime.migrations`) on a real database: the one
mechanism behind the status service's read models and the gateway's tables."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TypeAlias

import asyncpg
import pytest

from storeplane_runtime.migrations import Migration, lock_key_for, migrate

pytestmark = pytest.mark.integration

TABLE = "runner_schema_migrations"

# Each `CREATE TABLE` is deliberately not `IF NOT EXISTS`: running one twice would fail.
FIRST = Migration(1, "widgets", "CREATE TABLE widgets (id integer PRIMARY KEY)")
SECOND = Migration(2, "widgets have a colour", "ALTER TABLE widgets ADD COLUMN colour text")
THIRD = Migration(3, "gadgets", "CREATE TABLE gadgets (id integer PRIMARY KEY)")

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"  # generic in the stubs only


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


async def recorded(pool: Pool, table: str = TABLE) -> list[tuple[int, str]]:
    rows = await pool.fetch(f"SELECT version, name FROM {table} ORDER BY version")
    return [(r["version"], r["name"]) for r in rows]


async def columns(pool: Pool, table: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", table
    )
    return [r["column_name"] for r in rows]


async def test_migrations_apply_in_version_order_whatever_order_they_are_declared_in(pool: Pool) -> None:
    applied = await migrate(pool, (SECOND, FIRST), table=TABLE)

    assert applied == [1, 2]
    assert await columns(pool, "widgets") == ["id", "colour"]
    assert await recorded(pool) == [(1, "widgets"), (2, "widgets have a colour")]


async def test_a_second_run_applies_nothing(pool: Pool) -> None:
    await migrate(pool, (FIRST, SECOND), table=TABLE)

    assert await migrate(pool, (FIRST, SECOND), table=TABLE) == []
    assert [v for v, _ in await recorded(pool)] == [1, 2]


async def test_a_migration_appended_later_is_the_only_one_applied(pool: Pool) -> None:
    await migrate(pool, (FIRST, SECOND), table=TABLE)

    assert await migrate(pool, (FIRST, SECOND, THIRD), table=TABLE) == [3]
    assert [v for v, _ in await recorded(pool)] == [1, 2, 3]


async def test_a_failing_migration_leaves_no_trace_of_the_run(pool: Pool) -> None:
    broken = Migration(2, "broken", "ALTER TABLE no_such_table ADD COLUMN x text")

    with pytest.raises(asyncpg.UndefinedTableError):
        await migrate(pool, (FIRST, broken), table=TABLE)

    assert await columns(pool, "widgets") == []
    assert await pool.fetchval("SELECT to_regclass($1)", TABLE) is None
    assert await migrate(pool, (FIRST, SECOND), table=TABLE) == [1, 2]


async def test_two_services_in_one_database_keep_their_own_versions(pool: Pool) -> None:
    status = (Migration(1, "status tables", "CREATE TABLE status_things (id integer)"),)
    gateway = (
        Migration(1, "gateway tables", "CREATE TABLE gateway_things (id integer)"),
        Migration(2, "gateway more", "ALTER TABLE gateway_things ADD COLUMN name text"),
    )

    assert await migrate(pool, status, table="schema_migrations", lock_key=0x5354_4154) == [1]
    assert await migrate(pool, gateway, table="gateway_schema_migrations") == [1, 2]
    assert await migrate(pool, status, table="schema_migrations", lock_key=0x5354_4154) == []

    assert await recorded(pool, "schema_migrations") == [(1, "status tables")]
    assert await recorded(pool, "gateway_schema_migrations") == [(1, "gateway tables"), (2, "gateway more")]


async def test_instances_starting_together_apply_each_migration_once(database_url: str) -> None:
    pools = await asyncio.gather(*(asyncpg.create_pool(database_url, min_size=1, max_size=1) for _ in range(3)))
    migrations: Sequence[Migration] = (FIRST, SECOND, THIRD)
    try:
        results = await asyncio.gather(*(migrate(p, migrations, table=TABLE) for p in pools))
        versions = [v for v, _ in await recorded(pools[0])]
    finally:
        await asyncio.gather(*(p.close() for p in pools))

    assert sorted(results) == [[], [], [1, 2, 3]]
    assert versions == [1, 2, 3]


def test_each_version_table_has_its_own_default_lock() -> None:
    assert lock_key_for("schema_migrations") != lock_key_for("gateway_schema_migrations")
    assert lock_key_for(TABLE) == lock_key_for(TABLE)


@pytest.mark.parametrize("table", ["", "Schema", "a; DROP TABLE x", "public.versions", "x" * 64])
async def test_a_table_name_that_is_not_a_plain_identifier_is_refused(pool: Pool, table: str) -> None:
    with pytest.raises(ValueError, match="table name"):
        await migrate(pool, (FIRST,), table=table)


async def test_a_version_declared_twice_is_refused(pool: Pool) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        await migrate(pool, (FIRST, Migration(1, "again", "SELECT 1")), table=TABLE)

    assert await pool.fetchval("SELECT to_regclass($1)", TABLE) is None
