"""The answers to the gateway's webhook requests: every operation scoped to the requesting owner.

An endpoint of another owner is `not_found`, exactly like one that does not exist. URLs are
checked here as before every attempt (`targets`), so a refused target is refused at once with
a message saying what to fix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from storeplane_contracts import webhooks as w
from storeplane_notifier import messages
from storeplane_notifier.delivering import utcnow
from storeplane_notifier.signing import new_secret
from storeplane_notifier.storage import deliveries, endpoints
from storeplane_notifier.storage.pool import Pool
from storeplane_notifier.targets import AllowList, TargetRefused, connectable, parse_url

MAX_PAGE = 200
NOT_FOUND = w.Refusal("not_found", "no such webhook endpoint")


@dataclasses.dataclass(frozen=True)
class Rules:
    """What the API enforces, from the settings."""

    allow: AllowList
    allow_http: bool
    max_endpoints: int
    rotation_overlap: timedelta


class WebhookApi:
    """One method per request type; `queued` is told when a message is due now."""

    def __init__(self, pool: Pool, rules: Rules, queued: Callable[[], None]) -> None:
        self.pool = pool
        self.rules = rules
        self.queued = queued

    async def refusal_of_url(self, url: str) -> w.Refusal | None:
        try:
            await connectable(parse_url(url, allow_http=self.rules.allow_http), self.rules.allow)
        except TargetRefused as exc:
            return w.Refusal("target_refused" if exc.code == "target_refused" else "invalid_url", str(exc))
        return None

    async def refusal_of_fields(
        self, url: str | None, events: list[str] | None, description: str | None
    ) -> w.Refusal | None:
        if events is not None:
            unknown = [e for e in events if e != w.ALL_EVENTS and e not in w.WEBHOOK_EVENT_TYPES]
            if unknown or not events:
                known = ", ".join((w.ALL_EVENTS, *w.WEBHOOK_EVENT_TYPES))
                return w.Refusal("invalid_events", f"unknown event types {unknown}; choose from {known}")
        if description is not None and len(description) > w.MAX_DESCRIPTION:
            return w.Refusal("invalid_request", f"the description is longer than {w.MAX_DESCRIPTION} characters")
        return None if url is None else await self.refusal_of_url(url)

    async def create(self, request: w.CreateEndpoint) -> w.EndpointWithSecret:
        refusal = await self.refusal_of_fields(request.url, request.events, request.description)
        if refusal is not None:
            return w.EndpointWithSecret(refusal=refusal)
        secret = new_secret()
        try:
            endpoint = await endpoints.create(
                self.pool,
                owner_id=request.owner_id,
                url=request.url,
                events=sorted(set(request.events)),
                description=request.description,
                secret=secret,
                cap=self.rules.max_endpoints,
                at=utcnow(),
            )
        except endpoints.CapReached:
            message = f"you have {self.rules.max_endpoints} webhook endpoints, the most allowed; delete one first"
            return w.EndpointWithSecret(refusal=w.Refusal("cap_reached", message))
        return w.EndpointWithSecret(endpoint=endpoint, secret=secret)

    async def list(self, request: w.ListEndpoints) -> w.EndpointList:
        return w.EndpointList(endpoints=await endpoints.list_owned(self.pool, request.owner_id))

    async def get(self, request: w.GetEndpoint) -> w.EndpointReply:
        endpoint = await endpoints.get_owned(self.pool, request.owner_id, request.endpoint_id)
        return w.EndpointReply(endpoint=endpoint, refusal=None if endpoint else NOT_FOUND)

    async def update(self, request: w.UpdateEndpoint) -> w.EndpointReply:
        refusal = await self.refusal_of_fields(request.url, request.events, request.description)
        if refusal is not None:
            return w.EndpointReply(refusal=refusal)
        changes: dict[str, Any] = {
            name: getattr(request, name) for name in endpoints.EDITABLE if getattr(request, name) is not None
        }
        if "events" in changes:
            changes["events"] = sorted(set(changes["events"]))
        endpoint = await endpoints.update_owned(self.pool, request.owner_id, request.endpoint_id, changes, utcnow())
        if endpoint is not None and changes.get("enabled"):
            self.queued()  # paused messages are due again
        return w.EndpointReply(endpoint=endpoint, refusal=None if endpoint else NOT_FOUND)

    async def delete(self, request: w.DeleteEndpoint) -> w.EndpointReply:
        endpoint = await endpoints.delete_owned(self.pool, request.owner_id, request.endpoint_id)
        return w.EndpointReply(endpoint=endpoint, refusal=None if endpoint else NOT_FOUND)

    async def send_test(self, request: w.SendTest) -> w.MessageReply:
        endpoint = await endpoints.get_owned(self.pool, request.owner_id, request.endpoint_id)
        if endpoint is None:
            return w.MessageReply(refusal=NOT_FOUND)
        at = utcnow()
        body = messages.body_of(messages.test_message(endpoint.id, at))
        message_id = await deliveries.insert_message(
            self.pool, endpoint_id=endpoint.id, event_type=w.TEST_EVENT, body=body, at=at, trace_context={}
        )
        assert message_id is not None  # no stream sequence: nothing to conflict with
        self.queued()
        return w.MessageReply(message=await deliveries.one(self.pool, endpoint.id, message_id))

    async def deliveries(self, request: w.ListDeliveries) -> w.DeliveryPage:
        if not 1 <= request.limit <= MAX_PAGE:
            return w.DeliveryPage(refusal=w.Refusal("invalid_request", f"limit must be between 1 and {MAX_PAGE}"))
        if await endpoints.get_owned(self.pool, request.owner_id, request.endpoint_id) is None:
            return w.DeliveryPage(refusal=NOT_FOUND)
        # One more than the page: it says whether there is a next page.
        found = await deliveries.page(
            self.pool,
            request.endpoint_id,
            status=request.status,
            limit=request.limit + 1,
            before=request.before,
            after=request.after,
        )
        if len(found) <= request.limit:
            return w.DeliveryPage(messages=found)
        last = found[request.limit - 1]
        return w.DeliveryPage(
            messages=found[: request.limit],
            next_before=last.created_at,
            next_after=w.DeliveryKey(created_at=last.created_at, id=last.id),
        )

    async def resend(self, request: w.ResendMessage) -> w.MessageReply:
        if await endpoints.get_owned(self.pool, request.owner_id, request.endpoint_id) is None:
            return w.MessageReply(refusal=NOT_FOUND)
        requeued = await deliveries.requeue(self.pool, request.endpoint_id, at=utcnow(), message_id=request.message_id)
        if not requeued:
            return w.MessageReply(refusal=w.Refusal("not_found", "no such message for this endpoint"))
        self.queued()
        return w.MessageReply(message=await deliveries.one(self.pool, request.endpoint_id, request.message_id))

    async def recover(self, request: w.RecoverMessages) -> w.RecoverReply:
        if await endpoints.get_owned(self.pool, request.owner_id, request.endpoint_id) is None:
            return w.RecoverReply(refusal=NOT_FOUND)
        requeued = await deliveries.requeue(self.pool, request.endpoint_id, at=utcnow(), since=request.since)
        if requeued:
            self.queued()
        return w.RecoverReply(queued=len(requeued))

    async def rotate(self, request: w.RotateSecret) -> w.EndpointWithSecret:
        at = utcnow()
        secret = new_secret()
        endpoint = await endpoints.rotate_owned(
            self.pool,
            request.owner_id,
            request.endpoint_id,
            secret,
            at=at,
            previous_until=at + self.rules.rotation_overlap,
        )
        if endpoint is None:
            return w.EndpointWithSecret(refusal=NOT_FOUND)
        return w.EndpointWithSecret(endpoint=endpoint, secret=secret)
