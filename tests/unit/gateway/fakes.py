"""In-memory twins of the gateway's adapters, for handler tests without NATS or Postgres.

`InMemoryUsers` passes the same contract suite as `PostgresUsers`
(tests/integration/gateway/test_gateway_users_contract.py), and the other in-memory twins of
Postgres adapters pass theirs (test_gateway_adapters_contract.py), so they cannot drift.
FakeBus and FakeAuditLog pass the contracts of NatsBus and NatsAuditLog (test_gateway_bus_contract.py),
FakeStatus that of NatsStatusClient against the real status service (test_gateway_status_contract.py),
FakeSecrets that of NatsStoreSecrets against the provisioner's handler (test_gateway_secrets_contract.py),
FakeNotifier that of NatsNotifierClient against the real notifier (test_gateway_webhooks_contract.py).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from storeplane_contracts.audit import CommandAudited
from storeplane_contracts.events import Event
from storeplane_contracts.queries import (
    CredentialsReply,
    StepDurations,
    StoreCredentials,
    StoreKey,
    StoreStatus,
    StoreView,
    TimelineEntry,
)
from storeplane_contracts.subjects import subject_for
from storeplane_contracts.webhooks import (
    ALL_EVENTS,
    TEST_EVENT,
    WEBHOOK_EVENT_TYPES,
    DeliveryKey,
    DeliveryPage,
    DeliveryStatus,
    EndpointView,
    MessageView,
)
from storeplane_gateway.adapters.postgres.logins import FORGET_AFTER, MIN_RETRY_AFTER, delay_after
from storeplane_gateway.app import AdapterFactory
from storeplane_gateway.areas.admin.services import grant_admin
from storeplane_gateway.domain.api_tokens import ApiToken
from storeplane_gateway.domain.errors import (
    BusUnavailable,
    DatabaseUnavailable,
    EmailTaken,
    InvalidWebhook,
    NameTaken,
    NotifierUnavailable,
    ProvisionerUnavailable,
    PublishUnconfirmed,
    QuotaExceeded,
    StatusUnavailable,
    TokenNameTaken,
    TracesUnavailable,
    WebhookLimitReached,
    WebhookNotFound,
)
from storeplane_gateway.domain.idempotency import IdempotencyKey, KeyClaimed, KeyHeld, StoredResponse
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.domain.sessions import LoginClaim, Session
from storeplane_gateway.domain.slots import StoreSlot
from storeplane_gateway.domain.streams import Selector, SequencedEvent
from storeplane_gateway.domain.traces import TraceSpan
from storeplane_gateway.domain.users import Role, StoredUser, User
from storeplane_gateway.ports import Adapters, AuditRecord, LiveEvents, WithSecret
from storeplane_gateway.settings import GatewaySettings


def _is_uuid(raw: str) -> bool:
    try:
        uuid.UUID(raw)
    except ValueError:
        return False
    return True


class InMemoryUsers:
    """`Users` in a dict."""

    def __init__(self) -> None:
        self.accounts: dict[str, StoredUser] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise DatabaseUnavailable("fake database is down")

    async def add(self, email: str, password_hash: str, *, role: Role = "user") -> User:
        self._check()
        if any(user.email == email for user in self.accounts.values()):
            raise EmailTaken(email)
        user = StoredUser(id=str(uuid.uuid4()), email=email, password_hash=password_hash, role=role)
        self.accounts[user.id] = user
        return User(id=user.id, email=user.email, role=role)

    async def by_email(self, email: str) -> StoredUser | None:
        self._check()
        return next((user for user in self.accounts.values() if user.email == email), None)

    async def by_id(self, user_id: str) -> StoredUser | None:
        self._check()
        return self.accounts.get(user_id)

    async def replace_password_hash(self, user_id: str, password_hash: str) -> None:
        self._check()
        self.accounts[user_id] = msgspec.structs.replace(self.accounts[user_id], password_hash=password_hash)

    async def set_role(self, user_id: str, role: Role) -> None:
        self._check()
        self.accounts[user_id] = msgspec.structs.replace(self.accounts[user_id], role=role)

    async def with_role(self, role: Role) -> list[StoredUser]:
        self._check()
        return sorted((user for user in self.accounts.values() if user.role == role), key=lambda user: user.email)

    async def set_store_limit(self, user_id: str, limit: int | None) -> StoredUser | None:
        self._check()
        if user_id not in self.accounts:
            return None
        self.accounts[user_id] = msgspec.structs.replace(self.accounts[user_id], store_limit=limit)
        return self.accounts[user_id]

    async def ping(self) -> None:
        self._check()


class FakeBus:
    """`Bus` that keeps what was published."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.connected = True
        # An ack that times out: after the event was stored ("stored") or before ("lost"); None: acks arrive.
        self.ack_timeout: Literal["stored", "lost"] | None = None
        self.by_others = 0  # events other services put on the stream before ours
        self.gate: asyncio.Event | None = None  # a test's gate: publishes wait until it opens
        self.at_gate = asyncio.Event()  # set when a publish waits at the gate

    def _sequence(self) -> int:
        return self.by_others + len(self.published)

    async def problem(self) -> str | None:
        return None if self.connected else "not connected"

    async def publish(self, event: Event) -> int:
        if self.gate is not None:
            self.at_gate.set()
            await self.gate.wait()
        if not self.connected:
            raise BusUnavailable("fake bus is down")
        if self.ack_timeout == "lost":
            raise PublishUnconfirmed("fake bus: no ack (the event was lost on the way)")
        self.published.append(event)
        if self.ack_timeout == "stored":
            raise PublishUnconfirmed("fake bus: no ack (the event is stored all the same)")
        return self._sequence()

    async def last_sequence(self) -> int:
        if not self.connected:
            raise BusUnavailable("fake bus is down")
        return self._sequence()

    async def holds(self, subject: str) -> bool:
        if not self.connected:
            raise BusUnavailable("fake bus is down")
        return any(subject_for(event) == subject for event in self.published)


class FakeStatus:
    """`StatusQueries` over stores a test puts in; records the queries it was asked."""

    def __init__(self) -> None:
        self.stores: dict[str, StoreView] = {}
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.step_figures: list[StepDurations] = []
        self.available = True
        self.min_sequences: list[int] = []
        # store id -> the stream sequence the projection must reach before the store shows up
        self.projected_from: dict[str, int] = {}

    def _check(self) -> None:
        if not self.available:
            raise StatusUnavailable("fake status service is not answering")

    def add_store(
        self,
        *,
        owner_id: str,
        name: str,
        status: StoreStatus = "ready",
        engine: str = "woocommerce",
        store_id: str | None = None,
    ) -> StoreView:
        store_id = store_id or str(uuid.uuid4())
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

    def set_status(self, store_id: str, status: StoreStatus) -> None:
        self.stores[store_id] = msgspec.structs.replace(self.stores[store_id], status=status)

    async def list_stores(
        self,
        owner_id: str,
        *,
        all_owners: bool = False,
        include_deleted: bool = False,
        limit: int = 0,
        after: StoreKey | None = None,
    ) -> list[StoreView]:
        self._check()
        listed = [
            store
            for store in self.stores.values()
            if (all_owners or store.owner_id == owner_id)
            and (include_deleted or store.status != "deleted")
            and (after is None or (store.created_at, store.id) < (after.created_at, after.id))
        ]
        # Newest first, as the status service answers.
        listed.sort(key=lambda store: (store.created_at, store.id), reverse=True)
        return listed[:limit] if limit > 0 else listed

    async def get_store(
        self, store_id: str, owner_id: str, *, min_sequence: int = 0, any_owner: bool = False
    ) -> StoreView | None:
        self._check()
        self.min_sequences.append(min_sequence)
        if min_sequence < self.projected_from.get(store_id, 0):
            return None  # the projection has not reached the store's first event yet
        store = self.stores.get(store_id)
        return store if store is not None and (any_owner or store.owner_id == owner_id) else None

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
        self._check()
        self.min_sequences.append(min_sequence)
        store = self.stores.get(store_id)
        if store is None or not (any_owner or store.owner_id == owner_id):
            return None
        found = sorted((e for e in self.timelines[store_id] if e.sequence > after_sequence), key=lambda e: e.sequence)
        return found[:limit] if limit > 0 else found

    async def step_stats(self) -> list[StepDurations]:
        self._check()
        return list(self.step_figures)

    async def find_live_store_by_name(self, name: str) -> StoreView | None:
        self._check()
        return next((store for store in self.stores.values() if store.name == name and store.status != "deleted"), None)

    async def ping(self) -> None:
        self._check()


class FakeSecrets:
    """`StoreSecrets` that hands out each store's credentials once."""

    def __init__(self) -> None:
        self.revealed: set[str] = set()
        self.cluster_down = False

    async def reveal_credentials(self, store_id: str, owner_id: str, namespace: str) -> CredentialsReply:
        if self.cluster_down:
            raise ProvisionerUnavailable("the provisioner could not reach the cluster")
        if store_id in self.revealed:
            return CredentialsReply(refused="already_revealed")
        self.revealed.add(store_id)
        return CredentialsReply(credentials=StoreCredentials(username="admin", password="s3cret", email="a@b.c"))


class InMemorySessions:
    """`Sessions` in a dict, roles looked up in `users`."""

    def __init__(self, users: InMemoryUsers) -> None:
        self.users = users
        self.rows: dict[str, Session] = {}
        self.revoked: set[str] = set()

    def _active(self, session_id: str, user_id: str) -> Session | None:
        session = self.rows.get(session_id)
        if session is None or session.user_id != user_id or session_id in self.revoked:
            return None
        return session if session.expires_at > datetime.now(UTC) else None

    async def start(self, session: Session) -> None:
        self.rows[session.id] = session

    async def active_role(self, session_id: str, user_id: str) -> Role | None:
        account = self.users.accounts.get(user_id)
        return account.role if account is not None and self._active(session_id, user_id) is not None else None

    async def rotate(
        self, session_id: str, user_id: str, *, used_jti: str, next_jti: str, expires_at: datetime
    ) -> bool:
        session = self._active(session_id, user_id)
        if session is None or session.refresh_jti != used_jti:
            if session_id in self.rows and self.rows[session_id].user_id == user_id:
                self.revoked.add(session_id)
            return False
        self.rows[session_id] = msgspec.structs.replace(session, refresh_jti=next_jti, expires_at=expires_at)
        return True

    async def end(self, session_id: str, user_id: str) -> bool:
        if self._active(session_id, user_id) is None:
            return False
        self.revoked.add(session_id)
        return True

    async def end_all(self, user_id: str) -> int:
        ended = [s.id for s in self.rows.values() if self._active(s.id, user_id) is not None]
        self.revoked.update(ended)
        return len(ended)


class InMemoryApiTokens:
    """`ApiTokens` in a dict, owners looked up in `users`."""

    def __init__(self, users: InMemoryUsers) -> None:
        self.users = users
        self.rows: dict[str, tuple[ApiToken, str]] = {}

    async def add(self, token: ApiToken, secret_hash: str) -> None:
        if any(t.user_id == token.user_id and t.name == token.name for t, _ in self.rows.values()):
            raise TokenNameTaken(token.name)
        self.rows[token.id] = (token, secret_hash)

    async def of_user(self, user_id: str) -> list[ApiToken]:
        mine = [token for token, _ in self.rows.values() if token.user_id == user_id]
        return sorted(mine, key=lambda token: (token.created_at, token.id), reverse=True)

    async def revoke(self, user_id: str, token_id: str) -> bool:
        row = self.rows.get(token_id)
        if row is None or row[0].user_id != user_id:
            return False
        del self.rows[token_id]
        return True

    async def authenticate(self, secret_hash: str) -> Principal | None:
        for token_id, (token, stored_hash) in self.rows.items():
            if stored_hash == secret_hash and (user := self.users.accounts.get(token.user_id)) is not None:
                used = msgspec.structs.replace(token, last_used_at=datetime.now(UTC))
                self.rows[token_id] = (used, stored_hash)
                return Principal(
                    id=user.id, email=user.email, role=user.role, scopes=frozenset(token.scopes), api_token_id=token.id
                )
        return None


class InMemoryStoreSlots:
    """`StoreSlots` in a dict, on a clock the tests may move; one lock makes reservations atomic."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.slots: dict[str, StoreSlot] = {}
        self.reserved: dict[str, float] = {}  # store id -> when it was reserved (clock seconds), until confirmed
        self._clock = clock
        self._lock = asyncio.Lock()
        self.down = False

    async def reserve(self, slot: StoreSlot, *, limit: int) -> None:
        if self.down:
            raise DatabaseUnavailable("fake database is down")
        async with self._lock:
            in_use = len([s for s in self.slots.values() if s.owner_id == slot.owner_id])
            if in_use >= limit:
                raise QuotaExceeded(limit=limit, in_use=in_use)
            holder = next((s for s in self.slots.values() if s.name == slot.name), None)
            if holder is not None:
                raise NameTaken(holder)
            await asyncio.sleep(0)  # let concurrent reservations interleave, as they would on a database
            self.slots[slot.store_id] = slot
            self.reserved[slot.store_id] = self._clock()

    async def confirm(self, store_id: str) -> bool:
        if self.down:
            raise DatabaseUnavailable("fake database is down")
        self.reserved.pop(store_id, None)
        return store_id in self.slots

    async def release(self, store_id: str) -> bool:
        self.reserved.pop(store_id, None)
        return self.slots.pop(store_id, None) is not None

    async def of_owner(self, owner_id: str) -> list[StoreSlot]:
        return [slot for slot in self.slots.values() if slot.owner_id == owner_id]

    async def expired_reservations(self, owner_id: str, *, lease: float) -> list[StoreSlot]:
        now = self._clock()
        return [
            self.slots[store_id]
            for store_id, reserved_at in sorted(self.reserved.items(), key=lambda item: item[1])
            if self.slots[store_id].owner_id == owner_id and now - reserved_at >= lease
        ]


class InMemoryLoginThrottle:
    """`LoginThrottle` in a dict, on a clock the tests may move."""

    def __init__(self, *, free_failures: int, max_delay: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._free_failures = free_failures
        self._max_delay = max_delay
        self._clock = clock
        # email -> (failures, blocked until, last failure), in clock seconds
        self.rows: dict[str, tuple[int, float, float]] = {}

    async def claim(self, email: str) -> LoginClaim:
        await asyncio.sleep(0)  # let concurrent claims interleave, as they would on a database
        now = self._clock()
        failures, blocked_until, last = self.rows.get(email, (0, 0.0, now))
        if blocked_until > now:
            return LoginClaim(retry_after=max(MIN_RETRY_AFTER, blocked_until - now))
        if now - last > FORGET_AFTER / timedelta(seconds=1):
            failures = 0
        failures += 1
        delay = delay_after(failures, free_failures=self._free_failures, max_delay=self._max_delay)
        self.rows[email] = (failures, now + delay, now)
        return LoginClaim(delay_if_failed=delay)

    async def succeeded(self, email: str) -> None:
        self.rows.pop(email, None)


@dataclass
class _KeyRow:
    fingerprint: str
    token: str
    claimed_at: float  # clock seconds
    response: StoredResponse | None = None


class InMemoryIdempotencyKeys:
    """`IdempotencyKeys` in a dict, on a clock the tests may move."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.rows: dict[IdempotencyKey, _KeyRow] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise DatabaseUnavailable("fake database is down")

    async def claim(self, key: IdempotencyKey, fingerprint: str, *, ttl: float, lease: float) -> KeyClaimed | KeyHeld:
        self._check()
        await asyncio.sleep(0)  # let concurrent claims interleave, as they would on a database
        now = self._clock()
        row = self.rows.get(key)
        if row is not None:
            age = now - row.claimed_at
            if age <= ttl and (row.response is not None or age <= lease):
                return KeyHeld(fingerprint=row.fingerprint, response=row.response)
        token = str(uuid.uuid4())
        self.rows = {k: r for k, r in self.rows.items() if now - r.claimed_at <= ttl}
        self.rows[key] = _KeyRow(fingerprint=fingerprint, token=token, claimed_at=now)
        return KeyClaimed(token=token)

    def _pending(self, key: IdempotencyKey, token: str) -> _KeyRow | None:
        row = self.rows.get(key)
        return row if row is not None and row.token == token and row.response is None else None

    async def complete(self, key: IdempotencyKey, token: str, response: StoredResponse) -> bool:
        self._check()
        if (row := self._pending(key, token)) is None:
            return False
        row.response = response
        return True

    async def release(self, key: IdempotencyKey, token: str) -> bool:
        self._check()
        if self._pending(key, token) is None:
            return False
        del self.rows[key]
        return True


class InMemoryStreamTickets:
    """`StreamTickets` in a dict, on a clock the tests may move."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.rows: dict[str, tuple[Principal, float]] = {}

    async def issue(self, ticket_hash: str, principal: Principal, *, ttl: float) -> None:
        self.rows = {key: row for key, row in self.rows.items() if row[1] >= self._clock()}
        self.rows[ticket_hash] = (principal, self._clock() + ttl)

    async def claim(self, ticket_hash: str) -> Principal | None:
        row = self.rows.pop(ticket_hash, None)
        return row[0] if row is not None and row[1] >= self._clock() else None


class NoEventFeed:
    """`EventFeed` of a gateway whose bus is down: unit tests cannot read endless streams (Litestar's test
    client waits for the end of a response), so the streams themselves are tested over real HTTP."""

    async def subscribe(self, selector: Selector, *, buffer: int) -> LiveEvents:
        raise BusUnavailable("no event feed in unit tests")

    async def history(self, selector: Selector, *, after: int, until: int) -> AsyncIterator[SequencedEvent]:
        raise BusUnavailable("no event feed in unit tests")
        yield  # an async generator

    async def last_sequence(self) -> int:
        raise BusUnavailable("no event feed in unit tests")


class FakeAuditLog:
    """`AuditLog` in a list."""

    def __init__(self) -> None:
        self.entries: list[CommandAudited] = []
        self.available = True

    async def record(self, entry: CommandAudited) -> None:
        if not self.available:
            raise BusUnavailable("fake bus is down")
        self.entries.append(entry)

    async def recent(
        self, *, limit: int, action: str | None = None, actor_id: str | None = None, before: int | None = None
    ) -> list[AuditRecord]:
        if not self.available:
            raise BusUnavailable("fake bus is down")
        wanted = [
            AuditRecord(sequence, entry)
            for sequence, entry in reversed(list(enumerate(self.entries, start=1)))
            if action in (None, entry.action)
            and actor_id in (None, entry.actor_id or "anonymous")
            and (before is None or sequence < before)
        ]
        return wanted[: max(limit, 0)]

    def actions(self) -> list[str]:
        return [entry.action for entry in self.entries]


ROTATION_OVERLAP = timedelta(hours=24)


def _checked_target(url: str, allowed: frozenset[str]) -> None:
    """The notifier's rules, as far as a fake without DNS can keep them: a URL with a scheme and a host,
    and no address literal that is not public unless allowed."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # such as an unclosed [ of an IPv6 address
        host = None
    if host is None or parts.scheme not in ("http", "https"):
        raise InvalidWebhook("invalid_url", f"{url!r} is not an http(s) URL with a host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: the real notifier resolves it; the fake takes it
    if "*" not in allowed and str(address) not in allowed and not address.is_global:
        raise InvalidWebhook("target_refused", f"{address} is not a public address and not allowed")


def _checked_events(events: list[str]) -> list[str]:
    if events == [ALL_EVENTS]:
        return events
    unknown = [event for event in events if event not in WEBHOOK_EVENT_TYPES]
    if not events or unknown:
        known = ", ".join(WEBHOOK_EVENT_TYPES)
        raise InvalidWebhook("invalid_events", f'unknown event type {unknown[:1]}; use {known} or ["*"]')
    return events


class FakeNotifier:
    """`Webhooks` in dicts, with the notifier's refusals; `available = False` is a notifier that does not answer."""

    def __init__(self, *, max_endpoints: int = 20, allowed_targets: frozenset[str] = frozenset({"127.0.0.1"})) -> None:
        self.endpoints_by_id: dict[str, EndpointView] = {}
        self.secrets: dict[str, str] = {}
        self.messages: dict[str, MessageView] = {}
        self.max_endpoints = max_endpoints
        self.allowed_targets = allowed_targets
        self.available = True

    def _check(self) -> None:
        if not self.available:
            raise NotifierUnavailable("fake notifier is not answering")

    def _owned(self, owner_id: str, endpoint_id: str) -> EndpointView:
        self._check()
        endpoint = self.endpoints_by_id.get(endpoint_id)
        if endpoint is None or endpoint.owner_id != owner_id:
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id}")
        return endpoint

    def _new_secret(self, endpoint_id: str) -> str:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.secrets[endpoint_id] = secret
        return secret

    def add_message(self, endpoint_id: str, *, event_type: str, status: DeliveryStatus = "pending") -> MessageView:
        message = MessageView(
            id=f"msg_{uuid.uuid4().hex}",
            endpoint_id=endpoint_id,
            event_type=event_type,
            status=status,
            created_at=datetime.now(UTC),
            payload={"type": event_type, "data": {}},
        )
        self.messages[message.id] = message
        return message

    async def create(self, owner_id: str, *, url: str, events: list[str], description: str) -> WithSecret:
        self._check()
        _checked_target(url, self.allowed_targets)
        checked = _checked_events(events)
        if len(await self.endpoints(owner_id)) >= self.max_endpoints:
            raise WebhookLimitReached(f"you have {self.max_endpoints} webhook endpoints, the most allowed")
        now = datetime.now(UTC)
        endpoint = EndpointView(
            id=f"ep_{uuid.uuid4().hex}",
            owner_id=owner_id,
            url=url,
            events=checked,
            description=description,
            created_at=now,
            updated_at=now,
        )
        self.endpoints_by_id[endpoint.id] = endpoint
        return WithSecret(endpoint, self._new_secret(endpoint.id))

    async def endpoints(self, owner_id: str) -> list[EndpointView]:
        self._check()
        owned = [endpoint for endpoint in self.endpoints_by_id.values() if endpoint.owner_id == owner_id]
        return sorted(owned, key=lambda endpoint: endpoint.created_at)

    async def endpoint(self, owner_id: str, endpoint_id: str) -> EndpointView:
        return self._owned(owner_id, endpoint_id)

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
        endpoint = self._owned(owner_id, endpoint_id)
        if url is not None:
            _checked_target(url, self.allowed_targets)
        changes: dict[str, object] = {"updated_at": datetime.now(UTC)}
        if url is not None:
            changes["url"] = url
        if events is not None:
            changes["events"] = _checked_events(events)
        if description is not None:
            changes["description"] = description
        if enabled is not None:
            changes.update(enabled=enabled, disabled_reason="" if enabled else "user")
            changes["disabled_at"] = None if enabled else datetime.now(UTC)
        endpoint = msgspec.structs.replace(endpoint, **changes)
        self.endpoints_by_id[endpoint_id] = endpoint
        return endpoint

    async def delete(self, owner_id: str, endpoint_id: str) -> EndpointView:
        endpoint = self._owned(owner_id, endpoint_id)
        del self.endpoints_by_id[endpoint_id]
        return endpoint

    async def send_test(self, owner_id: str, endpoint_id: str) -> MessageView:
        self._owned(owner_id, endpoint_id)
        return self.add_message(endpoint_id, event_type=TEST_EVENT)

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
        self._owned(owner_id, endpoint_id)
        listed = sorted(
            (
                message
                for message in self.messages.values()
                if message.endpoint_id == endpoint_id
                and (status is None or message.status == status)
                and (before is None or message.created_at < before)
                and (after is None or (message.created_at, message.id) < (after.created_at, after.id))
            ),
            key=lambda message: (message.created_at, message.id),
            reverse=True,
        )
        page = listed[:limit]
        if len(listed) <= limit:
            return DeliveryPage(messages=page)
        last = page[-1]
        return DeliveryPage(
            messages=page, next_before=last.created_at, next_after=DeliveryKey(created_at=last.created_at, id=last.id)
        )

    async def resend(self, owner_id: str, endpoint_id: str, message_id: str) -> MessageView:
        self._owned(owner_id, endpoint_id)
        message = self.messages.get(message_id)
        if message is None or message.endpoint_id != endpoint_id:
            raise WebhookNotFound(f"no message {message_id} of webhook endpoint {endpoint_id}")
        message = msgspec.structs.replace(message, status="pending")
        self.messages[message_id] = message
        return message

    async def recover(self, owner_id: str, endpoint_id: str, *, since: datetime) -> int:
        self._owned(owner_id, endpoint_id)
        failed = [
            message
            for message in self.messages.values()
            if message.endpoint_id == endpoint_id and message.status == "failed" and message.created_at >= since
        ]
        for message in failed:
            self.messages[message.id] = msgspec.structs.replace(message, status="pending")
        return len(failed)

    async def rotate_secret(self, owner_id: str, endpoint_id: str) -> WithSecret:
        endpoint = self._owned(owner_id, endpoint_id)
        endpoint = msgspec.structs.replace(endpoint, previous_secret_expires_at=datetime.now(UTC) + ROTATION_OVERLAP)
        self.endpoints_by_id[endpoint_id] = endpoint
        return WithSecret(endpoint, self._new_secret(endpoint_id))


class FakeTraces:
    """The trace backend: the spans of each trace id it holds; `down` makes it unreachable."""

    def __init__(self) -> None:
        self.traces: dict[str, list[TraceSpan]] = {}
        self.down = False
        self.asked: list[str] = []

    async def spans(self, trace_id: str) -> list[TraceSpan]:
        self.asked.append(trace_id)
        if self.down:
            raise TracesUnavailable("connection refused")
        return self.traces.get(trace_id, [])


@dataclass
class Fakes:
    """One set of fakes for one app."""

    users: InMemoryUsers = field(default_factory=InMemoryUsers)
    bus: FakeBus = field(default_factory=FakeBus)
    status: FakeStatus = field(default_factory=FakeStatus)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    sessions: InMemorySessions = field(init=False)
    audit: FakeAuditLog = field(default_factory=FakeAuditLog)
    webhooks: FakeNotifier = field(default_factory=FakeNotifier)
    api_tokens: InMemoryApiTokens = field(init=False)
    slots: InMemoryStoreSlots = field(init=False)
    logins: InMemoryLoginThrottle = field(init=False)
    idempotency: InMemoryIdempotencyKeys = field(init=False)
    stream_tickets: InMemoryStreamTickets = field(init=False)
    events: NoEventFeed = field(default_factory=NoEventFeed)
    traces: FakeTraces = field(default_factory=FakeTraces)
    clock: float = 1_000_000.0  # the login throttle's, the slots' and the idempotency keys' time; tests move it

    def __post_init__(self) -> None:
        self.api_tokens = InMemoryApiTokens(self.users)
        self.sessions = InMemorySessions(self.users)
        self.slots = InMemoryStoreSlots(clock=lambda: self.clock)
        self.logins = InMemoryLoginThrottle(free_failures=3, max_delay=900, clock=lambda: self.clock)
        self.idempotency = InMemoryIdempotencyKeys(clock=lambda: self.clock)
        self.stream_tickets = InMemoryStreamTickets(clock=lambda: self.clock)

    async def grant_admin(self, email: str) -> None:
        """What `storeplane-gateway admin grant EMAIL` does, on these fakes."""
        await grant_admin(email, users=self.users)

    def factory(self) -> AdapterFactory:
        @asynccontextmanager
        async def adapters(settings: GatewaySettings) -> AsyncIterator[Adapters]:
            yield Adapters(
                users=self.users,
                bus=self.bus,
                status=self.status,
                secrets=self.secrets,
                sessions=self.sessions,
                api_tokens=self.api_tokens,
                slots=self.slots,
                logins=self.logins,
                audit=self.audit,
                idempotency=self.idempotency,
                events=self.events,
                stream_tickets=self.stream_tickets,
                webhooks=self.webhooks,
                traces=self.traces,
            )

        return adapters
