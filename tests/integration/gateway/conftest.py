"""The gateway in-process against the real NATS and Postgres, with a stand-in for the status service.

The status service is another engineer's; here its query subjects are answered on the real
NATS server by `StatusResponder`, which serves a `FakeStatus` and records every query.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import nats
import pytest
from anyio.from_thread import start_blocking_portal
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js.errors import NotFoundError

from infra.local.servers import Server
from storeplane_contracts import subjects
from storeplane_gateway.__main__ import run_admin
from storeplane_gateway.app import create_app
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.telemetry import setup_tracing
from tests.integration.gateway.support import StatusResponder, wait_until_ready
from tests.unit.gateway.fakes import FakeStatus


@pytest.fixture(scope="session")
def tracing() -> None:
    """A real tracer provider, as `main` installs, so trace ids exist and travel in headers."""
    setup_tracing("gateway")


@pytest.fixture
async def clean_audit(clean_stream: str) -> str:
    """The NATS URL, with the AUDIT stream (and the STORES stream) removed before the test."""
    nc = await nats.connect(clean_stream)
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_stream(subjects.AUDIT_STREAM)
    await nc.close()
    return clean_stream


@pytest.fixture
def gateway_settings(clean_audit: str, nats_server: Server, database_url: str) -> GatewaySettings:
    """The gateway connects as its own NATS user."""
    return GatewaySettings(
        **nats_server.login("gateway"),
        database_url=database_url,
        query_timeout=1.0,
        retry_after_seconds=3,
    )


@pytest.fixture
def grant_admin(gateway_settings: GatewaySettings) -> Callable[[str], Awaitable[None]]:
    """`storeplane-gateway admin grant EMAIL` on the test's database (the command's own code, in-process)."""

    async def grant(email: str) -> None:
        assert await run_admin(gateway_settings, "grant", email) == 0

    return grant


@pytest.fixture
def status_responder(clean_stream: str) -> Iterator[StatusResponder]:
    """Runs on its own event loop in a thread: Litestar's test client blocks the test's loop per request."""
    with start_blocking_portal() as portal:
        responder = StatusResponder(FakeStatus())
        portal.call(responder.start, clean_stream)
        yield responder
        portal.call(responder.stop)


@pytest.fixture
async def gateway(gateway_settings: GatewaySettings, tracing: None) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app in-process, as uvicorn would run it, once NATS and Postgres are connected."""
    async with AsyncTestClient(app=create_app(gateway_settings)) as client:
        await wait_until_ready(client)
        yield client
