"""In-memory twins of the status service's adapters, for tests without Postgres or real time.

`FakeReadModels` projects with the same pure rules as the Postgres repository (`projections`),
and `tests/integration/status/test_read_models_contract.py` holds both to one contract.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from storeplane_contracts.events import AnyEvent
from storeplane_contracts.queries import StoreKey, StoreView, TimelineEntry
from storeplane_status.projections import Applied, StoreRow, project, timeline_row


class FakeReadModels:
    """In-memory read models; tests may also fill `rows` and `timelines` directly."""

    def __init__(self, *rows: StoreRow) -> None:
        self.rows = {r.id: r for r in rows}
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.tracked: dict[str, int] = {}
        self.event_ids: set[str] = set()
        # Every call, whatever came of it: what the handler tests check.
        self.applied: list[tuple[str, int, str]] = []
        self.skipped: list[int] = []

    # The projection's writes.

    async def position(self, consumer: str) -> int:
        return self.tracked.get(consumer, 0)

    async def apply(self, consumer: str, sequence: int, event: AnyEvent) -> Applied:
        self.applied.append((consumer, sequence, event.event_id))
        if self.tracked.get(consumer, 0) >= sequence:
            return Applied.ALREADY_APPLIED
        self.tracked[consumer] = sequence
        if event.event_id in self.event_ids:
            return Applied.REPEATED_EVENT
        self.event_ids.add(event.event_id)
        entry = timeline_row(event, sequence)
        self.timelines.setdefault(event.store_id, []).append(
            TimelineEntry(
                event_id=entry.event_id,
                type=entry.type,
                occurred_at=entry.occurred_at,
                sequence=entry.sequence,
                data=entry.data,
            )
        )
        row = project(event, sequence, self.rows.get(event.store_id))
        if row is not None:
            self.rows[row.id] = row
        return Applied.APPLIED

    async def skip(self, consumer: str, sequence: int) -> None:
        self.skipped.append(sequence)
        self.tracked[consumer] = max(self.tracked.get(consumer, 0), sequence)

    # The queries' reads, in the repository's order.

    async def list_stores(
        self, owner_id: str | None, *, include_deleted: bool, limit: int = 0, after: StoreKey | None = None
    ) -> list[StoreView]:
        found = [
            r.view()
            for r in sorted(self.rows.values(), key=lambda r: (r.created_at, r.id), reverse=True)
            if owner_id in (None, r.owner_id)
            and (include_deleted or r.status != "deleted")
            and (after is None or (r.created_at, r.id) < (after.created_at, after.id))
        ]
        return found[:limit] if limit > 0 else found

    async def stores_in_status(
        self, statuses: list[str], *, limit: int = 0, after: StoreKey | None = None
    ) -> list[StoreView]:
        found = [
            r.view()
            for r in sorted(self.rows.values(), key=lambda r: (r.created_at, r.id))
            if r.status in statuses and (after is None or (r.created_at, r.id) > (after.created_at, after.id))
        ]
        return found[:limit] if limit > 0 else found

    async def get_store(self, store_id: str, owner_id: str | None) -> StoreView | None:
        row = self.rows.get(store_id)
        return row.view() if row and owner_id in (None, row.owner_id) else None

    async def timeline(
        self, store_id: str, owner_id: str | None, *, limit: int = 0, after_sequence: int = 0
    ) -> list[TimelineEntry] | None:
        if await self.get_store(store_id, owner_id) is None:
            return None
        entries = sorted(self.timelines.get(store_id, []), key=lambda e: e.sequence)
        found = [entry for entry in entries if entry.sequence > after_sequence]
        return found[:limit] if limit > 0 else found

    async def find_live_by_name(self, name: str) -> StoreView | None:
        live = [r for r in self.rows.values() if r.name == name and r.status != "deleted"]
        return max(live, key=lambda r: r.created_at).view() if live else None


class ManualClock:
    """Time that moves only when the test says: a wait it bounds expires on `advance`, never by itself."""

    def __init__(self) -> None:
        self.now = 0.0
        self._waits: list[tuple[float, asyncio.Timeout]] = []

    @property
    def waiting(self) -> int:
        """How many waits are running now."""
        return len(self._waits)

    @contextlib.asynccontextmanager
    async def timeout(self, seconds: float) -> AsyncIterator[None]:
        """Like `asyncio.timeout(seconds)`, on this clock."""
        async with asyncio.timeout(None) as timer:
            wait = (self.now + seconds, timer)
            self._waits.append(wait)
            self.advance(0)  # a wait of no time expires at once, as with `asyncio.timeout(0)`
            try:
                yield
            finally:
                self._waits.remove(wait)

    def advance(self, seconds: float) -> None:
        """Move time on; the waits whose deadline has come expire at the next turn of the loop."""
        self.now += seconds
        for deadline, timer in self._waits:
            if deadline <= self.now and timer.when() is None:  # not already expiring
                timer.reschedule(asyncio.get_running_loop().time())


async def let_run(turns: int = 10) -> None:
    """Give the other tasks a few turns of the event loop (no time passes)."""
    for _ in range(turns):
        await asyncio.sleep(0)
