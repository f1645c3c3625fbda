"""The rules for webhooks on the gateway's side: each caller acts on their own endpoints only.

The notifier keeps the endpoints, checks their URLs (SSRF-safe), event types and the per-user
cap, and delivers; the gateway authenticates, names the caller as the owner of every request,
and answers an id that cannot be one (the notifier's are `ep_...` and `msg_...`: letters, digits,
`_` and `-`) as not found without asking (so another user's endpoint, a missing one and nonsense
look alike). Admins have no reach into other users' endpoints. A
signing secret passes through to the caller once and is never noted for the audit record.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NamedTuple

from storeplane_contracts.webhooks import (
    ALL_EVENTS,
    MAX_DESCRIPTION,
    MAX_URL_LENGTH,
    DeliveryKey,
    DeliveryStatus,
    EndpointView,
    MessageView,
)
from storeplane_gateway.domain.errors import InvalidWebhook, WebhookNotFound
from storeplane_gateway.domain.pages import Page, parse_time_cursor, time_cursor
from storeplane_gateway.domain.principals import Principal
from storeplane_gateway.ports import AuditNotes, Webhooks, WithSecret, no_notes

LISTED_HINT = "GET /api/v1/webhooks lists yours"
# The form of a URL the notifier takes (http(s), a host name or an IP address, a port, no credentials),
# as the OpenAPI schema states it; whether its target may be delivered to is the notifier's to say
# (DNS and the operator's allow-list), so a URL of this form may still be refused as `target_refused`.
# Spaces and control characters are spelled out, not `\s`: Python's and JSON Schema's `\s` differ.
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
# An IPv6 address in hexadecimal groups, each form of `::` spelled out, so that the schema accepts no
# bracketed host that is not one (the fuzzer holds the schema to that); no embedded IPv4, no zone.
_H16 = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(
    [
        rf"({_H16}:){{7}}{_H16}",
        rf"({_H16}:){{1,7}}:",
        *(rf"({_H16}:){{1,{7 - tail}}}(:{_H16}){{{tail}}}" for tail in range(1, 7)),
        rf":(:{_H16}){{1,7}}",
        "::",
    ]
)
# The host: a name or IPv4 address, or an IPv6 address in brackets (RFC 3986); which hosts may be
# reached is the notifier's check (its SSRF guard), not this one.
_HOST = rf"([A-Za-z0-9._~%-]+|\[({_IPV6})\])"
URL_PATTERN = rf"^https?://{_HOST}(:{_PORT})?([/?#][^\x00-\x20\x7f]*)?$"

# What an id of the notifier's may look like; it decides whether one names anything.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Changes(NamedTuple):
    """What a PATCH changes; None leaves a field as it is."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def endpoint_id(raw: str) -> str:
    """The endpoint id `raw` stands for, or WebhookNotFound (a malformed id names no endpoint)."""
    if not _ID.fullmatch(raw):
        raise WebhookNotFound(f"you have no webhook endpoint with id {raw!r}; {LISTED_HINT}")
    return raw


def checked_url(url: str | None) -> str | None:
    """`url` if it has the form the schema states, else InvalidWebhook saying what to fix."""
    if url is not None and (len(url) > MAX_URL_LENGTH or not re.fullmatch(URL_PATTERN, url)):
        raise InvalidWebhook(
            "invalid_url",
            f"{url[:200]!r} is not a webhook URL: it must be http(s)://host[:port][/path], the host a name, "
            f"an IPv4 address or an IPv6 address in brackets, without credentials, at most {MAX_URL_LENGTH} characters",
        )
    return url


def checked_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidWebhook("invalid_request", f"the description is longer than {MAX_DESCRIPTION} characters")
    return description


def checked_events(events: list[str] | None) -> list[str] | None:
    """`["*"]` stands for every event type, beside others too."""
    return [ALL_EVENTS] if events is not None and ALL_EVENTS in events else events


def in_utc(moment: datetime) -> datetime:
    """A time without a zone is taken as UTC, as the notifier keeps its times."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def message_id(raw: str) -> str:
    """The message id `raw` stands for, or WebhookNotFound."""
    if not _ID.fullmatch(raw):
        raise WebhookNotFound(f"the endpoint has no message with id {raw!r}; GET its deliveries to list them")
    return raw


class Deliveries(NamedTuple):
    """A page of deliveries, and the deprecated `next_before` of the older scheme."""

    page: Page[MessageView]
    next_before: datetime | None


class WebhookService:
    """The webhook rules over the `Webhooks` port, for the calling owner."""

    def __init__(self, webhooks: Webhooks) -> None:
        self._webhooks = webhooks

    async def create(
        self, owner: Principal, *, url: str, events: list[str], description: str, notes: AuditNotes = no_notes
    ) -> WithSecret:
        checked_url(url)
        checked_description(description)
        events = checked_events(events) or []
        made = await self._webhooks.create(owner.id, url=url, events=events, description=description)
        notes(target=made.endpoint.id)
        return made

    async def endpoints(self, owner: Principal) -> list[EndpointView]:
        return await self._webhooks.endpoints(owner.id)

    async def endpoint(self, owner: Principal, raw_id: str) -> EndpointView:
        return await self._webhooks.endpoint(owner.id, endpoint_id(raw_id))

    async def update(self, owner: Principal, raw_id: str, changes: Changes) -> EndpointView:
        checked_url(changes.url)
        checked_description(changes.description)
        changes = changes._replace(events=checked_events(changes.events))
        return await self._webhooks.update(owner.id, endpoint_id(raw_id), **changes._asdict())

    async def delete(self, owner: Principal, raw_id: str) -> EndpointView:
        return await self._webhooks.delete(owner.id, endpoint_id(raw_id))

    async def send_test(self, owner: Principal, raw_id: str) -> MessageView:
        return await self._webhooks.send_test(owner.id, endpoint_id(raw_id))

    async def deliveries(
        self,
        owner: Principal,
        raw_id: str,
        *,
        status: DeliveryStatus | None,
        limit: int,
        cursor: str | None = None,
        before: datetime | None = None,
    ) -> Deliveries:
        """A page of the endpoint's messages, newest first, from `cursor` (InvalidCursor when it is not one
        this list handed out); `before` is the deprecated time-only scheme, kept working for one release."""
        checked, before = endpoint_id(raw_id), in_utc(before) if before is not None else None
        after = None if cursor is None else DeliveryKey(*parse_time_cursor(cursor))
        page = await self._webhooks.deliveries(
            owner.id, checked, status=status, limit=limit, before=before, after=after
        )
        key = page.next_after
        next_cursor = None if key is None else time_cursor(key.created_at, key.id)
        return Deliveries(Page(page.messages, next_cursor), page.next_before)

    async def resend(self, owner: Principal, raw_id: str, raw_message_id: str) -> MessageView:
        checked = endpoint_id(raw_id)
        return await self._webhooks.resend(owner.id, checked, message_id(raw_message_id))

    async def recover(self, owner: Principal, raw_id: str, *, since: datetime) -> int:
        return await self._webhooks.recover(owner.id, endpoint_id(raw_id), since=in_utc(since))

    async def rotate_secret(self, owner: Principal, raw_id: str) -> WithSecret:
        return await self._webhooks.rotate_secret(owner.id, endpoint_id(raw_id))
