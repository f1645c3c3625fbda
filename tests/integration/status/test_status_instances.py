"""Several status instances share the read models and the query load: each one knows how far the
projection has got, whichever instance applied an event, so read-your-writes holds on any of them."""

from __future__ import annotations

import asyncio

import pytest
from faststream.nats import NatsBroker

from storeplane_runtime.bus import publish_event
from storeplane_status.bootstrap import StatusService, bootstrap
from storeplane_status.settings import StatusSettings
from tests.integration.status.test_status_service import requested

pytestmark = pytest.mark.integration


async def test_every_instance_follows_the_projection_whoever_applied_it(
    status_settings: StatusSettings, bus: NatsBroker
) -> None:
    async with bootstrap(status_settings) as first, bootstrap(status_settings) as second:
        last = 0
        for n in range(6):
            last = await publish_event(bus, requested(f"shared-shop-{n}"))
        instances: list[StatusService] = [first, second]
        # Each instance sees every sequence, though the shared durable hands each event to one of them.
        async with asyncio.timeout(10):
            await asyncio.gather(*(instance.position.reach(last) for instance in instances))
        assert [instance.position.sequence for instance in instances] == [last, last]
