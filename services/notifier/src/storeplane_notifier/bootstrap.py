"""The notifier's one composition root: the broker, the pool, the HTTP client, the scheduler.

Building connects nothing. `NotifierService.start()` opens the pool, applies the migrations,
ensures the STORES stream, starts the consumer and the API responders, then the scheduler (which
at once picks up whatever was pending) and the metrics port; `stop()` undoes it. Tests run it
in-process with `async with bootstrap(NotifierSettings(nats_url=..., database_url=...)):`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Self

import httpx
import structlog
from faststream.nats import NatsBroker
from structlog.types import FilteringBoundLogger

from storeplane_contracts import subjects
from storeplane_notifier import audit, migrations
from storeplane_notifier.api import Rules, WebhookApi
from storeplane_notifier.delivering import Deliverer, Policy
from storeplane_notifier.dispatcher import Dispatcher
from storeplane_notifier.policy import RetrySchedule
from storeplane_notifier.sending import new_client
from storeplane_notifier.settings import NotifierSettings
from storeplane_notifier.storage.pool import Database
from storeplane_notifier.subscribers import reconcile_position, register_api, register_consumer
from storeplane_notifier.targets import AllowList
from storeplane_runtime.bus import ensure_stream, make_broker, start_serving
from storeplane_runtime.consumers import watch_consumer
from storeplane_runtime.metrics import MetricsServer, cancelled

log: FilteringBoundLogger = structlog.get_logger(__name__)


class NotifierService:
    """The wired notifier: start it, let it record and deliver, stop it."""

    def __init__(self, settings: NotifierSettings, broker: NatsBroker, database: Database) -> None:
        self.settings = settings
        self.broker = broker
        self.database = database
        self.metrics = MetricsServer(settings.notifier_metrics_host, settings.notifier_metrics_port)
        self.client: httpx.AsyncClient | None = None
        self.dispatcher: Dispatcher | None = None
        self.watching: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        try:
            await self.database.open()
            applied = await migrations.migrate(self.database.pool)
            self.client = new_client(self.settings.webhook_timeout)
            deliverer = Deliverer(
                self.database.pool, self.client, policy_of(self.settings), partial(audit.tell, self.broker)
            )
            self.dispatcher = Dispatcher(
                self.database.pool,
                deliverer,
                concurrency=self.settings.delivery_concurrency,
                interval=self.settings.scheduler_interval,
                lease=self.settings.webhook_timeout + self.settings.webhook_lease_margin_seconds,
            )
            register_consumer(self.broker, pool=self.database.pool, queued=self.dispatcher.wake)
            api = WebhookApi(self.database.pool, rules_of(self.settings), self.dispatcher.wake)
            register_api(self.broker, api, workers=self.settings.query_concurrency)
            await self.broker.connect()
            js = self.broker.connection.jetstream()
            await ensure_stream(js, replicas=self.settings.stream_replicas)
            await reconcile_position(js, self.database.pool)
            await start_serving(self.broker)
            self.dispatcher.start()
            self.watching = [asyncio.create_task(watch_consumer(js, subjects.NOTIFIER_DURABLE))]
            self.metrics.start()
        except BaseException:
            await self.stop()
            raise
        log.info("notifier started", migrations_applied=applied)

    async def stop(self) -> None:
        """Stop consuming and scheduling (attempts in flight are tried again later), then close everything."""
        try:
            await cancelled(self.watching)
            await self.broker.stop()
            if self.dispatcher is not None:
                await self.dispatcher.stop()
            if self.client is not None:
                await self.client.aclose()
        finally:
            self.metrics.stop()
            await self.database.close()

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


def policy_of(settings: NotifierSettings) -> Policy:
    return Policy(
        allow=AllowList.parse(settings.webhook_allowed_targets),
        allow_http=settings.env == "development",
        timeout=settings.webhook_timeout,
        schedule=RetrySchedule(settings.webhook_retry_schedule, jitter=settings.webhook_retry_jitter),
        disable_after=timedelta(seconds=settings.webhook_disable_after_seconds),
    )


def rules_of(settings: NotifierSettings) -> Rules:
    return Rules(
        allow=AllowList.parse(settings.webhook_allowed_targets),
        allow_http=settings.env == "development",
        max_endpoints=settings.webhook_max_endpoints,
        rotation_overlap=timedelta(seconds=settings.webhook_rotation_overlap_seconds),
    )


def bootstrap(settings: NotifierSettings | None = None, *, broker: NatsBroker | None = None) -> NotifierService:
    """Wire the notifier; the subscribers are registered when it starts."""
    settings = settings or NotifierSettings()
    broker = broker or make_broker(
        settings.nats_url, service="notifier", graceful_timeout=settings.graceful_timeout, login=settings.nats_login()
    )
    return NotifierService(settings, broker, Database(settings.database_url, pool_size=settings.database_pool_size))
