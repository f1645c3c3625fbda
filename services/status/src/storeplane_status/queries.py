"""The answers to the gateway's queries, read from the read models.

Owner scoping lives here and in the SQL: a store of another owner is answered exactly
like a store that does not exist. A query carrying `min_sequence` first waits (briefly)
for the projection to reach that sequence, so a client reads its own writes.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import structlog
from structlog.types import FilteringBoundLogger

from storeplane_contracts.queries import (
    FindLiveStoreByName,
    GetStore,
    GetStoreEvents,
    ListStores,
    StoreList,
    StoreReply,
    StoreView,
    TimelineEntry,
    TimelineReply,
)
from storeplane_status.positions import ProjectionPosition

log: FilteringBoundLogger = structlog.get_logger(__name__)


class StoreReadModels(Protocol):
    """Where the queries read: the `stores` rows and their timelines."""

    async def list_stores(self, owner_id: str, *, include_deleted: bool) -> list[StoreView]: ...

    async def get_store(self, store_id: str, owner_id: str) -> StoreView | None: ...

    async def timeline(self, store_id: str, owner_id: str) -> list[TimelineEntry] | None: ...

    async def find_live_by_name(self, name: str) -> StoreView | None: ...


async def caught_up(position: ProjectionPosition, min_sequence: int, *, wait: float) -> bool:
    """Wait up to `wait` seconds for the projection to apply `min_sequence`; say whether it did.

    On time-out the query is answered with what there is: late is better than no answer.
    """
    if min_sequence <= 0:
        return True
    try:
        async with asyncio.timeout(wait):
            await position.reach(min_sequence)
    except TimeoutError:
        log.warning(
            "query answered before the projection caught up",
            min_sequence=min_sequence,
            position=position.sequence,
            waited=wait,
        )
        return False
    return True


async def list_stores(query: ListStores, *, read_models: StoreReadModels) -> StoreList:
    """The owner's stores, newest first; deleted ones only when asked for."""
    stores = await read_models.list_stores(query.owner_id, include_deleted=query.include_deleted)
    return StoreList(stores=stores)


async def get_store(
    query: GetStore, *, read_models: StoreReadModels, position: ProjectionPosition, wait: float
) -> StoreReply:
    await caught_up(position, query.min_sequence, wait=wait)
    return StoreReply(store=await read_models.get_store(query.store_id, query.owner_id))


async def get_store_events(
    query: GetStoreEvents, *, read_models: StoreReadModels, position: ProjectionPosition, wait: float
) -> TimelineReply:
    """The store's timeline, oldest first; None when the owner has no such store."""
    await caught_up(position, query.min_sequence, wait=wait)
    return TimelineReply(events=await read_models.timeline(query.store_id, query.owner_id))


async def find_live_store_by_name(query: FindLiveStoreByName, *, read_models: StoreReadModels) -> StoreReply:
    """Any owner's store of that name that is not deleted: names are hosts, so they are global."""
    return StoreReply(store=await read_models.find_live_by_name(query.name))
