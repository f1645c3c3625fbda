"""The `StoreDirectory` port over NATS request-reply: the status service's read models."""

from __future__ import annotations

import msgspec
from faststream.nats import NatsBroker

from storeplane_contracts import subjects
from storeplane_contracts.queries import ListStoresInStatus, StoreList, StoreStatus, StoreView


class StatusDirectory:
    """Asks the status service which stores are in which state."""

    def __init__(self, broker: NatsBroker, *, timeout: float) -> None:
        self.broker = broker
        self.timeout = timeout

    async def stores_in_status(self, statuses: list[StoreStatus]) -> list[StoreView]:
        query = msgspec.json.encode(ListStoresInStatus(statuses=statuses))
        reply = await self.broker.request(query, subjects.QUERY_LIST_IN_STATUS, timeout=self.timeout)
        return msgspec.json.decode(reply.body, type=StoreList).stores
