"""The status service's read models over NATS request-reply: the `StoreDirectory` port (which stores
are in which state) and the `StepFigures` port (how long steps usually take)."""

from __future__ import annotations

import asyncio
import time

import msgspec
from faststream.nats import NatsBroker

from storeplane_contracts import subjects
from storeplane_contracts.queries import (
    GetStepStats,
    ListStoresInStatus,
    StepStatsReply,
    StoreKey,
    StoreList,
    StoreStatus,
    StoreView,
)

# Stores per reply: ~440 bytes each, so a page stays far below NATS's largest message (1 MiB by default).
PAGE = 500
# The status service refreshes its figures every 30 s by default; a minute-old copy is good enough for a
# stall threshold, and a failed read is not repeated for every step.
FIGURES_SECONDS = 60.0
FAILED_READ_SECONDS = 10.0


class StatusDirectory:
    """Asks the status service which stores are in which state (a page at a time), and for its step
    figures (kept a while)."""

    def __init__(
        self, broker: NatsBroker, *, timeout: float, figures_seconds: float = FIGURES_SECONDS, page: int = PAGE
    ) -> None:
        self.broker = broker
        self.timeout = timeout
        self.figures_seconds = figures_seconds
        self.page = page
        self._p95: dict[tuple[str, str], float] = {}
        self._fresh_until = 0.0
        self._reading = asyncio.Lock()

    async def stores_in_status(self, statuses: list[StoreStatus]) -> list[StoreView]:
        found: list[StoreView] = []
        after: StoreKey | None = None
        while True:
            query = msgspec.json.encode(ListStoresInStatus(statuses=statuses, limit=self.page, after=after))
            reply = await self.broker.request(query, subjects.QUERY_LIST_IN_STATUS, timeout=self.timeout)
            stores = msgspec.json.decode(reply.body, type=StoreList).stores
            found += stores
            if len(stores) < self.page:
                return found
            after = StoreKey(created_at=stores[-1].created_at, id=stores[-1].id)

    async def p95_seconds(self, engine: str, step: str) -> float | None:
        async with self._reading:
            if time.monotonic() >= self._fresh_until:
                await self._read_figures()
        return self._p95.get((engine, step))

    async def _read_figures(self) -> None:
        try:
            query = msgspec.json.encode(GetStepStats())
            reply = await self.broker.request(query, subjects.QUERY_STEP_STATS, timeout=self.timeout)
            figures = msgspec.json.decode(reply.body, type=StepStatsReply).steps
        except Exception:  # no answer: the last figures (or none), and the floor alone, for a while
            self._fresh_until = time.monotonic() + min(FAILED_READ_SECONDS, self.figures_seconds)
            raise
        self._p95 = {(f.engine, f.step): f.p95_seconds for f in figures}
        self._fresh_until = time.monotonic() + self.figures_seconds
