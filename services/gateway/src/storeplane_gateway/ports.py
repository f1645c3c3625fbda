"""What the gateway's areas need from the outside world: one protocol per adapter, and the bundle of them.

Routes and services depend on these, never on the concrete adapters (asyncpg, NATS), so unit
tests swap in fakes through `create_app(settings, adapters=...)` and the real ones are built
only in `app.py`. Each Postgres adapter has an in-memory twin in the tests, and both pass one
contract suite. The values these protocols take and return, and the errors they raise, are the
domain model's (`storeplane_gateway.domain`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable

from storeplane_contracts.audit import CommandAudited
from storeplane_contracts.events import Event
from storeplane_contracts.queries import CredentialsReply, StepDurations, StoreKey, StoreView, TimelineEntry
from storeplane_contracts.webhooks import DeliveryKey, DeliveryPage, DeliveryStatus, EndpointView, MessageView
from storeplane_gateway.domain.api_tokens import ApiToken
from storeplane_gateway.domain.errors import TracesUnavailable
from storeplane_gateway.domain.idempotency import IdempotencyKey, KeyClaimed, KeyHeld, StoredResponse
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.domain.sessions import LoginClaim, Session
from storeplane_gateway.domain.slots import StoreSlot
from storeplane_gateway.domain.streams import Selector, SequencedEvent
from storeplane_gateway.domain.traces import TraceSpan
from storeplane_gateway.domain.users import Role, StoredUser, User


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

    async def active_role(self, session_id: str, user_id: str) -> Role | None:
        """The account's current role if the session exists for this user, is not revoked and has not
        expired; None otherwise (one indexed read, joined with the account)."""
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


class AuditRecord(NamedTuple):
    """An audit record and its place in the trail (its stream sequence): a page of the trail starts below one."""

    sequence: int
    entry: CommandAudited


@runtime_checkable
class AuditLog(Protocol):
    """The audit trail on the bus: every command, newest first when read back."""

    async def record(self, entry: CommandAudited) -> None:
        """Store the record durably; raises BusUnavailable."""
        ...

    async def recent(
        self, *, limit: int, action: str | None = None, actor_id: str | None = None, before: int | None = None
    ) -> list[AuditRecord]:
        """At most `limit` records, newest first, of one action and/or one actor if given; only those
        with a sequence below `before`, if given."""
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
        self,
        owner_id: str,
        *,
        all_owners: bool = False,
        include_deleted: bool = False,
        limit: int = 0,
        after: StoreKey | None = None,
    ) -> list[StoreView]:
        """Newest first; at most `limit` (0: all), those older than `after` when given."""
        ...

    async def get_store(
        self, store_id: str, owner_id: str, *, min_sequence: int = 0, any_owner: bool = False
    ) -> StoreView | None: ...

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
        """Oldest first; at most `limit` (0: all), those above `after_sequence`."""
        ...

    async def find_live_store_by_name(self, name: str) -> StoreView | None: ...

    async def step_stats(self) -> list[StepDurations]:
        """Per engine and step, the p50 and p95 durations of recent provisionings."""
        ...

    async def ping(self) -> None:
        """Return if the status service answers a query; raises StatusUnavailable otherwise (for `/ready`)."""
        ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class StoreSecrets(Protocol):
    """A store's admin credentials, kept by the provisioner in Kubernetes and handed out once."""

    async def reveal_credentials(self, store_id: str, owner_id: str, namespace: str) -> CredentialsReply:
        """Raises ProvisionerUnavailable when the provisioner does not answer."""
        ...


class LiveEvents(Protocol):
    """One stream's share of the gateway's live subscription to the STORES stream, in stream order."""

    async def next(self, *, timeout: float) -> SequencedEvent | None:
        """The next live event the selector matches; None when none came within `timeout` seconds.
        Raises StreamEnded (with its reason) once the subscription was ended and its buffer is empty."""
        ...

    def end(self, reason: str) -> None:
        """End the subscription (the gateway shuts down, or the client reads too slowly)."""
        ...

    def close(self) -> None:
        """Stop receiving; the stream is over."""
        ...


@runtime_checkable
class EventFeed(Protocol):
    """The STORES stream as the event streams read it: live, and back from a sequence."""

    async def subscribe(self, selector: Selector, *, buffer: int) -> LiveEvents:
        """Start receiving every live event `selector` matches, from now on (at most `buffer` waiting, or
        the subscription ends); raises BusUnavailable."""
        ...

    def history(self, selector: Selector, *, after: int, until: int) -> AsyncIterator[SequencedEvent]:
        """The stored events `selector` matches with a sequence above `after`, oldest first, up to at
        least `until`; raises BusUnavailable."""
        ...

    async def last_sequence(self) -> int:
        """The stream's newest sequence; raises BusUnavailable."""
        ...


@runtime_checkable
class StreamTickets(Protocol):
    """Single-use tickets that open an event stream, stored by their hash."""

    async def issue(self, ticket_hash: str, principal: Principal, *, ttl: float) -> None: ...

    async def claim(self, ticket_hash: str) -> Principal | None:
        """The ticket's principal, once: atomically used up (across processes); None if it is unknown,
        used or expired."""
        ...


class WithSecret(NamedTuple):
    """A webhook endpoint and its new signing secret `whsec_...`, to be shown to its owner this once."""

    endpoint: EndpointView
    secret: str


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class Webhooks(Protocol):
    """The notifier's webhook endpoints and their deliveries, each scoped to its owner.

    Another owner's endpoint and a missing one are the same `WebhookNotFound`; what the notifier
    refuses is `InvalidWebhook` or `WebhookLimitReached`, with its reason; silence is `NotifierUnavailable`.
    """

    async def create(self, owner_id: str, *, url: str, events: list[str], description: str) -> WithSecret:
        """A new endpoint and its signing secret (the only time the secret is handed out)."""
        ...

    async def endpoints(self, owner_id: str) -> list[EndpointView]:
        """The owner's endpoints, oldest first."""
        ...

    async def endpoint(self, owner_id: str, endpoint_id: str) -> EndpointView: ...

    async def update(
        self,
        owner_id: str,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> EndpointView:
        """Change only what is given; `enabled=True` re-enables a disabled endpoint."""
        ...

    async def delete(self, owner_id: str, endpoint_id: str) -> EndpointView:
        """The endpoint as it was deleted."""
        ...

    async def send_test(self, owner_id: str, endpoint_id: str) -> MessageView:
        """A `webhook.test` message, queued for delivery now."""
        ...

    async def deliveries(
        self,
        owner_id: str,
        endpoint_id: str,
        *,
        status: DeliveryStatus | None = None,
        limit: int = 50,
        before: datetime | None = None,
        after: DeliveryKey | None = None,
    ) -> DeliveryPage:
        """The endpoint's messages with their attempts, newest first, a page at a time."""
        ...

    async def resend(self, owner_id: str, endpoint_id: str, message_id: str) -> MessageView:
        """Deliver one message again, with the same `webhook-id`."""
        ...

    async def recover(self, owner_id: str, endpoint_id: str, *, since: datetime) -> int:
        """Deliver again every failed message since `since`; how many were queued."""
        ...

    async def rotate_secret(self, owner_id: str, endpoint_id: str) -> WithSecret:
        """A new signing secret; the previous one keeps signing for 24 hours."""
        ...


@runtime_checkable  # Litestar checks injected dependencies with isinstance
class Traces(Protocol):
    """The trace backend's query API."""

    async def spans(self, trace_id: str) -> list[TraceSpan]:
        """The trace's spans, oldest first; empty when the backend holds no such trace (none yet, or
        no longer). Raises TracesUnavailable when it does not answer."""
        ...


class NoTraceBackend:
    """`Traces` where none is configured: every question is answered 503, saying so."""

    async def spans(self, trace_id: str) -> list[TraceSpan]:
        raise TracesUnavailable("no trace backend is configured (STOREPLANE_TRACE_QUERY_URL)")


class AuditNotes(Protocol):
    """What a service tells the audit record of the request it serves: who acts, the email given, the target."""

    def __call__(self, *, actor: User | None = None, email: str | None = None, target: str | None = None) -> None: ...


def no_notes(*, actor: User | None = None, email: str | None = None, target: str | None = None) -> None:
    """`AuditNotes` for a caller that keeps no audit record."""


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
    events: EventFeed
    stream_tickets: StreamTickets
    webhooks: Webhooks
    traces: Traces = field(default_factory=NoTraceBackend)
