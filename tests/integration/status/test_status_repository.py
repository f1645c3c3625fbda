"""The Postgres adapter on a real database, in what only Postgres shows: its migrations, a
refused transaction, and the timeline row kept for an unknown store. What it shares with the
in-memory twin is in `test_read_models_contract.py`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storeplane_contracts import events
from storeplane_status.migrations import MIGRATIONS, migrate
from storeplane_status.projections import Applied
from storeplane_status.repository import StoreRepository

pytestmark = pytest.mark.integration

CONSUMER = "status"


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[StoreRepository]:
    repository = StoreRepository(database_url, pool_size=4)
    await repository.open()
    await migrate(repository.pool)
    yield repository
    await repository.close()


def request(name: str = "some-shop") -> events.StoreRequested:
    return events.StoreRequested(
        store_id=events.new_id(), owner_id="owner-1", name=name, engine="medusa", namespace=f"store-{name}-0"
    )


async def test_migrations_apply_once_even_when_instances_start_together(database_url: str) -> None:
    repositories = [StoreRepository(database_url, pool_size=1) for _ in range(3)]
    try:
        await asyncio.gather(*(r.open() for r in repositories))
        results = await asyncio.gather(*(migrate(r.pool) for r in repositories))
        again = await migrate(repositories[0].pool)
        versions = await repositories[0].pool.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await asyncio.gather(*(r.close() for r in repositories))

    assert sorted(results) == [[], [], [m.version for m in MIGRATIONS]]
    assert again == []
    assert [r["version"] for r in versions] == [m.version for m in MIGRATIONS]


async def test_a_rejected_transaction_leaves_no_trace(repository: StoreRepository) -> None:
    event = request()
    bad = events.StoreReady(store_id=event.store_id, owner_id="owner-1", urls={"shop": "\x00"})
    await repository.apply(CONSUMER, 1, event)

    with pytest.raises(Exception, match=r"0x00|\\u0000"):
        await repository.apply(CONSUMER, 2, bad)  # Postgres refuses NUL in jsonb text

    assert await repository.position(CONSUMER) == 1
    entries = await repository.timeline(event.store_id, "owner-1")
    assert entries is not None and len(entries) == 1


async def test_an_event_for_an_unknown_store_is_kept_in_the_timeline_only(repository: StoreRepository) -> None:
    orphan = events.NamespaceCreated(store_id=events.new_id(), owner_id="owner-1", namespace="store-x-0")

    assert await repository.apply(CONSUMER, 1, orphan) is Applied.APPLIED
    assert await repository.get_store(orphan.store_id, "owner-1") is None
    assert await repository.timeline(orphan.store_id, "owner-1") is None
    count = await repository.pool.fetchval("SELECT count(*) FROM store_events WHERE store_id = $1", orphan.store_id)
    assert count == 1
