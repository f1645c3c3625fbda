"""The status service end to end on the real bus and database: events published on the
STORES stream become read models, answered over NATS request-reply."""

from __future__ import annotations

import asyncio
from typing import TypedDict, TypeVar

import asyncpg
import msgspec
import pytest
from faststream.nats import NatsBroker
from nats.js.api import ConsumerConfig

from storeplane_contracts import events, subjects
from storeplane_contracts.events import Event, new_id
from storeplane_contracts.naming import namespace_for
from storeplane_contracts.queries import (
    FindLiveStoreByName,
    GetStore,
    GetStoreEvents,
    ListStores,
    StoreList,
    StoreReply,
    StoreView,
    TimelineEntry,
    TimelineReply,
)
from storeplane_runtime.bus import publish_event
from storeplane_runtime.responders import ERROR_HEADER
from storeplane_status.bootstrap import StatusService, bootstrap
from storeplane_status.projections import Applied
from storeplane_status.repository import StoreRepository
from storeplane_status.settings import StatusSettings

pytestmark = pytest.mark.integration

Reply = TypeVar("Reply", bound=msgspec.Struct)
OWNER = "owner-1"


class Ids(TypedDict):
    """The fields that say whose store an event is about."""

    store_id: str
    owner_id: str


async def ask(bus: NatsBroker, subject: str, query: msgspec.Struct, reply_type: type[Reply]) -> Reply:
    """One query over NATS request-reply, decoded as the gateway decodes it."""
    response = await bus.request(msgspec.json.encode(query), subject, timeout=10)
    assert ERROR_HEADER not in (response.headers or {}), response.headers
    return msgspec.json.decode(response.body, type=reply_type)


async def get_store(bus: NatsBroker, store_id: str, owner_id: str = OWNER, min_sequence: int = 0) -> StoreView | None:
    query = GetStore(store_id=store_id, owner_id=owner_id, min_sequence=min_sequence)
    return (await ask(bus, subjects.QUERY_GET_STORE, query, StoreReply)).store


async def timeline(
    bus: NatsBroker, store_id: str, owner_id: str = OWNER, min_sequence: int = 0
) -> list[TimelineEntry] | None:
    query = GetStoreEvents(store_id=store_id, owner_id=owner_id, min_sequence=min_sequence)
    return (await ask(bus, subjects.QUERY_STORE_EVENTS, query, TimelineReply)).events


async def list_stores(bus: NatsBroker, owner_id: str = OWNER, include_deleted: bool = False) -> list[StoreView]:
    query = ListStores(owner_id=owner_id, include_deleted=include_deleted)
    return (await ask(bus, subjects.QUERY_LIST_STORES, query, StoreList)).stores


async def find_live(bus: NatsBroker, name: str) -> StoreView | None:
    return (await ask(bus, subjects.QUERY_FIND_LIVE_BY_NAME, FindLiveStoreByName(name=name), StoreReply)).store


def requested(name: str, owner_id: str = OWNER) -> events.StoreRequested:
    store_id = new_id()
    return events.StoreRequested(
        store_id=store_id,
        owner_id=owner_id,
        name=name,
        engine="woocommerce",
        namespace=namespace_for(name, store_id),
    )


def provisioned(request: events.StoreRequested) -> list[Event]:
    """What the provisioner publishes for a request that succeeds."""
    ids = Ids(store_id=request.store_id, owner_id=request.owner_id)
    namespace = request.namespace
    return [
        events.ProvisioningStarted(**ids),
        events.NamespaceCreated(**ids, namespace=namespace),
        events.QuotaApplied(**ids, namespace=namespace, hard={"pods": "10"}),
        events.LimitsApplied(**ids, namespace=namespace),
        events.NetworkPolicyApplied(**ids, namespace=namespace),
        events.CredentialsCreated(**ids, namespace=namespace, secret="store-credentials"),
        events.ChartInstalled(**ids, namespace=namespace, release=request.name, chart="woocommerce", revision=1),
        events.StoreReady(**ids, urls={"storefront": f"http://{request.name}.stores.localhost"}),
    ]


def deleted(request: events.StoreRequested) -> list[Event]:
    """What deleting the store publishes, request first."""
    ids = Ids(store_id=request.store_id, owner_id=request.owner_id)
    namespace = request.namespace
    return [
        events.StoreDeletionRequested(**ids, namespace=namespace),
        events.ReleaseUninstalled(**ids, namespace=namespace, release=request.name),
        events.StoreDeleted(**ids, namespace=namespace),
    ]


async def publish_all(bus: NatsBroker, batch: list[Event]) -> int:
    """Publish in order; return the last stream sequence."""
    sequence = 0
    for event in batch:
        sequence = await publish_event(bus, event)
    return sequence


async def test_a_provisioned_store_is_ready_with_its_timeline_in_order(status: StatusService, bus: NatsBroker) -> None:
    request = requested("corner-shop")
    lifecycle = [request, *provisioned(request)]
    last = await publish_all(bus, lifecycle)

    store = await get_store(bus, request.store_id, min_sequence=last)

    assert store is not None
    assert (store.status, store.name, store.engine, store.namespace) == (
        "ready",
        "corner-shop",
        "woocommerce",
        request.namespace,
    )
    assert store.urls == {"storefront": "http://corner-shop.stores.localhost"}
    assert store.error is None
    entries = await timeline(bus, request.store_id)
    assert entries is not None
    assert [e.event_id for e in entries] == [e.event_id for e in lifecycle]
    assert [e.type for e in entries] == [type(e).__name__ for e in lifecycle]
    assert [e.sequence for e in entries] == sorted(e.sequence for e in entries)
    assert entries[0].data == {
        "name": "corner-shop",
        "engine": "woocommerce",
        "namespace": request.namespace,
        "trace_id": "",
    }
    assert entries[-1].data == {"urls": {"storefront": "http://corner-shop.stores.localhost"}}
    assert [s.id for s in await list_stores(bus)] == [request.store_id]


async def republish(bus: NatsBroker, event: Event) -> int:
    """Publish the same event again under a new message id, so the server does not drop it."""
    ack = await bus.publish(
        events.encode(event),
        subjects.subject_for(event),
        headers={"Nats-Msg-Id": new_id(), "content-type": "application/json"},
        stream=subjects.STREAM,
    )
    assert not ack.duplicate
    return int(ack.seq)


async def projected(service: StatusService, sequence: int) -> None:
    async with asyncio.timeout(15):
        await service.position.reach(sequence)


async def test_an_event_published_twice_is_in_the_timeline_once(status: StatusService, bus: NatsBroker) -> None:
    request = requested("twice-shop")
    lifecycle = [request, *provisioned(request)]
    await publish_all(bus, lifecycle)

    await republish(bus, request)
    await republish(bus, lifecycle[2])  # NamespaceCreated, after StoreReady
    last = await republish(bus, lifecycle[-1])

    entries = await timeline(bus, request.store_id, min_sequence=last)
    assert entries is not None
    assert [e.event_id for e in entries] == [e.event_id for e in lifecycle]
    store = await get_store(bus, request.store_id)
    assert store is not None and store.status == "ready"


async def test_another_owner_sees_nothing(status: StatusService, bus: NatsBroker) -> None:
    request = requested("private-shop")
    sequence = await publish_event(bus, request)

    assert await get_store(bus, request.store_id, min_sequence=sequence) is not None
    assert await get_store(bus, request.store_id, owner_id="owner-2") is None
    assert await timeline(bus, request.store_id, owner_id="owner-2") is None
    assert await list_stores(bus, owner_id="owner-2") == []
    assert await get_store(bus, new_id()) is None
    assert await timeline(bus, new_id()) is None


async def test_only_all_owners_and_any_owner_queries_read_across_owners(status: StatusService, bus: NatsBroker) -> None:
    mine, theirs = requested("my-shop"), requested("their-shop", owner_id="owner-2")
    await publish_event(bus, mine)
    last = await publish_event(bus, theirs)
    await projected(status, last)

    everyone = ListStores(owner_id="", all_owners=True)
    listed = (await ask(bus, subjects.QUERY_LIST_STORES, everyone, StoreList)).stores
    assert [s.id for s in listed] == [theirs.store_id, mine.store_id]
    assert [s.id for s in await list_stores(bus)] == [mine.store_id]

    assert await get_store(bus, theirs.store_id) is None
    query = GetStore(store_id=theirs.store_id, owner_id=OWNER, any_owner=True)
    found = (await ask(bus, subjects.QUERY_GET_STORE, query, StoreReply)).store
    assert found is not None and found.owner_id == "owner-2"
    assert await timeline(bus, theirs.store_id) is None
    events_query = GetStoreEvents(store_id=theirs.store_id, owner_id=OWNER, any_owner=True)
    entries = (await ask(bus, subjects.QUERY_STORE_EVENTS, events_query, TimelineReply)).events
    assert entries is not None and [e.type for e in entries] == ["StoreRequested"]


async def test_a_query_with_min_sequence_reads_the_write_it_names(status: StatusService, bus: NatsBroker) -> None:
    for n in range(5):
        request = requested(f"fresh-shop-{n}")
        sequence = await publish_event(bus, request)

        store = await get_store(bus, request.store_id, min_sequence=sequence)
        entries = await timeline(bus, request.store_id, min_sequence=sequence)

        assert store is not None and store.status == "requested"
        assert entries is not None and [e.sequence for e in entries] == [sequence]


async def test_stores_are_listed_newest_first(status: StatusService, bus: NatsBroker) -> None:
    first, second = requested("first-shop"), requested("second-shop")
    await publish_event(bus, first)
    last = await publish_event(bus, second)
    await projected(status, last)

    assert [s.name for s in await list_stores(bus)] == ["second-shop", "first-shop"]


async def test_a_deleted_store_stays_as_a_tombstone(status: StatusService, bus: NatsBroker) -> None:
    request = requested("closing-shop")
    ready = await publish_all(bus, [request, *provisioned(request)])
    await projected(status, ready)
    live = await find_live(bus, "closing-shop")
    assert live is not None and live.id == request.store_id

    last = await publish_all(bus, deleted(request))

    store = await get_store(bus, request.store_id, min_sequence=last)
    assert store is not None and store.status == "deleted"
    assert await list_stores(bus) == []
    assert [s.id for s in await list_stores(bus, include_deleted=True)] == [request.store_id]
    assert await find_live(bus, "closing-shop") is None
    entries = await timeline(bus, request.store_id)
    assert entries is not None and [e.type for e in entries][-3:] == [
        "StoreDeletionRequested",
        "ReleaseUninstalled",
        "StoreDeleted",
    ]

    again = requested("closing-shop", owner_id="owner-2")  # the name is free again, for anyone
    await projected(status, await publish_event(bus, again))
    live = await find_live(bus, "closing-shop")
    assert live is not None and live.id == again.store_id and live.owner_id == "owner-2"


async def test_a_failed_store_keeps_its_error_and_a_late_step_does_not_move_it_back(
    status: StatusService, bus: NatsBroker
) -> None:
    request = requested("broken-shop")
    ids = Ids(store_id=request.store_id, owner_id=OWNER)
    failed = events.ProvisioningFailed(
        **ids, step="chart", reason="chart_failed", message="helm install failed", retryable=True
    )
    late = events.NamespaceCreated(**ids, namespace=request.namespace)
    last = await publish_all(bus, [request, events.ProvisioningStarted(**ids), failed, late])

    store = await get_store(bus, request.store_id, min_sequence=last)

    assert store is not None and store.status == "failed"
    assert store.error is not None
    assert (store.error.step, store.error.reason, store.error.retryable) == ("chart", "chart_failed", True)
    entries = await timeline(bus, request.store_id)
    assert entries is not None and entries[-1].event_id == late.event_id


async def test_an_undecodable_message_is_terminated_and_the_projection_goes_on(
    status: StatusService, bus: NatsBroker
) -> None:
    ack = await bus.publish(
        b"{not json",
        f"stores.{new_id()}.store_requested",
        headers={"Nats-Msg-Id": new_id()},
        stream=subjects.STREAM,
    )
    request = requested("after-garbage")
    sequence = await publish_event(bus, request)

    assert await get_store(bus, request.store_id, min_sequence=sequence) is not None
    assert status.position.sequence >= ack.seq
    info = await bus.connection.jetstream().consumer_info(subjects.STREAM, subjects.STATUS_DURABLE)
    assert info.num_ack_pending == 0 and info.num_redelivered == 0


async def test_a_malformed_query_gets_an_error_reply_at_once(status: StatusService, bus: NatsBroker) -> None:
    response = await bus.request(b'{"owner_id": 42}', subjects.QUERY_LIST_STORES, timeout=5)

    assert response.body == b""
    assert "bad request" in response.headers[ERROR_HEADER]


class FlakyDatabase(StoreRepository):
    """Fails the first apply before writing (the database is down), then the second after
    committing (as if the ack never reached the server)."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn)
        self.outcomes: list[Applied | str] = []
        self.settled = asyncio.Event()

    async def apply(self, consumer: str, sequence: int, event: events.AnyEvent) -> Applied:
        if not self.outcomes:
            self.outcomes.append("down")
            raise ConnectionRefusedError("database is down")
        outcome = await super().apply(consumer, sequence, event)
        self.outcomes.append(outcome)
        if len(self.outcomes) == 2:
            raise ConnectionResetError("connection lost after the commit")
        self.settled.set()
        return outcome


async def test_a_failed_projection_is_redelivered_and_applied_once(
    status_settings: StatusSettings, bus: NatsBroker
) -> None:
    database = FlakyDatabase(status_settings.database_url)
    request = requested("flaky-shop")
    sequence = await publish_event(bus, request)

    async with bootstrap(status_settings, repository=database):
        async with asyncio.timeout(20):
            await database.settled.wait()
        entries = await timeline(bus, request.store_id, min_sequence=sequence)

    assert database.outcomes == ["down", Applied.APPLIED, Applied.ALREADY_APPLIED]
    assert entries is not None and [e.event_id for e in entries] == [request.event_id]


async def test_a_restarted_service_resumes_where_it_stopped(status_settings: StatusSettings, bus: NatsBroker) -> None:
    request = requested("resumed-shop")
    async with bootstrap(status_settings) as first:
        await projected(first, await publish_event(bus, request))
    last = await publish_all(bus, provisioned(request))  # while no status service runs

    async with bootstrap(status_settings) as second:
        # Resuming is what is tested, not how fast: wait for it rather than rely on the query's short wait.
        await projected(second, last)
        store = await get_store(bus, request.store_id)
        entries = await timeline(bus, request.store_id)

    assert store is not None and store.status == "ready"
    assert entries is not None and len(entries) == 1 + len(provisioned(request))


async def test_emptied_read_models_are_rebuilt_by_replaying_the_stream(
    status_settings: StatusSettings, bus: NatsBroker
) -> None:
    request = requested("rebuilt-shop")
    lifecycle = [request, *provisioned(request)]
    last = await publish_all(bus, lifecycle)
    async with bootstrap(status_settings) as first:
        await projected(first, last)
    connection = await asyncpg.connect(status_settings.database_url)
    try:
        await connection.execute("TRUNCATE stores, store_events, projection_tracking")
    finally:
        await connection.close()

    async with bootstrap(status_settings) as second:
        store = await get_store(bus, request.store_id, min_sequence=last)
        entries = await timeline(bus, request.store_id)

    assert store is not None and store.status == "ready"
    assert entries is not None and [e.event_id for e in entries] == [e.event_id for e in lifecycle]
    assert second.position.sequence == last


async def test_a_consumer_configured_differently_is_replaced(status_settings: StatusSettings, bus: NatsBroker) -> None:
    js = bus.connection.jetstream()
    await js.add_consumer(
        subjects.STREAM,
        ConsumerConfig(
            durable_name=subjects.STATUS_DURABLE, filter_subject=subjects.ALL_STORE_EVENTS, max_ack_pending=500
        ),
    )
    request = requested("replaced-consumer")
    sequence = await publish_event(bus, request)

    async with bootstrap(status_settings):
        store = await get_store(bus, request.store_id, min_sequence=sequence)
        info = await js.consumer_info(subjects.STREAM, subjects.STATUS_DURABLE)

    assert store is not None
    assert info.config.max_ack_pending == 1


async def test_a_service_that_cannot_reach_its_database_fails_to_start_cleanly(clean_stream: str) -> None:
    service = bootstrap(StatusSettings(nats_url=clean_stream, database_url="postgresql://storeplane@127.0.0.1:1/none"))

    with pytest.raises(OSError):
        await service.start()

    await service.stop()  # stopping again is harmless
