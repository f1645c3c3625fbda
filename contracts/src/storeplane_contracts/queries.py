"""Queries the gateway asks the status service over NATS request-reply, and the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

import msgspec

StoreStatus: TypeAlias = Literal["requested", "provisioning", "ready", "degraded", "failed", "deleting", "deleted"]


class StoreError(msgspec.Struct, frozen=True):
    """Why a store failed: the step, a reason a user can act on, and whether a retry may help."""

    step: str
    reason: str
    message: str
    retryable: bool


class StoreView(msgspec.Struct, frozen=True):
    """One store as users see it."""

    id: str
    owner_id: str
    name: str
    engine: str
    namespace: str
    status: StoreStatus
    created_at: datetime
    updated_at: datetime
    urls: dict[str, str] = {}
    error: StoreError | None = None
    # While requested or provisioning: when it is likely ready, from recent provisionings of its engine.
    estimated_ready_at: datetime | None = None


class TimelineEntry(msgspec.Struct, frozen=True):
    """One event in a store's activity timeline."""

    event_id: str
    type: str
    occurred_at: datetime
    sequence: int
    data: dict[str, Any] = {}


class StoreKey(msgspec.Struct, frozen=True):
    """Where a page of stores (newest first) ends: the sort key of its last store."""

    created_at: datetime
    id: str


class ListStores(msgspec.Struct, frozen=True):
    """An owner's stores, newest first; `all_owners` (asked for by admins only) lists everyone's.

    A page: at most `limit` stores (0: all of them), those after `after` (older) when given."""

    owner_id: str
    include_deleted: bool = False
    all_owners: bool = False
    limit: int = 0
    after: StoreKey | None = None


class GetStore(msgspec.Struct, frozen=True):
    """One store of `owner_id`; with `any_owner` (asked for by admins only) of whoever owns it."""

    store_id: str
    owner_id: str
    # Read-your-writes: wait until the projection has applied this stream sequence.
    min_sequence: int = 0
    any_owner: bool = False


class GetStoreEvents(msgspec.Struct, frozen=True):
    """A store's timeline; scoped to `owner_id` unless `any_owner` (asked for by admins only).

    A page: at most `limit` entries (0: all of them), those with a stream sequence above `after_sequence`."""

    store_id: str
    owner_id: str
    min_sequence: int = 0
    any_owner: bool = False
    limit: int = 0
    after_sequence: int = 0


class ListStoresInStatus(msgspec.Struct, frozen=True):
    """Every owner's stores in these states, oldest first: for the provisioner's drift check, never for users.

    A page: at most `limit` (0: all), those after `after` (newer): a reply of every store would outgrow
    NATS's largest message (1 MiB by default, ~2,000 stores)."""

    statuses: list[StoreStatus]
    limit: int = 0
    after: StoreKey | None = None


class FindLiveStoreByName(msgspec.Struct, frozen=True):
    """Is a store of this name live (not deleted) for any owner? Names are global: they are hosts."""

    name: str


class GetStepStats(msgspec.Struct, frozen=True):
    """How long each provisioning step takes, per engine (no store, no owner: figures only)."""


class StepDurations(msgspec.Struct, frozen=True):
    """The p50 and p95 of one step's duration for one engine, over `samples` recent provisionings; the step
    `to_ready` is a whole provisioning, from the request (or retry) to ready."""

    engine: str
    step: str
    samples: int
    p50_seconds: float
    p95_seconds: float


class StepStatsReply(msgspec.Struct, frozen=True):
    steps: list[StepDurations]


class StoreList(msgspec.Struct, frozen=True):
    stores: list[StoreView]


class StoreReply(msgspec.Struct, frozen=True):
    store: StoreView | None


class TimelineReply(msgspec.Struct, frozen=True):
    events: list[TimelineEntry] | None  # None: no such store for this owner


class RevealCredentials(msgspec.Struct, frozen=True):
    """Ask the provisioner for a store's admin credentials; they are handed out only once.

    The gateway sends it only after the status service confirmed the caller owns the store.
    """

    store_id: str
    owner_id: str
    namespace: str


class StoreCredentials(msgspec.Struct, frozen=True):
    """A store's admin login. Never logged, never in an event or a trace."""

    username: str
    password: str
    email: str


class CredentialsReply(msgspec.Struct, frozen=True):
    """The credentials, or why not: `already_revealed`, `not_found`, or `unavailable` (the cluster did not
    answer; nothing was taken)."""

    credentials: StoreCredentials | None = None
    refused: str = ""
