"""In-memory twins of the gateway's adapters, for handler tests without NATS or Postgres.

`InMemoryUsers` passes the same contract suite as `PostgresUsers`
(tests/integration/gateway/test_gateway_users_contract.py), so it cannot drift.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from storeplane_contracts.events import Event
from storeplane_contracts.queries import CredentialsReply, StoreCredentials, StoreStatus, StoreView, TimelineEntry
from storeplane_gateway.app import AdapterFactory
from storeplane_gateway.ports import (
    Adapters,
    BusUnavailable,
    DatabaseUnavailable,
    EmailTaken,
    StatusUnavailable,
    StoredUser,
    User,
)
from storeplane_gateway.settings import GatewaySettings


class InMemoryUsers:
    """`Users` in a dict."""

    def __init__(self) -> None:
        self.by_id: dict[str, StoredUser] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise DatabaseUnavailable("fake database is down")

    async def add(self, email: str, password_hash: str) -> User:
        self._check()
        if any(user.email == email for user in self.by_id.values()):
            raise EmailTaken(email)
        user = StoredUser(id=str(uuid.uuid4()), email=email, password_hash=password_hash)
        self.by_id[user.id] = user
        return User(id=user.id, email=user.email)

    async def by_email(self, email: str) -> StoredUser | None:
        self._check()
        return next((user for user in self.by_id.values() if user.email == email), None)

    async def replace_password_hash(self, user_id: str, password_hash: str) -> None:
        self._check()
        user = self.by_id[user_id]
        self.by_id[user_id] = StoredUser(id=user.id, email=user.email, password_hash=password_hash)

    async def ping(self) -> None:
        self._check()


class FakeBus:
    """`Bus` that keeps what was published."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.connected = True

    async def problem(self) -> str | None:
        return None if self.connected else "not connected"

    async def publish(self, event: Event) -> int:
        if not self.connected:
            raise BusUnavailable("fake bus is down")
        self.published.append(event)
        return len(self.published)

    async def last_sequence(self) -> int:
        if not self.connected:
            raise BusUnavailable("fake bus is down")
        return len(self.published)


class FakeStatus:
    """`StatusQueries` over stores a test puts in; records the queries it was asked."""

    def __init__(self) -> None:
        self.stores: dict[str, StoreView] = {}
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.available = True
        self.min_sequences: list[int] = []
        # store id -> the stream sequence the projection must reach before the store shows up
        self.projected_from: dict[str, int] = {}

    def _check(self) -> None:
        if not self.available:
            raise StatusUnavailable("fake status service is not answering")

    def add_store(
        self, *, owner_id: str, name: str, status: StoreStatus = "ready", engine: str = "woocommerce"
    ) -> StoreView:
        store_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        store = StoreView(
            id=store_id,
            owner_id=owner_id,
            name=name,
            engine=engine,
            namespace=f"store-{name}-{store_id[:8]}",
            status=status,
            created_at=now,
            updated_at=now,
            urls=(
                {"storefront": f"http://{name}.stores.localhost/", "admin": f"http://{name}.stores.localhost/wp-admin/"}
                if status == "ready"
                else {}
            ),
        )
        self.stores[store_id] = store
        self.timelines[store_id] = []
        return store

    async def list_stores(self, owner_id: str) -> list[StoreView]:
        self._check()
        return [store for store in self.stores.values() if store.owner_id == owner_id]

    async def get_store(self, store_id: str, owner_id: str, *, min_sequence: int = 0) -> StoreView | None:
        self._check()
        self.min_sequences.append(min_sequence)
        if min_sequence < self.projected_from.get(store_id, 0):
            return None  # the projection has not reached the store's first event yet
        store = self.stores.get(store_id)
        return store if store is not None and store.owner_id == owner_id else None

    async def store_events(self, store_id: str, owner_id: str, *, min_sequence: int = 0) -> list[TimelineEntry] | None:
        self._check()
        self.min_sequences.append(min_sequence)
        store = self.stores.get(store_id)
        if store is None or store.owner_id != owner_id:
            return None
        return self.timelines[store_id]

    async def find_live_store_by_name(self, name: str) -> StoreView | None:
        self._check()
        return next((store for store in self.stores.values() if store.name == name and store.status != "deleted"), None)


class FakeSecrets:
    """`StoreSecrets` that hands out each store's credentials once."""

    def __init__(self) -> None:
        self.revealed: set[str] = set()

    async def reveal_credentials(self, store_id: str, owner_id: str, namespace: str) -> CredentialsReply:
        if store_id in self.revealed:
            return CredentialsReply(refused="already_revealed")
        self.revealed.add(store_id)
        return CredentialsReply(credentials=StoreCredentials(username="admin", password="s3cret", email="a@b.c"))


@dataclass
class Fakes:
    """One set of fakes for one app."""

    users: InMemoryUsers = field(default_factory=InMemoryUsers)
    bus: FakeBus = field(default_factory=FakeBus)
    status: FakeStatus = field(default_factory=FakeStatus)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)

    def factory(self) -> AdapterFactory:
        @asynccontextmanager
        async def adapters(settings: GatewaySettings) -> AsyncIterator[Adapters]:
            yield Adapters(users=self.users, bus=self.bus, status=self.status, secrets=self.secrets)

        return adapters
