"""The webhook routes: make an endpoint (its secret shown once), list, read, change and delete
endpoints, send a test message, page through deliveries, resend one message or recover every
failed one since a time, and rotate the signing secret.

Each route names the scope an API token needs (`webhooks:read` or `webhooks:write`); every
command is audited and rate limited, and those whose answer holds no secret take an
`Idempotency-Key` (a create or a rotation is not replayable: its stored answer would keep the
secret). The notifier answers over NATS; the rules are the service's (`services.py`), and a
refusal is a domain error, answered as `http/error_answers.py` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import Middleware

from storeplane_contracts.webhooks import DeliveryStatus
from storeplane_gateway.areas.webhooks.guards import can_read_webhooks, can_write_webhooks
from storeplane_gateway.areas.webhooks.schemas import (
    CreateWebhookBody,
    DeliveryBody,
    DeliveryPageBody,
    NewSecretBody,
    RecoverBody,
    RecoveredBody,
    UpdateWebhookBody,
    WebhookBody,
    WebhookListBody,
)
from storeplane_gateway.areas.webhooks.services import Changes, WebhookService
from storeplane_gateway.domain.pages import DEFAULT_PAGE
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.http.audit_hook import AUDIT, notes_for
from storeplane_gateway.http.authentication import caller
from storeplane_gateway.http.errors import documented
from storeplane_gateway.http.idempotency import IDEMPOTENT, IdempotencyKeyHeader
from storeplane_gateway.http.openapi_links import links_from
from storeplane_gateway.http.pagination import LINK_HEADER, PageCursor, PageLimit, next_url, paged
from storeplane_gateway.http.rate_limits import RATE_LIMIT, WEBHOOK_COMMANDS
from storeplane_gateway.ports import Webhooks

BASE = "/api/v1/webhooks"
ONE = f"{BASE}/{{webhook_id}}"
_NO_STORE = {"Cache-Control": "no-store"}
_READ_ERRORS = {
    400: "`invalid_request`: a malformed parameter",
    401: "`not_authenticated`",
    403: "`insufficient_scope`: an API token without this route's scope",
    404: "`webhook_not_found`: you have no such endpoint (another user's looks the same)",
    503: "`notifier_unavailable` or `bus_unavailable`; retry after `Retry-After` seconds",
}
_KEY_ERRORS = (
    "`idempotency_key_reused` (the key was used for another request: use a new one) or "
    "`idempotency_key_in_use` (its request is still running: retry after `Retry-After` seconds)"
)
_COMMAND_ERRORS = {
    **_READ_ERRORS,
    400: "`invalid_request`: a malformed parameter; `invalid_idempotency_key`",
    409: _KEY_ERRORS,
    429: "`too_many_requests`; retry after `Retry-After` seconds",
    503: "`notifier_unavailable`, `bus_unavailable` or `database_unavailable`; retry after `Retry-After` seconds",
}
_VALUE_ERRORS = (
    "`invalid_url` (not an acceptable URL: the message says why), `target_refused` (the host is or resolves to "
    "a refused address, and why), `invalid_events` (an unknown event type) or `invalid_request`"
)
_ENDPOINT_LINKS = {
    "GetWebhook": (ONE, "GET", {"path.webhook_id": "$response.body#/id"}),
    "UpdateWebhook": (ONE, "PATCH", {"path.webhook_id": "$response.body#/id"}),
    "TestWebhook": (f"{ONE}/test", "POST", {"path.webhook_id": "$response.body#/id"}),
    "ListDeliveries": (f"{ONE}/deliveries", "GET", {"path.webhook_id": "$response.body#/id"}),
    "RotateSecret": (f"{ONE}/rotate-secret", "POST", {"path.webhook_id": "$response.body#/id"}),
    "DeleteWebhook": (ONE, "DELETE", {"path.webhook_id": "$response.body#/id"}),
}

DeliveryStatusQuery = Annotated[
    DeliveryStatus | None,
    QueryParameter(name="status", description="Only messages in this state: `pending`, `succeeded` or `failed`."),
]
BeforeQuery = Annotated[
    datetime | None,
    QueryParameter(
        name="before",
        description="Deprecated, kept for one release (follow `next` instead): only messages created before "
        "this time, the last page's `next_before`.",
    ),
]


def provide_webhook_service(webhooks: NamedDependency[Webhooks]) -> WebhookService:
    return WebhookService(webhooks)


@post(
    "/",
    status_code=201,
    summary="Make a webhook endpoint",
    description="The answer's `secret` (`whsec_...`) signs every message (Standard Webhooks); it is shown this once.",
    response_headers=[
        ResponseHeader(name="Location", documentation_only=True, description="The new endpoint"),
        ResponseHeader(name="Cache-Control", documentation_only=True, description="no-store"),
    ],
    operation_class=links_from(201, _ENDPOINT_LINKS),
    guards=[can_write_webhooks],
    opt={AUDIT: "create_webhook", RATE_LIMIT: WEBHOOK_COMMANDS},
    responses=documented(
        {
            **_READ_ERRORS,
            400: "`invalid_body`: not a JSON object with `url` (string), `events` (strings) and an optional "
            "`description` (string)",
            409: "`webhook_limit_reached`: delete an endpoint you no longer use",
            422: _VALUE_ERRORS,
            429: _COMMAND_ERRORS[429],
        }
    ),
)
async def create_webhook(
    request: Request[Principal, Any, Any],
    data: JSONBody[CreateWebhookBody],
    webhook_service: NamedDependency[WebhookService],
) -> Response[NewSecretBody]:
    made = await webhook_service.create(
        caller(request), url=data.url, events=data.events, description=data.description, notes=notes_for(request)
    )
    headers = {"Location": f"{BASE}/{made.endpoint.id}", **_NO_STORE}
    return Response(NewSecretBody.with_secret(made.endpoint, made.secret), status_code=201, headers=headers)


@get(
    "/",
    summary="Your webhook endpoints, oldest first",
    guards=[can_read_webhooks],
    responses=documented({key: value for key, value in _READ_ERRORS.items() if key not in (400, 404)}),
)
async def list_webhooks(
    request: Request[Principal, Any, Any], webhook_service: NamedDependency[WebhookService]
) -> WebhookListBody:
    endpoints = await webhook_service.endpoints(caller(request))
    return WebhookListBody(webhooks=[WebhookBody.from_view(endpoint) for endpoint in endpoints])


@get(
    "/{webhook_id:str}",
    summary="Read a webhook endpoint",
    guards=[can_read_webhooks],
    responses=documented(_READ_ERRORS),
)
async def get_webhook(
    request: Request[Principal, Any, Any], webhook_id: FromPath[str], webhook_service: NamedDependency[WebhookService]
) -> WebhookBody:
    return WebhookBody.from_view(await webhook_service.endpoint(caller(request), webhook_id))


@patch(
    "/{webhook_id:str}",
    summary="Change a webhook endpoint",
    description="Only the fields given change; `enabled: true` turns an endpoint disabled by you, by a 410 or by "
    "failing for too long on again.",
    guards=[can_write_webhooks],
    opt={AUDIT: "update_webhook", IDEMPOTENT: True},
    responses=documented(
        {
            **_COMMAND_ERRORS,
            400: "`invalid_body`: fields of the wrong type or unknown ones; `invalid_request`; "
            "`invalid_idempotency_key`",
            422: _VALUE_ERRORS,
        }
    ),
)
async def update_webhook(
    request: Request[Principal, Any, Any],
    webhook_id: FromPath[str],
    data: JSONBody[UpdateWebhookBody],
    webhook_service: NamedDependency[WebhookService],
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> WebhookBody:
    changes = Changes(url=data.url, events=data.events, description=data.description, enabled=data.enabled)
    return WebhookBody.from_view(await webhook_service.update(caller(request), webhook_id, changes))


@delete(
    "/{webhook_id:str}",
    status_code=204,
    summary="Delete a webhook endpoint",
    description="Nothing more is sent to it; messages still pending are dropped from its log with it.",
    guards=[can_write_webhooks],
    opt={AUDIT: "delete_webhook", IDEMPOTENT: True},
    responses=documented({key: value for key, value in _COMMAND_ERRORS.items() if key != 429}),
)
async def delete_webhook(
    request: Request[Principal, Any, Any],
    webhook_id: FromPath[str],
    webhook_service: NamedDependency[WebhookService],
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> None:
    await webhook_service.delete(caller(request), webhook_id)


@post(
    "/{webhook_id:str}/test",
    status_code=202,
    summary="Send a `webhook.test` message now",
    description="Queued at once, signed like every message; follow it in the endpoint's deliveries.",
    guards=[can_write_webhooks],
    opt={AUDIT: "test_webhook", RATE_LIMIT: WEBHOOK_COMMANDS, IDEMPOTENT: True},
    responses=documented(_COMMAND_ERRORS),
)
async def send_test_message(
    request: Request[Principal, Any, Any],
    webhook_id: FromPath[str],
    webhook_service: NamedDependency[WebhookService],
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> Response[DeliveryBody]:
    message = await webhook_service.send_test(caller(request), webhook_id)
    return Response(DeliveryBody.from_view(message), status_code=202)


@get(
    "/{webhook_id:str}/deliveries",
    summary="An endpoint's deliveries, newest first, each with its attempts, a page at a time",
    description="Follow `next` (or the `Link` header) for older deliveries.",
    response_headers=[LINK_HEADER],
    guards=[can_read_webhooks],
    responses=documented(
        {
            **_READ_ERRORS,
            400: "`invalid_request`: a bad `status`, `limit` (1 to 200) or `before`; "
            "`invalid_cursor`: start again without `cursor`",
        }
    ),
)
async def list_deliveries(
    request: Request[Principal, Any, Any],
    webhook_id: FromPath[str],
    webhook_service: NamedDependency[WebhookService],
    status: DeliveryStatusQuery = None,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: PageCursor = None,
    before: BeforeQuery = None,
) -> Response[DeliveryPageBody]:
    page, next_before = await webhook_service.deliveries(
        caller(request), webhook_id, status=status, limit=limit, cursor=cursor, before=before
    )
    link = next_url(request, page.next_cursor)
    deliveries = [DeliveryBody.from_view(message) for message in page.items]
    return paged(DeliveryPageBody(deliveries=deliveries, next_before=next_before, next=link), link)


@post(
    "/{webhook_id:str}/deliveries/{message_id:str}/resend",
    status_code=202,
    summary="Deliver one message again",
    description="With the same `webhook-id`, so a receiver that has it already can tell.",
    guards=[can_write_webhooks],
    opt={AUDIT: "resend_webhook_message", RATE_LIMIT: WEBHOOK_COMMANDS, IDEMPOTENT: True},
    responses=documented({**_COMMAND_ERRORS, 404: "`webhook_not_found`: no such endpoint, or no such message of it"}),
)
async def resend_message(
    request: Request[Principal, Any, Any],
    webhook_id: FromPath[str],
    message_id: FromPath[str],
    webhook_service: NamedDependency[WebhookService],
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> Response[DeliveryBody]:
    message = await webhook_service.resend(caller(request), webhook_id, message_id)
    return Response(DeliveryBody.from_view(message), status_code=202)


@post(
    "/{webhook_id:str}/recover",
    status_code=202,
    summary="Deliver again every failed message since a time",
    guards=[can_write_webhooks],
    opt={AUDIT: "recover_webhook_messages", RATE_LIMIT: WEBHOOK_COMMANDS, IDEMPOTENT: True},
    responses=documented(
        {
            **_COMMAND_ERRORS,
            400: "`invalid_body`: not a JSON object with exactly `since` (an RFC 3339 time); `invalid_request`; "
            "`invalid_idempotency_key`",
            422: "`invalid_request`: the message says what to fix",
        }
    ),
)
async def recover_messages(
    request: Request[Principal, Any, Any],
    webhook_id: FromPath[str],
    data: JSONBody[RecoverBody],
    webhook_service: NamedDependency[WebhookService],
    idempotency_key: IdempotencyKeyHeader = None,  # acted on by the middleware
) -> Response[RecoveredBody]:
    queued = await webhook_service.recover(caller(request), webhook_id, since=data.since)
    return Response(RecoveredBody(queued=queued), status_code=202)


@post(
    "/{webhook_id:str}/rotate-secret",
    status_code=200,
    summary="Rotate an endpoint's signing secret",
    description="The answer's new `secret` is shown this once. For 24 hours every message carries both signatures "
    "(space-separated in `webhook-signature`), so receivers switch without losing a message.",
    response_headers=[ResponseHeader(name="Cache-Control", documentation_only=True, description="no-store")],
    guards=[can_write_webhooks],
    opt={AUDIT: "rotate_webhook_secret", RATE_LIMIT: WEBHOOK_COMMANDS},
    responses=documented({**_READ_ERRORS, 429: _COMMAND_ERRORS[429]}),
)
async def rotate_secret(
    request: Request[Principal, Any, Any], webhook_id: FromPath[str], webhook_service: NamedDependency[WebhookService]
) -> Response[NewSecretBody]:
    rotated = await webhook_service.rotate_secret(caller(request), webhook_id)
    return Response(NewSecretBody.with_secret(rotated.endpoint, rotated.secret), headers=_NO_STORE)


def webhooks_router(middleware: Sequence[Middleware], security_scheme: str) -> Router:
    """Every route here needs a bearer token: `middleware` is the authentication, the rate limits, then
    the idempotent commands."""
    return Router(
        path=BASE,
        route_handlers=[
            create_webhook,
            list_webhooks,
            get_webhook,
            update_webhook,
            delete_webhook,
            send_test_message,
            list_deliveries,
            resend_message,
            recover_messages,
            rotate_secret,
        ],
        middleware=list(middleware),
        dependencies={"webhook_service": Provide(provide_webhook_service, sync_to_thread=False)},
        security=[{security_scheme: []}],
        tags=["webhooks"],
    )
