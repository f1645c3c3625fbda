"""When NATS is unreachable or goes away, the gateway stays up, says it is not ready, and answers 503."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.local.servers import free_port, start_nats
from storeplane_contracts import subjects
from storeplane_contracts.audit import CommandAudited
from storeplane_gateway.adapters.nats.bus import NatsBus
from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.bus import ensure_audit_stream, make_broker
from tests.integration.gateway.buses import until
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


async def test_an_audit_record_waits_out_a_stream_without_a_leader(clean_audit: str) -> None:
    """A JetStream cluster electing the AUDIT stream's leader after a node's loss answers "no responders"
    for a moment (the scale-out test saw it): the record is tried again, not left to the log."""
    bus = NatsBus(make_broker(clean_audit, service="gateway"), retry_delay=0.5)
    bus.start()
    nc = await nats.connect(clean_audit)
    try:
        await until(lambda: _ready(bus))
        js = nc.jetstream()
        await js.delete_stream(subjects.AUDIT_STREAM)  # as if it had no leader
        entry = CommandAudited(action="create_store", outcome="succeeded", status_code=202, client_address="::1")
        recorded = asyncio.create_task(bus.publish_audit(entry))
        await asyncio.sleep(0.2)  # the first attempt found no stream
        await ensure_audit_stream(js)  # a leader again
        assert await recorded == 1
        assert (await js.get_last_msg(subjects.AUDIT_STREAM, subjects.audit_subject(entry.action, ""))).data
    finally:
        await nc.close()
        await bus.stop()


async def _ready(bus: NatsBus) -> bool:
    return await bus.problem() is None
