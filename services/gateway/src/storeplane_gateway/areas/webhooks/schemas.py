"""The bodies of the webhook routes: what clients send and what they get back.

Request bodies refuse unknown fields and wrong types (a 400 `invalid_body`); values (the URL, its
target, the event types) are checked by the notifier, which says what to fix (a 422). Answers
never carry the owner's id, and carry a signing secret only where it is made (create, rotate).
The same structs document the API in the OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema

from storeplane_contracts.webhooks import (
    ALL_EVENTS,
    MAX_DESCRIPTION,
    MAX_URL_LENGTH,
    WEBHOOK_EVENT_TYPES,
    AttemptView,
    DeliveryStatus,
    DisabledReason,
    EndpointView,
    MessageView,
)
from storeplane_gateway.areas.webhooks.services import URL_PATTERN
from storeplane_gateway.http.bodies import NO_NUL
from storeplane_gateway.http.pagination import NextPage

WebhookUrl = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={
            "description": "Where messages are POSTed: `https` (`http` too in development); hosts that are or "
            "resolve to loopback, private, link-local or metadata addresses are refused unless the operator "
            "allows them.",
            "examples": ["https://erp.example.com/hooks/storeplane"],
            "extra": {"max_length": MAX_URL_LENGTH, "pattern": URL_PATTERN},
        }
    ),
]
EventTypes = Annotated[
    list[str],
    msgspec.Meta(
        extra_json_schema={
            "description": f'Any of: {", ".join(WEBHOOK_EVENT_TYPES)}; or `["{ALL_EVENTS}"]` for every one.',
            "examples": [["store.ready", "store.failed"], [ALL_EVENTS]],
            "extra": {
                "min_items": 1,
                "items": Schema(type=OpenAPIType.STRING, enum=[*WEBHOOK_EVENT_TYPES, ALL_EVENTS]),
            },
        }
    ),
]
Description = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"examples": ["ERP sync"], "extra": {"max_length": MAX_DESCRIPTION, "pattern": NO_NUL}}
    ),
]


class CreateWebhookBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where to send messages, which event types, and a note to recognise the endpoint by."""

    url: WebhookUrl
    events: EventTypes
    description: Description = ""


class UpdateWebhookBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to change; fields left out stay. `enabled: true` turns a disabled endpoint on again."""

    url: WebhookUrl | None = None
    events: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class RecoverBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Deliver again every failed message created at or after `since` (an RFC 3339 time)."""

    since: Annotated[datetime, msgspec.Meta(extra_json_schema={"examples": ["2026-12-01T09:00:00Z"]})]


class WebhookBody(msgspec.Struct, frozen=True):
    """One webhook endpoint, without its secret; `disabled_reason` says why it is off (`user`, `gone`:
    it answered 410, `failing`: no success for too long)."""

    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: DisabledReason
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    last_success_at: datetime | None
    failing_since: datetime | None
    exhausted_messages: int
    previous_secret_expires_at: datetime | None

    @classmethod
    def from_view(cls, view: EndpointView) -> WebhookBody:
        return cls(**_fields_of(view, WebhookBody))


class NewSecretBody(WebhookBody, frozen=True):
    """An endpoint with its signing secret `whsec_...` (verify signatures with it): shown this once, never again."""

    secret: str

    @classmethod
    def with_secret(cls, view: EndpointView, secret: str) -> NewSecretBody:
        return cls(**_fields_of(view, WebhookBody), secret=secret)


def _fields_of(view: msgspec.Struct, body: type[msgspec.Struct]) -> dict[str, Any]:
    """The values of `view` that `body` shows, by name."""
    return {name: getattr(view, name) for name in body.__struct_fields__}


class WebhookListBody(msgspec.Struct, frozen=True):
    """The caller's webhook endpoints, oldest first."""

    webhooks: list[WebhookBody]


class AttemptBody(msgspec.Struct, frozen=True):
    """One try: the HTTP status (or `null` and the transport error), the latency, the first 1 KiB of the answer."""

    attempted_at: datetime
    status_code: int | None
    error: str
    latency_ms: float
    response_body: str
    succeeded: bool

    @classmethod
    def from_view(cls, view: AttemptView) -> AttemptBody:
        return cls(**_fields_of(view, AttemptBody))


class DeliveryBody(msgspec.Struct, frozen=True):
    """One message for the endpoint (its `id` is the `webhook-id` header), its payload and its attempts."""

    id: str
    event_type: str
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    payload: dict[str, Any]
    attempts: list[AttemptBody]

    @classmethod
    def from_view(cls, view: MessageView) -> DeliveryBody:
        return cls(
            id=view.id,
            event_type=view.event_type,
            status=view.status,
            created_at=view.created_at,
            next_attempt_at=view.next_attempt_at,
            payload=dict(view.payload),
            attempts=[AttemptBody.from_view(attempt) for attempt in view.attempts],
        )


DeprecatedNextBefore = Annotated[
    datetime | None,
    msgspec.Meta(description="Deprecated (follow `next`): the older scheme's `before` for the next page."),
]


class DeliveryPageBody(msgspec.Struct, frozen=True):
    """A page of deliveries, newest first; follow `next` for the next (null: the last page)."""

    deliveries: list[DeliveryBody]
    next_before: DeprecatedNextBefore
    next: NextPage


class RecoveredBody(msgspec.Struct, frozen=True):
    """How many failed messages were queued again."""

    queued: int
