"""The contract of the gateway's status queries, passed by `NatsStatusClient` (asking the real status
service over NATS, its read models on Postgres) and by `FakeStatus` alike.

It asserts what the routes rely on: reads scoped to the owner unless an admin lifts that, lists newest
first with deleted stores only when asked for, live names found across owners, and a status service
that does not answer as `StatusUnavailable` (a 503), never a hang or an empty answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

import pytest

from storeplane_contracts import events
from storeplane_contracts.events import new_id
from storeplane_contracts.naming import namespace_for
from storeplane_contracts.queries import StoreView
from storeplane_gateway.adapters.nats.bus import NatsBus
from storeplane_gateway.adapters.nats.status_client import NatsStatusClient
from storeplane_gateway.domain.errors import StatusUnavailable
from storeplane_gateway.ports import StatusQueries
from storeplane_status.bootstrap import StatusService, bootstrap
from storeplane_status.settings import StatusSettings
from tests.integration.gateway.buses import connected_bus
from tests.unit.gateway.fakes import FakeStatus

pytestmark = pytest.mark.integration

# The states a test puts a store in, each one event after the request away.
Reached = Literal["requested", "provisioning", "ready", "deleting", "deleted"]


class Backend(Protocol):
    """Status queries, and the way a test puts stores behind them."""

    @property
    def status(self) -> StatusQueries: ...

    async def add_store(self, owner_id: str, name: str, status: Reached = "ready") -> StoreView:
        """A store of `owner_id` in `status`, as the queries answer it."""
        ...

    async def go_down(self) -> None:
        """The status service stops answering."""
        ...


@dataclass
class FakeBackend:
    """`FakeStatus`, filled and switched off directly."""

    status: FakeStatus

    async def add_store(self, owner_id: str, name: str, status: Reached = "ready") -> StoreView:
        return self.status.add_store(owner_id=owner_id, name=name, status=status)

    async def go_down(self) -> None:
        self.status.available = False


def _lifecycle(owner_id: str, name: str, status: Reached) -> list[events.Event]:
    """What the gateway and the provisioner publish for a store to reach `status`."""
    store_id = new_id()
    namespace = namespace_for(name, store_id)
    request = events.StoreRequested(
        store_id=store_id, owner_id=owner_id, name=name, engine="woocommerce", namespace=namespace
    )
    then: dict[Reached, list[events.Event]] = {
        "requested": [],
        "provisioning": [events.ProvisioningStarted(store_id=store_id, owner_id=owner_id)],
        "ready": [
            events.StoreReady(store_id=store_id, owner_id=owner_id, urls={"storefront": f"http://{name}.localhost/"})
        ],
        "deleting": [events.StoreDeletionRequested(store_id=store_id, owner_id=owner_id, namespace=namespace)],
        "deleted": [
            events.StoreDeletionRequested(store_id=store_id, owner_id=owner_id, namespace=namespace),
            events.StoreDeleted(store_id=store_id, owner_id=owner_id, namespace=namespace),
        ],
    }
    return [request, *then[status]]


@dataclass
class NatsBackend:
    """The gateway's client on its own connection, and the status service it asks."""

    status: NatsStatusClient
    bus: NatsBus
    service: StatusService

    async def add_store(self, owner_id: str, name: str, status: Reached = "ready") -> StoreView:
        lifecycle = _lifecycle(owner_id, name, status)
        for event in lifecycle:
            sequence = await self.bus.publish(event)
        async with asyncio.timeout(10):
            await self.service.position.reach(sequence)
        store = await self.status.get_store(lifecycle[0].store_id, owner_id)
        assert store is not None and store.status == status, store
        return store

    async def go_down(self) -> None:
        await self.service.stop()


@pytest.fixture(params=["fake", "nats"])
async def backend(request: pytest.FixtureRequest, clean_stream: str, database_url: str) -> AsyncIterator[Backend]:
    if request.param == "fake":
        yield FakeBackend(FakeStatus())
        return
    settings = StatusSettings(nats_url=clean_stream, database_url=database_url, graceful_timeout=5.0)
    async with bootstrap(settings) as service, connected_bus(clean_stream) as bus:
        yield NatsBackend(status=NatsStatusClient(bus, timeout=5.0), bus=bus, service=service)


async def test_an_owner_reads_their_own_store_and_an_admin_any(backend: Backend) -> None:
    mine = await backend.add_store("ada", "shop-one")
    theirs = await backend.add_store("bob", "shop-two", "provisioning")
    status = backend.status

    assert await status.get_store(mine.id, "ada") == mine
    assert (mine.owner_id, mine.name, mine.engine, mine.status) == ("ada", "shop-one", "woocommerce", "ready")
    assert mine.namespace == namespace_for("shop-one", mine.id)
    assert await status.get_store(theirs.id, "ada") is None  # as if it did not exist
    assert await status.get_store(theirs.id, "ada", any_owner=True) == theirs
    assert await status.get_store(new_id(), "ada") is None
    assert await status.get_store(new_id(), "ada", any_owner=True) is None


async def test_an_owner_lists_their_live_stores_newest_first(backend: Backend) -> None:
    gone = await backend.add_store("ada", "shop-gone", "deleted")
    first = await backend.add_store("ada", "shop-one")
    second = await backend.add_store("ada", "shop-two", "requested")
    leaving = await backend.add_store("ada", "shop-leaving", "deleting")
    bobs = await backend.add_store("bob", "shop-bob")
    status = backend.status

    assert [s.id for s in await status.list_stores("ada")] == [leaving.id, second.id, first.id]
    assert [s.id for s in await status.list_stores("ada", include_deleted=True)] == [
        leaving.id,
        second.id,
        first.id,
        gone.id,
    ]
    everyones = [bobs.id, leaving.id, second.id, first.id]
    assert [s.id for s in await status.list_stores("ada", all_owners=True)] == everyones
    assert await status.list_stores("carol") == []


async def test_a_timeline_is_read_by_its_owner_or_an_admin(backend: Backend) -> None:
    mine = await backend.add_store("ada", "shop-one")
    status = backend.status

    assert isinstance(await status.store_events(mine.id, "ada"), list)
    assert isinstance(await status.store_events(mine.id, "bob", any_owner=True), list)
    assert await status.store_events(mine.id, "bob") is None
    assert await status.store_events(new_id(), "ada") is None


async def test_a_live_name_is_found_whoever_owns_it(backend: Backend) -> None:
    await backend.add_store("ada", "shop-one", "deleted")
    again = await backend.add_store("bob", "shop-one", "requested")  # the name was free again
    await backend.add_store("ada", "shop-gone", "deleted")
    status = backend.status

    found = await status.find_live_store_by_name("shop-one")
    assert found is not None and found.id == again.id
    assert await status.find_live_store_by_name("shop-gone") is None
    assert await status.find_live_store_by_name("shop-unknown") is None


async def test_a_status_service_that_does_not_answer_is_unavailable(backend: Backend) -> None:
    store = await backend.add_store("ada", "shop-one")
    await backend.status.ping()
    await backend.go_down()
    status = backend.status

    with pytest.raises(StatusUnavailable):
        await status.ping()
    with pytest.raises(StatusUnavailable):
        await status.list_stores("ada")
    with pytest.raises(StatusUnavailable):
        await status.get_store(store.id, "ada")
    with pytest.raises(StatusUnavailable):
        await status.store_events(store.id, "ada")
    with pytest.raises(StatusUnavailable):
        await status.find_live_store_by_name("shop-one")
