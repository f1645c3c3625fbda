"""What the event-stream tests share: a provisioner's events put on the real stream, and a client that
follows a stream over real HTTP (httpx and httpx-sse) and keeps what it read."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
from httpx_sse import ServerSentEvent, aconnect_sse

from storeplane_contracts import events, subjects
from storeplane_contracts.events import Event


async def put_on_stream(nats_url: str, *stored: Event) -> list[int]:
    """Publish events as the provisioner does (message id = event id); their stream sequences."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        acks = [
            await js.publish(subjects.subject_for(event), events.encode(event), headers={"Nats-Msg-Id": event.event_id})
            for event in stored
        ]
        return [ack.seq for ack in acks]
    finally:
        await nc.close()


def provisioning(store_id: str, owner_id: str, namespace: str) -> list[Event]:
    """The events a successful provisioning puts on the stream after the request."""
    return [
        events.ProvisioningStarted(store_id=store_id, owner_id=owner_id),
        events.NamespaceCreated(store_id=store_id, owner_id=owner_id, namespace=namespace),
        events.QuotaApplied(store_id=store_id, owner_id=owner_id, namespace=namespace),
        events.StoreReady(store_id=store_id, owner_id=owner_id, urls={"storefront": "http://shop.stores.localhost/"}),
    ]


def deletion(store_id: str, owner_id: str, namespace: str) -> list[Event]:
    return [
        events.StoreDeletionRequested(store_id=store_id, owner_id=owner_id, namespace=namespace),
        events.StoreDeleted(store_id=store_id, owner_id=owner_id, namespace=namespace),
    ]


@dataclass
class Follower:
    """A client following one stream in the background: every message it read, comments apart."""

    received: list[ServerSentEvent] = field(default_factory=list)
    refusal: dict[str, Any] | None = None
    status_code: int = 0
    retry: int | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    error: BaseException | None = None

    @property
    def ids(self) -> list[int]:
        return [int(message.id) for message in self.received]

    @property
    def types(self) -> list[str]:
        return [message.event for message in self.received]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(message.data) for message in self.received]

    async def until(self, done: Callable[[Follower], bool], timeout: float = 15.0) -> None:
        """Wait for what the client read to satisfy `done`."""
        try:
            async with asyncio.timeout(timeout):
                while not done(self):
                    if self.ended.is_set():
                        raise AssertionError(f"the stream ended first: {self.types} {self.refusal} {self.error!r}")
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            raise AssertionError(f"not there after {timeout}s; read {self.types} {self.ids}") from None


async def _read(client: httpx.AsyncClient, url: str, headers: dict[str, str], follower: Follower) -> None:
    try:
        async with aconnect_sse(client, "GET", url, headers=headers) as source:
            follower.status_code = source.response.status_code
            follower.arrived.set()
            if follower.status_code != 200:
                follower.refusal = json.loads(await source.response.aread())
                return
            async for message in source.aiter_sse():
                if message.retry is not None:
                    follower.retry = message.retry
                if message.data:  # not the opening message, which only says `retry:`
                    follower.received.append(message)
                follower.arrived.set()
    except httpx.HTTPError as exc:
        follower.error = exc
    finally:
        follower.ended.set()
        follower.arrived.set()


@contextlib.asynccontextmanager
async def following(
    base_url: str, path: str, headers: dict[str, str] | None = None, *, last_id: int | None = None
) -> AsyncIterator[Follower]:
    """Follow `path` until the block ends (then hang up), with `Last-Event-ID` if `last_id` is given."""
    sent = dict(headers or {})
    if last_id is not None:
        sent["Last-Event-ID"] = str(last_id)
    follower = Follower()
    timeout = httpx.Timeout(10.0, read=None)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as client:
        reading = asyncio.create_task(_read(client, path, sent, follower))
        try:
            await follower.until(lambda f: f.status_code != 0 or f.ended.is_set())
            yield follower
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
