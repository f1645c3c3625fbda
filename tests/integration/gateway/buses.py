"""The gateway's `NatsBus` for the contract tests of its NATS adapters: connected as the app connects it,
and a way to wait for what it reports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from storeplane_gateway.adapters.nats.bus import NatsBus
from storeplane_runtime.bus import make_broker


async def until(holds: Callable[[], Awaitable[bool]], *, timeout: float = 10.0) -> None:
    """Return once `holds()` is true; TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await holds():  # noqa: ASYNC110 - the bus reports its state when asked, it sets no event
            await asyncio.sleep(0.02)


@asynccontextmanager
async def connected_bus(url: str) -> AsyncIterator[NatsBus]:
    """A `NatsBus` once it would tell `/ready` that it is connected (the STORES and AUDIT streams ensured);
    stopped afterwards."""
    bus = NatsBus(make_broker(url, service="gateway"), retry_delay=0.1)
    bus.start()
    try:

        async def ready() -> bool:
            return await bus.problem() is None

        await until(ready)
        yield bus
    finally:
        await bus.stop()
