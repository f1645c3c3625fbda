"""Questions to the status service over NATS request-reply, answered from its read models.

Queries and replies are the msgspec structs in `storeplane_contracts.queries`, as JSON. No
answer within `query_timeout` (or an answer that does not decode) is `StatusUnavailable`,
which the API reports as a 503 with `Retry-After`.
"""

from __future__ import annotations

import msgspec

from storeplane_contracts import subjects
from storeplane_contracts.queries import (
    FindLiveStoreByName,
    GetStepStats,
    GetStore,
    GetStoreEvents,
    ListStores,
    StepDurations,
    StepStatsReply,
    StoreKey,
    StoreList,
    StoreReply,
    StoreView,
    TimelineEntry,
    TimelineReply,
)
from storeplane_gateway.adapters.nats.request_reply import ReplyT, Requester, ask

# What `/ready` asks the status service about: no store has the nil id.
PROBE_STORE_ID = "00000000-0000-0000-0000-000000000000"


class NatsStatusClient:
    """`StatusQueries` over NATS request-reply."""

    def __init__(self, requester: Requester, *, timeout: float, probe_timeout: float = 2.0) -> None:
        self._requester = requester
        self._timeout = timeout
        self._probe_timeout = min(timeout, probe_timeout)

    async def list_stores(
        self,
        owner_id: str,
        *,
        all_owners: bool = False,
        include_deleted: bool = False,
        limit: int = 0,
        after: StoreKey | None = None,
    ) -> list[StoreView]:
        query = ListStores(
            owner_id=owner_id, all_owners=all_owners, include_deleted=include_deleted, limit=limit, after=after
        )
        reply = await self._ask(subjects.QUERY_LIST_STORES, query, StoreList)
        return reply.stores

    async def get_store(
        self, store_id: str, owner_id: str, *, min_sequence: int = 0, any_owner: bool = False
    ) -> StoreView | None:
        query = GetStore(store_id=store_id, owner_id=owner_id, min_sequence=min_sequence, any_owner=any_owner)
        reply = await self._ask(subjects.QUERY_GET_STORE, query, StoreReply)
        return reply.store

    async def store_events(
        self,
        store_id: str,
        owner_id: str,
        *,
        min_sequence: int = 0,
        any_owner: bool = False,
        limit: int = 0,
        after_sequence: int = 0,
    ) -> list[TimelineEntry] | None:
        query = GetStoreEvents(
            store_id=store_id,
            owner_id=owner_id,
            min_sequence=min_sequence,
            any_owner=any_owner,
            limit=limit,
            after_sequence=after_sequence,
        )
        reply = await self._ask(subjects.QUERY_STORE_EVENTS, query, TimelineReply)
        return reply.events

    async def find_live_store_by_name(self, name: str) -> StoreView | None:
        reply = await self._ask(subjects.QUERY_FIND_LIVE_BY_NAME, FindLiveStoreByName(name=name), StoreReply)
        return reply.store

    async def step_stats(self) -> list[StepDurations]:
        reply = await self._ask(subjects.QUERY_STEP_STATS, GetStepStats(), StepStatsReply)
        return reply.steps

    async def ping(self) -> None:
        """Ask for a store no one has (the nil id, no owner): an answer is all it takes, no data."""
        query = GetStore(store_id=PROBE_STORE_ID, owner_id="")
        await ask(self._requester, subjects.QUERY_GET_STORE, query, StoreReply, timeout=self._probe_timeout)

    async def _ask(self, subject: str, query: msgspec.Struct, reply_type: type[ReplyT]) -> ReplyT:
        return await ask(self._requester, subject, query, reply_type, timeout=self._timeout)
