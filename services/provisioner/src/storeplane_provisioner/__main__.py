"""`storeplane-provisioner`: run the provisioner until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from storeplane_provisioner.bootstrap import start
from storeplane_provisioner.settings import ProvisionerSettings
from storeplane_runtime.logs import setup_logging
from storeplane_runtime.telemetry import setup_tracing


async def serve(settings: ProvisionerSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    provisioner = await start(settings)
    try:
        await stop.wait()
    finally:
        await provisioner.stop()


def main() -> None:
    settings = ProvisionerSettings()
    setup_logging(settings.log_level, json=settings.log_json)
    tracing = setup_tracing("provisioner")
    try:
        asyncio.run(serve(settings))
    finally:
        tracing.shutdown()  # flush the spans still buffered


if __name__ == "__main__":
    main()
