"""The status service's one composition root: it builds the broker, the Postgres adapter and
the projection position, and registers the subscribers.

Building connects nothing. `StatusService.start()` opens the pool, applies the migrations,
loads the projection's position, ensures the STORES stream (dropping the durable consumer
when it is ahead of the read models or configured differently, so they are rebuilt by
replay) and starts consuming;
`stop()` undoes it. Tests run the service in-process with
`async with bootstrap(StatusSettings(nats_url=..., database_url=...)):`.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

import structlog
from faststream.nats import NatsBroker
from structlog.types import FilteringBoundLogger

from storeplane_contracts import subjects
from storeplane_runtime.bus import ensure_stream, make_broker, start_serving
from storeplane_runtime.metrics import cancelled
from storeplane_status import metrics, migrations
from storeplane_status.positions import ProjectionPosition
from storeplane_status.repository import StoreRepository
from storeplane_status.settings import StatusSettings
from storeplane_status.stats import StepStats, refresh_step_stats
from storeplane_status.subscribers import reconcile_consumer, register_subscribers

log: FilteringBoundLogger = structlog.get_logger(__name__)


class StatusService:
    """The wired status service: start it, let it project and answer, stop it."""

    def __init__(
        self,
        *,
        broker: NatsBroker,
        repository: StoreRepository,
        position: ProjectionPosition,
        metrics_every: float = 5.0,
        stats: StepStats | None = None,
        stats_every: float = 30.0,
        stream_replicas: int = 1,
    ) -> None:
        self.broker = broker
        self.repository = repository
        self.position = position
        self.metrics_every = metrics_every
        self.stats = stats or StepStats()
        self.stats_every = stats_every
        self.stream_replicas = stream_replicas
        self.watching: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        try:
            await self.repository.open()
            applied = await migrations.migrate(self.repository.pool)
            await self.position.advance(await self.repository.position(subjects.STATUS_DURABLE))
            await self.broker.connect()
            js = self.broker.connection.jetstream()
            await ensure_stream(js, replicas=self.stream_replicas)
            await reconcile_consumer(js, self.position.sequence)
            await start_serving(self.broker)
            self.watching = [
                asyncio.create_task(metrics.watch_projection(js, every=self.metrics_every)),
                asyncio.create_task(
                    metrics.refresh_store_counts(self.repository.store_counts, every=self.metrics_every)
                ),
                asyncio.create_task(refresh_step_stats(self.repository.step_stats, self.stats, every=self.stats_every)),
            ]
        except BaseException:
            await self.stop()
            raise
        log.info("status service started", migrations_applied=applied, position=self.position.sequence)

    async def stop(self) -> None:
        """Stop consuming (finishing the message in hand), then close the bus and the pool."""
        try:
            await cancelled(self.watching)
            await self.broker.stop()
        finally:
            await self.repository.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


def bootstrap(
    settings: StatusSettings | None = None,
    *,
    broker: NatsBroker | None = None,
    repository: StoreRepository | None = None,
) -> StatusService:
    """Wire the status service; pass `broker` or `repository` to override an adapter."""
    settings = settings or StatusSettings()
    broker = broker or make_broker(
        settings.nats_url, service="status", graceful_timeout=settings.graceful_timeout, login=settings.nats_login()
    )
    repository = repository or StoreRepository(settings.database_url, pool_size=settings.database_pool_size)
    position = ProjectionPosition()
    stats = StepStats()
    register_subscribers(broker, read_models=repository, position=position, settings=settings, stats=stats)
    return StatusService(
        broker=broker,
        repository=repository,
        position=position,
        metrics_every=settings.metrics_refresh_seconds,
        stats=stats,
        stats_every=settings.step_stats_refresh_seconds,
        stream_replicas=settings.stream_replicas,
    )
