"""What the route handlers need from the outside world, as protocols and the failures they may raise.

Handlers depend on these, never on the concrete adapters (asyncpg, NATS), so unit tests swap in
fakes through `create_app(settings, adapters=...)` and the real ones are built only in `app.py`.
Each Postgres adapter has an in-memory twin in the tests, and both pass one contract suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeAlias, cast, runtime_checkable

import msgspec
from litestar.datastructures import State

from storeplane_contracts.audit import CommandAudited
from storeplane_contracts.events import Event
from storeplane_contracts.queries import CredentialsReply, StoreView, TimelineEntry

Role: TypeAlias = Literal["user", "admin"]
ROLES: tuple[Role, ...] = ("user", "admin")

# What a credential may do on the store routes. A login session may do everything its user may;
# an API token only what it was given.
STORES_READ = "stores:read"
STORES_WRITE = "stores:write"
STORES_CREDENTIALS = "stores:credentials"
SCOPES: tuple[str, ...] = (STORES_READ, STORES_WRITE, STORES_CREDENTIALS)


class User(msgspec.Struct, frozen=True):
    """A registered user as the API shows it."""

    id: str
    email: str
    role: Role = "user"


class StoredUser(msgspec.Struct, frozen=True):
    """A registered user as the users table keeps it: with the password hash and their own store limit."""

    id: str
    email: str
    password_hash: str
    role: Role = "user"
    store_limit: int | None = None  # None: the platform's default


class Principal(msgspec.Struct, frozen=True):
    """Who is calling, and what the credential they called with allows."""

    id: str
    email: str
    role: Role
    scopes: frozenset[str]
    session_id: str = ""  # a login session (JWT)
    api_token_id: str = ""  # or an API token

    @property
    def is_admin(self) -> bool:
        """Admin powers come with an admin's login session only, never with an API token."""
        return self.role == "admin" and bool(self.session_id)


class Session(msgspec.Struct, frozen=True):
    """One login: its tokens carry its id; it lives until logout, `logout-all` or expiry."""

    id: str
    user_id: str
    refresh_jti: str  # the one refresh token that may be used next (rotated on every refresh)
    expires_at: datetime


class ApiToken(msgspec.Struct, frozen=True):
    """An API token for an integration, without its secret (which is only ever stored hashed)."""

    id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    prefix: str  # the first characters of the secret, to recognise it
    created_at: datetime
    last_used_at: datetime | None = None


class StoreSlot(msgspec.Struct, frozen=True):
    """A live store counted against its owner's quota; it also holds the store's (global) name.

    A slot is reserved before the store's request is published and confirmed once JetStream
    acknowledged it; a reservation whose lease ran out is settled by looking at the stream.
    """

    store_id: str
    owner_id: str
    name: str


class LoginClaim(msgspec.Struct, frozen=True):
    """A login attempt as the throttle took it."""

    # > 0: refused, nothing counted; the email may be tried again after this many seconds.
    retry_after: float = 0.0
    # Taken (and counted as a failure): how long the next attempt must wait if this one fails.
    delay_if_failed: float = 0.0


class IdempotencyKey(msgspec.Struct, frozen=True):
    """A client's `Idempotency-Key`, scoped to who sent it and to the operation it was sent with."""

    principal_id: str
    operation: str  # method and path, e.g. "DELETE /api/v1/stores/<id>"
    key: str


class StoredResponse(msgspec.Struct, frozen=True):
    """A command's answer, kept under its idempotency key to be replayed to a retry."""

    status_code: int
    headers: dict[str, str]
    body: bytes
    target: str = ""  # what the command acted on, so that a replay is audited like the original


class KeyClaimed(msgspec.Struct, frozen=True):
    """The key is now the caller's: run the command, then complete or release the claim with `token`."""

    token: str


class KeyHeld(msgspec.Struct, frozen=True):
    """An earlier request holds the key: its fingerprint, and its answer once it finished."""

    fingerprint: str
    response: StoredResponse | None  # None while that request is in flight


class DependencyUnavailable(Exception):
    """A backing service did not answer; the client may retry later."""


class BusUnavailable(DependencyUnavailable):
    """NATS is not connected, or JetStream did not acknowledge in time."""


class PublishUnconfirmed(BusUnavailable):
    """JetStream did not acknowledge in time: the event may be stored all the same (only the ack lost)."""


class StatusUnavailable(DependencyUnavailable):
    """The status service did not answer a query in time (or answered nonsense)."""


class ProvisionerUnavailable(DependencyUnavailable):
    """The provisioner did not answer, or could not reach the cluster; nothing was revealed."""


class DatabaseUnavailable(DependencyUnavailable):
    """The gateway's Postgres did not answer."""


class EmailTaken(Exception):
    """A user with this email is already registered."""


class TokenNameTaken(Exception):
    """The user already has an API token with this name."""


class QuotaExceeded(Exception):
    """The owner already has `limit` live stores."""

    def __init__(self, *, limit: int, in_use: int) -> None:
        super().__init__(f"limit {limit}, in use {in_use}")
        self.limit = limit
        self.in_use = in_use


class NameTaken(Exception):
    """A live store already holds the name."""

    def __init__(self, holder: StoreSlot) -> None:
        super().__init__(holder.name)
        self.holder = holder


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class Users(Protocol):
    """The gateway's own user accounts."""

    async def add(self, email: str, password_hash: str, *, role: Role = "user") -> User:
        """Store a new user; raises EmailTaken if the (normalized) email exists."""
        ...

    async def by_email(self, email: str) -> StoredUser | None: ...

    async def by_id(self, user_id: str) -> StoredUser | None:
        """None for an unknown id, or one that is not a user id at all."""
        ...

    async def replace_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def set_role(self, user_id: str, role: Role) -> None: ...

    async def with_role(self, role: Role) -> list[StoredUser]:
        """Every user with the role, by email."""
        ...

    async def set_store_limit(self, user_id: str, limit: int | None) -> StoredUser | None:
        """Give the user their own store limit (None: the default again); None if there is no such user."""
        ...

    async def ping(self) -> None:
        """Return if the database answers; raises DatabaseUnavailable otherwise."""
        ...


@runtime_checkable
class Sessions(Protocol):
    """Login sessions, so that tokens can be revoked before they expire."""

    async def start(self, session: Session) -> None: ...

    async def is_active(self, session_id: str, user_id: str) -> bool:
        """The session exists for this user, is not revoked and has not expired (one indexed read)."""
        ...

    async def rotate(
        self, session_id: str, user_id: str, *, used_jti: str, next_jti: str, expires_at: datetime
    ) -> bool:
        """Accept refresh token `used_jti` once, making `next_jti` the next one.

        False if the session is not active, or if `used_jti` is not the current refresh token:
        an old one used again means it was copied, so the session is ended.
        """
        ...

    async def end(self, session_id: str, user_id: str) -> bool:
        """Revoke one session (logout); False if it was not active."""
        ...

    async def end_all(self, user_id: str) -> int:
        """Revoke every session of the user; returns how many were active."""
        ...


@runtime_checkable
class ApiTokens(Protocol):
    """API tokens for integrations: stored by the SHA-256 hash of their secret, never the secret."""

    async def add(self, token: ApiToken, secret_hash: str) -> None:
        """Raises TokenNameTaken if the user has a token of that name."""
        ...

    async def of_user(self, user_id: str) -> list[ApiToken]:
        """The user's tokens, newest first."""
        ...

    async def revoke(self, user_id: str, token_id: str) -> bool:
        """Delete the user's token; False if the user has no such token."""
        ...

    async def authenticate(self, secret_hash: str) -> Principal | None:
        """Who the token with this hash belongs to and what it may do (marking it used); None if unknown."""
        ...


@runtime_checkable
class StoreSlots(Protocol):
    """Per-owner quota of live stores and the global store names, reserved before a store is requested."""

    async def reserve(self, slot: StoreSlot, *, limit: int) -> None:
        """Atomically: refuse with QuotaExceeded when the owner holds `limit` slots (reserved or confirmed),
        with NameTaken when another slot holds the name; otherwise hold the slot as a reservation, stamped
        with the time. Concurrent reservations cannot exceed `limit`."""
        ...

    async def confirm(self, store_id: str) -> bool:
        """The store's request is on the stream: its reservation becomes a confirmed slot. False if no
        slot of the store is held (it was released)."""
        ...

    async def release(self, store_id: str) -> bool:
        """Free the store's slot (it is deleted, or its request never made it to the bus)."""
        ...

    async def of_owner(self, owner_id: str) -> list[StoreSlot]: ...

    async def expired_reservations(self, owner_id: str, *, lease: float) -> list[StoreSlot]:
        """The owner's slots still reserved (never confirmed) `lease` seconds or more after they were made."""
        ...


@runtime_checkable
class LoginThrottle(Protocol):
    """Failed logins per email, so that password guessing slows down exponentially."""

    async def claim(self, email: str) -> LoginClaim:
        """Atomically: refuse the attempt while the email must wait (counting nothing), or else count it
        as a failure in advance (so concurrent attempts see it) and let it be tried."""
        ...

    async def succeeded(self, email: str) -> None:
        """Forget the failures (the claimed attempt included)."""
        ...


@runtime_checkable
class AuditLog(Protocol):
    """The audit trail on the bus: every command, newest first when read back."""

    async def record(self, entry: CommandAudited) -> None:
        """Store the record durably; raises BusUnavailable."""
        ...

    async def recent(
        self, *, limit: int, action: str | None = None, actor_id: str | None = None
    ) -> list[CommandAudited]:
        """At most `limit` records, newest first, of one action and/or one actor if given."""
        ...


@runtime_checkable
class IdempotencyKeys(Protocol):
    """Idempotency keys of commands, with the answer to replay for each completed one."""

    async def claim(self, key: IdempotencyKey, fingerprint: str, *, ttl: float, lease: float) -> KeyClaimed | KeyHeld:
        """Atomically take the key for the request with `fingerprint`, or say what holds it.

        A key is free when nobody claimed it, when it was claimed more than `ttl` seconds ago, or
        when its claim is more than `lease` seconds old and never completed (its gateway died).
        Of concurrent claims of one free key exactly one wins.
        """
        ...

    async def complete(self, key: IdempotencyKey, token: str, response: StoredResponse) -> bool:
        """Keep the answer of the claim `token`; False if that claim no longer holds the key."""
        ...

    async def release(self, key: IdempotencyKey, token: str) -> bool:
        """Free the key of the (failed) claim `token`, so the client may retry with it; False if not held."""
        ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class Bus(Protocol):
    """The gateway's side of JetStream: publish an event durably."""

    async def problem(self) -> str | None:
        """None when events can be published; otherwise what is wrong, for `/ready`."""
        ...

    async def publish(self, event: Event) -> int:
        """Return the stream sequence once JetStream stored the event; raises BusUnavailable when it was
        certainly not stored, PublishUnconfirmed (a BusUnavailable) when it may have been (an ack was lost)."""
        ...

    async def last_sequence(self) -> int:
        """The stream's newest sequence: every accepted event is at or below it."""
        ...

    async def holds(self, subject: str) -> bool:
        """Whether the STORES stream holds a message on `subject`; raises BusUnavailable."""
        ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class StatusQueries(Protocol):
    """Questions the status service answers about stores (its read models).

    Reads are scoped to `owner_id`; `all_owners` / `any_owner` lift that, for admins only.
    """

    async def list_stores(
        self, owner_id: str, *, all_owners: bool = False, include_deleted: bool = False
    ) -> list[StoreView]: ...

    async def get_store(
        self, store_id: str, owner_id: str, *, min_sequence: int = 0, any_owner: bool = False
    ) -> StoreView | None: ...

    async def store_events(
        self, store_id: str, owner_id: str, *, min_sequence: int = 0, any_owner: bool = False
    ) -> list[TimelineEntry] | None: ...

    async def find_live_store_by_name(self, name: str) -> StoreView | None: ...

    async def ping(self) -> None:
        """Return if the status service answers a query; raises StatusUnavailable otherwise (for `/ready`)."""
        ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class StoreSecrets(Protocol):
    """A store's admin credentials, kept by the provisioner in Kubernetes and handed out once."""

    async def reveal_credentials(self, store_id: str, owner_id: str, namespace: str) -> CredentialsReply:
        """Raises ProvisionerUnavailable when the provisioner does not answer."""
        ...


@dataclass(frozen=True)
class Adapters:
    """Everything the handlers talk to, built by the composition root (or a test)."""

    users: Users
    bus: Bus
    status: StatusQueries
    secrets: StoreSecrets
    sessions: Sessions
    api_tokens: ApiTokens
    slots: StoreSlots
    logins: LoginThrottle
    audit: AuditLog
    idempotency: IdempotencyKeys


def adapters_of(state: State) -> Adapters:
    """The adapters the app's lifespan put into its state."""
    return cast(Adapters, state.adapters)
