"""The drift check's directory pages through the status service's stores (real NATS, the real status
service on Postgres): every ready store, oldest first, however many pages it takes, so that no single
reply outgrows NATS's largest message."""

from __future__ import annotations

import asyncio

import pytest
from faststream.nats import NatsBroker

from storeplane_contracts import events
from storeplane_contracts.events import new_id
from storeplane_provisioner.adapters.status_directory import StatusDirectory
from storeplane_status.bootstrap import bootstrap
from storeplane_status.settings import StatusSettings
from tests.integration.gateway.buses import connected_bus

pytestmark = pytest.mark.integration


async def test_every_ready_store_comes_back_oldest_first_over_several_pages(
    broker: NatsBroker, clean_stream: str, database_url: str
) -> None:
    settings = StatusSettings(nats_url=clean_stream, database_url=database_url, graceful_timeout=5.0)
    async with bootstrap(settings) as service, connected_bus(clean_stream) as bus:
        ready: list[str] = []
        for i in range(5):
            store_id, owner_id = new_id(), new_id()
            namespace = f"store-paged-{i}-{store_id[:8]}"
            request = events.StoreRequested(
                store_id=store_id, owner_id=owner_id, name=f"paged-{i}", engine="woocommerce", namespace=namespace
            )
            await bus.publish(request)
            if i != 2:  # one stays requested: not a ready store
                sequence = await bus.publish(events.StoreReady(store_id=store_id, owner_id=owner_id, urls={}))
                ready.append(store_id)
        async with asyncio.timeout(10):
            await service.position.reach(sequence)

        listed = await StatusDirectory(broker, timeout=5.0, page=2).stores_in_status(["ready"])
        whole = await StatusDirectory(broker, timeout=5.0, page=500).stores_in_status(["ready"])

    assert [store.id for store in listed] == ready  # pages of 2, 2 and 0
    assert listed == whole
