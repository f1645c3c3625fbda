"""The pure mapping from a store event to the read model: what the `stores` row becomes.

No database here, so the lifecycle rules (status only moves forward, what a failure or a
ready store records, the tombstone) are tested with plain values. The repository reads
the current row, asks `project`, and writes what comes back.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from storeplane_contracts import events
from storeplane_contracts.queries import StoreError, StoreStatus, StoreView

# Status only moves forward along this order; `ready` and `failed` are the same rank, so
# a store that failed may still become ready (a retried step) and the later event wins.
STATUS_RANK: dict[StoreStatus, int] = {
    "requested": 0,
    "provisioning": 1,
    "ready": 2,
    "degraded": 2,
    "failed": 2,
    "deleting": 3,
    "deleted": 4,
}

# None: the event only goes into the timeline.
STATUS_AFTER: dict[type[events.Event], StoreStatus | None] = {
    events.StoreRequested: "requested",
    events.ProvisioningStarted: "provisioning",
    events.NamespaceCreated: "provisioning",
    events.QuotaApplied: "provisioning",
    events.LimitsApplied: "provisioning",
    events.NetworkPolicyApplied: "provisioning",
    events.CredentialsCreated: "provisioning",
    events.ChartInstalled: "provisioning",
    events.StoreReady: "ready",
    events.CredentialsRevealed: None,
    events.ProvisioningFailed: "failed",
    events.StepRetrying: None,
    events.StepStalled: None,  # a note while the step goes on
    events.StoreRetryRequested: "provisioning",  # only from `failed`: see `project`
    events.StoreDegraded: "degraded",
    events.StoreDeletionRequested: "deleting",
    events.ReleaseUninstalled: "deleting",
    events.DeletionFailed: "deleting",
    events.StoreDeleted: "deleted",
}

# Fields every event carries; the timeline keeps them in their own columns, not in `data`.
COMMON_FIELDS = frozenset({"type", *events.Event.__struct_fields__})


class Applied(enum.Enum):
    """What projecting one stream message did."""

    APPLIED = "applied"
    # The stream sequence is at or below the tracked one: a redelivery, nothing written.
    ALREADY_APPLIED = "already_applied"
    # A new message carrying an event id the timeline already has: only the position moved.
    REPEATED_EVENT = "repeated_event"


@dataclasses.dataclass(frozen=True, kw_only=True)
class StoreRow:
    """One row of the `stores` read model."""

    id: str
    owner_id: str
    name: str
    engine: str
    namespace: str
    status: StoreStatus
    created_at: datetime
    updated_at: datetime
    last_sequence: int
    urls: dict[str, str] = dataclasses.field(default_factory=dict)
    error: StoreError | None = None

    def view(self) -> StoreView:
        """The store as users see it: the row without the projection's bookkeeping."""
        return StoreView(
            id=self.id,
            owner_id=self.owner_id,
            name=self.name,
            engine=self.engine,
            namespace=self.namespace,
            status=self.status,
            created_at=self.created_at,
            updated_at=self.updated_at,
            urls=self.urls,
            error=self.error,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimelineRow:
    """One row of the `store_events` timeline."""

    event_id: str
    store_id: str
    sequence: int
    type: str
    occurred_at: datetime
    data: dict[str, Any]


def event_type(event: events.Event) -> str:
    """The event's `type` tag, as it travels on the bus."""
    tag = type(event).__struct_config__.tag
    return tag if isinstance(tag, str) else type(event).__name__


def timeline_row(event: events.Event, sequence: int) -> TimelineRow:
    data = {k: v for k, v in events.to_builtins(event).items() if k not in COMMON_FIELDS}
    return TimelineRow(
        event_id=event.event_id,
        store_id=event.store_id,
        sequence=sequence,
        type=event_type(event),
        occurred_at=event.occurred_at,
        data=data,
    )


def project(event: events.AnyEvent, sequence: int, current: StoreRow | None) -> StoreRow | None:
    """The store row after `event` (at stream `sequence`), or None when the row does not change.

    A request creates the row; any other event for a store without a row (it cannot be shown
    to anyone) and any event that would move the status backwards leave the row as it is.
    """
    if isinstance(event, events.StoreRequested):
        # The row exists: a repeated request never resets a store.
        return requested_row(event, sequence) if current is None else None
    if current is None:
        return None
    if isinstance(event, events.StoreRetryRequested):
        # The one step back the lifecycle allows: a failed store provisions again.
        if current.status != "failed":
            return None
        return moved_on(current, event, sequence, status="provisioning", error=None)
    status = STATUS_AFTER[type(event)]
    if status is None or STATUS_RANK[status] < STATUS_RANK[current.status]:
        return None
    urls = dict(event.urls) if isinstance(event, events.StoreReady) else current.urls
    return moved_on(current, event, sequence, status=status, urls=urls, error=error_after(event, current.error))


def requested_row(event: events.StoreRequested, sequence: int) -> StoreRow:
    """The row a store starts with."""
    return StoreRow(
        id=event.store_id,
        owner_id=event.owner_id,
        name=event.name,
        engine=event.engine,
        namespace=event.namespace,
        status="requested",
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
        last_sequence=sequence,
    )


def moved_on(current: StoreRow, event: events.Event, sequence: int, **changes: Any) -> StoreRow:
    """`current` with `changes`, its time and sequence moved to the event's but never back."""
    return dataclasses.replace(
        current,
        updated_at=max(current.updated_at, event.occurred_at),
        last_sequence=max(current.last_sequence, sequence),
        **changes,
    )


def error_after(event: events.AnyEvent, current: StoreError | None) -> StoreError | None:
    """The error a store shows after `event`, which moves its status forward."""
    if isinstance(event, events.StoreDegraded):
        return StoreError(step="drift", reason=event.reason, message=event.message, retryable=True)
    if isinstance(event, events.ProvisioningFailed | events.DeletionFailed):
        return StoreError(step=event.step, reason=event.reason, message=event.message, retryable=event.retryable)
    if isinstance(event, events.StoreReady | events.StoreDeletionRequested | events.StoreDeleted):
        return None  # ready, deleting (again), or gone: an earlier error no longer applies
    return current
