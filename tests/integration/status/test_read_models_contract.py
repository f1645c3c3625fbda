"""One contract for the status read models, passed by the Postgres repository and by its
in-memory twin (`tests.unit.status.fakes.FakeReadModels`) alike: what the projection's writes
do with a message, and what the queries read back, in which order, for whom."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypedDict

import pytest

from storeplane_contracts import events
from storeplane_contracts.queries import StoreError, StoreKey, StoreView
from storeplane_status.migrations import migrate
from storeplane_status.projections import Applied
from storeplane_status.repository import StoreRepository
from storeplane_status.subscribers import ReadModels
from tests.unit.status.fakes import FakeReadModels

pytestmark = pytest.mark.integration

CONSUMER = "status"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


class Ids(TypedDict):
    """The fields that say whose store an event is about."""

    store_id: str
    owner_id: str


class Backend(ReadModels, Protocol):
    """The read models, with the position the service loads at start-up."""

    async def position(self, consumer: str) -> int: ...


@pytest.fixture(params=["memory", "postgres"])
async def read_models(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield FakeReadModels()
        return
    repository = StoreRepository(database_url, pool_size=2)
    await repository.open()
    await migrate(repository.pool)
    yield repository
    await repository.close()


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def request(name: str = "some-shop", owner_id: str = "owner-1", minutes: int = 0) -> events.StoreRequested:
    return events.StoreRequested(
        store_id=events.new_id(),
        owner_id=owner_id,
        name=name,
        engine="medusa",
        namespace=f"store-{name}-0",
        occurred_at=at(minutes),
    )


async def apply_all(read_models: Backend, *batch: events.AnyEvent) -> None:
    """Apply `batch` at the sequences after the current position."""
    start = await read_models.position(CONSUMER)
    for sequence, event in enumerate(batch, start=start + 1):
        assert await read_models.apply(CONSUMER, sequence, event) is Applied.APPLIED


def deletion(store: events.StoreRequested, minutes: int) -> list[events.AnyEvent]:
    ids = Ids(store_id=store.store_id, owner_id=store.owner_id)
    return [
        events.StoreDeletionRequested(**ids, namespace=store.namespace, occurred_at=at(minutes)),
        events.StoreDeleted(**ids, namespace=store.namespace, occurred_at=at(minutes + 1)),
    ]


async def test_a_sequence_is_applied_once_and_an_event_once(read_models: Backend) -> None:
    event = request()

    assert await read_models.position(CONSUMER) == 0
    assert await read_models.apply(CONSUMER, 1, event) is Applied.APPLIED
    assert await read_models.apply(CONSUMER, 1, event) is Applied.ALREADY_APPLIED
    assert await read_models.apply(CONSUMER, 2, event) is Applied.REPEATED_EVENT
    assert await read_models.position(CONSUMER) == 2
    entries = await read_models.timeline(event.store_id, "owner-1")
    assert entries is not None and [(e.event_id, e.sequence) for e in entries] == [(event.event_id, 1)]
    store = await read_models.get_store(event.store_id, "owner-1")
    assert store is not None and store.status == "requested"


async def test_skipping_moves_the_position_forward_only(read_models: Backend) -> None:
    await read_models.skip(CONSUMER, 5)
    await read_models.skip(CONSUMER, 3)

    assert await read_models.position(CONSUMER) == 5
    assert await read_models.apply(CONSUMER, 4, request()) is Applied.ALREADY_APPLIED


async def test_each_consumer_has_its_own_position(read_models: Backend) -> None:
    event = request()
    await read_models.apply(CONSUMER, 3, event)

    assert await read_models.position("replay") == 0
    assert await read_models.apply("replay", 1, request()) is Applied.APPLIED
    assert (await read_models.position(CONSUMER), await read_models.position("replay")) == (3, 1)


async def test_an_event_for_an_unknown_store_shows_nowhere(read_models: Backend) -> None:
    orphan = events.NamespaceCreated(store_id=events.new_id(), owner_id="owner-1", namespace="store-x-0")

    assert await read_models.apply(CONSUMER, 1, orphan) is Applied.APPLIED
    assert await read_models.get_store(orphan.store_id, "owner-1") is None
    assert await read_models.timeline(orphan.store_id, "owner-1") is None
    assert await read_models.position(CONSUMER) == 1


async def test_a_store_reads_back_as_its_events_made_it(read_models: Backend) -> None:
    store = request("bright-shop")
    ids = Ids(store_id=store.store_id, owner_id=store.owner_id)
    failure = events.ProvisioningFailed(
        **ids, occurred_at=at(2), step="readiness", reason="timeout", message="slow", retryable=True
    )
    ready = events.StoreReady(**ids, occurred_at=at(4), urls={"storefront": "http://bright-shop.stores.localhost"})
    await apply_all(read_models, store, events.ProvisioningStarted(**ids, occurred_at=at(1)), failure)

    failed = await read_models.get_store(store.store_id, "owner-1")
    await apply_all(read_models, ready)
    shown = await read_models.get_store(store.store_id, "owner-1")

    assert failed is not None and failed.error == StoreError(
        step="readiness", reason="timeout", message="slow", retryable=True
    )
    assert shown == StoreView(
        id=store.store_id,
        owner_id="owner-1",
        name="bright-shop",
        engine="medusa",
        namespace="store-bright-shop-0",
        status="ready",
        created_at=T0,
        updated_at=at(4),
        urls={"storefront": "http://bright-shop.stores.localhost"},
        error=None,
    )


async def test_the_timeline_is_in_stream_order_with_each_events_own_fields(read_models: Backend) -> None:
    store = request()
    chart = events.ChartInstalled(
        store_id=store.store_id,
        owner_id="owner-1",
        occurred_at=at(1),
        namespace=store.namespace,
        release="shop",
        chart="medusa",
        revision=2,
    )
    await apply_all(read_models, store, chart)

    entries = await read_models.timeline(store.store_id, "owner-1")

    assert entries is not None
    assert [(e.type, e.sequence, e.occurred_at) for e in entries] == [
        ("StoreRequested", 1, T0),
        ("ChartInstalled", 2, at(1)),
    ]
    assert entries[1].data == {"namespace": store.namespace, "release": "shop", "chart": "medusa", "revision": 2}
    assert (entries[0].data["name"], entries[0].data["engine"]) == ("some-shop", "medusa")


async def test_another_owners_store_is_missing_unless_no_owner_is_named(read_models: Backend) -> None:
    store = request(owner_id="owner-1")
    await apply_all(read_models, store)

    assert await read_models.get_store(store.store_id, "owner-2") is None
    assert await read_models.timeline(store.store_id, "owner-2") is None
    found = await read_models.get_store(store.store_id, None)
    timeline = await read_models.timeline(store.store_id, None)
    assert found is not None and found.owner_id == "owner-1"
    assert timeline is not None and len(timeline) == 1


async def test_listing_is_newest_first_and_shows_deleted_stores_only_when_asked(read_models: Backend) -> None:
    old, new, gone = request("old-shop", minutes=0), request("new-shop", minutes=10), request("gone-shop", minutes=5)
    foreign = request("their-shop", owner_id="owner-2", minutes=20)
    await apply_all(read_models, old, new, gone, foreign, *deletion(gone, 30))

    listed = await read_models.list_stores("owner-1", include_deleted=False)
    everything = await read_models.list_stores("owner-1", include_deleted=True)
    everyone = await read_models.list_stores(None, include_deleted=False)

    assert [s.name for s in listed] == ["new-shop", "old-shop"]
    assert [s.name for s in everything] == ["new-shop", "gone-shop", "old-shop"]
    assert [s.name for s in everyone] == ["their-shop", "new-shop", "old-shop"]


async def test_pages_of_stores_follow_the_key_with_no_repeat_and_no_gap(read_models: Backend) -> None:
    # Two stores made in the same instant are told apart by their id, the key's second part.
    made = [request(f"shop-{i}", minutes=i // 2) for i in range(7)]
    await apply_all(read_models, *made, request("their-shop", owner_id="owner-2", minutes=10))
    newest_first = sorted(made, key=lambda r: (r.occurred_at, r.store_id), reverse=True)

    pages: list[list[str]] = []
    after: StoreKey | None = None
    while True:
        page = await read_models.list_stores("owner-1", include_deleted=False, limit=3, after=after)
        if not page:
            break
        pages.append([s.id for s in page])
        after = StoreKey(created_at=page[-1].created_at, id=page[-1].id)
    everyone = await read_models.list_stores(None, include_deleted=False, limit=2)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [store_id for page in pages for store_id in page] == [r.store_id for r in newest_first]
    assert [s.name for s in everyone] == ["their-shop", newest_first[0].name]


async def test_a_page_of_a_timeline_starts_after_a_sequence(read_models: Backend) -> None:
    store = request()
    ids = Ids(store_id=store.store_id, owner_id=store.owner_id)
    await apply_all(read_models, store, *(events.ProvisioningStarted(**ids, occurred_at=at(i)) for i in range(1, 5)))
    whole = await read_models.timeline(store.store_id, "owner-1")
    assert whole is not None and len(whole) == 5

    first = await read_models.timeline(store.store_id, "owner-1", limit=2)
    rest = await read_models.timeline(store.store_id, "owner-1", limit=10, after_sequence=whole[1].sequence)

    assert first == whole[:2]
    assert rest == whole[2:]
    assert await read_models.timeline(store.store_id, "owner-2", limit=2) is None


async def test_stores_in_a_status_are_every_owners_oldest_first(read_models: Backend) -> None:
    first, second = request("first-shop", minutes=5), request("second-shop", owner_id="owner-2", minutes=1)
    ready = request("ready-shop", minutes=0)
    await apply_all(
        read_models,
        first,
        second,
        ready,
        events.StoreReady(store_id=ready.store_id, owner_id="owner-1", occurred_at=at(6), urls={}),
    )

    requested = await read_models.stores_in_status(["requested"])
    either = await read_models.stores_in_status(["requested", "ready"])

    assert [s.name for s in requested] == ["second-shop", "first-shop"]
    assert [s.name for s in either] == ["ready-shop", "second-shop", "first-shop"]
    assert await read_models.stores_in_status(["degraded"]) == []


async def test_a_name_finds_its_live_store_of_any_owner(read_models: Backend) -> None:
    gone = request("reused-shop", owner_id="owner-1", minutes=0)
    live = request("reused-shop", owner_id="owner-2", minutes=10)
    await apply_all(read_models, gone, *deletion(gone, 5), live)

    found = await read_models.find_live_by_name("reused-shop")

    assert found is not None and (found.id, found.owner_id) == (live.store_id, "owner-2")
    assert await read_models.find_live_by_name("no-such-shop") is None
