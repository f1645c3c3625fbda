"""Fixtures for the status service against the real NATS and Postgres: the service running
in-process, and a separate publisher on the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker

from infra.local.servers import Server
from storeplane_runtime.bus import ensure_stream, make_broker
from storeplane_status.bootstrap import StatusService, bootstrap
from storeplane_status.settings import StatusSettings


@pytest.fixture
def status_settings(clean_stream: str, nats_server: Server, database_url: str) -> StatusSettings:
    """The status service connects as its own NATS user."""
    return StatusSettings(**nats_server.login("status"), database_url=database_url, graceful_timeout=5.0)


@pytest.fixture
async def status(status_settings: StatusSettings) -> AsyncIterator[StatusService]:
    async with bootstrap(status_settings) as service:
        yield service


@pytest.fixture
async def bus(clean_stream: str) -> AsyncIterator[NatsBroker]:
    """A publisher with its own connection, as the gateway and the provisioner have."""
    broker = make_broker(clean_stream, service="test-publisher")
    await broker.connect()
    await ensure_stream(broker.connection.jetstream())
    yield broker
    await broker.stop()
