"""How a service process runs: logs and traces set up, served until SIGINT or SIGTERM, traces flushed.

Every service's `__main__` is this and its own composition root. The service is an async context
manager: entering it starts it (connects, declares, subscribes), leaving it stops it cleanly, which
is what a signal does. (FastStream's own `FastStream.run` cannot be used: it starts the broker itself,
while our composition roots start it only after declaring the streams and consumers it needs.)
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager

import uvloop

from storeplane_runtime.logs import setup_logging
from storeplane_runtime.metrics import MetricsServer
from storeplane_runtime.settings import CommonSettings
from storeplane_runtime.telemetry import setup_tracing

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# Builds the service (inside the event loop: brokers and clients bind to it); entering starts it.
ServiceFactory = Callable[[], AbstractAsyncContextManager[object]]


async def serve_until_signalled(service: ServiceFactory) -> None:
    """Start the service, and stop it on the first SIGINT or SIGTERM (a signal during the start
    stops it as soon as it has started)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        async with service():
            await stop.wait()
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


@contextmanager
def traced_process(service: str, settings: CommonSettings) -> Iterator[None]:
    """Logs as `settings` say and traces named after `service`; the spans still buffered are flushed
    on the way out."""
    setup_logging(settings.log_level, json=settings.log_json)
    tracing = setup_tracing(service)
    try:
        yield
    finally:
        tracing.shutdown()


def run_service(
    service: str, settings: CommonSettings, build: ServiceFactory, *, metrics: MetricsServer | None = None
) -> None:
    """The whole of a service's `main()`: run what `build` makes until signalled, serving `metrics`
    (the process's Prometheus registry) meanwhile."""
    with traced_process(service, settings), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        if metrics is not None:
            metrics.start()
        try:
            # uvloop: its socket I/O, a third of a service's time answering queries on asyncio's loop.
            runner.run(serve_until_signalled(build))
        finally:
            if metrics is not None:
                metrics.stop()
