"""Prometheus metrics every service shares: its own `/metrics` server, and how its durable
consumers keep up (messages waiting for it, messages delivered more than once).

Labels stay bounded: a consumer's durable name, never a store id.
"""

from __future__ import annotations

import asyncio
import contextlib
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, start_http_server

CONSUMER_PENDING = Gauge(
    "storeplane_consumer_pending",
    "Messages of the stream not yet acknowledged by the durable consumer (waiting plus handed out)",
    ["durable"],
)
CONSUMER_REDELIVERIES = Counter(
    "storeplane_consumer_redeliveries",
    "Messages handed to this process's subscriber again after an earlier delivery (a nak, a lapsed ack wait)",
    ["durable"],
)


def delivered(durable: str, num_delivered: int) -> None:
    """Count a redelivery: JetStream's delivery count of the message in hand is above 1."""
    if num_delivered > 1:
        CONSUMER_REDELIVERIES.labels(durable).inc()


async def cancelled(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel background metric tasks and wait for them to end."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


class MetricsServer:
    """`/metrics` on `host`:`port` from a daemon thread (port 0: not served)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server: WSGIServer | None = None

    def start(self) -> None:
        if self.port and self._server is None:
            self._server, _ = start_http_server(self.port, addr=self.host)

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.shutdown()
            server.server_close()
