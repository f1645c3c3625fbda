"""The notifier's webhook API over NATS request-reply: endpoints, deliveries, resends, secrets.

Requests and replies are the msgspec structs in `storeplane_contracts.webhooks`, as JSON; every
request names the owner, and the notifier looks at nothing else of theirs. A reply's `refusal`
becomes the domain error that says it (`WebhookNotFound`, `InvalidWebhook`, `WebhookLimitReached`),
with the notifier's own words about what to fix. No answer within `timeout`, or one that does
not decode (the notifier could not answer), is `NotifierUnavailable`: a 503 with `Retry-After`.
Replies may carry a signing secret: nothing here logs a reply.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from storeplane_contracts import webhooks as contract
from storeplane_contracts.webhooks import (
    DeliveryKey,
    DeliveryPage,
    DeliveryStatus,
    EndpointView,
    EndpointWithSecret,
    MessageView,
    Refusal,
)
from storeplane_gateway.adapters.nats.request_reply import ReplyT, Requester, ask
from storeplane_gateway.domain.errors import (
    InvalidWebhook,
    NotifierUnavailable,
    WebhookLimitReached,
    WebhookNotFound,
    WebhookRefused,
)
from storeplane_gateway.ports import WithSecret


def refused(refusal: Refusal) -> WebhookRefused:
    """The domain error that says what the notifier's refusal says."""
    if refusal.code == "not_found":
        return WebhookNotFound(refusal.message)
    if refusal.code == "cap_reached":
        return WebhookLimitReached(refusal.message)
    return InvalidWebhook(refusal.code, refusal.message)


def _result(result: ReplyT | None, refusal: Refusal | None) -> ReplyT:
    if refusal is not None:
        raise refused(refusal)
    if result is None:
        raise NotifierUnavailable("the notifier answered neither a result nor a refusal")
    return result


class NatsNotifierClient:
    """`Webhooks` over NATS request-reply to the notifier."""

    def __init__(self, requester: Requester, *, timeout: float) -> None:
        self._requester = requester
        self._timeout = timeout

    async def create(self, owner_id: str, *, url: str, events: list[str], description: str) -> WithSecret:
        request = contract.CreateEndpoint(owner_id=owner_id, url=url, events=events, description=description)
        return await self._with_secret(contract.CREATE_ENDPOINT, request)

    async def endpoints(self, owner_id: str) -> list[EndpointView]:
        request = contract.ListEndpoints(owner_id=owner_id)
        reply = await self._ask(contract.LIST_ENDPOINTS, request, contract.EndpointList)
        return reply.endpoints

    async def endpoint(self, owner_id: str, endpoint_id: str) -> EndpointView:
        request = contract.GetEndpoint(owner_id=owner_id, endpoint_id=endpoint_id)
        return await self._endpoint(contract.GET_ENDPOINT, request)

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
        request = contract.UpdateEndpoint(
            owner_id=owner_id, endpoint_id=endpoint_id, url=url, events=events, description=description, enabled=enabled
        )
        return await self._endpoint(contract.UPDATE_ENDPOINT, request)

    async def delete(self, owner_id: str, endpoint_id: str) -> EndpointView:
        request = contract.DeleteEndpoint(owner_id=owner_id, endpoint_id=endpoint_id)
        return await self._endpoint(contract.DELETE_ENDPOINT, request)

    async def send_test(self, owner_id: str, endpoint_id: str) -> MessageView:
        request = contract.SendTest(owner_id=owner_id, endpoint_id=endpoint_id)
        reply = await self._ask(contract.SEND_TEST, request, contract.MessageReply)
        return _result(reply.message, reply.refusal)

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
        request = contract.ListDeliveries(
            owner_id=owner_id, endpoint_id=endpoint_id, status=status, limit=limit, before=before, after=after
        )
        reply = await self._ask(contract.LIST_DELIVERIES, request, DeliveryPage)
        if reply.refusal is not None:
            raise refused(reply.refusal)
        return reply

    async def resend(self, owner_id: str, endpoint_id: str, message_id: str) -> MessageView:
        request = contract.ResendMessage(owner_id=owner_id, endpoint_id=endpoint_id, message_id=message_id)
        reply = await self._ask(contract.RESEND_MESSAGE, request, contract.MessageReply)
        return _result(reply.message, reply.refusal)

    async def recover(self, owner_id: str, endpoint_id: str, *, since: datetime) -> int:
        request = contract.RecoverMessages(owner_id=owner_id, endpoint_id=endpoint_id, since=since)
        reply = await self._ask(contract.RECOVER_MESSAGES, request, contract.RecoverReply)
        if reply.refusal is not None:
            raise refused(reply.refusal)
        return reply.queued

    async def rotate_secret(self, owner_id: str, endpoint_id: str) -> WithSecret:
        request = contract.RotateSecret(owner_id=owner_id, endpoint_id=endpoint_id)
        return await self._with_secret(contract.ROTATE_SECRET, request)

    async def _with_secret(self, subject: str, request: msgspec.Struct) -> WithSecret:
        reply = await self._ask(subject, request, EndpointWithSecret)
        return WithSecret(_result(reply.endpoint, reply.refusal), reply.secret)

    async def _endpoint(self, subject: str, request: msgspec.Struct) -> EndpointView:
        reply = await self._ask(subject, request, contract.EndpointReply)
        return _result(reply.endpoint, reply.refusal)

    async def _ask(self, subject: str, request: msgspec.Struct, reply_type: type[ReplyT]) -> ReplyT:
        return await ask(
            self._requester, subject, request, reply_type, timeout=self._timeout, unavailable=NotifierUnavailable
        )
