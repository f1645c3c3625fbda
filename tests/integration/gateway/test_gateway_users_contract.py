"""One contract for the users store: the Postgres adapter and the in-memory fake must both pass it.

(The other Postgres adapters and their twins: test_gateway_adapters_contract.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from infra.local.servers import free_port
from storeplane_gateway.adapters.postgres.migrations import ensure_schema
from storeplane_gateway.adapters.postgres.users import PostgresUsers
from storeplane_gateway.domain.errors import DatabaseUnavailable, EmailTaken
from storeplane_gateway.ports import Users
from tests.unit.gateway.fakes import InMemoryUsers

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "postgres"])
async def users(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Users]:
    if request.param == "memory":
        yield InMemoryUsers()
        return
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await ensure_schema(pool)
        yield PostgresUsers(pool)
    finally:
        await pool.close()


async def test_an_added_user_is_found_by_email(users: Users) -> None:
    user = await users.add("ada@example.com", "$argon2id$hash")
    stored = await users.by_email("ada@example.com")
    assert stored is not None
    assert (stored.id, stored.email, stored.password_hash) == (user.id, "ada@example.com", "$argon2id$hash")
    assert await users.by_email("bob@example.com") is None


async def test_an_email_is_registered_once(users: Users) -> None:
    await users.add("ada@example.com", "one")
    with pytest.raises(EmailTaken):
        await users.add("ada@example.com", "two")
    stored = await users.by_email("ada@example.com")
    assert stored is not None and stored.password_hash == "one"


async def test_a_password_hash_can_be_replaced(users: Users) -> None:
    user = await users.add("ada@example.com", "old")
    await users.replace_password_hash(user.id, "new")
    stored = await users.by_email("ada@example.com")
    assert stored is not None and stored.password_hash == "new"


async def test_a_user_is_found_by_id_with_role_and_limit(users: Users) -> None:
    user = await users.add("root@example.com", "hash", role="admin")
    assert user.role == "admin"
    stored = await users.by_id(user.id)
    assert stored is not None
    assert (stored.email, stored.role, stored.store_limit) == ("root@example.com", "admin", None)
    assert await users.by_id("5d1c7c55-0d8e-4d0a-8a53-3c8a3f3e8b6e") is None
    assert await users.by_id("not-a-user-id") is None
    plain = await users.add("ada@example.com", "hash")
    assert plain.role == "user"


async def test_role_and_store_limit_can_be_changed(users: Users) -> None:
    user = await users.add("ada@example.com", "hash")
    await users.set_role(user.id, "admin")
    limited = await users.set_store_limit(user.id, 7)
    assert limited is not None and (limited.role, limited.store_limit) == ("admin", 7)
    cleared = await users.set_store_limit(user.id, None)
    assert cleared is not None and cleared.store_limit is None
    assert await users.set_store_limit("5d1c7c55-0d8e-4d0a-8a53-3c8a3f3e8b6e", 3) is None
    assert await users.set_store_limit("nope", 3) is None
    by_email = await users.by_email("ada@example.com")
    assert by_email is not None and by_email.role == "admin"


async def test_users_are_listed_by_role(users: Users) -> None:
    bob = await users.add("bob@example.com", "hash")
    ada = await users.add("ada@example.com", "hash")
    await users.add("eve@example.com", "hash")
    assert await users.with_role("admin") == []
    await users.set_role(bob.id, "admin")
    await users.set_role(ada.id, "admin")
    assert [user.email for user in await users.with_role("admin")] == ["ada@example.com", "bob@example.com"]
    assert [user.email for user in await users.with_role("user")] == ["eve@example.com"]


async def test_ping_answers(users: Users) -> None:
    await users.ping()


async def test_the_schema_is_created_idempotently_even_concurrently(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await asyncio.gather(*(ensure_schema(pool) for _ in range(4)))
        await ensure_schema(pool)
        assert await pool.fetchval("SELECT count(*) FROM gateway_users") == 0
    finally:
        await pool.close()


async def test_an_unreachable_database_is_database_unavailable() -> None:
    pool = await asyncpg.create_pool(f"postgresql://nobody@127.0.0.1:{free_port()}/none", min_size=0, timeout=2)
    try:
        users = PostgresUsers(pool, ping_timeout=2)
        with pytest.raises(DatabaseUnavailable):
            await users.ping()
        with pytest.raises(DatabaseUnavailable):
            await users.by_email("ada@example.com")
    finally:
        await pool.close()
