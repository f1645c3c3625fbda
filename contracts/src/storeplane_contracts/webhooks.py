"""What the gateway asks the notifier over NATS request-reply about webhooks, and the answers.

The gateway authenticates and passes the caller's user id as `owner_id` in every request; the
notifier scopes every operation to that owner, so another user's endpoint is simply not found.
Each reply carries either its result or a `refusal` saying what to fix (the gateway maps the
refusal's `code` to an HTTP status). The messages the notifier sends to endpoints are described
by `WebhookMessage` and `WEBHOOK_EVENT_TYPES`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

import msgspec

# Request-reply subjects, one per operation: `storeplane.webhooks.<operation>`.
CREATE_ENDPOINT = "storeplane.webhooks.create"
LIST_ENDPOINTS = "storeplane.webhooks.list"
GET_ENDPOINT = "storeplane.webhooks.get"
UPDATE_ENDPOINT = "storeplane.webhooks.update"
DELETE_ENDPOINT = "storeplane.webhooks.delete"
SEND_TEST = "storeplane.webhooks.test"
LIST_DELIVERIES = "storeplane.webhooks.deliveries"
RESEND_MESSAGE = "storeplane.webhooks.resend"
RECOVER_MESSAGES = "storeplane.webhooks.recover"
ROTATE_SECRET = "storeplane.webhooks.rotate_secret"

# What the notifier does on its own and tells the owner's audit entries (`audit.<action>.<owner>`).
ENDPOINT_DISABLED = "webhook_endpoint_disabled"
MESSAGE_EXHAUSTED = "webhook_message_exhausted"
NOTIFIER_AUDIT_ACTIONS = (ENDPOINT_DISABLED, MESSAGE_EXHAUSTED)

# The event types an endpoint can subscribe to ("*" means all of them); `webhook.test` is sent
# only on request, whatever the endpoint subscribed to.
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (
    "store.requested",
    "store.provisioning",
    "store.step",
    "store.ready",
    "store.failed",
    "store.degraded",
    "store.repaired",
    "store.deleting",
    "store.deleted",
)
ALL_EVENTS = "*"
# The longest URL and description an endpoint may have.
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION = 500
TEST_EVENT = "webhook.test"

# not_found: no such endpoint (or message) for this owner; invalid_url: not an acceptable URL
# (scheme, form); target_refused: the host is or resolves to a refused address (loopback,
# private, link-local, metadata ...); invalid_events: an unknown event type; cap_reached: the
# owner has as many endpoints as allowed; invalid_request: anything else the caller must fix.
RefusalCode: TypeAlias = Literal[
    "not_found", "invalid_url", "target_refused", "invalid_events", "cap_reached", "invalid_request"
]
# pending: an attempt is due or scheduled; succeeded: an endpoint answered 2xx; failed: no
# attempt is left (exhausted, or the endpoint was disabled or deleted).
DeliveryStatus: TypeAlias = Literal["pending", "succeeded", "failed"]
# user: PATCH enabled=false; gone: the endpoint answered 410; failing: no success for too long.
DisabledReason: TypeAlias = Literal["", "user", "gone", "failing"]


class Refusal(msgspec.Struct, frozen=True):
    """Why the notifier turned a request down, in words the caller can act on."""

    code: RefusalCode
    message: str


class EndpointView(msgspec.Struct, frozen=True, kw_only=True):
    """One endpoint as its owner sees it (never with its secret)."""

    id: str
    owner_id: str
    url: str
    events: list[str]
    description: str = ""
    enabled: bool = True
    disabled_reason: DisabledReason = ""
    disabled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    last_success_at: datetime | None = None
    # The first failure since the last success; an endpoint failing for too long is disabled.
    failing_since: datetime | None = None
    # Messages that ran out of attempts (or were stopped by disabling), since creation.
    exhausted_messages: int = 0
    # Until then messages carry the previous secret's signature too.
    previous_secret_expires_at: datetime | None = None


class AttemptView(msgspec.Struct, frozen=True, kw_only=True):
    """One try at delivering a message: the HTTP status, or the transport error, and what came back."""

    attempted_at: datetime
    status_code: int | None = None  # None: no HTTP answer (see `error`)
    error: str = ""  # transport error or refusal (timeout, connection refused, target refused)
    latency_ms: float = 0.0
    response_body: str = ""  # the first 1 KiB of the answer
    succeeded: bool = False


class MessageView(msgspec.Struct, frozen=True, kw_only=True):
    """One message for one endpoint; its `id` is the stable `webhook-id` header."""

    id: str
    endpoint_id: str
    event_type: str
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None = None
    payload: dict[str, Any] = {}
    attempts: list[AttemptView] = []


class WebhookMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The body POSTed to an endpoint: `data` holds the store's id, name, engine, status, urls,
    error, trace_id and what the event adds (the step, for `store.step`)."""

    type: str
    timestamp: datetime
    data: dict[str, Any]


# Requests. Each names the owner; the notifier never looks beyond that owner's endpoints.


class CreateEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    owner_id: str
    url: str
    events: list[str]  # WEBHOOK_EVENT_TYPES, or ["*"]
    description: str = ""


class ListEndpoints(msgspec.Struct, frozen=True, kw_only=True):
    owner_id: str


class GetEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    owner_id: str
    endpoint_id: str


class UpdateEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """Only the fields given change; `enabled=True` re-enables a disabled endpoint."""

    owner_id: str
    endpoint_id: str
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class DeleteEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    owner_id: str
    endpoint_id: str


class SendTest(msgspec.Struct, frozen=True, kw_only=True):
    """Queue a `webhook.test` message for the endpoint now."""

    owner_id: str
    endpoint_id: str


class DeliveryKey(msgspec.Struct, frozen=True):
    """Where a page of messages (newest first) ends: the sort key of its last message."""

    created_at: datetime
    id: str


class ListDeliveries(msgspec.Struct, frozen=True, kw_only=True):
    """An endpoint's messages, newest first, `limit` at a time; page on with `after` (the previous
    page's `next_after`). `before` (only messages created before a time, the previous page's
    `next_before`) is the older scheme, deprecated: messages made in the same microsecond as a page's
    last one were skipped by it."""

    owner_id: str
    endpoint_id: str
    status: DeliveryStatus | None = None
    limit: int = 50  # 1..200
    before: datetime | None = None
    after: DeliveryKey | None = None


class ResendMessage(msgspec.Struct, frozen=True, kw_only=True):
    """Deliver one message again (same `webhook-id`), whatever its status."""

    owner_id: str
    endpoint_id: str
    message_id: str


class RecoverMessages(msgspec.Struct, frozen=True, kw_only=True):
    """Deliver again every failed message of the endpoint created at or after `since`."""

    owner_id: str
    endpoint_id: str
    since: datetime


class RotateSecret(msgspec.Struct, frozen=True, kw_only=True):
    """A new signing secret; the previous one keeps signing too for 24 h."""

    owner_id: str
    endpoint_id: str


# Replies: a result, or `refusal`.


class EndpointWithSecret(msgspec.Struct, frozen=True, kw_only=True):
    """Reply to CreateEndpoint and RotateSecret: the secret `whsec_...` is shown this once."""

    endpoint: EndpointView | None = None
    secret: str = ""
    refusal: Refusal | None = None


class EndpointReply(msgspec.Struct, frozen=True, kw_only=True):
    """Reply to GetEndpoint, UpdateEndpoint and DeleteEndpoint (the endpoint as it was deleted)."""

    endpoint: EndpointView | None = None
    refusal: Refusal | None = None


class EndpointList(msgspec.Struct, frozen=True, kw_only=True):
    """Reply to ListEndpoints, oldest first."""

    endpoints: list[EndpointView] = []


class MessageReply(msgspec.Struct, frozen=True, kw_only=True):
    """Reply to SendTest and ResendMessage: the message as queued."""

    message: MessageView | None = None
    refusal: Refusal | None = None


class DeliveryPage(msgspec.Struct, frozen=True, kw_only=True):
    """Reply to ListDeliveries; `next_after` (and the deprecated `next_before`) are None on the last page."""

    messages: list[MessageView] = []
    next_before: datetime | None = None
    next_after: DeliveryKey | None = None
    refusal: Refusal | None = None


class RecoverReply(msgspec.Struct, frozen=True, kw_only=True):
    """Reply to RecoverMessages: how many messages were queued again."""

    queued: int = 0
    refusal: Refusal | None = None
