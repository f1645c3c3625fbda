"""Query handlers and the projection handler with fakes: owner scoping, read-your-writes, and
how a stream message is settled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from storeplane_contracts import events
from storeplane_contracts.queries import (
    FindLiveStoreByName,
    GetStore,
    GetStoreEvents,
    ListStores,
    StoreStatus,
)
from storeplane_status import queries
from storeplane_status.handlers import apply_store_event, skip_message
from storeplane_status.positions import ProjectionPosition
from storeplane_status.projections import Applied, StoreRow
from storeplane_status.subscribers import MAX_RETRY_DELAY, retry_delay
from tests.unit.status.fakes import FakeReadModels, ManualClock, let_run

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def row(store_id: str, owner_id: str = "o-1", status: StoreStatus = "ready") -> StoreRow:
    return StoreRow(
        id=store_id,
        owner_id=owner_id,
        name=f"shop-{store_id}",
        engine="woocommerce",
        namespace=f"store-{store_id}",
        status=status,
        created_at=T0,
        updated_at=T0,
        last_sequence=1,
    )


async def test_a_query_waits_for_its_sequence_then_reads() -> None:
    clock = ManualClock()  # never moved: the wait cannot expire
    read_models, position = FakeReadModels(), ProjectionPosition(4, timer=clock.timeout)
    query = GetStore(store_id="s-1", owner_id="o-1", min_sequence=5)
    answer = asyncio.create_task(queries.get_store(query, read_models=read_models, position=position, wait=5))
    await let_run()
    assert clock.waiting == 1 and not answer.done()

    read_models.rows["s-1"] = row("s-1")  # the projection commits, then signals
    await position.advance(5)

    reply = await asyncio.wait_for(answer, 1)
    assert reply.store == row("s-1").view()


async def test_a_query_answers_with_what_there_is_when_the_projection_is_late() -> None:
    clock = ManualClock()
    read_models, position = FakeReadModels(row("s-1")), ProjectionPosition(1, timer=clock.timeout)
    query = GetStoreEvents(store_id="s-1", owner_id="o-1", min_sequence=99)
    answer = asyncio.create_task(queries.get_store_events(query, read_models=read_models, position=position, wait=3))
    await let_run()
    clock.advance(2.9)
    await let_run()
    assert clock.waiting == 1 and not answer.done()

    clock.advance(0.1)

    reply = await asyncio.wait_for(answer, 1)
    assert reply.events == []


async def test_a_query_without_min_sequence_does_not_wait() -> None:
    reply = await asyncio.wait_for(
        queries.get_store(
            GetStore(store_id="s-1", owner_id="o-1"),
            read_models=FakeReadModels(row("s-1")),
            position=ProjectionPosition(0),
            wait=60,
        ),
        1,
    )
    assert reply.store is not None


async def test_another_owners_store_is_answered_as_missing() -> None:
    read_models, position = FakeReadModels(row("s-1", owner_id="o-1")), ProjectionPosition()

    store = await queries.get_store(
        GetStore(store_id="s-1", owner_id="o-2"), read_models=read_models, position=position, wait=1
    )
    timeline = await queries.get_store_events(
        GetStoreEvents(store_id="s-1", owner_id="o-2"), read_models=read_models, position=position, wait=1
    )

    assert store.store is None and timeline.events is None


async def test_listing_and_finding_by_name() -> None:
    read_models = FakeReadModels(row("s-1"), row("s-2", status="deleted"), row("s-3", owner_id="o-2"))

    listed = await queries.list_stores(ListStores(owner_id="o-1"), read_models=read_models)
    all_listed = await queries.list_stores(ListStores(owner_id="o-1", include_deleted=True), read_models=read_models)
    found = await queries.find_live_store_by_name(FindLiveStoreByName(name="shop-s-3"), read_models=read_models)
    gone = await queries.find_live_store_by_name(FindLiveStoreByName(name="shop-s-2"), read_models=read_models)

    assert [s.id for s in listed.stores] == ["s-1"]
    assert [s.id for s in all_listed.stores] == ["s-2", "s-1"]
    assert found.store is not None and found.store.owner_id == "o-2"
    assert gone.store is None


async def test_applying_an_event_moves_the_position_after_the_write() -> None:
    read_models, position = FakeReadModels(), ProjectionPosition()
    event = events.ProvisioningStarted(store_id="s-1", owner_id="o-1")

    applied = await apply_store_event(event, 3, consumer="status", store=read_models, position=position)
    await skip_message(4, consumer="status", store=read_models, position=position)

    assert applied is Applied.APPLIED
    assert read_models.applied == [("status", 3, event.event_id)] and read_models.skipped == [4]
    assert position.sequence == 4


async def test_a_failed_write_does_not_move_the_position() -> None:
    class DownReadModels(FakeReadModels):
        async def apply(self, consumer: str, sequence: int, event: events.AnyEvent) -> Applied:
            raise ConnectionRefusedError("database is down")

    position = ProjectionPosition(2)
    with pytest.raises(ConnectionRefusedError):
        await apply_store_event(
            events.ProvisioningStarted(store_id="s-1", owner_id="o-1"),
            3,
            consumer="status",
            store=DownReadModels(),
            position=position,
        )
    assert position.sequence == 2


async def test_the_position_never_goes_back() -> None:
    position = ProjectionPosition()
    await position.advance(7)
    await position.advance(3)
    assert position.sequence == 7


def test_redeliveries_back_off_up_to_a_limit() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_delay(50) == MAX_RETRY_DELAY


async def test_only_a_query_that_says_all_owners_reads_across_owners() -> None:
    read_models = FakeReadModels(row("s-1", owner_id="o-1"), row("s-2", owner_id="o-2"))
    position = ProjectionPosition()

    mine = await queries.list_stores(ListStores(owner_id="o-1"), read_models=read_models)
    everyone = await queries.list_stores(ListStores(owner_id="", all_owners=True), read_models=read_models)
    foreign = await queries.get_store(
        GetStore(store_id="s-2", owner_id="o-1"), read_models=read_models, position=position, wait=1
    )
    any_owner = await queries.get_store(
        GetStore(store_id="s-2", owner_id="o-1", any_owner=True), read_models=read_models, position=position, wait=1
    )
    timeline = await queries.get_store_events(
        GetStoreEvents(store_id="s-2", owner_id="o-1", any_owner=True),
        read_models=read_models,
        position=position,
        wait=1,
    )

    assert [s.id for s in mine.stores] == ["s-1"]
    assert sorted(s.id for s in everyone.stores) == ["s-1", "s-2"]
    assert foreign.store is None
    assert any_owner.store is not None and any_owner.store.owner_id == "o-2"
    assert timeline.events == []
