"""When NATS is unreachable or goes away, the gateway stays up, says it is not ready, and answers 503."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.local.servers import free_port, start_nats
from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from tests.integration.gateway.support import wait_until_ready
from tests.unit.gateway.helpers import assert_error, sign_up

pytestmark = pytest.mark.integration

STORES = "/api/v1/stores"


async def test_unreachable_nats_is_503_bus_unavailable(database_url: str, tracing: None) -> None:
    settings = GatewaySettings(
        nats_url=f"nats://127.0.0.1:{free_port()}", database_url=database_url, retry_after_seconds=3
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "not_ready"
        assert ready.json()["checks"]["postgres"] == "ok" and ready.json()["checks"]["nats"] != "ok"

        account = await sign_up(client)  # accounts only need Postgres
        create = await client.post(STORES, json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers)
        listing = await client.get(STORES, headers=account.headers)
        for response in (create, listing):
            assert "NATS" in assert_error(response, 503, "bus_unavailable")
            assert response.headers["retry-after"] == "3"


async def _wait_for_ready_status(client: AsyncTestClient[Litestar], status: int, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if (await client.get("/ready")).status_code == status:
                return
            await asyncio.sleep(0.05)


async def test_nats_going_away_is_503_and_coming_back_recovers(
    tmp_path: Path, database_url: str, tracing: None
) -> None:
    server = start_nats(tmp_path / "nats")
    try:
        settings = GatewaySettings(nats_url=server.url, database_url=database_url)
        async with AsyncTestClient(app=create_app(settings)) as client:
            await wait_until_ready(client)
            account = await sign_up(client)

            server.stop()
            await _wait_for_ready_status(client, 503)
            response = await client.post(
                STORES, json={"name": "shop-one", "engine": "woocommerce"}, headers=account.headers
            )
            assert_error(response, 503, "bus_unavailable")

            server = start_nats(tmp_path / "nats", port=server.port)
            await wait_until_ready(client, timeout=15)
    finally:
        server.stop()


async def test_shutting_down_while_nats_is_down_is_clean(tmp_path: Path, database_url: str, tracing: None) -> None:
    server = start_nats(tmp_path / "nats")
    try:
        settings = GatewaySettings(nats_url=server.url, database_url=database_url)
        async with AsyncTestClient(app=create_app(settings)) as client:
            await wait_until_ready(client)
            server.stop()
            await _wait_for_ready_status(client, 503)
    finally:
        server.stop()
