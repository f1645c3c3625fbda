"""What an integration is told: each store event as a webhook message, named after the lifecycle.

Most events carry only what changed (`StoreReady` its URLs, a step its namespace), while a
message must say which store it is about in full. So the notifier folds the events into a small
record per store (`StoreFacts`, kept in its own table) and builds each message from the record
after the event. Pure: no database, no clock.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import msgspec

from storeplane_contracts import events
from storeplane_contracts.subjects import event_token
from storeplane_contracts.webhooks import ALL_EVENTS, TEST_EVENT, WebhookMessage

# A message's body stays below this many bytes (the promise to integrators).
MAX_BODY_BYTES = 20_000
# Free-text fields (an error's message) are cut to this many characters.
MAX_TEXT = 2_000

# The webhook type of each store event; `None`: not told to integrations.
WEBHOOK_TYPE: dict[type[events.Event], str | None] = {
    events.StoreRequested: "store.requested",
    events.StoreRetryRequested: "store.requested",
    events.ProvisioningStarted: "store.provisioning",
    events.NamespaceCreated: "store.step",
    events.QuotaApplied: "store.step",
    events.LimitsApplied: "store.step",
    events.NetworkPolicyApplied: "store.step",
    events.CredentialsCreated: "store.step",
    events.ChartInstalled: "store.step",
    events.StepRetrying: "store.step",
    events.StepStalled: "store.step",
    events.ReleaseUninstalled: "store.step",
    events.StoreReady: "store.ready",  # `store.repaired` when the store was degraded: see `webhook_type`
    events.ProvisioningFailed: "store.failed",
    events.DeletionFailed: "store.failed",
    events.StoreDegraded: "store.degraded",
    events.StoreDeletionRequested: "store.deleting",
    events.StoreDeleted: "store.deleted",
    events.CredentialsRevealed: None,  # the owner's own action, not the store's lifecycle
}

# The store's status after each event (None: unchanged).
STATUS_AFTER: dict[str, str | None] = {
    "store.requested": "requested",
    "store.provisioning": "provisioning",
    "store.step": None,
    "store.ready": "ready",
    "store.repaired": "ready",
    "store.failed": "failed",
    "store.degraded": "degraded",
    "store.deleting": "deleting",
    "store.deleted": "deleted",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class StoreFacts:
    """What the notifier knows of one store, folded from its events."""

    store_id: str
    owner_id: str
    name: str = ""
    engine: str = ""
    namespace: str = ""
    status: str = "requested"
    urls: dict[str, str] = dataclasses.field(default_factory=dict)
    error: dict[str, Any] | None = None
    trace_id: str = ""


@dataclasses.dataclass(frozen=True)
class Planned:
    """What one event becomes: the store's facts after it and, when integrations are told, a message."""

    facts: StoreFacts
    event_type: str | None
    body: bytes = b""


def plan(event: events.Event, before: StoreFacts | None, *, trace_id: str) -> Planned:
    """The store's facts after `event`, and the message integrations get for it (if any)."""
    kind = webhook_type(event, before)
    after = fold(before, event, kind)
    if kind is None:
        return Planned(after, None)
    return Planned(after, kind, body_of(store_message(event, kind, after, trace_id=trace_id)))


def webhook_type(event: events.Event, before: StoreFacts | None) -> str | None:
    """The event's webhook type: a store that is ready again after being degraded is `store.repaired`."""
    kind = WEBHOOK_TYPE.get(type(event))
    if kind == "store.ready" and before is not None and before.status == "degraded":
        return "store.repaired"
    return kind


def fold(before: StoreFacts | None, event: events.Event, kind: str | None) -> StoreFacts:
    """The store's facts after `event` (of webhook type `kind`)."""
    facts = before or StoreFacts(store_id=event.store_id, owner_id=event.owner_id)
    changes: dict[str, Any] = {}
    for field in ("name", "engine", "namespace", "trace_id"):
        value = getattr(event, field, "")
        if value:
            changes[field] = value
    if isinstance(event, events.StoreReady):
        changes["urls"] = dict(event.urls)
    status = STATUS_AFTER.get(kind or "")
    if status is not None:
        changes["status"] = status
        changes["error"] = failure(event) if status == "failed" else None
    return dataclasses.replace(facts, **changes)


def failure(event: events.Event) -> dict[str, Any] | None:
    if isinstance(event, events.ProvisioningFailed | events.DeletionFailed):
        return {
            "step": event.step,
            "reason": event.reason,
            "message": event.message[:MAX_TEXT],
            "retryable": event.retryable,
        }
    return None


def details(event: events.Event) -> dict[str, Any]:
    """What the event adds to the store's facts: the step for `store.step`, the reason when degraded."""
    extra: dict[str, Any] = {"event_id": event.event_id}
    if WEBHOOK_TYPE.get(type(event)) == "store.step":
        extra["step"] = getattr(event, "step", None) or event_token(type(event))
    if isinstance(event, events.StepRetrying):
        extra.update(retrying=True, attempt=event.attempt, max_attempts=event.max_attempts, reason=event.reason)
        extra["message"] = event.message[:MAX_TEXT]
    if isinstance(event, events.StepStalled):
        findings = [msgspec.to_builtins(finding) for finding in event.findings]
        extra.update(stalled=True, running_for_seconds=event.running_for_seconds, findings=findings)
        extra["threshold_seconds"] = event.threshold_seconds
    if isinstance(event, events.StoreDegraded):
        extra.update(reason=event.reason, message=event.message[:MAX_TEXT], repair=event.repair)
    if isinstance(event, events.StoreRetryRequested):
        extra["retry"] = True
    return extra


def store_message(event: events.Event, kind: str, after: StoreFacts, *, trace_id: str) -> WebhookMessage:
    """The message integrations receive for `event`."""
    data: dict[str, Any] = {
        "store_id": after.store_id,
        "name": after.name,
        "engine": after.engine,
        "status": after.status,
        "urls": after.urls,
        "error": after.error,
        "trace_id": trace_id or after.trace_id,
        **details(event),
    }
    return WebhookMessage(type=kind, timestamp=event.occurred_at, data=data)


def test_message(endpoint_id: str, at: datetime) -> WebhookMessage:
    return WebhookMessage(
        type=TEST_EVENT, timestamp=at, data={"endpoint_id": endpoint_id, "message": "a test from Storeplane"}
    )


def subscribed(endpoint_events: list[str], kind: str) -> bool:
    return ALL_EVENTS in endpoint_events or kind in endpoint_events


_encoder = msgspec.json.Encoder()


def body_of(message: WebhookMessage) -> bytes:
    """The JSON body, below `MAX_BODY_BYTES`: the event's free text goes first if it is too big."""
    body = _encoder.encode(message)
    if len(body) <= MAX_BODY_BYTES:
        return body
    data = {k: v for k, v in message.data.items() if k in ("store_id", "name", "engine", "status", "trace_id")}
    data["truncated"] = True
    return _encoder.encode(WebhookMessage(type=message.type, timestamp=message.timestamp, data=data))
