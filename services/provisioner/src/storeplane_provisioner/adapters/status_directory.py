"""The `StoreDirectory` port over NATS request-reply: the status service's read models."""

from __future__ import annotations

import msgspec
from faststream.nats import NatsBroker

from storeplane_contracts import subjects
from storeplane_contracts.queries import ListStoresInStatus, StoreKey, StoreList, StoreStatus, StoreView

# Stores per reply: ~440 bytes each, so a page stays far below NATS's largest message (1 MiB by default).
PAGE = 500


class StatusDirectory:
    """Asks the status service which stores are in which state, a page at a time."""

    def __init__(self, broker: NatsBroker, *, timeout: float, page: int = PAGE) -> None:
        self.broker = broker
        self.timeout = timeout
        self.page = page

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
