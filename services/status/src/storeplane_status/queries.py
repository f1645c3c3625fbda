"""The answers to the gateway's queries, read from the read models.

Owner scoping lives here and in the SQL: a store of another owner is answered exactly
like a store that does not exist. Only a query that says `all_owners` or `any_owner` (the
gateway sends them for admins alone) reads across owners. A query carrying `min_sequence` first waits (briefly)
for the projection to reach that sequence, so a client reads its own writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import msgspec
import structlog
from structlog.types import FilteringBoundLogger

from storeplane_contracts.queries import (
    FindLiveStoreByName,
    GetStepStats,
    GetStore,
    GetStoreEvents,
    ListStores,
    ListStoresInStatus,
    StepStatsReply,
    StoreKey,
    StoreList,
    StoreReply,
    StoreView,
    TimelineEntry,
    TimelineReply,
)
from storeplane_status.positions import ProjectionPosition
from storeplane_status.stats import StepStats

log: FilteringBoundLogger = structlog.get_logger(__name__)


class StoreReadModels(Protocol):
    """Where the queries read: the `stores` rows and their timelines."""

    # `owner_id=None` reads every owner's stores: only for a query that says `all_owners`/`any_owner`.
    async def list_stores(
        self, owner_id: str | None, *, include_deleted: bool, limit: int = 0, after: StoreKey | None = None
    ) -> list[StoreView]: ...

    async def get_store(self, store_id: str, owner_id: str | None) -> StoreView | None: ...

    async def timeline(
        self, store_id: str, owner_id: str | None, *, limit: int = 0, after_sequence: int = 0
    ) -> list[TimelineEntry] | None: ...

    async def find_live_by_name(self, name: str) -> StoreView | None: ...

    async def stores_in_status(
        self, statuses: list[str], *, limit: int = 0, after: StoreKey | None = None
    ) -> list[StoreView]: ...


async def caught_up(position: ProjectionPosition, min_sequence: int, *, wait: float) -> bool:
    """Wait up to `wait` seconds for the projection to apply `min_sequence`; say whether it did.

    On time-out the query is answered with what there is: late is better than no answer.
    """
    if min_sequence <= 0:
        return True
    if await position.reached_within(min_sequence, wait):
        return True
    log.warning(
        "query answered before the projection caught up",
        min_sequence=min_sequence,
        position=position.sequence,
        waited=wait,
    )
    return False


async def list_stores(query: ListStores, *, read_models: StoreReadModels) -> StoreList:
    """The owner's stores (every owner's with `all_owners`), newest first; deleted ones only when asked for;
    one page of them when the query says its `limit`."""
    owner_id = None if query.all_owners else query.owner_id
    stores = await read_models.list_stores(
        owner_id, include_deleted=query.include_deleted, limit=max(query.limit, 0), after=query.after
    )
    return StoreList(stores=stores)


async def get_store(
    query: GetStore,
    *,
    read_models: StoreReadModels,
    position: ProjectionPosition,
    wait: float,
    stats: StepStats | None = None,
) -> StoreReply:
    """The store, with its estimated time to ready while it is being provisioned (from `stats`)."""
    await caught_up(position, query.min_sequence, wait=wait)
    owner_id = None if query.any_owner else query.owner_id
    store = await read_models.get_store(query.store_id, owner_id)
    if store is not None and stats is not None:
        estimate = stats.estimated_ready_at(store, datetime.now(UTC))
        if estimate is not None:
            store = msgspec.structs.replace(store, estimated_ready_at=estimate)
    return StoreReply(store=store)


def step_stats(query: GetStepStats, *, stats: StepStats) -> StepStatsReply:
    """Per engine and step, the p50 and p95 durations of recent provisionings."""
    return StepStatsReply(steps=stats.all())


async def get_store_events(
    query: GetStoreEvents, *, read_models: StoreReadModels, position: ProjectionPosition, wait: float
) -> TimelineReply:
    """The store's timeline, oldest first (a page of it with `limit`); None when the owner has no such store."""
    await caught_up(position, query.min_sequence, wait=wait)
    owner_id = None if query.any_owner else query.owner_id
    events = await read_models.timeline(
        query.store_id, owner_id, limit=max(query.limit, 0), after_sequence=query.after_sequence
    )
    return TimelineReply(events=events)


async def find_live_store_by_name(query: FindLiveStoreByName, *, read_models: StoreReadModels) -> StoreReply:
    """Any owner's store of that name that is not deleted: names are hosts, so they are global."""
    return StoreReply(store=await read_models.find_live_by_name(query.name))


async def list_stores_in_status(query: ListStoresInStatus, *, read_models: StoreReadModels) -> StoreList:
    """All owners' stores in the given states, a page of them (the provisioner's drift check asks this)."""
    stores = await read_models.stores_in_status(list(query.statuses), limit=max(query.limit, 0), after=query.after)
    return StoreList(stores=stores)
