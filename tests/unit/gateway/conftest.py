"""The gateway app on in-memory fakes: no NATS, no Postgres, real HTTP handling."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(installable_engines=("woocommerce",), retry_after_seconds=7)


@pytest.fixture
async def client(fakes: Fakes, settings: GatewaySettings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, adapters=fakes.factory())) as client:
        yield client
