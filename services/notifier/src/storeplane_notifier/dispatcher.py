"""The scheduler: due attempts from Postgres, each endpoint worked on by its own task.

Postgres is the queue, so whatever was pending when a notifier stopped (or was killed) is picked
up by the next one, and two notifiers share the work through leases (see `storage.deliveries`).
An endpoint has at most one attempt in flight here, and a slow endpoint holds only its own
task, never another endpoint's turn; `concurrency` bounds the endpoints in flight at once. The
loop runs when woken (a message was queued, an attempt ended) or every `interval` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from structlog.types import FilteringBoundLogger

from storeplane_notifier.delivering import Deliverer, utcnow
from storeplane_notifier.storage import deliveries
from storeplane_notifier.storage.pool import Pool

log: FilteringBoundLogger = structlog.get_logger(__name__)


class Dispatcher:
    """Hands due messages to per-endpoint tasks."""

    def __init__(self, pool: Pool, deliverer: Deliverer, *, concurrency: int, interval: float, lease: float) -> None:
        self.pool = pool
        self.deliverer = deliverer
        self.concurrency = concurrency
        self.interval = interval
        self.lease = timedelta(seconds=lease)
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name="webhook-scheduler")

    async def stop(self) -> None:
        """Stop scheduling and cancel the attempts in flight (their leases run out; they are tried again)."""
        tasks = [t for t in (self._loop, *self._busy.values()) if t is not None]
        self._loop = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.dispatch_due()
            except Exception:
                log.exception("scheduling webhook attempts failed; trying again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()

    async def dispatch_due(self) -> int:
        """Start an attempt for each endpoint with a due message and no attempt in flight; how many started."""
        free = self.concurrency - len(self._busy)
        if free <= 0:
            return 0
        at = utcnow()
        taken = await deliveries.claim_due(
            self.pool, busy=list(self._busy), limit=free, at=at, lease_until=at + self.lease
        )
        for endpoint_id, message_id in taken:
            self._busy[endpoint_id] = asyncio.create_task(self._attempt(endpoint_id, message_id))
        return len(taken)

    async def _attempt(self, endpoint_id: str, message_id: str) -> None:
        try:
            await self.deliverer.deliver(message_id)
        except Exception:
            log.exception("webhook attempt failed unexpectedly; its lease will run out", message_id=message_id)
        finally:
            self._busy.pop(endpoint_id, None)
            self.wake()
