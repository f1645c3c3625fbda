"""The status service's Prometheus metrics, on its own `/metrics` port (`STOREPLANE_STATUS_METRICS_PORT`):
stores by engine and status from the read model, and how far the projection is behind the stream.

Both are refreshed by a background task (an async query cannot run in the scrape's thread); every
(engine, status) pair is always present, at 0 when no store is in it, so a series never vanishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NamedTuple, get_args

import structlog
from nats.js.client import JetStreamContext
from prometheus_client import Gauge

from storeplane_contracts import subjects
from storeplane_contracts.events import Engine
from storeplane_contracts.queries import StoreStatus
from storeplane_runtime.consumers import watch_consumer

log = structlog.get_logger("storeplane.status.metrics")

STORES = Gauge("storeplane_stores", "Stores in the read model, by engine and status", ["engine", "status"])
PROJECTION_LAG = Gauge(
    "storeplane_projection_lag_events", "Store events in the stream that the read models have not applied yet"
)

OLDEST_PROVISIONING = Gauge(
    "storeplane_provisioning_oldest_seconds",
    "How long the oldest store still requested or provisioning has been waiting (0: none is)",
)


class StoreCounts(NamedTuple):
    by_engine_and_status: dict[tuple[str, str], int]
    oldest_provisioning_seconds: float


Counts = Callable[[], Awaitable[StoreCounts]]


def show_counts(counts: StoreCounts) -> None:
    by = counts.by_engine_and_status
    for engine in {*get_args(Engine), *(engine for engine, _ in by)}:
        for status in get_args(StoreStatus):
            STORES.labels(engine, status).set(by.get((engine, status), 0))
    OLDEST_PROVISIONING.set(counts.oldest_provisioning_seconds)


async def refresh_store_counts(counts: Counts, *, every: float) -> None:
    """Keep `storeplane_stores` current until cancelled; a failed read keeps the last values."""
    while True:
        try:
            show_counts(await counts())
        except Exception as exc:
            log.info("store counts not read", error=repr(exc))
        await asyncio.sleep(every)


async def watch_projection(js: JetStreamContext, *, every: float) -> None:
    """The projection's consumer: its pending messages are the projection's lag."""
    await watch_consumer(js, subjects.STATUS_DURABLE, every=every, on_pending=PROJECTION_LAG.set)
