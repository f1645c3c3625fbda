"""The rules for stores: order one, delete one, retry one, and read the caller's stores.

Writes are events: a command is done once JetStream acknowledged its event, and says the stream
sequence, which a client sends back to read its own writes. Reads are queries to the status
service. Another user's store and a missing one are the same `StoreNotFound`; only an admin's
session reads and acts on every store (the credentials excepted: those are the owner's alone).

An order first reserves a slot of the owner's quota, which also holds the store's name
(`quotas.py`): confirmed once JetStream acknowledged the request, released at once if it
certainly did not; an ack that was lost leaves the reservation to be settled by the stream. A
store being provisioned cannot be deleted yet (its steps would race the deletion), and only a
failed store is retried.

Every refusal is a domain error (`storeplane_gateway.domain.errors`); the HTTP answer to each is
decided in one place, `storeplane_gateway.http.error_answers`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast, get_args

import structlog

from storeplane_contracts import naming
from storeplane_contracts.events import Engine, StoreDeletionRequested, StoreRequested, StoreRetryRequested, new_id
from storeplane_contracts.queries import StoreCredentials, StoreKey, StoreView, TimelineEntry
from storeplane_gateway.areas.stores.quotas import reserve_slot
from storeplane_gateway.domain.errors import (
    AdminOnly,
    AlreadyDeleting,
    CredentialsAlreadyRevealed,
    DependencyUnavailable,
    InvalidStoreName,
    NameTaken,
    NotFailed,
    PublishUnconfirmed,
    StoreBusy,
    StoreNotFound,
    StoreNotReady,
    UnsupportedEngine,
)
from storeplane_gateway.domain.ids import canonical_id
from storeplane_gateway.domain.pages import (
    DEFAULT_PAGE,
    Page,
    page_of,
    parse_sequence_cursor,
    parse_time_cursor,
    sequence_cursor,
    time_cursor,
)
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.domain.slots import StoreSlot
from storeplane_gateway.domain.traces import StoreTrace
from storeplane_gateway.domain.users import limit_of
from storeplane_gateway.ports import (
    Adapters,
    AuditNotes,
    Bus,
    NoTraceBackend,
    StatusQueries,
    StoreSecrets,
    StoreSlots,
    Traces,
    Users,
    no_notes,
)
from storeplane_gateway.settings import GatewaySettings
from storeplane_runtime.telemetry import current_trace_id

log = structlog.get_logger(__name__)

KNOWN_ENGINES: tuple[str, ...] = get_args(Engine)
GONE_OR_GOING = frozenset({"deleting", "deleted"})
# Provisioning is under way: deleting now would race it (a namespace made after the deletion ran).
BEING_PROVISIONED = frozenset({"requested", "provisioning"})
# The timeline entries that start a provisioning, each carrying the trace it runs in.
PROVISIONING_COMMANDS = frozenset({"StoreRequested", "StoreRetryRequested"})


class Accepted(NamedTuple):
    """A command's event, on the stream at `sequence`, and the store as the answer shows it."""

    store: StoreView
    sequence: int


class Ordered(NamedTuple):
    """An order's `StoreRequested`, on the stream at `sequence`."""

    event: StoreRequested
    sequence: int


@dataclass(frozen=True)
class StorePolicy:
    """The settings the rules apply: engines on offer, the default quota, the reservation lease."""

    installable_engines: tuple[str, ...]
    default_store_limit: int
    slot_lease_seconds: float

    @classmethod
    def of(cls, settings: GatewaySettings) -> StorePolicy:
        return cls(
            installable_engines=tuple(settings.installable_engines),
            default_store_limit=settings.max_stores_per_user,
            slot_lease_seconds=settings.slot_lease_seconds,
        )


def checked_name(raw: str) -> str:
    """The store name `raw` stands for (normalized), or InvalidStoreName saying which rule it breaks."""
    try:
        name = naming.validate_name(raw)
    except naming.InvalidStoreName as exc:
        raise InvalidStoreName(str(exc)) from None
    if not _RAW_NAME.fullmatch(raw) or len(raw) > naming.MAX_NAME:  # as the schema says: no runs of spaces
        raise InvalidStoreName(
            f"name may contain only letters, digits and single spaces, underscores or hyphens between them, "
            f"{naming.MIN_NAME} to {naming.MAX_NAME} characters (`My Shop`, `my-shop`)"
        )
    return name


# What a client may send as a name (the OpenAPI schema shows it): normalized, it is a DNS-1123 label.
RAW_NAME_PATTERN = r"^\s*[A-Za-z0-9]+([ _-][A-Za-z0-9]+)*\s*$"
_RAW_NAME = re.compile(RAW_NAME_PATTERN)


def checked_engine(engine: str, installable: Sequence[str]) -> Engine:
    """`engine` if users may order it now, else UnsupportedEngine."""
    if engine in installable:
        return cast(Engine, engine)
    raise UnsupportedEngine(engine, installable=installable, known=engine in KNOWN_ENGINES)


def parsed_store_id(raw: str) -> str:
    """The store id `raw` names, canonical; a malformed one is a store nobody has."""
    if (store_id := canonical_id(raw)) is None:
        raise StoreNotFound(raw)
    return store_id


class StoreService:
    """The store rules over the ports; one per request, for the caller it is given."""

    def __init__(
        self,
        *,
        users: Users,
        bus: Bus,
        status: StatusQueries,
        secrets: StoreSecrets,
        slots: StoreSlots,
        policy: StorePolicy,
        traces: Traces | None = None,
    ) -> None:
        self._users = users
        self._bus = bus
        self._status = status
        self._secrets = secrets
        self._slots = slots
        self._policy = policy
        self._traces = traces or NoTraceBackend()

    @classmethod
    def over(cls, adapters: Adapters, policy: StorePolicy) -> StoreService:
        return cls(
            users=adapters.users,
            bus=adapters.bus,
            status=adapters.status,
            secrets=adapters.secrets,
            slots=adapters.slots,
            policy=policy,
            traces=adapters.traces,
        )

    async def order_store(
        self, owner: Principal, raw_name: str, engine: str, *, notes: AuditNotes = no_notes
    ) -> Ordered:
        """Reserve the owner's slot and the name, then publish `StoreRequested`.

        The audit record is told the new store's id (its target) as soon as there is one, before the
        reservation, whose refusal is then about that store."""
        name = checked_name(raw_name)
        checked = checked_engine(engine, self._policy.installable_engines)
        if (live := await self._status.find_live_store_by_name(name)) is not None:
            # A store from before the slot table, or one the slots do not know.
            raise NameTaken(StoreSlot(store_id=live.id, owner_id=live.owner_id, name=name))
        store_id = new_id()
        notes(target=store_id)
        limit = limit_of(await self._users.by_id(owner.id), self._policy.default_store_limit)
        slot = StoreSlot(store_id=store_id, owner_id=owner.id, name=name)
        await reserve_slot(
            slot,
            limit=limit,
            slots=self._slots,
            status=self._status,
            bus=self._bus,
            lease=self._policy.slot_lease_seconds,
        )
        event = StoreRequested(
            store_id=store_id,
            owner_id=owner.id,
            name=name,
            engine=checked,
            namespace=naming.namespace_for(name, store_id),
            trace_id=current_trace_id(),
        )
        return Ordered(event, await self._publish_order(event))

    async def _publish_order(self, event: StoreRequested) -> int:
        try:
            sequence = await self._bus.publish(event)
        except PublishUnconfirmed:
            # The request may be on the stream: the reservation stays until its lease is over, then the
            # stream decides (quotas.settle_reservations), so a store never exists without its slot.
            raise
        except DependencyUnavailable:
            await self._slots.release(event.store_id)  # certainly not accepted: the quota and the name are free
            raise
        await self._confirm(event.store_id)
        return sequence

    async def _confirm(self, store_id: str) -> None:
        """The store is accepted whatever happens here; an unconfirmed slot is confirmed later by its lease."""
        try:
            confirmed = await self._slots.confirm(store_id)
        except DependencyUnavailable as exc:
            log.warning("slots.confirm_failed", store_id=store_id, error=str(exc))
            return
        if not confirmed:  # settled as abandoned meanwhile: the publish took longer than the lease
            log.error("slots.confirmed_too_late", store_id=store_id)

    async def delete_store(self, caller: Principal, raw_id: str, *, min_sequence: int = 0) -> Accepted:
        """Publish `StoreDeletionRequested` for a settled store (or one whose deletion gave up)."""
        store = await self.store(caller, raw_id, min_sequence=min_sequence)
        if store.status in BEING_PROVISIONED:
            raise StoreBusy(store.name, store.status)
        # A deletion that gave up (its error says what blocked it) may be asked for again, once that is fixed.
        if store.status in GONE_OR_GOING and not (store.status == "deleting" and store.error is not None):
            raise AlreadyDeleting(store.name, store.status)
        event = StoreDeletionRequested(
            store_id=store.id, owner_id=store.owner_id, namespace=store.namespace, trace_id=current_trace_id()
        )
        return Accepted(store, await self._bus.publish(event))

    async def retry_store(self, caller: Principal, raw_id: str, *, min_sequence: int = 0) -> Accepted:
        """Publish `StoreRetryRequested` for a failed store, naming the step that failed."""
        store = await self.store(caller, raw_id, min_sequence=min_sequence)
        if store.status != "failed":
            raise NotFailed(store.name, store.status)
        event = StoreRetryRequested(
            store_id=store.id,
            owner_id=store.owner_id,
            name=store.name,
            engine=cast(Engine, store.engine),
            namespace=store.namespace,
            failed_step=store.error.step if store.error else "",
            trace_id=current_trace_id(),
        )
        return Accepted(store, await self._bus.publish(event))

    async def stores(
        self, caller: Principal, *, all_owners: bool = False, limit: int = DEFAULT_PAGE, cursor: str | None = None
    ) -> Page[StoreView]:
        """A page of the caller's stores, or of every user's for an admin's session that asks for all; newest
        first, from `cursor` (InvalidCursor when it is not one this list handed out)."""
        if all_owners and not caller.is_admin:
            raise AdminOnly("list every user's stores")
        after = None if cursor is None else StoreKey(*parse_time_cursor(cursor))
        found = await self._status.list_stores(caller.id, all_owners=all_owners, limit=limit + 1, after=after)
        stores = [store for store in found if all_owners or store.owner_id == caller.id]
        return page_of(stores, limit, lambda store: time_cursor(store.created_at, store.id))

    async def store(
        self, caller: Principal, raw_id: str, *, min_sequence: int = 0, any_owner: bool | None = None
    ) -> StoreView:
        """The caller's store (any user's for an admin, unless `any_owner` says otherwise), or StoreNotFound
        for both a missing store and another user's."""
        any_owner = caller.is_admin if any_owner is None else any_owner
        store_id = parsed_store_id(raw_id)
        min_sequence = await self._reached(min_sequence)
        store = await self._status.get_store(store_id, caller.id, min_sequence=min_sequence, any_owner=any_owner)
        if store is None:
            # Perhaps accepted a moment ago and not projected yet: ask again once the read model has
            # caught up with everything on the stream, so nobody sees a 404 for a store they just made.
            newest = await self._bus.last_sequence()
            if newest > min_sequence:
                store = await self._status.get_store(store_id, caller.id, min_sequence=newest, any_owner=any_owner)
        if store is None or (store.owner_id != caller.id and not any_owner):
            raise StoreNotFound(raw_id)
        return store

    async def timeline(self, caller: Principal, raw_id: str, *, min_sequence: int = 0) -> list[TimelineEntry]:
        """The store's whole timeline, oldest first (asked again once projected, as in `store`)."""
        return await self._timeline(caller, raw_id, min_sequence=min_sequence, limit=0, after_sequence=0)

    async def timeline_page(
        self, caller: Principal, raw_id: str, *, min_sequence: int = 0, limit: int = DEFAULT_PAGE, cursor: str | None
    ) -> Page[TimelineEntry]:
        """A page of the store's timeline, oldest first, from `cursor` (a stream sequence)."""
        after = 0 if cursor is None else parse_sequence_cursor(cursor)
        found = await self._timeline(caller, raw_id, min_sequence=min_sequence, limit=limit + 1, after_sequence=after)
        return page_of(found, limit, lambda entry: sequence_cursor(entry.sequence))

    async def _timeline(
        self, caller: Principal, raw_id: str, *, min_sequence: int, limit: int, after_sequence: int
    ) -> list[TimelineEntry]:
        store_id = parsed_store_id(raw_id)
        min_sequence = await self._reached(min_sequence)
        any_owner, after = caller.is_admin, after_sequence

        async def ask(sequence: int) -> list[TimelineEntry] | None:
            return await self._status.store_events(
                store_id, caller.id, min_sequence=sequence, any_owner=any_owner, limit=limit, after_sequence=after
            )

        events = await ask(min_sequence)
        if events is None and (newest := await self._bus.last_sequence()) > min_sequence:
            events = await ask(newest)
        if events is None:
            raise StoreNotFound(raw_id)
        return sorted(events, key=lambda entry: entry.sequence)

    async def trace(self, caller: Principal, raw_id: str) -> StoreTrace:
        """The trace of the store's latest provisioning (its request or latest retry), for its owner and admins
        (StoreNotFound for anyone else, as for a missing store); the ids of earlier attempts' traces beside it."""
        timeline = await self.timeline(caller, raw_id)
        trace_ids = [
            str(entry.data["trace_id"])
            for entry in timeline
            if entry.type in PROVISIONING_COMMANDS and entry.data.get("trace_id")
        ]
        if not trace_ids:
            return StoreTrace(trace_id="", spans=[])
        *earlier, latest = trace_ids
        return StoreTrace(trace_id=latest, spans=await self._traces.spans(latest), earlier_trace_ids=earlier)

    async def credentials(self, caller: Principal, raw_id: str) -> tuple[StoreView, StoreCredentials]:
        """The store's admin login, revealed once, to its owner only (admins included: nobody else may
        spend the owner's one read)."""
        store = await self.store(caller, raw_id, any_owner=False)
        if store.status != "ready":
            raise StoreNotReady(store.name, store.status)
        reply = await self._secrets.reveal_credentials(store.id, store.owner_id, store.namespace)
        if reply.refused == "already_revealed":
            raise CredentialsAlreadyRevealed()
        if reply.credentials is None:
            raise StoreNotFound(raw_id)
        return store, reply.credentials

    async def _reached(self, min_sequence: int) -> int:
        """`min_sequence`, but no further than the stream: a sequence from the future names no write of the
        client's, and would only keep the status service waiting for it until the query times out."""
        return min(min_sequence, await self._bus.last_sequence()) if min_sequence > 0 else 0
