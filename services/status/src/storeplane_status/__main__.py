"""`storeplane-status`: run the status service until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from storeplane_runtime.logs import setup_logging
from storeplane_runtime.telemetry import setup_tracing
from storeplane_status.bootstrap import bootstrap
from storeplane_status.settings import StatusSettings


async def serve(settings: StatusSettings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    async with bootstrap(settings):
        await stopping.wait()


def main() -> None:
    settings = StatusSettings()
    setup_logging(settings.log_level, json=settings.log_json)
    tracing = setup_tracing("status")
    try:
        asyncio.run(serve(settings))
    finally:
        tracing.shutdown()  # flush the spans still buffered


if __name__ == "__main__":
    main()
