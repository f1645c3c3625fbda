"""The provisioner asks the status service for its step figures (the p95 behind a stalled step's
threshold) over real NATS, as its own NATS user: the answer is the status service's, and with no status
service the question fails quickly, so the watchdog falls back on its floor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker

from infra.local.servers import Server
from storeplane_provisioner.adapters.status_directory import StatusDirectory
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.bus import make_broker
from storeplane_status.bootstrap import bootstrap
from storeplane_status.repository import StoreRepository
from storeplane_status.settings import StatusSettings
from tests.integration.status.test_step_stats import START, provisioned

pytestmark = pytest.mark.integration


@pytest.fixture
async def provisioner_bus(clean_stream: str, nats_server: Server) -> AsyncIterator[NatsBroker]:
    settings = ProvisionerSettings(**nats_server.login("provisioner"))
    broker = make_broker(settings.nats_url, service="provisioner", login=settings.nats_login())
    await broker.connect()
    yield broker
    await broker.stop()


async def test_the_provisioner_reads_the_p95_of_an_engines_step(
    status_settings: StatusSettings, database_url: str, provisioner_bus: NatsBroker
) -> None:
    repository = StoreRepository(database_url, pool_size=1)
    await repository.open()
    try:
        async with bootstrap(status_settings.model_copy(update={"step_stats_refresh_seconds": 0.2})):
            await provisioned(repository, "woocommerce", 30, at=START)  # migrated by the service
            directory = StatusDirectory(provisioner_bus, timeout=5, figures_seconds=0)  # every question asks
            for _ in range(50):  # until the service's figures are refreshed from the timeline
                if await directory.p95_seconds("woocommerce", "chart") is not None:
                    break
                await asyncio.sleep(0.1)
            assert await directory.p95_seconds("woocommerce", "chart") == 30.0
            assert await directory.p95_seconds("medusa", "chart") is None  # no figure for it yet
    finally:
        await repository.close()


async def test_without_a_status_service_the_question_fails_at_once(provisioner_bus: NatsBroker) -> None:
    directory = StatusDirectory(provisioner_bus, timeout=5)
    with pytest.raises(Exception):  # noqa: B017 - no responders, whichever error nats-py names it
        await directory.p95_seconds("woocommerce", "chart")
