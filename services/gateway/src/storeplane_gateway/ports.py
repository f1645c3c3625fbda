"""What the route handlers need from the outside world, as protocols and the failures they may raise.

Handlers depend on these, never on the concrete adapters (asyncpg, NATS), so unit tests swap in
fakes through `create_app(settings, adapters=...)` and the real ones are built only in `app.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import msgspec

from storeplane_contracts.events import Event
from storeplane_contracts.queries import CredentialsReply, StoreView, TimelineEntry


class User(msgspec.Struct, frozen=True):
    """A registered user as the API shows it."""

    id: str
    email: str


class StoredUser(msgspec.Struct, frozen=True):
    """A registered user with the password hash, as the users table keeps it."""

    id: str
    email: str
    password_hash: str


class DependencyUnavailable(Exception):
    """A backing service did not answer; the client may retry later."""


class BusUnavailable(DependencyUnavailable):
    """NATS is not connected, or JetStream did not acknowledge in time."""


class StatusUnavailable(DependencyUnavailable):
    """The status service did not answer a query in time (or answered nonsense)."""


class DatabaseUnavailable(DependencyUnavailable):
    """The gateway's Postgres did not answer."""


class EmailTaken(Exception):
    """A user with this email is already registered."""


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class Users(Protocol):
    """The gateway's own user accounts."""

    async def add(self, email: str, password_hash: str) -> User:
        """Store a new user; raises EmailTaken if the (normalized) email exists."""
        ...

    async def by_email(self, email: str) -> StoredUser | None: ...

    async def replace_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def ping(self) -> None:
        """Return if the database answers; raises DatabaseUnavailable otherwise."""
        ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class Bus(Protocol):
    """The gateway's side of JetStream: publish an event durably."""

    async def problem(self) -> str | None:
        """None when events can be published; otherwise what is wrong, for `/ready`."""
        ...

    async def publish(self, event: Event) -> int:
        """Return the stream sequence once JetStream stored the event; raises BusUnavailable."""
        ...

    async def last_sequence(self) -> int:
        """The stream's newest sequence: every accepted event is at or below it."""
        ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class StatusQueries(Protocol):
    """Questions the status service answers about stores (its read models)."""

    async def list_stores(self, owner_id: str) -> list[StoreView]: ...

    async def get_store(self, store_id: str, owner_id: str, *, min_sequence: int = 0) -> StoreView | None: ...

    async def store_events(
        self, store_id: str, owner_id: str, *, min_sequence: int = 0
    ) -> list[TimelineEntry] | None: ...

    async def find_live_store_by_name(self, name: str) -> StoreView | None: ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class StoreSecrets(Protocol):
    """A store's admin credentials, kept by the provisioner in Kubernetes and handed out once."""

    async def reveal_credentials(self, store_id: str, owner_id: str, namespace: str) -> CredentialsReply:
        """Raises StatusUnavailable when the provisioner does not answer."""
        ...


@dataclass(frozen=True)
class Adapters:
    """Everything the handlers talk to, built by the composition root (or a test)."""

    users: Users
    bus: Bus
    status: StatusQueries
    secrets: StoreSecrets
